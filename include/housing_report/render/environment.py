"""The Jinja2 environment of every email and document text, and a rendered email's parts.

Templates live in `render/templates/`: `*.html.j2` are autoescaped (whatever a unit typed is
shown as text), undefined names are errors, and the Vietnamese number and date filters of
`core.formatting` are available. Every rendered text is NFC.

A template compiled once is kept across processes (Jinja2's bytecode cache, in `templates/` of
the cache folder the config's parsed files are kept in: `HOUSING_REPORT_CACHE_DIR`, else
`~/.cache/housing-report`): compiling the report's and the email's templates took ~0.12 s of
every task process that renders. Jinja2 checks each kept template against its source and the
Python version; a folder that cannot be made, is not private, or cannot be read or written is
passed over (the templates are compiled, as without it).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from housing_report.config.load import cache_dir
from housing_report.core.formatting import FILTERS
from housing_report.core.text import clean_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# How the templates are compiled: autoescaped by extension, the whitespace rules.
AUTOESCAPED = ("html.j2",)
WHITESPACE = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}
# A kept template is compiled code: named after what it was compiled with as well as its source
# (which Jinja2 checks), so that a change of these settings or of Jinja2 compiles it again.
_COMPILED_WITH = hashlib.sha256(
    repr((jinja2.__version__, AUTOESCAPED, sorted(WHITESPACE.items()), "strict")).encode()
).hexdigest()[:12]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class _KeptTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's bytecode cache in a folder of files, passed over where it cannot be read or written."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            bucket.reset()  # compiled again (and kept again)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def kept_templates() -> jinja2.BytecodeCache | None:
    """The bytecode cache of this process's templates (see the module's docstring), or None."""
    folder = cache_dir() / "templates"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    # Compiled code is loaded from it: only from a folder of this user's that no one else writes.
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return _KeptTemplates(str(folder), f"%s-{_COMPILED_WITH}.jinja")


def make_environment() -> jinja2.Environment:
    """The templates' environment: autoescape for `*.html.j2`, strict undefined, VN filters."""
    env = jinja2.Environment(
        bytecode_cache=kept_templates(),
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=AUTOESCAPED, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        **WHITESPACE,
    )
    env.filters.update(FILTERS)
    return env


def render_parts(name: str, context: dict[str, Any], subject: str | None = None) -> RenderedEmail:
    """The email of templates `<name>_subject.txt.j2` (or `subject`), `<name>.html.j2` and
    `<name>.txt.j2` rendered with `context`: the subject on one line, both bodies NFC."""
    env = make_environment()
    return RenderedEmail(
        subject=clean_text(env.get_template(subject or f"{name}_subject.txt.j2").render(context)),
        html=unicodedata.normalize("NFC", env.get_template(f"{name}.html.j2").render(context)),
        text=unicodedata.normalize("NFC", env.get_template(f"{name}.txt.j2").render(context)),
    )
