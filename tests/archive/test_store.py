"""The archive on SQLite and the real PostgreSQL: migrations, versions, replay, claims."""

from __future__ import annotations

import datetime as dt
import json
import threading

import msgspec
import pytest
import sqlalchemy as sa

from housing_report.archive.deliveries import DeliveryConflict, recipients_key
from housing_report.archive.records import StoreError
from housing_report.archive.schema import VERSION_TABLE, metadata, summaries
from housing_report.archive.store import SCHEMA_HEAD, ReportStore
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import MISSING
from housing_report.pipeline.report import replay, summarise
from housing_report.validate.parse import parse_report
from tests.support.grids import col_of, find, unit_rows
from tests.support.summary_fixture import summary_dict, typed

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)


def read_all(config, store, period, run_id, overrides=None):
    rows = []
    label = f"{period:%d/%m/%Y}"
    for unit in config.units:
        sheet = (overrides or {}).get(unit.code, unit_rows(config, unit.kind, label, unit.name))
        if sheet is None:
            rows.append(
                (FetchResult(unit.code, MISSING, reason="thiếu"), None, unit.spreadsheet, unit.worksheet)
            )
            continue
        grid = Grid(unit.worksheet, sheet)
        report = parse_report(grid, unit, config.template, config.report.rules, period)
        rows.append((FetchResult(unit.code, "ok", grid), report, unit.spreadsheet, unit.worksheet))
    store.save_reads(period, run_id, rows)


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def test_migrations_create_exactly_the_tables_the_code_uses(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert context.get_current_revision() == SCHEMA_HEAD
        diffs = [d for d in compare_metadata(context, metadata) if not _is_noise(d)]
    assert diffs == []


def _is_noise(diff) -> bool:
    # Server defaults and JSON/Text reflections differ by dialect without meaning anything.
    kind = diff[0][0] if isinstance(diff, list) else diff[0]
    return kind in ("modify_default", "modify_type")


def test_a_deployed_database_upgrades_in_place(store_url, config):
    """A database at the first schema, holding a summary, upgrades and keeps its history."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from housing_report.archive.store import MIGRATIONS_DIR

    old = summary_dict()  # as the first versions stored it: no completeness, no version
    old["period"] = "2025-02-27"
    engine = sa.create_engine(store_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO summaries (period, run_id, created_at, summary) "
                "VALUES ('2025-02-27', 'old-run', '2025-02-27 00:10:00', :summary)"
            ),
            {"summary": json.dumps(old, ensure_ascii=False)},
        )
    engine.dispose()
    store = ReportStore(store_url)
    assert store.ensure_schema() == SCHEMA_HEAD
    row = store.summary_version(FEB)
    assert row.run_id == "old-run"
    assert row.version == 1
    assert row.summary == typed(old)


def test_grids_move_to_their_own_table_and_stay_readable(store_url):
    """Migration 0004: a read's grid stored at 0003 (in unit_reads) is readable after the upgrade."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from housing_report.archive.store import MIGRATIONS_DIR

    engine = sa.create_engine(store_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    grid = '[["KY_BAO_CAO", null, {"date": "2025-02-27"}], ["A", "Bảng A", 12]]'
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        # 943 read the same sheet as 941 (same content): its grid is stored once.
        for unit, value, content in (("941", grid, "h1"), ("942", None, None), ("943", grid, "h1")):
            conn.execute(
                sa.text(
                    "INSERT INTO unit_reads (period, run_id, unit_code, spreadsheet, worksheet, status, "
                    "reason, read_at, content_hash, grid, figures, findings, lists, info) VALUES "
                    "('2025-02-27', 'old', :u, 's', 'BaoCao', 'accepted', '', '2025-02-27 00:10:00', "
                    ":h, :g, '{}', '[]', '{}', '{}')"
                ),
                {"u": unit, "g": value, "h": content},
            )
    engine.dispose()
    store = ReportStore(store_url)
    assert store.ensure_schema() == SCHEMA_HEAD
    reads = store.latest_reads(FEB, "old", ["941", "942", "943"])
    expected = Grid("BaoCao", [["KY_BAO_CAO", None, FEB], ["A", "Bảng A", 12]])
    assert store.read_grid(reads["941"].id) == store.read_grid(reads["943"].id) == expected
    assert store.read_grid(reads["942"].id) is None
    with store.engine.connect() as conn:
        # Stored once by 0004; since 0005, once per unit (941 and 943 each keep theirs).
        assert conn.execute(sa.text("SELECT count(*) FROM unit_read_grids")).scalar() == 2


def test_grids_stored_by_hash_are_kept_per_unit_and_found_by_their_reads(store_url):
    """Migration 0005: grids keyed by hash alone (0004) become one per unit and content; every
    read finds its grid, and a later read unchanged does not store it again."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from housing_report.archive.store import MIGRATIONS_DIR

    engine = sa.create_engine(store_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    sheet = Grid("BaoCao", [["KY_BAO_CAO", None, FEB], ["A", "Bảng A", 12]])
    other = Grid("BaoCao", [["KY_BAO_CAO", None, FEB], ["A", "Bảng A", 13]])
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        for content in (sheet, other):
            conn.execute(
                sa.text("INSERT INTO unit_read_grids (content_hash, grid) VALUES (:h, :g)"),
                {"h": content.content_hash(), "g": content.encoded()[1]},
            )
        reads = (("941", sheet), ("941", sheet), ("942", other), ("943", sheet), ("944", None))
        for unit, content in reads:
            conn.execute(
                sa.text(
                    "INSERT INTO unit_reads (period, run_id, unit_code, spreadsheet, worksheet, status, "
                    "reason, read_at, content_hash, figures, findings, lists, info) VALUES "
                    "('2025-02-27', 'old', :u, 's', 'BaoCao', 'accepted', '', '2025-02-27 00:10:00', "
                    ":h, '{}', '[]', '{}', '{}')"
                ),
                {"u": unit, "h": content.content_hash() if content else None},
            )
    engine.dispose()
    store = ReportStore(store_url)
    assert store.ensure_schema() == SCHEMA_HEAD
    before = store.latest_reads(FEB, "old", ["941", "942", "943", "944"])
    assert store.read_grid(before["941"].id) == store.read_grid(before["943"].id) == sheet
    assert store.read_grid(before["942"].id) == other
    assert store.read_grid(before["944"].id) is None
    with store.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT unit_code FROM unit_read_grids ORDER BY unit_code")).scalars()
        assert list(kept) == ["941", "942", "943"]  # 941's two reads share one grid
    # New reads: 942 unchanged stores nothing new, 941 changed stores its new grid.
    changed = Grid("BaoCao", [["KY_BAO_CAO", None, FEB], ["A", "Bảng A", 14]])
    store.save_reads(
        FEB,
        "new",
        [
            (FetchResult("941", "ok", changed), None, "s", "BaoCao"),
            (FetchResult("942", "ok", other), None, "s", "BaoCao"),
        ],
    )
    again = store.latest_reads(FEB, "new", ["941", "942"])
    assert store.read_grid(again["941"].id) == changed
    assert store.read_grid(again["942"].id) == other
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM unit_read_grids")).scalar() == 4


def test_a_saved_read_keeps_its_grid_with_dates(store):
    sheet = Grid("BaoCao", [["KY_BAO_CAO", None, dt.datetime(2025, 3, 12, 0, 0)], ["NGAY_LAP", None, MAR]])
    store.save_reads(MAR, "run", [(FetchResult("941", "ok", sheet), None, "s", "BaoCao")])
    read = store.latest_reads(MAR, "run", ["941"])["941"]
    assert store.read_grid(read.id) == sheet
    # Read again unchanged (a re-run): a second read, the grid stored once.
    store.save_reads(MAR, "rerun", [(FetchResult("941", "ok", sheet), None, "s", "BaoCao")])
    again = store.latest_reads(MAR, "rerun", ["941"])["941"]
    assert again.id != read.id
    assert store.read_grid(again.id) == sheet
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM unit_read_grids")).scalar() == 1


def test_every_run_of_a_period_is_a_version_and_a_retry_keeps_it(store, config):
    read_all(config, store, MAR, "scheduled")
    first = summarise(config, MAR, "scheduled", store)
    read_all(config, store, MAR, "manual")
    second = summarise(config, MAR, "manual", store)
    again = summarise(config, MAR, "manual", store)  # the aggregation task retried
    assert (first.version, second.version, again.version) == (1, 2, 2)
    assert store.summary_version(MAR).run_id == "manual"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(summaries)).scalar() == 2


def test_concurrent_runs_get_distinct_versions(store_url, config):
    store = ReportStore(store_url)
    store.ensure_schema()
    for run in ("a", "b", "c", "d"):
        read_all(config, store, MAR, run)
    versions, errors = [], []

    def aggregate(run):
        try:
            versions.append(summarise(config, MAR, run, ReportStore(store_url)).version)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=aggregate, args=(r,)) for r in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(versions) == [1, 2, 3, 4]


def test_replay_rebuilds_the_same_summary_from_the_archive_alone(store, config):
    read_all(config, store, FEB, "feb")
    summarise(config, FEB, "feb", store)
    fixed = unit_rows(config, "district", "12/03/2025", "Huyện Kế Sách")
    fixed[find(fixed, "PTTD")][col_of(fixed, "A", "HT_XM")] = 119
    read_all(config, store, MAR, "mar-1", {"946": None, "943": fixed})
    original = summarise(config, MAR, "mar-1", store)
    # Later activity must not leak into a replay of version 1.
    read_all(config, store, MAR, "mar-2")
    summarise(config, MAR, "mar-2", store)
    replayed = replay(config, MAR, store, version=1)
    assert msgspec.structs.replace(replayed, generated_at=original.generated_at) == original
    latest = replay(config, MAR, store)
    assert latest.version == 2


def test_replay_of_a_period_not_archived_is_a_clear_error(store, config):
    with pytest.raises(LookupError, match="27/03/2025"):
        replay(config, dt.date(2025, 3, 27), store)


def test_claims_decide_between_two_deliveries(store):
    common = dict(period=MAR, kind="report", recipients=["a@x.example", "b@x.example"], supersedes=0)
    first = store.claim_delivery(version=1, run_id="scheduled", message_id="<1@x>", **common)
    with pytest.raises(DeliveryConflict, match="scheduled") as info:
        store.claim_delivery(version=2, run_id="manual", message_id="<2@x>", **common)
    assert info.value.existing.message_id == "<1@x>"
    # A failed attempt frees the claim; a sent one keeps it.
    store.finish_delivery(first, "failed", "máy chủ không trả lời")
    again = store.claim_delivery(version=2, run_id="manual", message_id="<3@x>", **common)
    store.finish_delivery(again, "sent")
    key = recipients_key(["B@x.example", "a@x.example"])
    assert store.last_sent(MAR, key).message_id == "<3@x>"
    assert [d.state for d in store.deliveries(MAR)] == ["failed", "sent"]


def test_concurrent_claims_one_winner(store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    won, lost = [], []
    barrier = threading.Barrier(6)

    def claim(i):
        s = ReportStore(store_url)
        barrier.wait()
        try:
            won.append(
                s.claim_delivery(
                    period=MAR,
                    version=i,
                    run_id=f"r{i}",
                    kind="report",
                    recipients=["a@x.example"],
                    supersedes=0,
                    message_id=f"<{i}@x>",
                )
            )
        except DeliveryConflict:
            lost.append(i)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert len(lost) == 5


def test_corrupt_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "reports.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    with pytest.raises(StoreError, match="khôi phục"):
        ReportStore(f"sqlite:///{path}").ensure_schema()


def test_a_newer_schema_is_refused(store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(StoreError, match="mới hơn mã"):
        ReportStore(store_url).ensure_schema()


def test_deleted_archive_is_a_clear_error_not_an_empty_history(tmp_path):
    from housing_report.archive.store import check_archive_present

    database = tmp_path / "reports.sqlite"
    check_archive_present(database, tmp_path)  # a first run: nothing produced yet
    (tmp_path / "2025-02-27").mkdir()
    (tmp_path / "2025-02-27" / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(StoreError, match="2025-02-27"):
        check_archive_present(database, tmp_path)
    database.write_bytes(b"")
    check_archive_present(database, tmp_path)


def test_the_page_s_views_give_each_unit_s_findings_and_latest_status_per_period(store, config):
    """`period_reads` carries each finding (cell, message); `status_history` the latest status of
    each unit in each period asked for, whatever the number of runs."""
    first, second = config.units[0], config.units[1]
    read_all(config, store, FEB, "feb", overrides={second.code: None})
    read_all(config, store, MAR, "mar-1", overrides={second.code: None})
    read_all(config, store, MAR, "mar-2")  # the second unit's sheet found on a re-run
    history = store.status_history([FEB, MAR])
    assert history[first.code] == {FEB: "accepted", MAR: "accepted"}
    assert history[second.code] == {FEB: "missing", MAR: "accepted"}
    assert store.status_history([]) == {}
    assert set(store.status_history([MAR])[second.code]) == {MAR}
    broken = unit_rows(config, first.kind, "12/03/2025", first.name)
    broken[find(broken, "MTQG")][col_of(broken, "A", "HT_XM")] = "12 căn"
    read_all(config, store, MAR, "mar-3", overrides={first.code: broken})
    read = store.period_reads(MAR)[first.code]
    assert read.status == "rejected"
    [finding] = [f for f in read.findings if f["severity"] == "error"]
    assert "12 căn" in finding["message"]
    assert finding["cell"].startswith("BaoCao!")


def test_the_known_head_is_alembics_head():
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from housing_report.archive.store import MIGRATIONS_DIR, SCHEMA_HEAD

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_a_database_at_the_head_is_opened_without_alembic(store_url, monkeypatch):
    """Every task opens the store: a current schema is one query, no Alembic to import."""
    import sys

    ReportStore(store_url).ensure_schema()
    for name in [m for m in sys.modules if m == "alembic" or m.startswith("alembic.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    monkeypatch.setitem(sys.modules, "alembic", None)
    store = ReportStore(store_url)
    assert store.schema_revision() == SCHEMA_HEAD
    assert store.ensure_schema() == SCHEMA_HEAD
    # Behind the head (or no table yet), Alembic is asked, and upgrades.
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0004'"))
    with pytest.raises(ImportError):
        ReportStore(store_url).ensure_schema()
    monkeypatch.undo()
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '{SCHEMA_HEAD}'"))
    assert ReportStore(store_url).schema_revision() == SCHEMA_HEAD
