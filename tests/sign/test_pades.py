"""The approved document signed PAdES with a PKCS#12 key and validated by pyHanko against the
test CA; a changed byte, a foreign CA or an unsigned draft never passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from housing_report_tools.certificates import make_throwaway

from housing_report.sign.keys import Pkcs12Key, SigningKeyError, load_certificates
from housing_report.sign.pades import (
    Appearance,
    SignatureInvalid,
    find_signature_box,
    sign_pdf,
    validate_signed,
)

APPEARANCE = Appearance(
    signer_name="Nguyễn Văn Thành",
    title="K/T TRƯỞNG BAN\nPHÓ TRƯỞNG BAN THƯỜNG TRỰC",
    organisation="Ban Tuyên giáo Tỉnh ủy Sóc Trăng",
)


def test_the_placeholder_is_bottom_right_of_a_portrait_page(approved_pdf):
    page, (x1, y1, x2, y2) = find_signature_box(approved_pdf)
    assert page >= 0
    # A4 portrait is 595 x 842 pt: the signature block is the right-hand column (right of the
    # middle) and the box has the size the document gave it (7 x 2.8 cm).
    assert x1 > 595 / 2 - 30
    assert x2 < 595
    assert round((x2 - x1) / 72 * 2.54, 1) == pytest.approx(7.0, abs=0.1)
    assert round((y2 - y1) / 72 * 2.54, 1) == pytest.approx(2.8, abs=0.1)


def test_signed_pdf_validates_against_the_test_ca(approved_pdf, test_ca, tmp_path):
    key = Pkcs12Key(test_ca.pkcs12(b"mat-khau"), b"mat-khau", trust_roots=(test_ca.ca_pem,))
    signed = tmp_path / "signed.pdf"
    check = sign_pdf(approved_pdf, signed, key, APPEARANCE)
    assert check.ok
    assert check.trusted
    assert check.coverage == "ENTIRE_FILE"
    assert "Nguyễn Văn Thành" in check.signer
    # Validated again from the file alone, as a recipient would.
    again = validate_signed(signed, load_certificates(test_ca.ca_pem))
    assert again.ok
    # The visible signature sits where the placeholder is, on its page.
    from pyhanko.pdf_utils.reader import PdfFileReader

    with signed.open("rb") as handle:
        reader = PdfFileReader(handle)
        [field] = reader.root["/AcroForm"]["/Fields"]
        widget = field.get_object()
        assert widget["/FT"] == "/Sig"
        rect = [float(v) for v in widget["/Rect"]]
        _, box = find_signature_box(approved_pdf)
        assert rect == pytest.approx(list(box), abs=0.5)
        assert reader.embedded_signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_the_chain_in_the_p12_is_the_default_trust_root(approved_pdf, test_ca, tmp_path):
    key = Pkcs12Key(test_ca.pkcs12(b"x"), b"x")
    assert sign_pdf(approved_pdf, tmp_path / "s.pdf", key, APPEARANCE).ok


def test_a_foreign_ca_is_not_trusted_and_nothing_is_written(approved_pdf, test_ca, tmp_path):
    other = make_throwaway(ca_name="CA khác")
    key = Pkcs12Key(test_ca.pkcs12(b"x"), b"x", trust_roots=(other.ca_pem,))
    target = tmp_path / "signed.pdf"
    with pytest.raises(SignatureInvalid, match="không hợp lệ"):
        sign_pdf(approved_pdf, target, key, APPEARANCE)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_changed_byte_breaks_the_signature(approved_pdf, test_ca, tmp_path):
    key = Pkcs12Key(test_ca.pkcs12(b"x"), b"x")
    signed = tmp_path / "signed.pdf"
    sign_pdf(approved_pdf, signed, key, APPEARANCE)
    data = bytearray(signed.read_bytes())
    # One byte inside the first stream of the signed revision (what the signature covers).
    at = data.index(b"stream") + 20
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    with pytest.raises(SignatureInvalid):
        validate_signed(tampered, load_certificates(test_ca.ca_pem))


def test_a_wrong_passphrase_says_so(approved_pdf, test_ca, tmp_path):
    key = Pkcs12Key(test_ca.pkcs12(b"right"), b"wrong")
    with pytest.raises(SigningKeyError, match="PKCS#12"):
        sign_pdf(approved_pdf, tmp_path / "s.pdf", key, APPEARANCE)


def test_a_draft_without_the_signature_block_is_refused(config, tmp_path):
    from tests.sign.conftest import require_tool

    require_tool("soffice", "apt-get install libreoffice-writer")
    from housing_report.render.official import prepare
    from housing_report.render.pdf import docx_to_pdf
    from tests.support.summary_fixture import make_summary

    draft = docx_to_pdf(prepare(config, make_summary(), [], tmp_path).document)
    with pytest.raises(SignatureInvalid, match="vị trí chữ ký"):
        find_signature_box(draft)


def test_the_pyhanko_command_validates_it_too(approved_pdf, test_ca, tmp_path):
    """What the demo tells the reader to run."""
    cli = Path(sys.executable).with_name("pyhanko")
    if not cli.exists():
        cli = Path(shutil.which("pyhanko") or "pyhanko")
    key = Pkcs12Key(test_ca.pkcs12(b"x"), b"x")
    signed = tmp_path / "signed.pdf"
    sign_pdf(approved_pdf, signed, key, APPEARANCE)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(test_ca.ca_pem)
    result = subprocess.run(
        [str(cli), "sign", "validate", "--pretty-print", "--trust", str(ca), str(signed)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The signature is judged VALID" in result.stdout
    assert "covers the entire file" in result.stdout


def test_the_visible_signatures_letters_are_as_wide_as_the_font_says(approved_pdf, test_ca, tmp_path):
    """The stamp's font widths (/W, read per 1000 em) are those of the glyphs: with a font of
    2048 units per em they were twice as wide, the letters spread out past the box."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    key = Pkcs12Key(test_ca.pkcs12(b"mat-khau"), b"mat-khau", trust_roots=(test_ca.ca_pem,))
    signed = tmp_path / "signed.pdf"
    sign_pdf(approved_pdf, signed, key, APPEARANCE)

    def widths(node, seen, depth=0):
        node = node.get_object() if hasattr(node, "get_object") else node
        if depth > 12 or id(node) in seen or not hasattr(node, "items"):
            return
        seen.add(id(node))
        for name, value in node.items():
            if name == "/DescendantFonts":
                for font in value:
                    for item in font.get_object()["/W"]:
                        if isinstance(item, list):
                            yield from (float(w) for w in item)
            else:
                yield from widths(value, seen, depth + 1)

    with signed.open("rb") as handle:
        reader = PdfFileReader(handle)
        [field] = reader.root["/AcroForm"]["/Fields"]
        found = list(widths(field.get_object()["/AP"], set()))
    assert found, "the stamp embeds a font"
    assert max(found) <= 1000  # no glyph of the stamp's text is wider than an em
