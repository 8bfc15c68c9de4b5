"""End to end: `provincial_report` waits for its approver, who answers through Airflow's REST API
as the Required Actions page does (`housing_report_airflow.answer`); `dag.test()` on the sample
workbooks, to the outbox.

- approved: the outbox's report attaches the signed PDF (validated by pyHanko against the test
  CA) and the workbook, not the .docx; the document carries its number and no placeholder; the
  PDF is kept in the period's folder; a correction (the next run with changed figures) goes
  through the approval again and threads with the report it replaces;
- rejected: nothing is sent to the recipients, the admins are told, the run ends in success;
- no answer by the deadline (the scheduler's sweep of expired waits): nothing sent, admins told.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from housing_report.core.approval import APPROVE, REJECT
from housing_report_airflow.answer import Answer
from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import SAMPLES, environment
from tests.support.config_files import edit

pytestmark = pytest.mark.airflow
PERIOD = "2025-03-12"
ADMIN = "quantri.baocao@soctrang.example"
APPROVER = "nvthanh.btgtu@soctrang.example"
DEPARTMENT = "vanphong@soldtbxh.soctrang.example"


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


def run(dag, out: Path, answer: Answer, source: Path = SAMPLES / PERIOD, config: Path | None = None) -> str:
    extra = {"AIRFLOW_VAR_REPORT_CONFIG_DIR": str(config)} if config else {}
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(source),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="outbox",
        **extra,
    ):
        dag_run = run_dag_test(dag, answer=answer, run_conf={"period": PERIOD, "dry_run": False})
    state = str(dag_run.state).lower()
    assert state.endswith("success"), state
    return dag_run.run_id


def outbox(out: Path) -> list[email.message.EmailMessage]:
    """Every message of the run: the report's outbox, the approvers' notes, the admins' alerts."""
    folders = (out / PERIOD / "outbox", out / PERIOD / "approval", out / "alerts")
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for folder in folders
        for p in sorted(folder.glob("*.eml"))
    ]


def to(message) -> str:
    return str(message["To"])


def test_approved_the_signed_pdf_is_sent_and_validates(dag, tmp_path, signing_key):
    from housing_report.sign.keys import load_certificates
    from housing_report.sign.pades import validate_signed

    answer = Answer(APPROVE, {"so_van_ban": "42", "danh_gia_chung": "Đánh giá riêng của lãnh đạo."})
    run(dag, tmp_path, answer)
    messages = outbox(tmp_path)
    [note] = [m for m in messages if APPROVER in to(m)]
    assert note["Subject"].startswith("[Cần phê duyệt]")
    assert "/required_actions" in note.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in note.iter_attachments()] == [f"bao-cao-xoa-nha-tam-{PERIOD}.docx"]
    [report] = [m for m in messages if DEPARTMENT in to(m)]
    names = [p.get_filename() for p in report.iter_attachments()]
    assert names == [f"bao-cao-xoa-nha-tam-{PERIOD}.pdf", f"tong-hop-xoa-nha-tam-{PERIOD}.xlsx"]
    body = report.get_body(("plain",)).get_content()
    assert body.startswith("Kính gửi:")
    assert "tệp PDF đã ký số" in body
    assert "tệp Word" not in body
    sent_pdf = tmp_path / "sent.pdf"
    sent_pdf.write_bytes(next(report.iter_attachments()).get_content())
    check = validate_signed(sent_pdf, load_certificates(signing_key.read_bytes()))
    assert check.ok
    kept = tmp_path / PERIOD / f"bao-cao-xoa-nha-tam-{PERIOD}.pdf"
    assert kept.read_bytes() == sent_pdf.read_bytes()
    assert (tmp_path / PERIOD / f"bao-cao-xoa-nha-tam-{PERIOD}.docx").is_file()
    # The approved document: its number and the approver's text, no handwritten placeholder.
    from docx import Document

    document = Document(str(tmp_path / PERIOD / f"bao-cao-xoa-nha-tam-{PERIOD}.docx"))
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for row in t.rows for c in row.cells]
    )
    assert "Số 42-BC/BTGTU" in text
    assert "Đánh giá riêng của lãnh đạo." in text
    assert "PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI" in text
    assert "(Ký, ghi rõ họ tên và đóng dấu)" not in text
    assert not [m for m in messages if ADMIN in to(m)]


def test_a_correction_goes_through_the_approval_and_threads(dag, tmp_path, config_dir):
    run(dag, tmp_path, Answer(APPROVE, {"so_van_ban": "42"}))
    [report] = [m for m in outbox(tmp_path) if DEPARTMENT in to(m)]
    # A unit fixes its sheet: a changed figure, the next run is a correction, approved again.
    import shutil

    import openpyxl

    source = tmp_path / "source"
    shutil.copytree(SAMPLES / PERIOD, source)
    changed = False
    for path in sorted(source.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if not changed and isinstance(cell.value, int) and cell.value > 10 and cell.column > 3:
                        cell.value += 1
                        changed = True
        wb.save(path)
        if changed:
            break
    run(dag, tmp_path, Answer(APPROVE, {"so_van_ban": "43"}), source=source)
    messages = outbox(tmp_path)
    notes = [m for m in messages if APPROVER in to(m)]
    reports = [m for m in messages if DEPARTMENT in to(m)]
    if len(reports) == 1:
        pytest.skip("the changed cell did not change a delivered figure")
    assert len(notes) == 2
    correction = reports[-1]
    assert correction["In-Reply-To"] == report["Message-ID"]
    assert report["Message-ID"] in correction["References"]
    assert [p.get_filename() for p in correction.iter_attachments()][0].endswith(".pdf")


def test_rejected_nothing_is_sent_and_the_admins_are_told(dag, tmp_path):
    answer = Answer(REJECT, {"ly_do_tu_choi": "Số liệu huyện Mỹ Tú cần kiểm tra lại."})
    run(dag, tmp_path, answer)
    messages = outbox(tmp_path)
    assert not [m for m in messages if DEPARTMENT in to(m)]
    [alert] = [m for m in messages if ADMIN in to(m)]
    body = alert.get_body(("plain",)).get_content()
    assert "bị từ chối" in alert["Subject"]
    assert "Số liệu huyện Mỹ Tú cần kiểm tra lại." in body
    assert not (tmp_path / PERIOD / f"bao-cao-xoa-nha-tam-{PERIOD}.pdf").exists()


def test_no_answer_by_the_deadline_sends_nothing_and_tells_the_admins(dag, tmp_path, config_dir):
    # A deadline of about a second; the scheduler's sweep of expired waits ends the wait.
    edit(config_dir / "report.yaml", lambda data: data["approval"].update(timeout_hours=0.0003))
    run(dag, tmp_path, Answer(None), config=config_dir)
    messages = outbox(tmp_path)
    assert not [m for m in messages if DEPARTMENT in to(m)]
    [alert] = [m for m in messages if ADMIN in to(m)]
    assert "không được phê duyệt trước hạn" in alert["Subject"]
