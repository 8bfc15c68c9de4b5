"""Every output of a version, rendered in one place: the report document and its charts, the
workbook (annexes first, then the figures by unit) and the email's bodies.

`render_version` is called by both the output writer (`write_outputs`: the period's folder,
with `summary.json` and the email's bodies as files, the charts by file name) and the mailer
(`deliver.report`: a folder of its own, the charts by Content-ID), so that what is written
and what is sent are the same rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from housing_report.config import Config
from housing_report.core.approval import Approval
from housing_report.core.errors import writing
from housing_report.core.summary import HistoryPoint, Summary, summary_json
from housing_report.render import email_charts
from housing_report.render.email import RenderedEmail, render_email
from housing_report.render.official import OfficialReport, prepare
from housing_report.render.workbook import write_summary_workbook

SUMMARY_FILE = "summary.json"


@dataclass
class RenderedVersion:
    official: OfficialReport  # the view, the annexes, the document and the charts
    workbook: Path
    email: RenderedEmail
    # The email's charts, drawn for a phone (`render.email_charts`), by name as the email's HTML
    # refers to them: inline images of the message.
    email_charts: dict[str, Path] = field(default_factory=dict)

    @property
    def attachments(self) -> list[Path]:
        """What the email attaches: the report document and the workbook."""
        return [p for p in (self.official.document, self.workbook) if p is not None]


@dataclass
class Outputs:
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)

    def to_json(self) -> dict[str, str]:
        return {name: str(path) for name, path in self.files.items()}


def workbook_name(summary: Summary) -> str:
    return f"tong-hop-xoa-nha-tam-{summary.period}.xlsx"


def render_version(
    config: Config,
    summary: Summary,
    earlier: Sequence[HistoryPoint],
    folder: Path,
    *,
    chart_src: Callable[[str, Path], str] | None = None,
    correction: dict[str, Any] | None = None,
    approval: Approval | None = None,
) -> RenderedVersion:
    """Render `summary`'s version into `folder`. `earlier`: the earlier periods' points
    (`ReportStore.history`), for the forecast and the charts; `chart_src(name, path)`: how the
    email's HTML refers to a chart (default: its file name, beside the HTML); `correction`
    (`aggregate.corrections.compare`): the email is the correction of a delivered version."""
    official = prepare(config, summary, earlier, folder, approval=approval)
    workbook = folder / workbook_name(summary)
    write_summary_workbook(summary, config, workbook, annexes=official.add_annex_sheets)
    flagged = {d.code for d in summary.districts if d.flagged}
    charts = email_charts.draw(official.view, config.report.programme.target_date, folder, flagged)
    src = {name: chart_src(name, path) if chart_src else path.name for name, path in charts.items()}
    email = render_email(summary, config, correction=correction, official=official.email_view(src))
    return RenderedVersion(official, workbook, email, charts)


def write_outputs(
    config: Config, summary: Summary, folder: Path, earlier: Sequence[HistoryPoint] = ()
) -> Outputs:
    """Write summary.json, then the version's rendering (`render_version`) and the email's
    bodies (`email.html`, `email.txt`) into `folder`. A folder the system cannot write (no
    permission, a read-only or full disk) is `NotWritable`, naming it."""
    with writing(folder / SUMMARY_FILE):
        folder.mkdir(parents=True, exist_ok=True)
        out = Outputs(folder)
        out.files["summary"] = _write_text(folder / SUMMARY_FILE, summary_json(summary))
        rendered = render_version(config, summary, earlier, folder)
        out.files["document"] = rendered.official.document
        out.files.update({f"chart_{name}": path for name, path in rendered.official.charts.items()})
        out.files.update({f"email_chart_{name}": path for name, path in rendered.email_charts.items()})
        out.files["workbook"] = rendered.workbook
        out.files["email_html"] = _write_text(folder / "email.html", rendered.email.html)
        out.files["email_text"] = _write_text(folder / "email.txt", rendered.email.text)
    return out


def _write_text(path: Path, text: str) -> Path:
    """Write `text` aside, then rename: a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
