"""Helpers of the API tests: tokens, the served app, the SMTP mailbox, waiting for an export run."""

from __future__ import annotations

import datetime as dt
import email
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn

from reporting_assets.api.settings import ApiSettings

SECRET = "test-secret-" + "k" * 40
OPERATIONS = "ops"
ACCESS = {"access_key_id": "testing", "secret_access_key": "testing-secret"}
WAIT_SECONDS = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """An SMTP handler keeping every accepted message; ``reject`` refuses RCPT per address."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    port: int = 0
    reject: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


@dataclass
class Served:
    url: str
    settings: ApiSettings

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120.0, **kwargs)


def serve(app: Any) -> Iterator[str]:
    """``app`` on a real uvicorn in a thread, on a free port of 127.0.0.1; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


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


def export_file_path(export_id: str, folder: Path, fmt: str, tenant: str = "acme") -> Path:
    return folder / tenant / f"{export_id}.{fmt}"


Waiter = Callable[[httpx.Client, str, dict[str, str]], dict[str, Any]]
