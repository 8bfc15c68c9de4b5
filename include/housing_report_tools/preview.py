"""Render a period's outputs for a person to look at: `python -m housing_report_tools.preview FOLDER`.

In `FOLDER/preview/`: the report document and the workbook as PDF (LibreOffice, headless),
their pages as PNG (pdftoppm, else LibreOffice's PDFium), and the email's HTML as PNG at a
phone's width and a desktop's (headless Chromium). A tool that is not installed is skipped with a
message; nothing here is needed by the pipeline or the tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOFFICE = ("soffice", "libreoffice")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# (name, width, height) of the email screenshots: the whole email on a phone (390 CSS pixels,
# an iPhone 12 to 15) and on a desktop, and a phone's first screen (what is read without scrolling).
EMAIL_SIZES = (("phone", 390, 9000), ("phone-first-screen", 390, 844), ("desktop", 1024, 7000))
TIMEOUT_S = 180


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for n in names if (found := shutil.which(n))), None)


def to_pdf(files: list[Path], out: Path) -> list[Path]:
    soffice = _which(SOFFICE)
    if soffice is None:
        print(
            "LibreOffice không có trên máy: bỏ qua PDF (apt-get install libreoffice-writer libreoffice-calc)."
        )
        return []
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(out), *map(str, files)],
            check=True, timeout=TIMEOUT_S, capture_output=True,
        )  # fmt: skip
    return [out / f"{f.stem}.pdf" for f in files if (out / f"{f.stem}.pdf").is_file()]


def pdf_pages_to_png(pdf: Path, out: Path, dpi: int = 80) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        # Without poppler, LibreOffice's own PDF library draws the pages.
        from housing_report_tools.pdf_pages import PdfiumMissing, render_pages

        try:
            return render_pages(pdf, out, dpi)
        except (PdfiumMissing, OSError) as error:
            print(f"pdftoppm (poppler-utils) không có trên máy, PDFium của LibreOffice cũng không ({error}):"
                  " bỏ qua ảnh các trang.")  # fmt: skip
            return []
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out / pdf.stem)], check=True, timeout=TIMEOUT_S
    )
    return sorted(out.glob(f"{pdf.stem}-*.png"))


def email_to_png(html: Path, out: Path) -> list[Path]:
    chromium = _which(CHROMIUM)
    if chromium is None:
        print("Chromium không có trên máy: bỏ qua ảnh email. apt-get install chromium")
        return []
    made = []
    for name, width, height in EMAIL_SIZES:
        target = out / f"email-{name}.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={width},{height}", f"--screenshot={target}", html.resolve().as_uri()],
            check=True, timeout=TIMEOUT_S, capture_output=True,
        )  # fmt: skip
        made.append(target)
    return made


def preview(folder: Path) -> list[Path]:
    documents = sorted(folder.glob("*.docx")) + sorted(folder.glob("*.xlsx"))
    if not documents:
        print(f"Không có báo cáo trong {folder}: chạy `make demo` trước.")
        return []
    out = folder / "preview"
    out.mkdir(exist_ok=True)
    made = []
    for pdf in to_pdf(documents, out):
        made.append(pdf)
        made += pdf_pages_to_png(pdf, out)
    if (folder / "email.html").is_file():
        made += email_to_png(folder / "email.html", out)
    return made


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "output/2025-03-12")
    for path in preview(folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
