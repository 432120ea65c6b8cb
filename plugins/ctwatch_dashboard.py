"""The Airflow plugin of ctwatch's compliance dashboard: its pages under /ctwatch on the API
server, a "Compliance" entry in the UI's navigation, and Airflow's own login in front of both."""

from __future__ import annotations

from pathlib import Path

from airflow.api_fastapi.core_api.security import requires_authenticated
from airflow.plugins_manager import AirflowPlugin

from ctwatch.dashboard.app import create_app
from ctwatch.dashboard.snapshot import snapshot_path
from ctwatch_airflow.settings import data_dir

URL_PREFIX = "/ctwatch"


def _snapshot_file() -> Path:
    # resolved per request: the configured data folder as it is now
    return snapshot_path(data_dir())


class CtwatchDashboardPlugin(AirflowPlugin):
    name = "ctwatch_dashboard"
    fastapi_apps = [  # noqa: RUF012 - Airflow reads these class attributes
        {
            "app": create_app(_snapshot_file, requires_authenticated()),
            "url_prefix": URL_PREFIX,
            "name": "ctwatch compliance dashboard",
        }
    ]
    external_views = [  # noqa: RUF012 - Airflow reads these class attributes
        {
            "name": "Compliance",
            "href": f"{URL_PREFIX}/incidents",
            "destination": "nav",
            "url_route": "compliance",
        }
    ]
