"""Helpers of the API tests: tokens, the served app's URL, reports, waiting for an export run."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from reporting_assets.api.settings import ApiSettings

SECRET = "test-secret-" + "k" * 40
OPERATIONS = "ops"
WAIT_SECONDS = 240.0


@dataclass
class Served:
    url: str
    settings: ApiSettings

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120.0, **kwargs)


def make_token(
    tenant: str | None = "acme",
    user: str = "alice@acme.example",
    role: str = "user",
    *,
    key: str = SECRET,
    algorithm: str = "HS256",
    exp: dt.timedelta | None = dt.timedelta(hours=1),
    **claims: Any,
) -> str:
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, Any] = {"sub": user, "role": role, "iat": int(now.timestamp()), **claims}
    if tenant is not None:
        payload["tenant"] = tenant
    if exp is not None:
        payload["exp"] = int((now + exp).timestamp())
    return jwt.encode(payload, key, algorithm=algorithm)


def auth(tenant: str = "acme", user: str = "alice@acme.example", role: str = "user") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(tenant, user, role)}"}


ADMIN = auth("acme", "admin@acme.example", "admin")
ALICE = auth("acme", "alice@acme.example", "user")
BOB = auth("acme", "bob@acme.example", "user")
GLOBEX = auth("globex", "root@globex.example", "admin")

USAGE_QUERY: dict[str, Any] = {
    "table": "usage_events",
    "fields": [
        {"field": "timestamp", "bucket": "day", "as": "date"},
        {"aggregate": "count", "as": "total_events"},
        "event_type",
    ],
    "filters": [{"field": "timestamp", "op": "between", "value": ["2025-03-01", "2025-03-31"]}],
    "group_by": ["date", "event_type"],
    "order_by": [{"field": "date", "direction": "desc"}, {"field": "event_type"}],
}


def wait_for_export(client: httpx.Client, export_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll the export until its run finished it (completed or failed)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        body = client.get(f"/api/reports/exports/{export_id}", headers=headers).json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, (
            f"export {export_id} still {body['status']} after {WAIT_SECONDS} s"
        )
        time.sleep(0.5)


def create_report(client: httpx.Client, headers: dict[str, str], **values: Any) -> dict[str, Any]:
    payload = {"name": f"Usage {uuid.uuid4().hex[:6]}", "query_config": USAGE_QUERY, **values}
    response = client.post("/api/reports", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_schedule(
    client: httpx.Client, headers: dict[str, str], report_id: str, **values: Any
) -> dict[str, Any]:
    """A schedule of the report through the API: weekly on Mondays at 09:00, CSV by email to
    ops@acme.example, unless ``values`` say otherwise."""
    payload = {
        "report_id": report_id,
        "name": "Weekly",
        "cron_expression": "0 9 * * 1",
        "format": "csv",
        "delivery_method": "email",
        "recipients": ["ops@acme.example"],
        **values,
    }
    response = client.post("/api/reports/schedules", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def export_file_path(export_id: str, folder: Path, fmt: str, tenant: str = "acme") -> Path:
    return folder / tenant / f"{export_id}.{fmt}"


Waiter = Callable[[httpx.Client, str, dict[str, str]], dict[str, Any]]
