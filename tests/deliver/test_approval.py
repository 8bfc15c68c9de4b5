"""What an approver's answer means (deliver.approval.decide): only an approval with a number is
an approved version; a rejection keeps its reason; no answer is a timeout."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.core.approval import APPROVE, REJECT
from housing_report.deliver.approval import (
    APPROVED,
    INCOMPLETE,
    REJECTED,
    TIMED_OUT,
    Decision,
    decide,
    form_defaults,
)

AT = dt.datetime(2025, 3, 12, 9, 30, tzinfo=dt.UTC)


def test_approved_with_its_number_and_text():
    fields = {
        "so_van_ban": " 27 ",
        "danh_gia_chung": "Tốt.",
        "phuong_huong": "Tiếp tục.",
        "ly_do_tu_choi": "",
    }
    decision = decide(3, [APPROVE], fields, "thanh", AT)
    assert decision.outcome == APPROVED
    assert decision.approved
    assert (decision.approval.number, decision.approval.assessment) == ("27", "Tốt.")
    assert Decision.from_json(decision.to_json()) == decision


@pytest.mark.parametrize(
    ("chosen", "fields", "outcome", "reason"),
    [
        pytest.param([REJECT], {"ly_do_tu_choi": "Sai số liệu"}, REJECTED, "Sai số liệu", id="rejected"),
        pytest.param([REJECT], {}, REJECTED, "(không ghi lý do)", id="rejected-without-reason"),
        pytest.param([APPROVE], {"so_van_ban": "  "}, INCOMPLETE, "chưa ghi số văn bản", id="no-number"),
        pytest.param(None, None, TIMED_OUT, "trước hạn", id="no-answer"),
    ],
)
def test_anything_else_is_not_approved(chosen, fields, outcome, reason):
    decision = decide(2, chosen, fields, "thanh", AT)
    assert decision.outcome == outcome
    assert not decision.approved
    assert decision.approval is None
    assert reason in decision.reason


def test_the_form_is_prefilled_from_the_config(config):
    defaults = form_defaults(config)
    assert defaults["danh_gia_chung"] == config.report.approval.assessment
    assert defaults["phuong_huong"] == config.report.approval.directions
    assert defaults["so_van_ban"] == ""
