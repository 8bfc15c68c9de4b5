"""The contract between the units' sheets and the pipeline, written from the config, in Vietnamese.

    python -m housing_report_tools.cli contract [PATH]    (default: docs/vi/mau-bao-cao.md)

`contract_markdown(config)` is the page the units' officers and the admins read: the layout
rules, how values are written, every code of the template with its Vietnamese label (fields,
tables with their row and column codes, lists), the table rules as sentences, what each kind
of unit must fill, the other checks, and a unit's statuses in a period. Everything that the
config holds is taken from it, so the page cannot drift from what the pipeline reads; what
the parser does whatever the config (codes in column A, the Vietnamese way of writing
numbers) is written here once. `tests/tools/test_contract.py` fails when the committed page
differs from what the config generates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from housing_report.config import OPERATOR_WORDS, Config, Rule, Section, Template
from housing_report.core.formatting import vn_number
from housing_report.core.statuses import ACCEPTED, STATUS_LABELS, STATUSES
from housing_report.validate.values import MONEY_DECIMALS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO / "docs" / "vi" / "mau-bao-cao.md"
COMMAND = "python -m housing_report_tools.cli contract"

# A value kind of the config (`value:`), as the page names it.
VALUE_WORDS = {
    "count": "số đếm (số nguyên không âm)",
    "money": f"tiền, triệu đồng (số không âm, tối đa {MONEY_DECIMALS} chữ số thập phân)",
    "text": "chữ",
    "date": "ngày (dạng `dd/mm/yyyy`)",
    "period": "ngày của kỳ báo cáo (dạng `dd/mm/yyyy`)",
}
SEVERITY_WORDS = {"error": "lỗi", "warning": "cảnh báo"}
SEVERITY_MEANINGS = {
    "error": "báo cáo của đơn vị bị trả lại: không số liệu nào của đơn vị được dùng cho đến khi đơn vị "
    "sửa xong",
    "warning": "báo cáo vẫn được tiếp nhận và số liệu được dùng; đơn vị được đề nghị kiểm tra lại",
}
# What each status means; its label is the runtime's (`STATUS_LABELS`).
STATUS_MEANINGS = {
    "accepted": "đọc được, đúng kỳ, không có lỗi (có thể có cảnh báo)",
    "rejected": "đọc được, đúng kỳ, có ít nhất một lỗi: không số liệu nào của đơn vị được dùng",
    "stale": "đọc được, nhưng `{period}` ghi một kỳ khác (chưa cập nhật cho kỳ này)",
    "missing": "không có bảng tính hoặc không có trang tính của đơn vị",
    "unreachable": "không đọc được (không có quyền, lỗi mạng, hết hạn mức) sau khi đã thử lại",
}


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows]
    return out


def _joined(items: Iterable[str], last: str = "và") -> str:
    """`a`, `b` và `c`."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _codes(codes: Iterable[str], last: str = "hoặc") -> str:
    """`A` hoặc `B`; `D`, `E` hoặc `F`."""
    return _joined((f"`{c}`" for c in codes), last)


def _lower_first(text: str) -> str:
    """A label inside a sentence: "Đã giải ngân" -> "đã giải ngân" (the rest as it is)."""
    return text[:1].lower() + text[1:]


def _period_field(template: Template) -> str | None:
    for section in template.sections:
        for item in section.fields:
            if item.value == "period":
                return item.code
    return None


def _section_name(section: Section) -> str:
    """How a sentence names a section: bảng `A`, danh sách `D`, mục «Thông tin chung» (`general`)."""
    if section.kind == "table":
        return f"bảng `{section.code}`"
    if section.kind == "list":
        return f"danh sách `{section.code}`"
    return f"mục «{section.label}» (`{section.code}`)"


def _requirement(template: Template, code: str, rows: tuple[str, ...] | None = None) -> str:
    text = _section_name(template.section(code))
    if rows:
        text += ", chỉ " + _joined(f"dòng `{r}`" for r in rows)
    return text


