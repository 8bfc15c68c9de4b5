"""Sign the report's PDF (PAdES baseline, pyHanko) and validate the signature before it is sent.

Where the visible signature goes: the document writer leaves a transparent placeholder image of a
size no other picture has (`render.official.document.SIGNATURE_PLACEHOLDER_PX`) in the signature
block, bottom right under the signer's title, where Nghị định 30/2020 puts the signature and
the seal. `find_signature_box` finds the page and rectangle where LibreOffice drew it (the
`cm ... Do` of the page's content stream), and the signature field is made there: the signer's
name, title and the time of signing, over the signature and seal images when the config names
them.

`validate_signed` checks the signed file as a recipient's reader would: the signature intact, the
whole document covered, the certificate chain valid up to a trusted root. A failure raises
`SignatureInvalid`: nothing unsigned, or signed with a broken chain, is sent.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from housing_report.render.official.document import SIGNATURE_PLACEHOLDER_PX
from housing_report.sign.keys import SigningKey, open_signer, trust_roots

FIELD_NAME = "ChuKySo"
# "a b c d e f cm /Name Do": an XObject drawn with the matrix (a, b, c, d, e, f).
_CM_DO = re.compile(rb"((?:[-\d.]+\s+){6})cm\s*(/[^\s/]+)\s+Do")


class SignatureInvalid(RuntimeError):
    """The signed PDF does not validate: it is not sent."""


@dataclass(frozen=True)
class Appearance:
    """What the visible signature shows."""

    signer_name: str
    title: str  # "K/T TRƯỞNG BAN\nPHÓ TRƯỞNG BAN THƯỜNG TRỰC"
    organisation: str
    timezone: str = "Asia/Ho_Chi_Minh"
    signature_image: Path | None = None
    seal_image: Path | None = None


@dataclass(frozen=True)
class Signing:
    """How the approved document is signed: the key and what the visible signature shows."""

    key: SigningKey
    appearance: Appearance


@dataclass(frozen=True)
class SignatureCheck:
    """The result of validating a signed PDF."""

    signer: str  # the certificate's subject, as a person reads it
    signed_at: dt.datetime | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.coverage == "ENTIRE_FILE"


STAMP_FONT_UPEM = 1000


def _font_file() -> str:
    """A font with Vietnamese glyphs that is always there (matplotlib, a dependency, ships
    DejaVu), scaled to 1000 units per em once and kept in the temporary folder.

    pyHanko writes the glyphs' widths (the PDF's /W) in the font's own units, while a PDF
    reads them per 1000 em: DejaVu's 2048 units spread every letter out and push the lines past
    the signature box. At 1000 units the two agree."""
    import tempfile

    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    scaled = Path(tempfile.gettempdir()) / "housing-report-fonts" / f"DejaVuSans-{STAMP_FONT_UPEM}.ttf"
    if not scaled.exists():
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

        font = TTFont(source)
        scale_upem(font, STAMP_FONT_UPEM)
        scaled.parent.mkdir(parents=True, exist_ok=True)
        partial = scaled.with_name(f"{scaled.name}.{os.getpid()}.tmp")
        font.save(partial)
        partial.replace(scaled)  # atomic: a parallel task never reads half a font
    return str(scaled)


def _content_bytes(page) -> bytes:
    if "/Contents" not in page:
        return b""
    contents = page["/Contents"]
    if isinstance(contents, list):
        return b"\n".join(part.get_object().data for part in contents)
    return contents.data


def _pages(node):
    """The leaf pages of a page tree, in order."""
    node = node.get_object()
    if node.get("/Type") == "/Pages":
        for kid in node["/Kids"]:
            yield from _pages(kid)
    else:
        yield node


def find_signature_box(pdf: Path) -> tuple[int, tuple[float, float, float, float]]:
    """(page index, (x1, y1, x2, y2)) of the signature placeholder in `pdf`."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with Path(pdf).open("rb") as handle:
        reader = PdfFileReader(handle, strict=False)
        for index, page in enumerate(_pages(reader.root["/Pages"])):
            resources = page["/Resources"] if "/Resources" in page else {}
            xobjects = resources["/XObject"] if "/XObject" in resources else {}
            placeholders = {
                name
                for name in xobjects
                if (obj := xobjects[name]).get("/Subtype") == "/Image"
                and (int(obj.get("/Width", 0)), int(obj.get("/Height", 0))) == SIGNATURE_PLACEHOLDER_PX
            }
            if not placeholders:
                continue
            for match in _CM_DO.finditer(_content_bytes(page)):
                if match.group(2).decode("latin-1") in placeholders:
                    a, _b, _c, d, e, f = (float(v) for v in match.group(1).split())
                    return index, (e, f, e + a, f + d)
    raise SignatureInvalid(
        f"Không tìm thấy vị trí chữ ký trong {Path(pdf).name}: văn bản chưa có khối chữ ký đã duyệt "
        "(no signature placeholder in the PDF)."
    )


