"""The report document as PDF: LibreOffice headless converts the .docx (`docx_to_pdf`).

Each conversion runs `soffice` with a profile directory of its own (`-env:UserInstallation`):
two conversions sharing a profile (two tasks on one worker, two tests) lock each other out or
silently convert nothing. A conversion that takes longer than `timeout` is stopped. LibreOffice
is a system package (Debian `libreoffice-writer`), installed by the Dockerfile and `make`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOFFICE_NAMES = ("soffice", "libreoffice")
TIMEOUT_S = 180.0
INSTALL_HINT = "apt-get install libreoffice-writer"


class PdfConversionError(RuntimeError):
    """The .docx could not be converted to PDF (LibreOffice missing, failing or too slow)."""


def find_soffice() -> str | None:
    """The LibreOffice executable: `HOUSING_REPORT_SOFFICE` if set, else `soffice` on the PATH."""
    configured = os.environ.get("HOUSING_REPORT_SOFFICE")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return next((found for name in SOFFICE_NAMES if (found := shutil.which(name))), None)


def docx_to_pdf(docx: Path, out_dir: Path | None = None, *, timeout: float = TIMEOUT_S) -> Path:
    """Convert `docx` to `<out_dir>/<stem>.pdf` (beside it by default) and return that path."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfConversionError(
            f"Không tìm thấy LibreOffice (soffice) để chuyển báo cáo sang PDF; cài đặt: {INSTALL_HINT} "
            "(LibreOffice is not installed)."
        )
    docx = Path(docx).resolve()
    out_dir = Path(out_dir or docx.parent).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{docx.stem}.pdf"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="housing-report-soffice-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(docx),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfConversionError(
                f"LibreOffice không chuyển xong {docx.name} sang PDF sau {timeout:.0f} giây "
                "(the conversion timed out)."
            ) from exc
    if result.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = (result.stderr or result.stdout or "").strip()[-500:]
        raise PdfConversionError(
            f"LibreOffice không chuyển được {docx.name} sang PDF (mã {result.returncode}): {detail}"
        )
    return target