def _numbers_sentence(section: Section) -> str:
    """Whether a section's figures are cumulative, and their unit."""
    numbers = section.kind == "table" or any(f.value in ("count", "money") for f in section.fields)
    if not numbers:
        return ""
    unit = f" Đơn vị tính: {section.unit}." if section.unit else ""
    if section.cumulative:
        return f"Số **lũy kế** từ đầu chương trình đến ngày báo cáo.{unit}"
    return f"Chỉ ghi số phát sinh **trong kỳ** (không cộng dồn các kỳ trước).{unit}"


# --------------------------------------------------------------------------- the page
# Each paragraph and each list item is one line: Markdown joins nothing it should not, and a
# change of the config changes the lines it concerns.


def _intro(config: Config) -> list[str]:
    template = config.template
    schedule = config.report.schedule
    period = _period_field(template)
    days = _joined(str(d) for d in schedule.collection_days)
    update = "Trước giờ này, đơn vị cập nhật số liệu ngay trên trang tính đã có (không tạo trang tính mới, "
    update += "không đổi tên trang tính)"
    if period:
        update += f" và sửa ô `{period}` thành ngày của kỳ, ví dụ `{schedule.collection_days[0]:02d}/03/2025`"
    lines = [
        f"# Mẫu báo cáo của đơn vị, phiên bản {template.version}",
        "",
        f"> Trang này được tạo từ cấu hình của dự án (`include/config/`) bằng lệnh `{COMMAND}`. Đừng sửa "
        "trực tiếp: hãy sửa cấu hình rồi chạy lại lệnh. Phép kiểm thử `tests/tools/test_contract.py` báo "
        "lỗi khi trang này khác với cấu hình.",
        "",
        f"Chương trình: {config.report.programme.title}.",
        "",
        "Mỗi đơn vị báo cáo điền một trang tính (một thẻ của Google Sheet) trong bảng tính của mình. Cán "
        "bộ đọc các nhãn tiếng Việt; hệ thống chỉ đọc các **mã**. Trang này là quy ước giữa trang tính của "
        "các đơn vị và hệ thống tổng hợp: cấu hình của dự án mô tả đúng các mã dưới đây, và mẫu báo cáo do "
        "hệ thống tạo ra (`python -m housing_report_tools.cli template`) theo đúng các quy tắc này. Cấu "
        "hình có thể thêm mã mới nhưng không bao giờ đổi tên các mã đã có.",
        "",
        "## Kỳ báo cáo và thời hạn",
        "",
        f"Mỗi tháng có {len(schedule.collection_days)} kỳ báo cáo, vào các ngày {days}. Hệ thống đọc trang "
        f"tính của các đơn vị lúc {schedule.hour:02d}:00 ngày đó (múi giờ `{schedule.timezone}`). "
        + update
        + ".",
    ]
    if period:
        lines += [
            "",
            f"Trang tính có ô `{period}` ghi một kỳ khác kỳ đang tổng hợp là **chưa cập nhật** cho kỳ này: "
            "nó không được tính là báo cáo của kỳ (xem «Tình trạng»).",
        ]
    return lines


