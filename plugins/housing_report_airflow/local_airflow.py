"""`make airflow` / `make airflow-stop`: Airflow's own processes on this machine, without Docker.

    python -m housing_report_airflow.local_airflow start [--port 8080]
    python -m housing_report_airflow.local_airflow stop
    python -m housing_report_airflow.local_airflow status

`start` runs the api-server, scheduler, dag-processor and triggerer on loopback with the
project's settings (the Makefile's: AIRFLOW_HOME=.airflow, the dags/ and plugins/ folders,
SQLite metadata, the LocalExecutor) and the demo's Variables unless set already (the local
sample workbooks of 12/03/2025, outputs in output/, mail to the outbox). Before that it
migrates the metadata database, creates the Google Sheets pool and the report database, and
gives the admin login (Airflow's SimpleAuthManager, user `quantri`) a password kept in
AIRFLOW_HOME/simple_auth_manager_passwords.json; each approver of report.yaml
(`approval.approvers[].user`) gets a login of its own (role `user`: the DAGs, not the
connections) with its own password there, so that they can answer the run's approval in
Browse → Required Actions. Without `AIRFLOW_CONN_REPORT_SIGNING` the approved report is signed
with the demo's throwaway certificate (`demo.demo_signing`, under AIRFLOW_HOME/demo-signing/),
never one for real reports. It prints the address, the logins and their passwords, who approves
and which key signs, once the UI answers and provincial_report is parsed.

Each process runs in a process group of its own, its pid (with its start time, so that a
recycled pid is never signalled) in AIRFLOW_HOME/local/<name>.pid and its output in
AIRFLOW_HOME/local/<name>.log; `stop` ends exactly those groups (SIGTERM, then SIGKILL).

`HOUSING_REPORT_EXECUTOR=celery` asks for the CeleryExecutor instead (with a Celery worker):
it needs `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` on PostgreSQL and the broker
(`AIRFLOW__CELERY__BROKER_URL`, default redis://127.0.0.1:6379/0) reachable, else `start`
refuses with what to set. Production runs on docker-compose.yaml (README).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "provincial_report"
ADMIN_USER = "quantri"
DEFAULT_PORT = 8080
SAMPLE_PERIOD = "2025-03-12"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
SHEETS_POOL = ("google_sheets_api", "4", "Google Sheets API readers (quota 60 reads/min per service account)")
PROCESSES = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
}
CELERY_WORKER = {"celery-worker": ("celery", "worker")}
READY_TIMEOUT = 240.0


class LocalAirflowError(RuntimeError):
    """Airflow cannot be started or stopped as asked (the message says what to do)."""


@dataclass(frozen=True)
class Approver:
    user: str
    name: str
    password: str


@dataclass(frozen=True)
class Login:
    url: str
    user: str
    password: str
    approvers: tuple[Approver, ...] = ()
    signing_ca: Path | None = None  # the throwaway certificate's CA, None: report_signing is set


def airflow_env(base: dict[str, str] | None = None, port: int = DEFAULT_PORT) -> dict[str, str]:
    """The environment of every Airflow process: `base` (os.environ by default) with the
    project's settings filled in where `base` does not set them already."""
    env = dict(os.environ if base is None else base)
    home = Path(env.get("AIRFLOW_HOME") or REPO_ROOT / ".airflow")
    celery = env.get("HOUSING_REPORT_EXECUTOR", "").lower() == "celery"
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if celery else "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW_VAR_REPORT_SOURCE": str(REPO_ROOT / "include" / "sample_data" / SAMPLE_PERIOD),
        "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(REPO_ROOT / "output"),
        "AIRFLOW_VAR_REPORT_DELIVERY": "outbox",
    }
    if celery:
        defaults["AIRFLOW__CELERY__BROKER_URL"] = "redis://127.0.0.1:6379/0"
    for name, value in defaults.items():
        if not env.get(name):
            env[name] = value
    paths = [str(REPO_ROOT / "include"), str(REPO_ROOT / "plugins")]
    known = env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + known))
    if celery and not env.get("AIRFLOW__CELERY__RESULT_BACKEND"):
        conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + conn
    return env


