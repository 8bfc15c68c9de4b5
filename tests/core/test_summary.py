"""The typed summary (`core.summary`) as `summary.json` and the archive hold it: every key in the
order, and with the type, that the dict of the first versions had; absent keys stay absent."""

from __future__ import annotations

import datetime as dt
import json
import math

import msgspec
import pytest
from msgspec import UNSET

from housing_report.archive.store import ReportStore
from housing_report.core.statuses import ACCEPTED, Status
from housing_report.core.summary import ListEntry, Summary, decode_summary, summary_json
from housing_report.pipeline.report import summarise
from tests.archive.test_store import read_all
from tests.support.grids import col_of, find, unit_rows
from tests.support.summary_fixture import first_summary_dict, make_summary, summary_dict, typed

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)

# The keys of summary.json, in their order, as `build_summary` wrote them as a dict.
SUMMARY_KEYS = [
    "schema", "period", "period_label", "previous_period", "generated_at", "run_id", "programme", "units",
    "status_counts", "totals", "by_unit", "completion_percent", "houses", "districts", "previous", "change",
    "lists", "apart", "completeness", "version",
]  # fmt: skip
UNIT_KEYS = [
    "code", "name", "kind", "status", "status_label", "errors", "warnings", "carried_forward_from", "reason",
    "spreadsheet", "worksheet", "read_at",
]  # fmt: skip
FINDING_KEYS = ["cell", "code", "message"]
HOUSES_KEYS = ["needed", "started", "completed"]
DISTRICT_KEYS = [
    "code", "name", "status", "carried_forward_from", "needed", "started", "completed", "percent",
    "previous_completed", "change", "flagged",
]  # fmt: skip
PREVIOUS_KEYS = ["period", "completion_percent", "houses", "totals"]
COMPLETENESS_KEYS = ["periods", "total", "by_kind", "by_unit"]
COUNTS_KEYS = [
    "period", "archived", "expected", "submitted", "accepted", "on_time", "submitted_percent",
    "accepted_percent", "on_time_percent",
]  # fmt: skip


@pytest.mark.parametrize("make", [summary_dict, first_summary_dict], ids=["with-previous", "first"])
def test_summary_json_is_the_text_the_dict_gave(make):
    """The hand-written summary (a dict as the first versions built it), typed and written: the
    very text `json.dumps` wrote of the dict (keys, order, ints and floats, non-ASCII letters);
    the keys it lacks (a list entry's cell, completeness, version) are still absent."""
    data = make()
    assert summary_json(typed(data)) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@pytest.fixture(scope="module")
def march(config, tmp_path_factory) -> Summary:
    """March's summary as the pipeline builds it, after a February: a rejected unit, a stale one,
    a missing one (carried forward), lists with and without a place."""
    store = ReportStore(f"sqlite:///{tmp_path_factory.mktemp('db') / 'reports.sqlite'}")
    store.ensure_schema()
    read_all(config, store, FEB, "feb")
    summarise(config, FEB, "feb", store)
    bad = unit_rows(config, "district", "12/03/2025", "Huyện Thạnh Trị")
    bad[find(bad, "MTQG")][col_of(bad, "A", "HT_XM")] = "12 căn"
    stale = unit_rows(config, "district", "27/02/2025", "Huyện Long Phú")
    read_all(config, store, MAR, "mar", {"949": bad, "946": stale, "HCCB": None})
    return summarise(config, MAR, "mar", store)


def test_summary_json_keys_are_in_their_order(march):
    data = json.loads(summary_json(march))
    assert list(data) == SUMMARY_KEYS
    assert list(data["programme"]) == ["title", "target_date"]
    assert all(list(u) == UNIT_KEYS for u in data["units"])
    findings = [f for u in data["units"] for f in u["errors"] + u["warnings"]]
    assert findings
    assert all(list(f) == FINDING_KEYS for f in findings)
    assert list(data["status_counts"]) == [s.value for s in Status]
    assert list(data["houses"]) == HOUSES_KEYS
    assert all(list(d) == DISTRICT_KEYS for d in data["districts"])
    assert list(data["previous"]) == PREVIOUS_KEYS
    assert list(data["previous"]["houses"]) == HOUSES_KEYS
    assert list(data["lists"]) == ["D", "E", "F"]
    # `place` only in a list that has one.
    assert all(list(e) == ["unit_code", "unit_name", "text", "cell", "place"] for e in data["lists"]["D"])
    for code in ("E", "F"):
        assert data["lists"][code]
        assert all(list(e) == ["unit_code", "unit_name", "text", "cell"] for e in data["lists"][code])
    completeness = data["completeness"]
    assert list(completeness) == COMPLETENESS_KEYS
    archived = [t for t in completeness["total"] if t["archived"]]
    not_archived = [t for t in completeness["total"] if not t["archived"]]
    assert archived
    assert not_archived
    assert all(list(t) == COUNTS_KEYS for t in archived)
    # The counts of a period not archived are absent, not null.
    assert all(list(t) == ["period", "archived", "expected"] for t in not_archived)
    assert all(list(e) == ["period", "status", "on_time"] for e in completeness["by_unit"]["941"])


