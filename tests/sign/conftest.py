"""The signing tests' parts: an approved report document rendered to PDF by LibreOffice, once per
session, and a fresh test CA with a signer certificate (`housing_report_tools.certificates`)."""

from __future__ import annotations

import os
import shutil

import pytest
from housing_report_tools.certificates import make_throwaway

from housing_report.core.approval import Approval
from tests.conftest import IN_CI
from tests.support.summary_fixture import make_summary

APPROVAL = Approval(
    number="27",
    assessment="Các địa phương đã tích cực triển khai; tiến độ cơ bản đạt yêu cầu.",
    directions="Tập trung hoàn thành các căn nhà đã khởi công trước ngày 30/9/2025.",
    approved_by="Nguyễn Văn Thành",
)


def require_tool(name: str, install: str) -> str:
    """The path of `name`; skipped with a message where it is absent, a failure with CI=true."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed ({install})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true: a missing tool is a failure")
    pytest.skip(message)


@pytest.fixture(scope="session")
def approved_pdf(config, tmp_path_factory):
    """The approved report document (number, approver's text, a block to sign) as PDF."""
    require_tool("soffice", "apt-get install libreoffice-writer")
    from housing_report.render.official import prepare
    from housing_report.render.pdf import docx_to_pdf

    folder = tmp_path_factory.mktemp("approved")
    report = prepare(config, make_summary(), [], folder, approval=APPROVAL)
    return docx_to_pdf(report.document)


@pytest.fixture(scope="session")
def test_ca():
    return make_throwaway(signer_name="Nguyễn Văn Thành", ca_name="CA kiểm thử")


@pytest.fixture
def isolated_env(monkeypatch):
    """No HOUSING_REPORT_SOFFICE override leaking in from the caller's shell."""
    monkeypatch.delenv("HOUSING_REPORT_SOFFICE", raising=False)
    return os.environ
