"""The Jinja2 environment of every email and document text, and a rendered email's parts.

Templates live in `render/templates/`: `*.html.j2` are autoescaped (whatever a unit typed is
shown as text), undefined names are errors, and the Vietnamese number and date filters of
`core.formatting` are available. Every rendered text is NFC.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from housing_report.core.formatting import FILTERS
from housing_report.core.text import clean_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def make_environment() -> jinja2.Environment:
    """The templates' environment: autoescape for `*.html.j2`, strict undefined, VN filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
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
