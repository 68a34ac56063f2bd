"""The API when the analytics engine is a ClickHouse server that cannot be reached: a 503 that
names the server without its password, and nothing stored is touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting_assets.api.app import create_app
from reporting_assets.api.server import serve_in_thread
from reporting_assets.api.settings import ApiSettings
from reporting_assets.exports.settings import ExportSettings
from reporting_assets_tests.api.support import ALICE, OPERATIONS, SECRET, Served, create_report
from reporting_assets_tests.support.servers import free_port

pytest.importorskip("clickhouse_connect")

PASSWORD = "ch-pass-never-shown"


@pytest.fixture
def unreachable_clickhouse(analytics: str, tmp_path: Path) -> Iterator[tuple[Served, str]]:
    """The app reading analytics from a ClickHouse server on a port nothing listens on."""
    target = f"127.0.0.1:{free_port()}"
    exports = ExportSettings(
        storage_dir=tmp_path,
        analytics_engine="clickhouse",
        analytics_url=f"clickhouse://reader:{PASSWORD}@{target}/analytics",
    )
    settings = ApiSettings(
        algorithm="HS256", key=SECRET, rate_limit_per_minute=100_000, operations_tenant=OPERATIONS
    )
    app = create_app(settings=settings, database_url=analytics, exports=exports, s3=None, instance=None)
    with serve_in_thread(app) as url:
        yield Served(url, settings), target


def test_an_unreachable_clickhouse_server_is_a_503_naming_it_without_its_password(
    unreachable_clickhouse: tuple[Served, str],
) -> None:
    api, target = unreachable_clickhouse
    with api.client() as client:
        report = create_report(client, ALICE, name="Events per day")
        preview = client.get(f"/api/reports/{report['id']}/preview", headers=ALICE)
        assert preview.status_code == 503, preview.text
        error = preview.json()["error"]
        assert error["code"] == "analytics_unavailable"
        assert target in error["message"] and PASSWORD not in preview.text
        assert "Traceback" not in preview.text

        # the saved report is untouched and still readable
        again = client.get(f"/api/reports/{report['id']}", headers=ALICE)
        assert again.status_code == 200 and again.json()["name"] == "Events per day"