def _layout(template: Template) -> list[str]:
    tables = [s.code for s in template.sections if s.kind == "table"]
    lists = [s for s in template.sections if s.kind == "list"]
    placed = [s.code for s in lists if s.place]
    return [
        "## Bố cục trang tính",
        "",
        "1. Cột A ghi **mã** trên mọi dòng mà hệ thống đọc. Dòng có cột A để trống thì không được đọc "
        "(tiêu đề, ghi chú, dòng trống, hướng dẫn): có thể chèn thêm những dòng như vậy. Mã được so khớp "
        "sau khi bỏ khoảng trắng ở hai đầu, không phân biệt chữ hoa, chữ thường.",
        "2. **Dòng thông tin**: mã ở cột A, nhãn ở cột B, giá trị ở cột C.",
        f"3. **Bảng**: một dòng tiêu đề có cột A là mã của bảng ({_codes(tables)}) và các ô từ cột C trở "
        "đi là các mã cột. Mỗi dòng tiếp theo có cột A là một mã dòng của bảng đó cho một giá trị dưới mỗi "
        "mã cột, cho đến dòng tiêu đề bảng tiếp theo hoặc mã của mục khác. Cột được nhận theo mã, không "
        "theo vị trí: chèn thêm hay đổi thứ tự các cột, các dòng không làm thay đổi số liệu được đọc.",
        f"4. **Dòng danh sách**: mã danh sách ở cột A ({_codes(s.code for s in lists)}), nội dung ở cột B"
        + (f"; với danh sách {_codes(placed)}, địa bàn (xã, huyện) ở cột C" if placed else "")
        + ". Mỗi danh sách có bao nhiêu dòng cũng được: cần thêm dòng thì chèn dòng mới và ghi mã của "
        "danh sách ở cột A.",
        "5. Một mã xuất hiện hai lần, thiếu một mã cột của bảng hoặc thiếu một mã dòng là **lỗi**; thư báo "
        "lỗi nêu mã và ô.",
        f"6. Trang tính tên là `{template.worksheet}`, trừ khi cấu hình của đơn vị "
        "(`include/config/units.yaml`, khóa `worksheet`) ghi tên khác.",
    ]


def _values(template: Template) -> list[str]:
    tables = [s.code for s in template.sections if s.kind == "table"]
    used = {s.value for s in template.sections if s.kind == "table"}
    used |= {f.value for s in template.sections for f in s.fields}
    return [
        "## Cách ghi giá trị",
        "",
        "- **Số đếm** (căn nhà, người, tin bài...) là số nguyên không âm.",
        f"- **Tiền** tính bằng **triệu đồng**: số không âm, tối đa {MONEY_DECIMALS} chữ số thập phân "
        "(đến nghìn đồng).",
        "- Một ô có thể chứa số thật, hoặc chữ viết số theo cách Việt Nam: dấu chấm (`.`) phân cách hàng "
        "nghìn, dấu phẩy (`,`) ghi phần thập phân (`1.234` là một nghìn hai trăm ba mươi tư; `2.345,5` là "
        "hai nghìn ba trăm bốn mươi lăm phẩy năm). Khoảng trắng quanh số được bỏ qua.",
        f"- Ô để trống được hiểu là 0 (trong các bảng {', '.join(f'`{t}`' for t in tables)} và các dòng "
        "thông tin ghi số), trừ khi cả một mục bắt buộc để trống: mục đó được xem là **chưa điền**.",
        "- Mọi giá trị khác (chữ, `12 căn`, `#REF!`, `#N/A`, số âm, số lẻ trong ô số đếm) là **lỗi**: thư "
        "báo lỗi nêu tên đơn vị, địa chỉ ô theo kiểu A1 (ví dụ "
        f"`{template.worksheet}!E12`), giá trị đã ghi và cách ghi đúng.",
        "- Mỗi ô số có một **mức tối đa** có thể có (cấu hình ghi ở `max`, xem từng mã dưới đây): số lớn "
        "hơn, như số điện thoại ghi nhầm vào ô hay số gõ thừa chữ số, là **lỗi** nêu ô và mức tối đa.",
        "- **Ngày** ghi dạng `dd/mm/yyyy` (chữ) hoặc là ô ngày của bảng tính.",
        "",
        "Loại giá trị của mỗi mã, như cấu hình ghi (`value`):",
        "",
        *_table(["loại", "ý nghĩa"], ([f"`{k}`", VALUE_WORDS[k]] for k in VALUE_WORDS if k in used)),
        "",
        "## Lỗi và cảnh báo",
        "",
        *(f"- **{SEVERITY_WORDS[k].capitalize()}** (`{k}`): {SEVERITY_MEANINGS[k]}." for k in SEVERITY_WORDS),
    ]


def _table_rules(rules: Iterable[Rule], section: Section) -> list[str]:
    labels = {c.code: _lower_first(c.label) for c in section.columns}
    return [
        f"- Trên mọi dòng: `{rule.left}` ({labels[rule.left]}) {OPERATOR_WORDS[rule.op]} `{rule.right}` "
        f"({labels[rule.right]}). Nếu sai: **{SEVERITY_WORDS[rule.severity]}**."
        for rule in rules
        if rule.table == section.code
    ]


