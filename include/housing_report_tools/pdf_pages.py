"""Read a PDF's pages with the PDF library LibreOffice ships (PDFium, `libpdfiumlo.so` of the
`libreoffice-core` package, next to `soffice`): each page's size, text, the boxes of its
characters and of its drawn objects (a table's rules are path objects), and page images.

`make preview` draws the document's pages with it when poppler's `pdftoppm` is not installed,
and the layout test (tests/render/official/test_document_pdf.py) reads the PDF LibreOffice made
with it: what a reader sees, not what the .docx asks for. Nothing here is used by the pipeline.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from housing_report.render.pdf import find_soffice

LIBRARY = "libpdfiumlo.so"
# FPDFPageObj_GetType: text, path, image, shading, form.
OBJECT_KINDS = {1: "text", 2: "path", 3: "image", 4: "shading", 5: "form"}
# FPDF_RenderPageBitmap's flags: draw the annotations too (a signature's visible appearance).
RENDER_ANNOTATIONS = 0x01
POINTS_PER_MM = 72 / 25.4


class PdfiumMissing(RuntimeError):
    """LibreOffice's PDF library was not found."""


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float


@dataclass
class Page:
    """One page: its size in points, its text (lines as PDFium orders them), each printed
    character with its box, and each drawn object (`kind`, box). The origin is bottom left."""

    number: int  # 1-based
    width: float
    height: float
    text: str = ""
    chars: list[tuple[str, Box]] = field(default_factory=list)
    objects: list[tuple[str, Box]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The printed text line by line, top to bottom, read from the characters' positions (NFC).

        LibreOffice draws a Vietnamese letter with two marks ("ố") as its own piece of text, which
        PDFium's text order puts at the end of the line: the positions give the reading order."""
        import unicodedata

        rows: list[tuple[list[float], list[tuple[str, Box]]]] = []  # ([bottom, top], chars)
        for char, box in sorted(self.chars, key=lambda c: -c[1].top):
            middle = (box.bottom + box.top) / 2
            row = next((r for r in rows[-3:] if r[0][0] - 0.5 <= middle <= r[0][1] + 0.5), None)
            if row is None:
                rows.append(([box.bottom, box.top], [(char, box)]))
                continue
            row[0][0], row[0][1] = min(row[0][0], box.bottom), max(row[0][1], box.top)
            row[1].append((char, box))
        rows.sort(key=lambda r: -r[0][1])
        out = []
        for _span, row in rows:
            row.sort(key=lambda c: c[1].left)
            heights = sorted(b.top - b.bottom for _, b in row)
            gap = 0.3 * max(1.0, heights[len(heights) // 2])
            words, last = [], None
            for char, box in row:
                if last is not None and box.left - last.right > gap:
                    words.append(" ")
                words.append(char)
                last = box
            out.append(unicodedata.normalize("NFC", "".join(words)))
        return out


def library_path() -> Path:
    """`libpdfiumlo.so` beside the `soffice` LibreOffice runs (symlinks followed)."""
    override = os.environ.get("HOUSING_REPORT_PDFIUM")
    if override:
        return Path(override)
    soffice = find_soffice()
    if soffice is None:
        raise PdfiumMissing("LibreOffice (soffice) is not installed")
    candidate = Path(os.path.realpath(soffice)).parent / LIBRARY
    if not candidate.is_file():
        raise PdfiumMissing(f"{candidate} does not exist")
    return candidate


@cache
def _pdfium() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    p, i, d, f = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_float
    signatures = {
        "FPDF_InitLibrary": (None, []),
        "FPDF_LoadDocument": (p, [ctypes.c_char_p, ctypes.c_char_p]),
        "FPDF_GetPageCount": (i, [p]),
        "FPDF_LoadPage": (p, [p, i]),
        "FPDF_GetPageWidth": (d, [p]),
        "FPDF_GetPageHeight": (d, [p]),
        "FPDF_ClosePage": (None, [p]),
        "FPDF_CloseDocument": (None, [p]),
        "FPDFText_LoadPage": (p, [p]),
        "FPDFText_ClosePage": (None, [p]),
        "FPDFText_CountChars": (i, [p]),
        "FPDFText_GetUnicode": (ctypes.c_uint, [p, i]),
        "FPDFText_GetCharBox": (i, [p, i, *[ctypes.POINTER(d)] * 4]),
        "FPDFPage_CountObjects": (i, [p]),
        "FPDFPage_GetObject": (p, [p, i]),
        "FPDFPageObj_GetType": (i, [p]),
        "FPDFPageObj_GetBounds": (i, [p, *[ctypes.POINTER(f)] * 4]),
        "FPDFBitmap_Create": (p, [i, i, i]),
        "FPDFBitmap_FillRect": (None, [p, i, i, i, i, ctypes.c_ulong]),
        "FPDFBitmap_GetBuffer": (p, [p]),
        "FPDFBitmap_GetStride": (i, [p]),
        "FPDFBitmap_Destroy": (None, [p]),
        "FPDF_RenderPageBitmap": (None, [p, p, i, i, i, i, i, i]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    lib.FPDF_InitLibrary()
    return lib


class _Document:
    def __init__(self, pdf: Path) -> None:
        self.lib = _pdfium()
        self.handle = self.lib.FPDF_LoadDocument(str(pdf).encode(), None)
        if not self.handle:
            raise ValueError(f"{pdf} could not be opened as a PDF")

    def __enter__(self) -> _Document:
        return self

    def __exit__(self, *exc) -> None:
        self.lib.FPDF_CloseDocument(self.handle)

    def pages(self):
        for index in range(self.lib.FPDF_GetPageCount(self.handle)):
            page = self.lib.FPDF_LoadPage(self.handle, index)
            try:
                yield index, page
            finally:
                self.lib.FPDF_ClosePage(page)


def read_pages(pdf: str | Path) -> list[Page]:
    """Every page of `pdf` with its text, characters and objects (see `Page`)."""
    out = []
    with _Document(Path(pdf)) as document:
        lib = document.lib
        for index, handle in document.pages():
            page = Page(index + 1, lib.FPDF_GetPageWidth(handle), lib.FPDF_GetPageHeight(handle))
            text = lib.FPDFText_LoadPage(handle)
            try:
                letters = []
                edges = [ctypes.c_double() for _ in range(4)]
                for i in range(lib.FPDFText_CountChars(text)):
                    char = chr(lib.FPDFText_GetUnicode(text, i))
                    letters.append(char)
                    if char.isspace() or not lib.FPDFText_GetCharBox(text, i, *map(ctypes.byref, edges)):
                        continue
                    left, right, bottom, top = (e.value for e in edges)
                    page.chars.append((char, Box(left, bottom, right, top)))
                page.text = "".join(letters).replace("\r\n", "\n")
            finally:
                lib.FPDFText_ClosePage(text)
            bounds = [ctypes.c_float() for _ in range(4)]
            for i in range(lib.FPDFPage_CountObjects(handle)):
                obj = lib.FPDFPage_GetObject(handle, i)
                if lib.FPDFPageObj_GetBounds(obj, *map(ctypes.byref, bounds)):
                    kind = OBJECT_KINDS.get(lib.FPDFPageObj_GetType(obj), "other")
                    page.objects.append((kind, Box(*(b.value for b in bounds))))
            out.append(page)
    return out


def render_pages(pdf: str | Path, out_dir: str | Path, dpi: int = 80) -> list[Path]:
    """Each page of `pdf` as `<out_dir>/<stem>-<n>.png` at `dpi`; returns the paths."""
    from PIL import Image

    pdf, out_dir = Path(pdf), Path(out_dir)
    made = []
    with _Document(pdf) as document:
        lib = document.lib
        for index, handle in document.pages():
            width = round(lib.FPDF_GetPageWidth(handle) * dpi / 72)
            height = round(lib.FPDF_GetPageHeight(handle) * dpi / 72)
            bitmap = lib.FPDFBitmap_Create(width, height, 0)
            try:
                lib.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xFFFFFFFF)
                lib.FPDF_RenderPageBitmap(bitmap, handle, 0, 0, width, height, 0, RENDER_ANNOTATIONS)
                stride = lib.FPDFBitmap_GetStride(bitmap)
                data = ctypes.string_at(lib.FPDFBitmap_GetBuffer(bitmap), stride * height)
                image = Image.frombuffer("RGBA", (width, height), data, "raw", "BGRA", stride, 1)
                target = out_dir / f"{pdf.stem}-{index + 1}.png"
                image.convert("RGB").save(target)
                made.append(target)
            finally:
                lib.FPDFBitmap_Destroy(bitmap)
    return made
