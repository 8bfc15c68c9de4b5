"""What decides and tells a correction: the figures' hash (byte for byte the hash the archive
holds beside each version since the first ones) and the changes between two versions."""

from __future__ import annotations

import msgspec

from housing_report.aggregate.corrections import compare, figures_hash
from housing_report.core.statuses import REJECTED
from tests.support.summary_fixture import make_first_summary, make_summary, summary_dict, typed

# The hand-written summary's figures, hashed by the code of the first versions (the summary a
# dict): a version stored then is compared with a new one by this hash.
FIGURES_HASH = "52ebf8147b9a48d0e20db7ef09d9f1a738a75f138ea25aa7c7a3752c10e9cc59"


def test_figures_hash_is_the_one_the_archive_holds():
    assert figures_hash(make_summary()) == FIGURES_HASH
    # Only this period's figures count: not the previous period's.
    assert figures_hash(make_first_summary()) == FIGURES_HASH


def test_figures_hash_follows_the_figures_only():
    other = make_summary()
    other.generated_at = "2025-03-12T09:00:00+00:00"
    other.run_id = "manual__2025-03-12"
    other.units[0].warnings = []
    assert figures_hash(other) == FIGURES_HASH
    changed = make_summary()
    changed.by_unit["941"]["A.NCC.HT_XM"] += 1
    assert figures_hash(changed) != FIGURES_HASH
    # A count written as a float is another figure's text: another hash.
    data = summary_dict()
    data["totals"]["NGAY_CONG"] = float(data["totals"]["NGAY_CONG"])
    assert figures_hash(typed(data)) != FIGURES_HASH


def test_compare_names_the_changed_totals_and_why(config):
    old, new = make_summary(), make_summary()
    new.by_unit["942"]["A.MTQG.HT_XM"] += 4
    new.totals["A.MTQG.HT_XM"] += 4
    new.units = [msgspec.structs.replace(u, status=REJECTED) if u.code == "946" else u for u in new.units]
    view = compare(old, new, config, old_version=1, new_version=2)
    assert [(c["key"], c["old"], c["new"], c["difference"]) for c in view["changes"]] == [
        ("A.MTQG.HT_XM", old.totals["A.MTQG.HT_XM"], old.totals["A.MTQG.HT_XM"] + 4, 4)
    ]
    reasons = {r["unit_code"]: r["text"] for r in view["reasons"]}
    assert reasons == {
        "942": "1 chỉ tiêu thay đổi theo số liệu đơn vị cập nhật",
        "946": "tình trạng báo cáo từ «Không đọc được» thành «Bị trả lại (có lỗi)»",
    }
    # Without the delivered version (no longer archived), every total is a change.
    assert len(compare(None, new, config, old_version=1, new_version=2)["changes"]) == len(new.totals)
