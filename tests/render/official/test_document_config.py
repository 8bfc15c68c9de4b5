"""`issuer.signature`, `issuer.places_to_send` and `issuer.archive` in report.yaml."""

from __future__ import annotations

import pytest

from housing_report.config import ConfigError, load_config
from tests.support.config_files import edit


def test_sample_config_has_the_signature_and_places_to_send():
    issuer = load_config().report.issuer
    assert issuer.signature.authority == "K/T TRƯỞNG BAN"
    assert issuer.signature.title == "PHÓ TRƯỞNG BAN THƯỜNG TRỰC"
    assert issuer.places_to_send[0] == "Sở Lao động - Thương binh và Xã hội tỉnh"
    assert issuer.archive.startswith("VT")


def test_signature_and_places_are_optional(config_dir):
    def drop(d):
        for key in ("signature", "places_to_send", "archive"):
            d["issuer"].pop(key)

    edit(config_dir / "report.yaml", drop)
    issuer = load_config(config_dir).report.issuer
    assert (issuer.signature, issuer.places_to_send, issuer.archive) == (None, (), "VT")


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        pytest.param(lambda i: i["signature"].pop("name"), "issuer.signature.name", "thiếu", id="no-signer"),
        pytest.param(
            lambda i: i["signature"].update(seal=True),
            "issuer.signature.seal",
            "không được hỗ trợ",
            id="unknown-signature-key",
        ),  # fmt: skip
        pytest.param(
            lambda i: i["signature"].update(authority=""),
            "issuer.signature.authority",
            "không rỗng",
            id="empty-authority",
        ),  # fmt: skip
        pytest.param(
            lambda i: i.update(places_to_send="Sở Nội vụ"),
            "issuer.places_to_send",
            "danh sách",
            id="places-not-a-list",
        ),  # fmt: skip
        pytest.param(
            lambda i: i["places_to_send"].append("Lưu: VT"),
            "issuer.places_to_send[4]",
            "archive",
            id="archive-line-in-places",
        ),  # fmt: skip
        pytest.param(
            lambda i: i.update(number="12"), "issuer.number", "không được hỗ trợ", id="unknown-issuer-key"
        ),
    ],
)
def test_mistakes_name_the_key(config_dir, change, key, problem):
    edit(config_dir / "report.yaml", lambda d: change(d["issuer"]))
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.key == key
    assert problem in info.value.problem
