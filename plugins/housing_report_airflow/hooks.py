"""One hook per outside system: the report database, the SMTP server and the signing key."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from housing_report_airflow.settings import SettingsError

_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "sqlite": "sqlite",
}


class ReportDbHook(BaseHook):
    """The report database: the `report_db` connection when defined, else a local SQLite file."""

    conn_name_attr = "report_db_conn_id"
    default_conn_name = "report_db"
    hook_name = "Report database"

    def __init__(self, report_db_conn_id: str = default_conn_name, fallback_dir: Path | None = None):
        super().__init__()
        self.report_db_conn_id = report_db_conn_id
        self.fallback_dir = fallback_dir

    def get_url(self) -> str:
        import sqlalchemy as sa

        try:
            conn = self.get_connection(self.report_db_conn_id)
        except AirflowNotFoundException:
            if self.fallback_dir is None:
                raise
            from housing_report.archive.store import sqlite_url

            return sqlite_url(Path(self.fallback_dir) / "reports.sqlite")
        extra = conn.extra_dejson
        if extra.get("sqlalchemy_url"):
            return str(extra["sqlalchemy_url"])
        driver = _DRIVERS.get((conn.conn_type or "").lower())
        if driver is None:
            raise SettingsError(
                f"Connection {self.report_db_conn_id}: loại '{conn.conn_type}' không được hỗ trợ; "
                "dùng postgres hoặc sqlite (unsupported connection type)."
            )
        if driver == "sqlite":
            return f"sqlite:///{conn.host or conn.schema}"
        return sa.engine.URL.create(
            driver,
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        ).render_as_string(hide_password=False)

    @cached_property
    def store(self):
        from housing_report.archive.store import ReportStore

        store = ReportStore(self.get_url())
        store.ensure_schema()
        return store

    def get_conn(self) -> Any:
        return self.store


class ReportSmtpHook(BaseHook):
    """The SMTP server of `report_smtp`: host, port, login, password; extras for TLS and sender.

    Extras: `ssl` (bool, SMTPS on connect), `starttls` (bool), `from_email`, `timeout`.
    """

    conn_name_attr = "smtp_conn_id"
    default_conn_name = "report_smtp"
    hook_name = "Report SMTP"

    def __init__(self, smtp_conn_id: str = default_conn_name):
        super().__init__()
        self.smtp_conn_id = smtp_conn_id

    @cached_property
    def connection(self):
        try:
            return self.get_connection(self.smtp_conn_id)
        except AirflowNotFoundException as exc:
            raise SettingsError(
                f"Chưa khai báo Connection {self.smtp_conn_id} (máy chủ SMTP), mà Variable "
                "report_delivery = smtp: hãy tạo Connection đó, hoặc đặt report_delivery = outbox."
            ) from exc

    @property
    def sender(self) -> str:
        extra = self.connection.extra_dejson
        return extra.get("from_email") or self.connection.login or "bao-cao@localhost"

    def get_conn(self):
        from housing_report.deliver.transports import SmtpDelivery

        conn = self.connection
        extra = conn.extra_dejson
        ssl = _flag(extra.get("ssl", False))
        starttls = _flag(extra.get("starttls", not ssl and bool(conn.password)))
        return SmtpDelivery(
            host=conn.host or "localhost",
            port=int(conn.port or (465 if ssl else 25)),
            user=conn.login or "",
            password=conn.password or None,
            sender=self.sender,
            ssl=ssl,
            starttls=starttls,
            timeout=float(extra.get("timeout", 30)),
        )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class ReportSigningHook(BaseHook):
    """The issuing body's signing key, from the `report_signing` connection (docs/vi/quan-tri.md).

    PKCS#12 (extra `kind: pkcs12`, the default): the archive in extra `path` (a file on every
    worker) or `p12_base64` (the file's bytes, base64: a secret), its passphrase in the password.
    PKCS#11 (extra `kind: pkcs11`): extra `module` (the token's library), `token_label`,
    `key_label` (optional when the token holds one key), the PIN in the password. Either may
    give `trust_roots`: the root certificates to validate the signature against (PEM text, or
    a path to a PEM file); by default the self-signed certificates of the key's chain.
    """

    conn_name_attr = "signing_conn_id"
    default_conn_name = "report_signing"
    hook_name = "Report signing key"

    def __init__(self, signing_conn_id: str = default_conn_name):
        super().__init__()
        self.signing_conn_id = signing_conn_id

    def get_key(self):
        import base64

        from housing_report.sign.keys import Pkcs11Key, Pkcs12Key

        conn = self.get_connection(self.signing_conn_id)
        extra = conn.extra_dejson
        kind = str(extra.get("kind") or conn.conn_type or "pkcs12").lower()
        roots = _pem_blobs(extra.get("trust_roots"))
        if kind == "pkcs11":
            missing = [k for k in ("module", "token_label") if not extra.get(k)]
            if missing:
                raise ValueError(
                    f"Connection {self.signing_conn_id}: thiếu {', '.join(missing)} cho token PKCS#11 "
                    "(missing PKCS#11 settings)."
                )
            return Pkcs11Key(
                module=str(extra["module"]),
                token_label=str(extra["token_label"]),
                pin=conn.password or "",
                key_label=extra.get("key_label") or None,
                cert_label=extra.get("cert_label") or None,
                trust_roots=roots,
            )
        if extra.get("p12_base64"):
            data = base64.b64decode(str(extra["p12_base64"]))
        elif extra.get("path"):
            data = Path(str(extra["path"])).read_bytes()
        else:
            raise ValueError(
                f"Connection {self.signing_conn_id}: cần extra path (tệp .p12) hoặc p12_base64 "
                "(the PKCS#12 key is not given)."
            )
        passphrase = conn.password.encode("utf-8") if conn.password else None
        return Pkcs12Key(data=data, passphrase=passphrase, trust_roots=roots)

    def get_conn(self):
        return self.get_key()


def _pem_blobs(value: Any) -> tuple[bytes, ...]:
    """PEM text, or paths to PEM files (one, or a list), as bytes."""
    if not value:
        return ()
    items = value if isinstance(value, list) else [value]
    blobs = []
    for item in items:
        text = str(item)
        blobs.append(text.encode("ascii") if "-----BEGIN" in text else Path(text).read_bytes())
    return tuple(blobs)
