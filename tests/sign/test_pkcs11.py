"""The PKCS#11 path with a real token: SoftHSM2 (Debian `softhsm2`) in a folder of the test's own
(`SOFTHSM2_CONF`), the test CA's signer key imported with `softhsm2-util` and its certificate
written with python-pkcs11; the approved PDF signed through the token and validated by pyHanko
against the test CA. Skipped with a message where SoftHSM2 is absent; with CI=true, a failure."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from housing_report.sign.keys import Pkcs11Key, SigningKeyError
from housing_report.sign.pades import Appearance, sign_pdf
from tests.conftest import IN_CI
from tests.sign.conftest import require_tool

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
TOKEN, PIN, SO_PIN, LABEL = "bao-cao", "123456", "654321", "nguoi-ky"
APPEARANCE = Appearance("Nguyễn Văn Thành", "PHÓ TRƯỞNG BAN THƯỜNG TRỰC", "Ban Tuyên giáo Tỉnh ủy")


def softhsm_module() -> str:
    require_tool("softhsm2-util", "apt-get install softhsm2")
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if module is None:
        message = f"libsofthsm2.so not found in {MODULES} (apt-get install softhsm2)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return module


@pytest.fixture(scope="module")
def token(test_ca, tmp_path_factory):
    """A SoftHSM2 token holding the test CA's signer key and certificate."""
    module = softhsm_module()
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        run = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN]
        subprocess.run(run, check=True, capture_output=True, timeout=60)
        from cryptography.hazmat.primitives import serialization

        key_pem = home / "key.pem"
        key_pem.write_bytes(
            test_ca.signer_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        subprocess.run(
            [
                "softhsm2-util",
                "--import",
                str(key_pem),
                "--token",
                TOKEN,
                "--label",
                LABEL,
                "--id",
                "01",
                "--pin",
                PIN,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        key_pem.unlink()
        import pkcs11
        from pkcs11 import Attribute, CertificateType, ObjectClass

        lib = pkcs11.lib(module)
        with lib.get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: LABEL,
                    Attribute.ID: b"\x01",
                    Attribute.SUBJECT: test_ca.signer_cert.subject.public_bytes(),
                    Attribute.VALUE: test_ca.signer_cert_der(),
                }
            )
        yield module
    finally:
        if saved is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = saved


def test_signed_through_the_token_validates_against_the_test_ca(token, approved_pdf, test_ca, tmp_path):
    key = Pkcs11Key(token, TOKEN, PIN, key_label=LABEL, trust_roots=(test_ca.ca_pem,))
    check = sign_pdf(approved_pdf, tmp_path / "signed.pdf", key, APPEARANCE)
    assert check.ok
    assert check.trusted
    assert "Nguyễn Văn Thành" in check.signer


def test_a_wrong_pin_is_said_and_nothing_is_written(token, approved_pdf, test_ca, tmp_path):
    key = Pkcs11Key(token, TOKEN, "000000", key_label=LABEL, trust_roots=(test_ca.ca_pem,))
    with pytest.raises(SigningKeyError, match="PKCS#11"):
        sign_pdf(approved_pdf, tmp_path / "signed.pdf", key, APPEARANCE)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_token_is_said(token, approved_pdf, tmp_path):
    key = Pkcs11Key(token, "khong-co", PIN, key_label=LABEL)
    with pytest.raises(SigningKeyError, match="khong-co"):
        sign_pdf(approved_pdf, tmp_path / "signed.pdf", key, APPEARANCE)
