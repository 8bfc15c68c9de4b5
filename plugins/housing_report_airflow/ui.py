"""The admins' page in the Airflow UI ("Báo cáo xóa nhà tạm"): a FastAPI app for a plugin.

Mounted by `plugins/housing_report_ui.py` under `/xoa-nha-tam` in Airflow's api-server. It
reads the report database only (four queries whatever the number of units), and answers
only to users logged in to Airflow: the JWT of the UI (cookie) or of the REST API (bearer)
is validated by Airflow's own `get_user` dependency, i.e. by the configured auth manager,
and the user must be allowed to read the runs of provincial_report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

URL_PREFIX = "/xoa-nha-tam"
PAGE_NAME = "Báo cáo xóa nhà tạm"
TEMPLATES = Path(__file__).resolve().parent / "templates"


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
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Không có quyền xem DAG provincial_report")


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
        return HTMLResponse(f"<p>{exc.detail}</p>", status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    async def overview_page(
        request: Request,
        user=Depends(_logged_in_user),  # noqa: B008 (FastAPI's dependency idiom)
        period: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
    ) -> HTMLResponse:
        _require_dag_reader(user)
        chosen = dt.date.fromisoformat(period) if period else None
        return HTMLResponse(render_page(store_factory(), config_factory(), chosen))

    return app


def render_page(store, config, period: dt.date | None = None) -> str:
    """The page's HTML (pure: the store and config in, HTML out)."""
    import jinja2

    from housing_report.render.overview import DAG_ID, build_overview

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    overview = build_overview(store, config, period)
    return environment.get_template("overview.html.j2").render(
        o=overview, dag_id=DAG_ID, dag_url=f"/dags/{DAG_ID}"
    )