def state_dir(env: dict[str, str]) -> Path:
    return Path(env["AIRFLOW_HOME"]) / "local"


def approvers(env: dict[str, str]) -> list[tuple[str, str]]:
    """(user, name) of each approver of report.yaml with an Airflow user (the config of
    `AIRFLOW_VAR_REPORT_CONFIG_DIR`, else include/config)."""
    from housing_report.config import load_config

    approval = load_config(env.get("AIRFLOW_VAR_REPORT_CONFIG_DIR") or None).report.approval
    return [(a.user, a.name) for a in (approval.approvers if approval else ()) if a.user]


def add_approver_logins(env: dict[str, str], users: list[tuple[str, str]]) -> None:
    """Each approver's login (role `user`) beside the admin's, unless the users were set already."""
    setting = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    known = {entry.split(":")[0] for entry in setting.split(",") if entry}
    extra = [f"{user}:user" for user, _ in dict.fromkeys(users) if user not in known]
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = ",".join([setting, *extra])


def passwords(env: dict[str, str]) -> dict[str, str]:
    """Every login's password: the one in the passwords file, else a new one written there (0600).
    SimpleAuthManager reads this file; it generates passwords only for users missing from it."""
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    known: dict[str, str] = {}
    if path.exists():
        try:
            known = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            known = {}
    setting = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    users = [entry.split(":")[0] for entry in setting.split(",") if entry]
    missing = [user for user in users if not known.get(user)]
    if missing:
        known.update({user: secrets.token_urlsafe(12) for user in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2), encoding="utf-8")
        path.chmod(0o600)
    return {user: known[user] for user in users}


def admin_password(env: dict[str, str]) -> str:
    """The admin's password (the first login's), made once and kept (`passwords`)."""
    user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
    return passwords(env)[user]


