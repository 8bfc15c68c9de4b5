"""The long tables of the report document, written as text when it is saved, never held as a tree.

At national scale an annex has thousands of rows: as python-docx elements (a dozen per cell)
they held over 300 MB, and copying the model row for each took seconds. `DeferredRows.add`
leaves in the table one copy of the model row whose cells' texts are tokens, between two
comments; `DeferredRows.save` saves the document (python-docx serialises that one row) and
then writes `word/document.xml` again into the .docx, streaming, with the template's bytes
repeated for each row and each token replaced by its cell's text, as lxml would have written
a copy of the row with that text (`docx_parts.copy_rows`): the same XML, row for row.
"""

from __future__ import annotations

import ctypes
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from housing_report.render.official.docx_parts import nfc

DOCUMENT_XML = "word/document.xml"
# Characters lxml refuses in a text (it raises ValueError when it is set).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REFUSED = "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
_CHUNK_ROWS = 500


def release_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's `malloc_trim`; elsewhere nothing).

    A document's tree lives in libxml2's part of the C heap; once it is freed, its pages stay
    with the process, and the Python objects made next (the workbook's cells) are allocated
    beside them rather than in them: at national scale, 70 MB more at the peak."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def cell_text_xml(text: str) -> bytes:
    """A cell's `w:t` as lxml writes it in a copied row (`docx_parts.set_text`): nothing for an
    empty text; NFC, one line, `xml:space` where leading or trailing spaces need it."""
    if not text:
        return b""
    text = nfc(" ".join(text.split()) if "\n" in text or "\t" in text else text)
    if _NOT_XML.search(text):
        raise ValueError(_REFUSED)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<w:t{space}>{escaped}</w:t>".encode()


@dataclass
class _Table:
    start: str
    end: str
    tokens: list[str]
    texts: list[list[str]]


@dataclass
class DeferredRows:
    """Rows copied from a model row, written when the document is saved (see the module)."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    tables: list[_Table] = field(default_factory=list)

    def add(self, table: Any, model: Any, texts: list[list[str]]) -> None:
        """Rows after the table's last one: a copy of `model` (a `w:tr`, one run per cell) for
        each entry of `texts`, as `docx_parts.copy_rows` appends them."""
        from copy import deepcopy

        from docx.oxml.ns import qn
        from lxml import etree

        if not texts:
            return
        n = len(self.tables)
        tokens = []
        template = deepcopy(model)
        cell_tag, run_tag, text_tag = qn("w:tc"), qn("w:r"), qn("w:t")
        for i, cell in enumerate(template.iterchildren(cell_tag)):
            node = next(cell.iter(text_tag), None)
            if node is None:  # the model's cell was empty: its run has no text element yet
                run = next(cell.iter(run_tag))
                node = run.makeelement(text_tag, {})
                run.append(node)
            token = f"T{self.nonce}-{n}-{i}T"
            node.text = token
            space = "{http://www.w3.org/XML/1998/namespace}space"
            if space in node.attrib:
                del node.attrib[space]
            tokens.append(token)
        if any(len(values) != len(tokens) for values in texts):
            raise ValueError("every row needs one text per cell of the model row")
        entry = _Table(f"rows-{self.nonce}-{n}-start", f"rows-{self.nonce}-{n}-end", tokens, texts)
        tbl = table._tbl
        tbl.append(etree.Comment(entry.start))
        tbl.append(template)
        tbl.append(etree.Comment(entry.end))
        self.tables.append(entry)

    def save(self, doc: Any, path: Path) -> None:
        """Save `doc` to `path` with the deferred rows in place of their templates."""
        if not self.tables:
            doc.save(path)
            return
        with tempfile.TemporaryDirectory(prefix="docx-rows-", dir=path.parent) as tmp:
            saved = Path(tmp) / "document.docx"
            doc.save(saved)
            written = Path(tmp) / "rows.docx"
            with zipfile.ZipFile(saved) as source, zipfile.ZipFile(written, "w") as target:
                for info in source.infolist():
                    data = source.read(info)
                    # A copy: writing fills in the sizes of the entry it is given.
                    entry = zipfile.ZipInfo(info.filename, info.date_time)
                    entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
                    if info.filename != DOCUMENT_XML:
                        target.writestr(entry, data)
                        continue
                    with target.open(entry, "w") as out:
                        for chunk in self._expand(data):
                            out.write(chunk)
            shutil.move(written, path)

    def _expand(self, xml: bytes) -> Iterator[bytes]:
        """`xml` with each table's template (and its comments) replaced by its rows."""
        rest = xml
        for entry in self.tables:
            start, end = f"<!--{entry.start}-->".encode(), f"<!--{entry.end}-->".encode()
            before, _, after = rest.partition(start)
            template, found, rest = after.partition(end)
            if not found:
                raise RuntimeError("the deferred rows' template was not found in the saved document")
            yield before
            parts = _split(template, [f"<w:t>{t}</w:t>".encode() for t in entry.tokens])
            chunk: list[bytes] = []
            for values in entry.texts:
                chunk.append(parts[0])
                for text, part in zip(values, parts[1:], strict=True):
                    chunk.append(cell_text_xml(text))
                    chunk.append(part)
                if len(chunk) > _CHUNK_ROWS * len(parts) * 2:
                    yield b"".join(chunk)
                    chunk = []
            yield b"".join(chunk)
        yield rest


def _split(template: bytes, markers: list[bytes]) -> list[bytes]:
    """`template` cut at each of `markers`, in order: one more part than markers."""
    parts = []
    rest = template
    for marker in markers:
        head, found, rest = rest.partition(marker)
        if not found:
            raise RuntimeError("a cell of the deferred rows' template was not found")
        parts.append(head)
    parts.append(rest)
    return parts
