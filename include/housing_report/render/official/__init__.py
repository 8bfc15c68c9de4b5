"""What officials receive: the report document (.docx), its annexes (also sheets of the
attached workbook), the charts and the forecast, from a period's summary and the earlier
periods' summaries in the archive.

`prepare(config, summary, earlier, folder)` writes the charts and the document into
`folder` and returns an `OfficialReport` (the view, the annexes, the files), whose
`add_annex_sheets` puts the annexes into a workbook.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from housing_report.config import Config
from housing_report.core.approval import Approval
from housing_report.core.formatting import vn_date, vn_number
from housing_report.core.runtime import collect_young, gc_paused
from housing_report.core.summary import HistoryPoint, Summary
from housing_report.render.environment import make_environment
from housing_report.render.official.annexes import Annex, add_annex_sheets, build_annexes
from housing_report.render.official.charts import district_chart, progress_chart
from housing_report.render.official.document import write_document
from housing_report.render.official.docx_rows import release_heap
from housing_report.render.official.view import build_view

CHART_NAMES = ("progress", "districts")


@dataclass
class OfficialReport:
    view: dict[str, Any]
    annexes: list[Annex]
    document: Path | None = None
    charts: dict[str, Path] = field(default_factory=dict)

    def add_annex_sheets(self, wb) -> list[Any]:
        return add_annex_sheets(wb, self.annexes, self.view["attached_to"])

    def email_view(self, chart_src: Mapping[str, str]) -> dict[str, Any]:
        """What the email adds to its own view: forecast, at-risk districts, monthly praise and
        the charts with their `src` (a `cid:` for the message, a file name for a preview)."""
        forecast = self.view["forecast"]
        return {
            "forecast": forecast,
            # The approved document is attached as a signed PDF, a draft as the .docx.
            "document_label": "tệp PDF đã ký số" if self.view.get("approval") else "tệp Word",
            "target_label": self.view["target_label"],
            "praise": self.view["praise"],
            "charts": [
                {"name": name, "src": chart_src[name], "alt": CHART_ALT[name]}
                for name in CHART_NAMES
                if name in chart_src
            ],
        }


CHART_ALT = {
    "progress": "Biểu đồ tiến độ hoàn thành của toàn tỉnh qua các kỳ báo cáo",
    "districts": "Biểu đồ tỷ lệ hoàn thành theo địa bàn",
}


def file_stem(summary: Summary) -> str:
    return f"bao-cao-xoa-nha-tam-{summary.period}"


def body_text(view: Mapping[str, Any]) -> str:
    """The document's body: the template `official_report.txt.j2` rendered with `view`."""
    env = make_environment()
    env.filters["sentence"] = sentence
    env.filters["change_words"] = change_words
    env.filters["with_unit"] = with_unit
    text = env.get_template("official_report.txt.j2").render(view)
    return unicodedata.normalize("NFC", text)


def with_unit(value: float | None, unit: str = "") -> str:
    """A count with what it counts: "110 pano, băng rôn, khẩu hiệu" ("0" for nothing reported)."""
    number = vn_number(value) or "0"
    return f"{number} {unit}" if unit else number


def change_words(value: float, unit: str = "", decimals: int | None = None) -> str:
    """A change in words, never a sign: "tăng 1.140 ngày công", "giảm 12 căn", "không thay đổi"."""
    text = vn_number(abs(value), decimals)
    if text.strip("0,.") == "":
        return "không thay đổi"
    return f"{'tăng' if value > 0 else 'giảm'} {text}{' ' + unit if unit else ''}"


def sentence(text: str, aside: str = "") -> str:
    """`text` as a sentence: `aside` in brackets at its end, then a full stop (kept when it ends
    with "!", "?" or "…")."""
    text = text.rstrip()
    mark = "."
    if text.endswith(("!", "?", "…")):
        text, mark = text[:-1].rstrip(), text[-1]
    elif text.endswith("."):
        text = text[:-1].rstrip()
    if aside:
        return f"{text}{mark if mark != '.' else ''} ({aside})."
    return text + mark


@gc_paused()  # core.runtime: the collector would walk the task's whole heap again and again
def prepare(
    config: Config,
    summary: Summary,
    earlier: Sequence[HistoryPoint],
    folder: str | Path,
    *,
    document: bool = True,
    approval: Approval | None = None,
) -> OfficialReport:
    """The view, the annexes, the charts (PNG) and (unless `document` is False) the .docx; with
    `approval`, the approved document (its number, the approver's text, a block to sign)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    release_heap()  # what the task freed before (the period's reads, the summary's JSON) goes back
    view = build_view(config, summary, earlier, approval)
    report = OfficialReport(view, build_annexes(config, summary, view))
    period = vn_date(summary.period)
    report.charts["progress"] = progress_chart(
        view["province_points"],
        config.report.programme.target_date,
        folder / "bieu-do-tien-do.png",
        f"Số nhà đã hoàn thành, bàn giao của toàn tỉnh đến kỳ {period}",
        view["forecast"]["province"],
    )
    report.charts["districts"] = district_chart(
        view["districts_full"], folder / "bieu-do-dia-ban.png", f"Tỷ lệ hoàn thành theo địa bàn, kỳ {period}"
    )
    collect_young()  # the charts' figures (reference cycles): freed before the document is built
    if document:
        report.document = write_document(
            view, body_text(view), report.charts, report.annexes, folder / f"{file_stem(summary)}.docx"
        )
        release_heap()  # the document's tree is freed: its pages back to the system (docx_rows)
    return report
