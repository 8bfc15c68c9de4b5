"""Summaries stored by earlier versions of this code, with fewer keys (no completeness, no
version, no houses of the previous period, units without their read time, list entries without
their cell), written as they are into the report database: the next period is built on them, a
period is replayed from them, and a correction is computed against them and sent."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import msgspec
import pytest
import sqlalchemy as sa
from msgspec import UNSET

from housing_report.aggregate.corrections import figures_hash
from housing_report.archive.schema import summaries
from housing_report.archive.store import ReportStore
from housing_report.deliver.report import Mail, dispatch
from housing_report.deliver.transports import OutboxDelivery
from housing_report.pipeline.report import replay, summarise
from tests.archive.test_store import read_all
from tests.support.grids import col_of, find, unit_rows

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def as_earlier_code_stored_it(store: ReportStore, period: dt.date, version: int) -> dict:
    """Rewrite a stored version's JSON without the keys added since the first versions; returns it."""
    where = sa.and_(summaries.c.period == period, summaries.c.version == version)
    with store.engine.begin() as conn:
        text = conn.execute(sa.select(sa.cast(summaries.c.summary, sa.Text)).where(where)).scalar_one()
        data = json.loads(text)
        for key in ("completeness", "version"):
            del data[key]
        if data["previous"]:
            del data["previous"]["houses"]
        for unit in data["units"]:
            del unit["read_at"]
        for entries in data["lists"].values():
            for entry in entries:
                del entry["cell"]
        conn.execute(
            sa.text("UPDATE summaries SET summary = :summary WHERE id = :id"),
            {"summary": json.dumps(data, ensure_ascii=False), "id": _id(conn, where)},
        )
    return data


def _id(conn, where) -> int:
    return conn.execute(sa.select(summaries.c.id).where(where)).scalar_one()


def fixed_943(config, completed):
    rows = unit_rows(config, "district", "12/03/2025", "Huyện Kế Sách")
    rows[find(rows, "PTTD")][col_of(rows, "A", "HT_XM")] = completed
    return rows


def test_a_period_is_built_replayed_and_corrected_on_older_summaries(store, config, tmp_path):
    read_all(config, store, FEB, "feb")
    february = summarise(config, FEB, "feb", store)
    old_february = as_earlier_code_stored_it(store, FEB, 1)
    assert "completeness" not in old_february

    # The next period compares with February as earlier code stored it.
    read_all(config, store, MAR, "mar-1")
    original = summarise(config, MAR, "mar-1", store)
    assert original.previous.period == "2025-02-27"
    assert original.previous.houses == february.houses
    assert original.previous.totals == february.totals
    assert original.change["A.TONG.HT_XM"] == 0

    mail = Mail.of(config, "Ban Tuyên giáo <baocao@btgtu.soctrang.example>", "btgtu.soctrang.example")
    outbox = OutboxDelivery(tmp_path / "outbox")
    assert dispatch(config, store, MAR, "mar-1", mail, outbox).kind == "report"
    as_earlier_code_stored_it(store, MAR, 1)

    # The delivered version, as earlier code stored it, decodes: the keys it lacks defaulted.
    stored = store.summary_version(MAR, 1)
    assert stored.summary.completeness is UNSET
    assert stored.summary.version is UNSET
    assert stored.summary.previous.houses is None
    assert {u.read_at for u in stored.summary.units} == {None}
    assert stored.summary.totals == original.totals
    assert stored.summary.by_unit == original.by_unit
    # ... and its figures hash to what the archive holds beside it.
    assert figures_hash(stored.summary) == stored.figures_hash == figures_hash(original)

    # A replay of it rebuilds the original, on February as earlier code stored it.
    replayed = replay(config, MAR, store, 1)
    assert msgspec.structs.replace(replayed, generated_at=original.generated_at) == original

    # A unit fixes its sheet: the correction is computed against the older version, and sent.
    read_all(config, store, MAR, "mar-2", {"943": fixed_943(config, 150)})
    summarise(config, MAR, "mar-2", store)
    outcome = dispatch(config, store, MAR, "mar-2", mail, outbox)
    assert (outcome.sent, outcome.kind, outcome.supersedes) == (True, "correction", 1)
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((tmp_path / "outbox").glob("*.eml"))
    ]
    [correction] = [m for m in messages if m["Subject"].startswith("Báo cáo bổ sung, điều chỉnh")]
    text = correction.get_body(preferencelist=("plain",)).get_content()
    assert "phiên bản 1" in text
    assert "(tăng 30)" in text
    assert "Huyện Kế Sách" in text
