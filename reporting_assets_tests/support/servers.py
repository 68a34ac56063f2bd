"""Real servers on 127.0.0.1 for the tests: SMTP (aiosmtpd) and S3 (moto's server)."""

from __future__ import annotations

import email
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from moto.server import ThreadedMotoServer

from reporting_assets.delivery.smtp import SmtpResource, SmtpSettings
from reporting_assets.exports.s3 import S3Settings

SMTP_LOGIN = ("reporter", "right-s3cret")
"""The one login the test SMTP server accepts (it also takes mail without a login)."""
ACCESS: dict[str, Any] = {"access_key_id": "testing", "secret_access_key": "testing-secret"}
"""S3 credentials for the moto server (it accepts any)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server, or a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Accepts mail, or refuses it on demand: per RCPT address (always, or a queue of replies
    used up one per attempt) and per DATA (a queue of replies)."""

    messages: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.reject:
            return self.reject[address]
        if self.rcpt_replies.get(address):
            return self.rcpt_replies[address].pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m.message for m in self.messages if address in m.rcpt_tos]


@dataclass
class SmtpServer:
    handler: Handler
    port: int

    def resource(self, **overrides: Any) -> SmtpResource:
        """An SmtpResource for this server: short timeout, 3 attempts, no real backoff."""
        config: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "sender": "Reporting <reports@reporting.example>",
            "timeout_seconds": 5.0,
            "max_attempts": 3,
            "backoff_base_seconds": 0.01,
        }
        return SmtpResource(**{**config, **overrides})

    def settings(self, **overrides: Any) -> SmtpSettings:
        return self.resource(**overrides).settings()


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_LOGIN[0].encode(),
        SMTP_LOGIN[1].encode(),
    )
    if ok:
        return AuthResult(success=True)
    # without a message aiosmtpd 1.4 sends no reply at all to a refused login
    return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """An SMTP server on a free port of 127.0.0.1, keeping every message it accepts."""
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh SMTP server per test."""
    with running_smtp() as server:
        yield server


# --- S3 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One moto S3 server for the session; each test makes its own bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the session's S3 server."""
    name = f"exports-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_client(endpoint: str) -> Any:
    return S3Settings(endpoint_url=endpoint, **ACCESS).client()