def _codes_section(config: Config) -> list[str]:
    template = config.template
    period = _period_field(template)
    lines = ["## Các mã"]
    for section in template.sections:
        if section.kind == "list":
            continue
        title = f"Bảng `{section.code}`: {section.label}" if section.kind == "table" else section.label
        lines += ["", f"### {title}" + ("" if section.kind == "table" else f" (mục `{section.code}`)"), ""]
        sentence = _numbers_sentence(section)
        if sentence:
            lines += [sentence, ""]
        if section.kind == "fields":
            rows = []
            for item in section.fields:
                value = VALUE_WORDS[item.value]
                if item.code == period:
                    days = _joined((str(d) for d in config.report.schedule.collection_days), "hoặc")
                    value += f": ngày {days} của tháng"
                limit = template.maximum(item.code)
                if limit is not None:
                    value += f", tối đa {vn_number(limit)}"
                rows.append([f"`{item.code}`", item.label, value])
            lines += _table(["mã", "nhãn", "giá trị"], rows)
            continue
        lines += [f"Mã dòng ({len(section.rows)}):", ""]
        lines += _table(["mã", "nhãn"], ([f"`{r.code}`", r.label] for r in section.rows))
        lines += ["", f"Mã cột ({len(section.columns)}); mỗi ô là {VALUE_WORDS[section.value]}:", ""]
        first_row = section.rows[0].code if section.rows else ""
        lines += _table(
            ["mã", "nhãn", "tối đa mỗi ô"],
            (
                [f"`{c.code}`", c.label, vn_number(template.maximum(f"{section.code}.{first_row}.{c.code}"))]
                for c in section.columns
            ),
        )
        rules = _table_rules(config.report.rules, section)
        if rules:
            lines += ["", "Quy tắc của bảng:", "", *rules]
    lists = [s for s in template.sections if s.kind == "list"]
    if lists:
        lines += ["", "### Danh sách (chữ, bao nhiêu dòng cũng được)", ""]
        rows = [
            [f"`{s.code}`", s.label, "nội dung ở cột B" + (", địa bàn ở cột C" if s.place else "")]
            for s in lists
        ]
        lines += _table(["mã", "nhãn", "cách ghi"], rows)
    return lines


def _kinds(template: Template) -> list[str]:
    rows = []
    for kind in template.kinds.values():
        required = "; ".join(_requirement(template, r.section, r.rows) for r in kind.required)
        optional = "; ".join(_requirement(template, code) for code in kind.optional) or "—"
        rows.append([f"`{kind.code}`", kind.label, required, optional])
    return [
        "## Đơn vị nào điền gì",
        "",
        "Mỗi đơn vị trong `include/config/units.yaml` có một loại (`kind`). Mỗi loại phải điền:",
        "",
        *_table(["loại", "gồm", "phải điền", "không bắt buộc"], rows),
        "",
        "Bảng mà loại đơn vị không bắt buộc điền có thể bỏ hẳn khỏi trang tính của đơn vị đó.",
    ]


def _for_each(rule: Rule) -> str:
    if not rule.for_each:
        return ""
    selected = ["một số lũy kế" if p == "cumulative" else f"`{p}`" for p in rule.for_each]
    text = " với mỗi `{key}` là " + _joined(selected, "hoặc")
    if rule.exclude:
        text += " (trừ " + _joined((f"`{p}`" for p in rule.exclude), "và") + ")"
    return text


