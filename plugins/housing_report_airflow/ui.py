"""The admins' page in the Airflow UI ("Báo cáo xóa nhà tạm"): a FastAPI app for a plugin.

Mounted by `plugins/housing_report_ui.py` under `/xoa-nha-tam` in Airflow's api-server. It
reads the report database only (four queries whatever the number of units), and answers
only to users logged in to Airflow: the JWT of the UI (cookie) or of the REST API (bearer)
is validated by Airflow's own `get_user` dependency, i.e. by the configured auth manager,
and the user must be allowed to read the runs of provincial_report.

The query (`?period=yyyy-mm-dd`, `&unit=CODE`) is checked here: a day that does not exist, is
not a collection day, or a unit not in units.yaml is answered with one Vietnamese line and
HTTP 400 (escaped: the answer repeats what was typed), never a traceback and a 500.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse

URL_PREFIX = "/xoa-nha-tam"
PAGE_NAME = "Báo cáo xóa nhà tạm"
TEMPLATES = Path(__file__).resolve().parent / "templates"
NOT_ALLOWED = "Không có quyền xem DAG provincial_report"
# Airflow's own refusals (in English) as the page says them.
ACCESS_MESSAGES = {
    401: "Chưa đăng nhập Airflow: hãy đăng nhập rồi mở lại trang.",
    403: "Phiên đăng nhập không hợp lệ hoặc không có quyền xem DAG provincial_report.",
}


def _default_store():
    """The report database of the deployment (`report_db`, else SQLite in the output folder),
    opened (and upgraded if needed) once per api-server process (`resources`)."""
    # Imported here: Airflow's plugin manager imports this module in every process it loads
    # plugins in, and `resources` pulls in SQLAlchemy, the config and the mail code.
    from housing_report_airflow.resources import current

    return current().store


def _default_config():
    """The config, read for each request (an edited units.yaml shows at once)."""
    from housing_report.config import load_config
    from housing_report_airflow.resources import current

    return load_config(current().settings.config_dir)


async def _logged_in_user(request: Request):
    """Airflow's own authentication of the request (cookie `_token` or bearer JWT)."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPAuthorizationCredentials

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None
    return await get_user(request, None, bearer)


def _require_dag_reader(user) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    from housing_report.render.overview import DAG_ID

    allowed = get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=DAG_ID), user=user
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)


def create_app(
    store_factory: Callable[[], Any] = _default_store,
    config_factory: Callable[[], Any] = _default_config,
) -> FastAPI:
    app = FastAPI(title=PAGE_NAME, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def to_login(request: Request, exc: HTTPException):
        """A browser without a session goes to Airflow's login page, then comes back."""
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code == status.HTTP_401_UNAUTHORIZED and wants_html:
            from airflow.api_fastapi.app import get_auth_manager

            login = get_auth_manager().get_url_login(next_url=str(request.url))
            return RedirectResponse(login, status_code=status.HTTP_303_SEE_OTHER)
        return error_page(ACCESS_MESSAGES.get(exc.status_code, str(exc.detail)), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_query(request: Request, exc: RequestValidationError):
        return error_page("Địa chỉ trang có tham số không hợp lệ.", status.HTTP_400_BAD_REQUEST)

    @app.get("/", response_class=HTMLResponse)
    async def overview_page(
        request: Request,
        user=Depends(_logged_in_user),  # noqa: B008 (FastAPI's dependency idiom)
        period: str | None = Query(None, max_length=40),
        unit: str | None = Query(None, max_length=2000),
    ) -> HTMLResponse:
        _require_dag_reader(user)
        config = config_factory()
        chosen, units = parse_query(config, period, unit)
        return HTMLResponse(render_page(store_factory(), config, chosen, units))

    return app


def parse_query(config, period: str | None, unit: str | None) -> tuple[dt.date | None, list[str] | None]:
    """The period and units a query asks for; HTTP 400 with one Vietnamese line when wrong."""
    from housing_report.core.periods import parse_period
    from housing_report.render.overview import unknown_units

    chosen = None
    if period:
        try:
            chosen = parse_period(period, config.report.schedule.collection_days)
        except ValueError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    units = None
    if unit:
        units = [code.strip() for code in unit.split(",") if code.strip()]
        unknown = unknown_units(config, units)
        if unknown or not units:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"Không có đơn vị mã «{', '.join(unknown) or unit}» trong danh sách đơn vị (units.yaml).",
            )
    return chosen, units


def error_page(message: str, status_code: int) -> HTMLResponse:
    """One escaped line (it may repeat what was typed in the address)."""
    body = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Báo cáo xóa nhà tạm</title>'
        f"</head><body><p>{html.escape(message, quote=False)}</p>"
        '<p><a href="?">Về trang báo cáo (kỳ mới nhất)</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status_code)


def render_page(store, config, period: dt.date | None = None, unit_codes: list[str] | None = None) -> str:
    """The page's HTML (pure: the store and config in, HTML out)."""
    import jinja2

    from housing_report.render.overview import DAG_ID, build_overview

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    overview = build_overview(store, config, period, unit_codes=unit_codes)
    return environment.get_template("overview.html.j2").render(
        o=overview, dag_id=DAG_ID, dag_url=f"/dags/{DAG_ID}"
    )
