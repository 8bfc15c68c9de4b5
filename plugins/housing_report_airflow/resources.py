"""What the task bodies and callbacks work with, built from Variables and Connections once per
process: the settings (`settings.load_settings`), the config, the report store (`ReportDbHook`),
the source of the units' workbooks (a local folder or Google), and the mailer (transport, sender,
Message-ID domain) and send-once ledger of a run.

`current()` builds them on first use and keeps them for the process: the executors run each
task in a process of its own, so a task sees the Variables as they were when it started, and
several task bodies or callbacks in one process (`dag.test()`) load the config and open the
store once. `dag_runner.run_dag_test` calls `reset()` before each run, since `dag.test()` runs
a whole DAG run, then the next, in one process. A process that outlives runs and is rarely
called (the triggerer's deadline alert) builds its own with `Resources.load()` instead.

Each part is built when first asked for: a callback that only alerts the admins does not read
the units' source, and a deployment without `report_source` can still provision sheets and
show the admins' page (`for_tasks()` is what refuses it, as every report task always has).
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from housing_report.archive.store import ReportStore, check_archive_present
from housing_report.config import Config, load_config
from housing_report.deliver.ledger import Ledger, Mailer
from housing_report.deliver.transports import OutboxDelivery
from housing_report_airflow.google import GoogleSheetsHook
from housing_report_airflow.hooks import ReportDbHook, ReportSigningHook, ReportSmtpHook
from housing_report_airflow.settings import Settings, load_settings

OUTBOX_SENDER = "Hệ thống báo cáo <bao-cao@localhost>"


def message_id_domain(sender: str) -> str:
    """The domain of the sender's address, for the Message-IDs."""
    return sender.rsplit("@", 1)[-1].strip(" >") or "localhost"


class Resources:
    """The parts a task or a callback needs, each built once, when first asked for."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @classmethod
    def load(cls) -> Resources:
        """New resources from the Variables as they are now (`current()` keeps one per process)."""
        return cls(load_settings(require_source=False))

    @cached_property
    def config(self) -> Config:
        return load_config(self.settings.config_dir)

    @cached_property
    def store(self) -> ReportStore:
        """The report database (`report_db`, else SQLite in the output folder), upgraded if needed;
        an SQLite file that has gone missing where reports were produced is refused."""
        hook = ReportDbHook(fallback_dir=self.settings.output_dir)
        url = sa.engine.make_url(hook.get_url())
        if url.get_backend_name() == "sqlite" and url.database:
            check_archive_present(Path(url.database), self.settings.output_dir)
        return hook.store

    @cached_property
    def google(self) -> GoogleSheetsHook:
        """The `google_sheets` connection (its gspread client is built once, when first used)."""
        return GoogleSheetsHook()

    @cached_property
    def source(self) -> Any:
        """The units' workbooks: Google Sheets (`report_source = google`) or a local folder."""
        # Imported here so that only the configured source's libraries load (gspread and the
        # Google client for `google`, neither for a folder).
        from housing_report.collect.base import ReadBounds

        source = self.settings.require_source()
        # Only the template's columns and rows are read (issue 18: a cell in column XFD).
        bounds = ReadBounds.for_template(self.config.template)
        if source.lower() == "google":
            from housing_report.collect.google import GoogleSheetsSource

            hook = self.google
            return GoogleSheetsSource(
                hook.get_conn(), service_account_email=hook.service_account_email, bounds=bounds
            )
        from housing_report.collect.local import LocalWorkbookSource

        return LocalWorkbookSource(Path(source), bounds)

    @cached_property
    def smtp(self) -> Mailer:
        """The mailer of `report_smtp` (`report_delivery = smtp`)."""
        hook = ReportSmtpHook()
        return Mailer(hook.get_conn(), hook.sender, message_id_domain(hook.sender))

    @cached_property
    def signing_key(self) -> Any:
        """The issuing body's signing key (`report_signing`: PKCS#12 or a PKCS#11 token)."""
        return ReportSigningHook().get_key()

    def mailer(self, outbox: Path) -> Mailer:
        """The configured mailer: SMTP, or `.eml` files in `outbox`."""
        if self.settings.delivery == "smtp":
            return self.smtp
        return Mailer(OutboxDelivery(outbox), OUTBOX_SENDER, message_id_domain(OUTBOX_SENDER))

    def ledger(self, run_id: str, outbox: Path) -> Ledger:
        """The send-once ledger of a run; a partial refusal is also told to the admins."""
        return Ledger(self.store, self.mailer(outbox), run_id, self.config.report.admins)


_lock = threading.Lock()
_current: Resources | None = None


def current() -> Resources:
    """This process's resources, built on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Resources.load()
        return _current


def for_tasks() -> Resources:
    """This process's resources for a report task: `report_source` must be set."""
    resources = current()
    resources.settings.require_source()
    return resources


def reset() -> None:
    """Forget this process's resources (closing the store's connections): the next `current()`
    reads the Variables again."""
    global _current
    with _lock:
        previous, _current = _current, None
    if previous is not None and "store" in vars(previous):
        previous.store.engine.dispose()