def test_summary_json_values_keep_their_types(march):
    data = json.loads(summary_json(march))
    assert data["schema"] == 1
    assert data["version"] == 1
    assert data["period"] == "2025-03-12"
    assert all(type(v) is int for v in data["houses"].values())
    assert all(type(v) is int for v in data["status_counts"].values())
    counts = {"accepted": 17, "rejected": 1, "stale": 1, "missing": 1, "unreachable": 0}
    assert data["status_counts"] == counts
    # Counts are ints, money floats, in the totals and unit by unit.
    assert type(data["totals"]["A.TONG.CAN_XM"]) is int
    assert type(data["totals"]["B.TONG.HUY_DONG"]) is float
    assert type(data["by_unit"]["941"]["A.NCC.CAN_XM"]) is int
    assert type(data["by_unit"]["941"]["B.NSTW.HUY_DONG"]) is float
    assert type(data["completion_percent"]) is float
    units = {u["code"]: u for u in data["units"]}
    assert units["941"]["status"] == "accepted"
    # Times as Python's isoformat writes them (msgspec would write a datetime's UTC as "Z").
    assert units["HCCB"]["read_at"].endswith("+00:00")
    assert data["generated_at"].endswith("+00:00")
    assert units["HCCB"]["carried_forward_from"] == "2025-02-27"
    assert units["949"]["errors"][0]["cell"].startswith("BaoCao!G")
    district = {d["code"]: d for d in data["districts"]}["941"]
    assert type(district["percent"]) is float
    assert district["change"] == 0
    # The text is JSON's as `json.dumps(..., indent=2)` writes it, non-ASCII letters as they are.
    assert summary_json(march) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert "Thành phố Sóc Trăng" in summary_json(march)


def test_a_decoded_summary_is_the_summary(march):
    """What the archive and summary.json give back is the summary written, statuses typed."""
    again = decode_summary(summary_json(march).encode())
    assert again == march
    assert all(type(u.status) is Status for u in again.units)
    assert again.units[0].status == ACCEPTED
    assert again.lists["E"][0].place is UNSET


def test_an_older_summary_decodes_with_the_keys_it_lacks_defaulted():
    """Summaries stored before a key existed: no completeness, no version, no houses in the
    previous period, units without their read time or reason, list entries without a cell."""
    data = summary_dict()
    del data["previous"]["houses"]
    for unit in data["units"]:
        del unit["read_at"]
        del unit["reason"]
    del data["apart"]
    for district in data["districts"]:
        del district["flagged"]
    old = decode_summary(json.dumps(data))
    assert old.apart == {}
    assert {d.flagged for d in old.districts} == {False}
    assert old.completeness is UNSET
    assert old.version is UNSET
    assert old.previous.houses is None
    assert {u.read_at for u in old.units} == {None}
    assert {u.reason for u in old.units} == {""}
    assert old.lists["D"][0].cell is UNSET
    assert old.totals == make_summary().totals
    # Written again, it lacks none of the keys it decodes to (and adds no version or completeness).
    written = json.loads(summary_json(old))
    assert list(written) == SUMMARY_KEYS[:-2]
    assert list(written["units"][0]) == UNIT_KEYS
    assert written["previous"]["houses"] is None


def test_a_summary_of_a_wrong_shape_is_refused():
    data = summary_dict()
    data["houses"]["needed"] = "nhiều"
    with pytest.raises(msgspec.ValidationError, match="houses.needed"):
        decode_summary(json.dumps(data))
    data = summary_dict()
    data["units"][0]["status"] = "accepted-ish"
    with pytest.raises(msgspec.ValidationError, match="status"):
        decode_summary(json.dumps(data))


def test_a_non_finite_float_written_by_json_still_decodes():
    data = summary_dict()
    data["previous"]["completion_percent"] = float("nan")
    text = json.dumps(data)
    assert "NaN" in text
    assert math.isnan(decode_summary(text).previous.completion_percent)


def test_list_entry_place_absent_or_given():
    assert msgspec.to_builtins(ListEntry(unit_code="941", unit_name="X", text="t")) == {
        "unit_code": "941",
        "unit_name": "X",
        "text": "t",
    }
    entry = ListEntry(unit_code="941", unit_name="X", text="t", cell="BaoCao!B40", place="")
    assert list(msgspec.to_builtins(entry)) == ["unit_code", "unit_name", "text", "cell", "place"]