def _step(env: dict[str, str], name: str, *args: str) -> None:
    """A set-up command (`python -m ...`) to completion, its output in setup-<name>.log."""
    log = state_dir(env) / f"setup-{name}.log"
    with log.open("wb") as out:
        code = subprocess.call([sys.executable, "-m", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise LocalAirflowError(f"Bước chuẩn bị «{name}» thất bại (mã {code}); nhật ký {log}:\n{tail}")


def prepare(env: dict[str, str]) -> list[Future]:
    """Migrate the metadata database (waited for); create the report database and, once
    migrated, the pool, alongside (the futures: wait for them before the first run)."""
    state_dir(env).mkdir(parents=True, exist_ok=True)
    if env.get("AIRFLOW_CONN_REPORT_DB"):
        report_db = ("housing_report_airflow.init_report_db",)
    else:
        report_db = ("housing_report_airflow.local_airflow", "report-db")
    workers = ThreadPoolExecutor(max_workers=2)
    try:
        pending = [workers.submit(_step, env, "report-db", *report_db)]
        _step(env, "migrate", "airflow", "db", "migrate")
        pending.append(workers.submit(_step, env, "pool", "airflow", "pools", "set", *SHEETS_POOL))
    finally:
        workers.shutdown(wait=False)
    return pending


def _report_db() -> int:
    """Child process (`report-db`): the report database of the Variables, created or upgraded."""
    from housing_report_airflow.resources import current

    store = current().store
    print(f"Cơ sở dữ liệu báo cáo: {store.safe_url}")
    return 0


def _reachable(url: str, default_port: int) -> bool:
    parts = urllib.parse.urlsplit(url.replace("+psycopg2", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 2):
            return True
    except OSError:
        return False


def check_executor(env: dict[str, str]) -> None:
    """The CeleryExecutor needs PostgreSQL metadata and a reachable broker."""
    if env["AIRFLOW__CORE__EXECUTOR"] != "CeleryExecutor":
        return
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if not database.startswith("postgresql") or not _reachable(database, 5432):
        raise LocalAirflowError(
            "CeleryExecutor cần cơ sở dữ liệu siêu dữ liệu PostgreSQL đang chạy: đặt "
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg2://... (hoặc bỏ HOUSING_REPORT_EXECUTOR)."
        )
    if not _reachable(env["AIRFLOW__CELERY__BROKER_URL"], 6379):
        raise LocalAirflowError(
            f"Không kết nối được hàng đợi Celery {env['AIRFLOW__CELERY__BROKER_URL']}: hãy chạy Redis "
            "hoặc đặt AIRFLOW__CELERY__BROKER_URL."
        )


# -- the processes and their pid files


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), None when it is gone (or
    a zombie: exited, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(record: dict) -> bool:
    """Is the recorded process still the one started (same pid and start time)?"""
    if not Path("/proc/self/stat").exists():  # no /proc: trust the pid
        try:
            os.kill(record["pid"], 0)
        except OSError:
            return False
        return True
    started = _start_time(record["pid"])
    return started is not None and started == record.get("started")


def write_pid_file(path: Path, pid: int, command: list[str]) -> None:
    """The pid with its start time: `stop` signals it only while both match."""
    record = {"pid": pid, "started": _start_time(pid), "command": command}
    path.write_text(json.dumps(record), encoding="utf-8")


def running(env: dict[str, str]) -> dict[str, dict]:
    """The processes `start` recorded that are still running: name -> pid record."""
    out = {}
    for path in sorted(state_dir(env).glob("*.pid")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _alive(record):
            out[path.stem] = record
    return out


def start_processes(env: dict[str, str]) -> dict[str, subprocess.Popen]:
    folder = state_dir(env)
    folder.mkdir(parents=True, exist_ok=True)
    commands = dict(PROCESSES)
    if env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor":
        commands.update(CELERY_WORKER)
    started = {}
    for name, args in commands.items():
        with (folder / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        write_pid_file(folder / f"{name}.pid", process.pid, ["airflow", *args])
        started[name] = process
    return started


def stop(env: dict[str, str], timeout: float = 30.0) -> list[str]:
    """End every process group `start` recorded (SIGTERM, then SIGKILL); remove the pid files.
    Returns the names of those that were running."""
    folder = state_dir(env)
    alive = running(env)
    for record in alive.values():
        _signal_group(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(r) for r in alive.values()):
        time.sleep(0.3)
    # Task supervisors and workers may outlive their group's leader: the whole group goes.
    for record in alive.values():
        _signal_group(record["pid"], signal.SIGKILL)
    for path in folder.glob("*.pid"):
        path.unlink(missing_ok=True)
    return sorted(alive)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tails(env: dict[str, str], lines: int = 30) -> str:
    parts = []
    for path in sorted(state_dir(env).glob("*.log")):
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        parts.append(f"----- {path} -----\n" + "\n".join(text))
    return "\n".join(parts)


# -- readiness


def _http(url: str, *, data: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until_ready(
    env: dict[str, str], login: Login, processes: dict, timeout: float = READY_TIMEOUT
) -> None:
    """Until the api-server answers, the admin can log in and provincial_report is parsed."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        dead = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        if dead:
            raise LocalAirflowError(f"Tiến trình Airflow đã dừng: {dead}\n{tails(env)}")
        try:
            status, body = _http(
                f"{login.url}/auth/token", data={"username": login.user, "password": login.password}
            )
            if status in (200, 201):
                token = json.loads(body)["access_token"]
                status, _ = _http(f"{login.url}/api/v2/dags/{DAG_ID}", token=token)
                if status == 200:
                    return
                last = f"DAG {DAG_ID}: HTTP {status}"
            else:
                last = f"/auth/token: HTTP {status}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(1.0)
    raise LocalAirflowError(f"Airflow chưa sẵn sàng sau {timeout:.0f} giây ({last})\n{tails(env)}")


def start(env: dict[str, str], timeout: float = READY_TIMEOUT) -> Login:
    """Prepare, start the processes (unless they run already) and wait until they are ready.
    Adds the approvers' logins and, without `AIRFLOW_CONN_REPORT_SIGNING`, the demo's throwaway
    signing certificate to `env`."""
    from housing_report_airflow.demo import demo_signing

    names = approvers(env)
    add_approver_logins(env, names)
    signing_ca = demo_signing(env, Path(env["AIRFLOW_HOME"]))
    known = passwords(env)
    admin = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
    login = Login(
        url=env["AIRFLOW__API__BASE_URL"].rstrip("/"),
        user=admin,
        password=known[admin],
        approvers=tuple(Approver(user, name, known[user]) for user, name in names if user in known),
        signing_ca=signing_ca,
    )
    if running(env):
        return login
    check_executor(env)
    port = int(env["AIRFLOW__API__PORT"])
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise LocalAirflowError(
                f"Cổng {port} đang được dùng; chọn cổng khác: make airflow AIRFLOW_PORT=8081"
            )
    pending = prepare(env)
    processes = start_processes(env)
    try:
        for step in pending:
            step.result()
        wait_until_ready(env, login, processes, timeout)
    except BaseException:
        stop(env)
        raise
    return login


def banner(login: Login, env: dict[str, str]) -> str:
    folder = state_dir(env)
    return "\n".join(
        [
            f"Airflow đang chạy ({env['AIRFLOW__CORE__EXECUTOR']}): {login.url}",
            f"  Đăng nhập: người dùng {login.user}, mật khẩu {login.password}",
            *approval_lines(login),
            f"  Trang báo cáo: {login.url}/plugin/xoa-nha-tam",
            f"  Nguồn dữ liệu: {env['AIRFLOW_VAR_REPORT_SOURCE']}",
            f"  Kết quả: {env['AIRFLOW_VAR_REPORT_OUTPUT_DIR']}",
            f"  Nhật ký tiến trình: {folder}/*.log; dừng: make airflow-stop",
            "  Lưu ý: bỏ tạm dừng DAG provincial_report (kể cả ô «Unpause on trigger» của form Trigger)"
            " làm Airflow chạy ngay cho ngày 12 hoặc 27 gần nhất đã qua (docs/vi/quan-tri.md).",
        ]
    )


def approval_lines(login: Login) -> list[str]:
    """Who approves a run, where, and which key signs the approved report."""
    lines = [
        f"  Người phê duyệt: {a.name}, đăng nhập người dùng {a.user}, mật khẩu {a.password}"
        for a in login.approvers
        if a.user != login.user
    ]
    lines += [
        f"  Người phê duyệt: {a.name}, đăng nhập bằng tài khoản quản trị {a.user}"
        for a in login.approvers
        if a.user == login.user
    ]
    if login.approvers:
        lines.append(
            "  Mỗi lần chạy chờ phê duyệt ở bước approve_report: Browse → Required Actions (hoặc thẻ"
            " «Required Actions» của lần chạy), ghi Số văn bản, bấm «Phê duyệt»."
        )
    if login.signing_ca is not None:
        lines.append(
            "  Ký số: chứng thư TẠM (tự sinh, chỉ để thử, không dùng cho báo cáo thật), "
            f"gốc để kiểm tra {login.signing_ca}; chứng thư thật: đặt connection report_signing "
            "(docs/vi/quan-tri.md, mục «Chứng thư số và người phê duyệt»)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m housing_report_airflow.local_airflow")
    parser.add_argument("command", choices=["start", "stop", "status", "report-db"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)
    if args.command == "report-db":
        return _report_db()
    env = airflow_env(port=args.port)
    try:
        if args.command == "stop":
            stopped = stop(env)
            print(
                f"Đã dừng: {', '.join(stopped)}" if stopped else "Không có tiến trình Airflow nào đang chạy."
            )
            return 0
        if args.command == "status":
            alive = running(env)
            print(", ".join(f"{n} (pid {r['pid']})" for n, r in alive.items()) or "Không chạy.")
            return 0 if alive else 1
        print("Đang khởi động Airflow (chuẩn bị cơ sở dữ liệu, chờ giao diện và DAG sẵn sàng)...")
        login = start(env)
    except LocalAirflowError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(banner(login, env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
