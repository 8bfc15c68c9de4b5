"""Airflow plugin: the admins' page "Báo cáo xóa nhà tạm" in the Airflow UI.

A FastAPI app mounted in the api-server at /xoa-nha-tam (plugins/housing_report_airflow/ui.py)
and an entry in the UI's navigation that shows it inside the UI. Only this file is loaded by
Airflow's plugin manager (plugins/.airflowignore hides the package housing_report_airflow).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from housing_report_airflow.ui import PAGE_NAME, URL_PREFIX, create_app


class HousingReportUiPlugin(AirflowPlugin):
    name = "housing_report_ui"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": PAGE_NAME}]
    external_views = [
        {
            "name": PAGE_NAME,
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "xoa-nha-tam",
        }
    ]