STAMP_FONT_SIZE = 8


def _stamp_style(appearance: Appearance):
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    images = [p for p in (appearance.seal_image, appearance.signature_image) if p]
    background = None
    if images:
        from PIL import Image

        # The seal under the handwritten signature, as on paper: both into one picture.
        layers = [Image.open(p).convert("RGBA") for p in images]
        width, height = max(i.width for i in layers), max(i.height for i in layers)
        canvas = Image.new("RGBA", (width, height), (255, 255, 255, 0))
        for layer in layers:
            canvas.alpha_composite(layer, ((width - layer.width) // 2, (height - layer.height) // 2))
        background = PdfImage(canvas)
    return TextStampStyle(
        stamp_text="Ký bởi: %(signer)s\n%(title)s\n%(organisation)s\nThời gian ký: %(when)s",
        # One size for shaping and for drawing (pyHanko measures the glyphs with the font's size
        # and draws them with the box's: apart, the letters spread out and the lines run over).
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(_font_file(), font_size=STAMP_FONT_SIZE), font_size=STAMP_FONT_SIZE
        ),
        background=background,
        background_opacity=0.9,
        border_width=1,
    )


def sign_pdf(
    source: Path,
    target: Path,
    key: SigningKey,
    appearance: Appearance,
    *,
    reason: str = "Phê duyệt và ban hành báo cáo",
    location: str = "",
) -> SignatureCheck:
    """Sign `source` into `target` (PAdES B-B, SHA-256) with a visible signature at the
    placeholder, then validate it (`validate_signed`, against the key's trust roots)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    page, box = find_signature_box(source)
    when = dt.datetime.now(ZoneInfo(appearance.timezone))
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.pdf")
    with open_signer(key) as signer:
        roots = trust_roots(key, signer)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location or None,
            name=appearance.signer_name,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer,
            stamp_style=_stamp_style(appearance),
            new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=page, box=box),
        )
        with Path(source).open("rb") as inp, partial.open("wb") as out:
            writer = IncrementalPdfFileWriter(inp, strict=False)
            pdf_signer.sign_pdf(
                writer,
                output=out,
                appearance_text_params={
                    "signer": appearance.signer_name,
                    "title": appearance.title.replace("\n", " - "),
                    "organisation": appearance.organisation,
                    "when": when.strftime("%d/%m/%Y %H:%M:%S %z"),
                },
            )
    try:
        check = validate_signed(partial, roots)
    except Exception:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return check


def validate_signed(pdf: Path, roots) -> SignatureCheck:
    """Validate the (only) signature of `pdf` against the trusted `roots` (asn1crypto
    certificates); raises `SignatureInvalid` unless it is intact, valid, trusted and covers the
    whole file."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if not roots:
        raise SignatureInvalid(
            "Không có chứng thư gốc tin cậy để kiểm tra chữ ký: thêm trust_roots vào Connection "
            "report_signing (no trust root to validate the signature against)."
        )
    with Path(pdf).open("rb") as handle:
        reader = PdfFileReader(handle, strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            raise SignatureInvalid(f"{Path(pdf).name}: có {len(signatures)} chữ ký, cần đúng 1.")
        context = ValidationContext(
            trust_roots=list(roots), allow_fetching=False, revocation_mode="soft-fail"
        )
        status = validate_pdf_signature(signatures[0], context)
    check = SignatureCheck(
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        coverage=status.coverage.name if status.coverage else "",
    )
    if not check.ok:
        raise SignatureInvalid(
            f"Chữ ký số của {Path(pdf).name} không hợp lệ (toàn vẹn: {check.intact}, hợp lệ: "
            f"{check.valid}, tin cậy: {check.trusted}, phạm vi: {check.coverage}); không gửi "
            "(the signature does not validate)."
        )
    return check