def _other_checks(config: Config) -> list[str]:
    template = config.template
    report = config.report
    rules = [r for r in report.rules if r.table is None]
    outliers = report.outliers
    if not rules and not outliers.figures:
        return []
    constants = "; ".join(f"`{name}` = {vn_number(value)}" for name, value in report.constants.items())
    lines = [
        "## Các kiểm tra khác",
        "",
        "Ngoài các quy tắc của từng bảng, hệ thống kiểm tra số liệu của mỗi đơn vị như sau. Số liệu được "
        "gọi theo khóa `bảng.dòng.cột` (ví dụ `A.NCC.CAN_XM`) hoặc theo mã của dòng thông tin "
        "(`NGAY_CONG`); dòng `TONG` là tổng các dòng của bảng; `last.` là số của kỳ gần nhất mà đơn vị "
        "được tiếp nhận." + (f" Hằng số: {constants}." if constants else ""),
        "",
    ]
    for rule in rules:
        kinds = _joined(_lower_first(template.kind_label(k)) for k in rule.kinds)
        lines.append(
            f"- `{rule.name or rule.left}`, **{SEVERITY_WORDS[rule.severity]}**"
            + (f", chỉ với đơn vị loại {kinds}" if kinds else "")
            + f": `{rule.left}` {OPERATOR_WORDS[rule.op]} `{rule.right}`"
            + _for_each(rule)
            + "."
            + (f" {rule.fix}" if rule.fix else "")
        )
    if outliers.figures:
        every = "*" in outliers.figures
        figures = "mọi số liệu" if every else _joined(f"`{f}`" for f in outliers.figures)
        lines.append(
            f"- Mức tăng bất thường, **{SEVERITY_WORDS[outliers.severity]}**: mức tăng của {figures} so với "
            f"kỳ gần nhất được tiếp nhận được so với mức tăng của các đơn vị cùng loại trong kỳ (khi có ít "
            f"nhất {outliers.min_peers} đơn vị) và với các mức tăng trước đây của chính đơn vị (khi có ít "
            f"nhất {outliers.min_history} kỳ), theo điểm z hiệu chỉnh trên độ lệch tuyệt đối trung vị: điểm "
            f"trên {vn_number(outliers.threshold)} là bất thường."
            + (f" {outliers.fix}" if outliers.fix else "")
        )
    if outliers.jump:
        lines.append(
            f"- Số liệu tăng vọt, **{SEVERITY_WORDS[outliers.severity]}**: mọi số liệu gấp "
            f"{vn_number(outliers.jump)} lần trở lên số đã báo cáo ở kỳ gần nhất được tiếp nhận (và cao hơn "
            f"ít nhất {vn_number(outliers.jump_min_increase)}), không cần so với đơn vị nào khác."
        )
    return lines


def _statuses(config: Config) -> list[str]:
    template = config.template
    period = _period_field(template) or "kỳ báo cáo"
    rows = [
        [f"`{status}`", STATUS_LABELS[status], STATUS_MEANINGS[status].format(period=period)]
        for status in STATUSES
    ]
    kept = _joined(_section_name(s) for s in template.sections if s.cumulative and s.figure_keys())
    period_only = _joined(_section_name(s) for s in template.sections if not s.cumulative and s.figure_keys())
    return [
        "## Tình trạng",
        "",
        "Tình trạng của mỗi đơn vị trong một kỳ:",
        "",
        *_table(["mã", "tình trạng", "ý nghĩa"], rows),
        "",
        f"Đơn vị không ở tình trạng `{ACCEPTED}`: với {kept}, hệ thống dùng số lũy kế của kỳ gần nhất mà "
        "đơn vị được tiếp nhận, có ghi rõ là số chuyển từ kỳ đó"
        + (f"; với {period_only}, đơn vị không góp số nào của kỳ." if period_only else "."),
    ]


def contract_markdown(config: Config) -> str:
    """The contract page, Markdown, NFC."""
    parts = [
        _intro(config),
        _layout(config.template),
        _values(config.template),
        _codes_section(config),
        _kinds(config.template),
        _other_checks(config),
        _statuses(config),
    ]
    text = "\n\n".join("\n".join(part) for part in parts if part) + "\n"
    return unicodedata.normalize("NFC", text)


def write_contract(config: Config, path: Path = DEFAULT_PATH) -> Path:
    """Write the page to `path` (UTF-8, `\n` line ends); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contract_markdown(config), encoding="utf-8", newline="\n")
    return path
