"""An outbox the system cannot write: still a `DeliveryError` (the ledger marks the attempt
failed, not unknown), and an error no retry can fix, naming the folder."""

from __future__ import annotations

import pytest

from housing_report.core.errors import Permanent
from housing_report.deliver.message import build_message
from housing_report.deliver.transports import DeliveryError, OutboxDelivery, OutboxNotWritable
from housing_report.render.email import render_email
from tests.support.summary_fixture import make_summary


def test_a_read_only_outbox_says_no_write_permission(config, read_only_dir):
    message = build_message(
        render_email(make_summary(), config), "Hệ thống <a@b.example>", ["c@b.example"], [], [], "b.example"
    )
    with pytest.raises(OutboxNotWritable) as caught:
        OutboxDelivery(read_only_dir / "alerts").deliver(message)
    assert isinstance(caught.value, DeliveryError)
    assert isinstance(caught.value, Permanent)
    assert f"Không có quyền ghi vào thư mục {read_only_dir} " in str(caught.value)
    assert list(read_only_dir.iterdir()) == []
