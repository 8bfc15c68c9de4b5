"""The Airflow glue: Variables become Settings, Connections become a store and an SMTP sender."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from housing_report_airflow.hooks import ReportDbHook, ReportSmtpHook
from housing_report_airflow.settings import REPO_ROOT, load_settings


def test_settings_defaults(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", "/data/sheets")
    settings = load_settings()
    assert settings.source == "/data/sheets"
    assert settings.output_dir == REPO_ROOT / "output"
    assert settings.delivery == "outbox"
    assert settings.max_fetch_tasks == 16


def test_settings_require_a_source(monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_REPORT_SOURCE", raising=False)
    with pytest.raises(ValueError, match="report_source"):
        load_settings()


def test_settings_refuse_an_unknown_delivery(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", "/data")
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "zalo")
    with pytest.raises(ValueError, match="outbox hoặc smtp"):
        load_settings()


def test_report_db_falls_back_to_sqlite_in_the_output_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_REPORT_DB", raising=False)
    hook = ReportDbHook(fallback_dir=tmp_path)
    assert hook.get_url() == f"sqlite:///{tmp_path / 'reports.sqlite'}"
    hook.store.ensure_schema()
    assert (tmp_path / "reports.sqlite").exists()


def test_report_db_connection_url_keeps_special_characters(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_REPORT_DB", "postgresql://baocao:p%40ss%2Fw@db.example:5433/reports")
    url = sa.engine.make_url(ReportDbHook().get_url())
    assert url.drivername == "postgresql+psycopg2"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "baocao",
        "p@ss/w",
        "db.example",
        5433,
        "reports",
    )


def test_report_db_on_the_real_postgresql(monkeypatch, postgres_url):
    url = sa.engine.make_url(postgres_url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_REPORT_DB",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": url.host,
                "port": url.port,
                "login": url.username,
                "schema": url.database,
            }
        ),
    )
    store = ReportDbHook().store
    assert store.engine.dialect.name == "postgresql"
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"unit_reads", "summaries", "deliveries", "report_db_version"} <= tables


def test_smtp_hook_reads_host_login_and_extras(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_REPORT_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "mail.example",
                "port": 587,
                "login": "svc",
                "password": "secret-pass",
                "extra": {"from_email": "Ban Tuyên giáo <bc@x.example>", "timeout": 12},
            }
        ),
    )
    hook = ReportSmtpHook()
    delivery = hook.get_conn()
    assert hook.sender == "Ban Tuyên giáo <bc@x.example>"
    assert (delivery.host, delivery.port, delivery.user) == ("mail.example", 587, "svc")
    assert delivery.starttls is True
    assert delivery.ssl is False
    assert delivery.timeout == 12
    assert "secret-pass" not in repr(delivery)


def test_demo_keeps_variables_already_set(monkeypatch, tmp_path):
    """`make demo` fills only the Variables that are not already in the environment."""
    from housing_report_airflow import demo

    seen = {}

    def fake_call(cmd, env, stdout, stderr):
        seen.update(env)
        return 1  # stop after the first period

    monkeypatch.setattr(demo.subprocess, "call", fake_call)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "smtp")
    monkeypatch.delenv("AIRFLOW_VAR_REPORT_SOURCE", raising=False)
    (tmp_path / "demo-2025-02-27.log").write_text("", encoding="utf-8")
    assert demo.main(["2025-02-27"]) == 1
    assert seen["AIRFLOW_VAR_REPORT_OUTPUT_DIR"] == str(tmp_path / "mine")
    assert seen["AIRFLOW_VAR_REPORT_DELIVERY"] == "smtp"
    assert Path(seen["AIRFLOW_VAR_REPORT_SOURCE"]) == demo.SAMPLE_DIR / "2025-02-27"


def test_the_local_source_reads_within_the_templates_bounds(tmp_path, config):
    """Issue 18: a cell in column XFD is not read; the bounds come from the template."""
    from housing_report.collect.base import ReadBounds
    from housing_report_airflow.resources import Resources
    from housing_report_airflow.settings import Settings

    settings = Settings(str(tmp_path), tmp_path, "outbox", config.directory, 16)
    assert Resources(settings).source.bounds == ReadBounds.for_template(config.template)


def test_the_signing_key_from_a_pkcs12_file_a_secret_or_a_token(monkeypatch, tmp_path):
    import base64
    import json

    from housing_report_tools.certificates import make_throwaway

    from housing_report.sign.keys import Pkcs11Key, Pkcs12Key
    from housing_report_airflow.hooks import ReportSigningHook

    made = make_throwaway()
    p12 = tmp_path / "k.p12"
    p12.write_bytes(made.pkcs12(b"pw"))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(made.ca_pem)

    def conn(password, **extra):
        value = json.dumps({"conn_type": "generic", "password": password, "extra": extra})
        monkeypatch.setenv("AIRFLOW_CONN_REPORT_SIGNING", value)
        return ReportSigningHook().get_key()

    by_path = conn("pw", kind="pkcs12", path=str(p12), trust_roots=str(ca))
    assert isinstance(by_path, Pkcs12Key)
    assert (by_path.data, by_path.passphrase, by_path.trust_roots) == (
        p12.read_bytes(),
        b"pw",
        (made.ca_pem,),
    )
    secret = conn("pw", p12_base64=base64.b64encode(p12.read_bytes()).decode())
    assert secret.data == p12.read_bytes()
    assert "pw" not in repr(secret)
    token = conn("1234", kind="pkcs11", module="/usr/lib/x.so", token_label="BTGTU", key_label="ky")
    assert isinstance(token, Pkcs11Key)
    assert (token.module, token.token_label, token.pin, token.key_label) == (
        "/usr/lib/x.so",
        "BTGTU",
        "1234",
        "ky",
    )
    with pytest.raises(ValueError, match="token_label"):
        conn("1234", kind="pkcs11", module="/usr/lib/x.so")
    with pytest.raises(ValueError, match="p12_base64"):
        conn("pw", kind="pkcs12")
