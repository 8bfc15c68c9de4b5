"""Screenshot of the admins' page in a running Airflow UI (`make ui-screenshot`).

Starts `airflow api-server` on loopback (SimpleAuthManager with one admin, SQLite metadata
under .airflow/ui-screenshot), logs in through `/auth/token`, hands the JWT to headless
Chromium as the UI's `_token` cookie (Chrome DevTools Protocol) and captures the page
inside the UI's navigation. The report database is the demo's (`output/reports.sqlite`,
from `make demo`). Usage: python -m tests.ui.screenshot docs/ui-page.png
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.airflow_processes import REPO, AirflowProcesses, airflow, api_token, base_env, free_port, wait_for

USER = "quantri"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
]
WIDTH, HEIGHT = 1440, 1100


def main(target: Path) -> int:
    output = REPO / "output"
    if not (output / "reports.sqlite").exists():
        print("output/reports.sqlite is missing: run `make demo` first", file=sys.stderr)
        return 2
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        print("Chromium not found: apt-get update && apt-get install -y chromium", file=sys.stderr)
        return 2
    home = REPO / ".airflow" / "ui-screenshot"
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = base_env(home, port, USER, password)
    env.update(
        {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(output),
        }
    )
    airflow(env, "db", "migrate")
    processes = AirflowProcesses(env, home / "logs")
    base_url = f"http://127.0.0.1:{port}"
    try:
        processes.start("api-server", "api-server")

        def up():
            processes.check_alive()
            return httpx.get(f"{base_url}/api/v2/version", timeout=5).status_code == 200

        wait_for(up, timeout=120, what="the api-server", on_fail=processes.tails)
        token = api_token(base_url, USER, password)
        page = httpx.get(f"{base_url}/xoa-nha-tam/", cookies={"_token": token}, timeout=30)
        page.raise_for_status()
        png = asyncio.run(capture(chromium, f"{base_url}/plugin/xoa-nha-tam", token, port))
    finally:
        processes.stop()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png)
    print(f"{target} ({len(png)} bytes)")
    return 0


async def capture(chromium: str, url: str, token: str, api_port: int) -> bytes:
    """Open `url` in headless Chromium with the `_token` cookie set; return a PNG."""
    import websockets

    debug_port = free_port()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    browser = subprocess.Popen(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={debug_port}",
            f"--window-size={WIDTH},{HEIGHT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        targets = wait_for(
            lambda: [
                t
                for t in httpx.get(f"http://127.0.0.1:{debug_port}/json", timeout=2).json()
                if t["type"] == "page"
            ],
            timeout=30,
            what="Chromium's DevTools endpoint",
            on_fail=lambda: "",
            every=0.3,
        )
        async with websockets.connect(targets[0]["webSocketDebuggerUrl"], max_size=None) as ws:
            counter = 0

            async def call(method: str, **params):
                nonlocal counter
                counter += 1
                await ws.send(json.dumps({"id": counter, "method": method, "params": params}))
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("id") == counter:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return message.get("result", {})

            await call("Network.enable")
            await call(
                "Network.setCookie", name="_token", value=token, url=f"http://127.0.0.1:{api_port}/", path="/"
            )
            await call(
                "Emulation.setDeviceMetricsOverride",
                width=WIDTH,
                height=HEIGHT,
                deviceScaleFactor=1,
                mobile=False,
            )
            await call("Page.enable")
            await call("Page.navigate", url=url)
            # The UI is a single-page app that loads the plugin's page in an iframe: let both settle.
            time.sleep(20)
            shot = await call("Page.captureScreenshot", format="png")
            return base64.b64decode(shot["data"])
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui-page.png")))
