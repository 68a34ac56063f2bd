"""Sending email over SMTP: a configurable Dagster resource and plain functions (smtplib).

``send_message`` makes one SMTP transaction (connect, optional STARTTLS and login, send,
quit) and returns the message's ``Message-ID``; ``send_with_retries`` retries transient
failures (connection refused, timeouts, 4xx replies) with exponential backoff and gives up at
once on permanent ones (5xx replies: a rejected mailbox, failed authentication). Errors name the
server and the SMTP reply, never the password.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import dagster as dg
from pydantic import Field, ValidationInfo, field_validator, model_validator

from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.env_settings import Environment, flag, is_env_var, port, seconds, whole
from reporting_assets.errors import SettingsError
from reporting_assets.redaction import register_secret

ENV_PREFIX = "REPORTING_SMTP_"
MAX_BACKOFF_SECONDS = 300.0
MAX_TIMEOUT_SECONDS = 600.0
MAX_ATTEMPTS = 20

SMTP_VARIABLES: dict[str, str] = {
    "host": f"{ENV_PREFIX}HOST",
    "port": f"{ENV_PREFIX}PORT",
    "starttls": f"{ENV_PREFIX}STARTTLS",
    "username": f"{ENV_PREFIX}USERNAME",
    "password": f"{ENV_PREFIX}PASSWORD",
    "sender": f"{ENV_PREFIX}SENDER",
    "timeout_seconds": f"{ENV_PREFIX}TIMEOUT_SECONDS",
    "max_attempts": f"{ENV_PREFIX}MAX_ATTEMPTS",
    "backoff_base_seconds": f"{ENV_PREFIX}BACKOFF_SECONDS",
}
"""Setting (SmtpSettings / SmtpResource field) -> the variable it is read from."""

_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "port": port,
    "starttls": flag,
    "timeout_seconds": lambda name, value: seconds(name, value, MAX_TIMEOUT_SECONDS),
    "max_attempts": lambda name, value: whole(name, value, 1, MAX_ATTEMPTS),
    "backoff_base_seconds": lambda name, value: seconds(name, value, MAX_BACKOFF_SECONDS, zero=True),
}
_LOGIN_PAIR = "set both to log in, or neither to send without login."


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send (a plain value; the password never appears in its repr)."""

    host: str = "localhost"
    port: int = 1025
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "reports@localhost"
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_base_seconds: float = 2.0

    def __post_init__(self) -> None:
        register_secret(self.password)  # masked in every error message, even quoted by a server

    @property
    def server(self) -> str:
        """``host:port`` (what error messages name)."""
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        """The connection as a safe one-liner for logs: ``smtp://user@host:port (STARTTLS)``."""
        user = f"{self.username}@" if self.username else ""
        tls = " (STARTTLS)" if self.starttls else ""
        return f"smtp://{user}{self.server}{tls}"

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait after the ``failed_attempt``-th try: base, 2 x base, 4 x base, ..."""
        return min(self.backoff_base_seconds * 2 ** (failed_attempt - 1), MAX_BACKOFF_SECONDS)


def smtp_settings_from_env(environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """SmtpSettings from the ``REPORTING_SMTP_*`` variables that are set (defaults otherwise).

    The one place these variables are parsed: the CLI uses the result, and the code location's
    SmtpResource is built after this check. Raises :class:`SettingsError` naming the variable and
    the values it may take.
    """
    env = Environment(environ)
    env.require_together(SMTP_VARIABLES["username"], SMTP_VARIABLES["password"], _LOGIN_PAIR)
    values: dict[str, Any] = {}
    for name, variable in SMTP_VARIABLES.items():
        text = env.get(variable)
        if text is not None:
            parse = _PARSERS.get(name)
            values[name] = parse(variable, text) if parse else text
    return SmtpSettings(**values)


class SmtpResource(dg.ConfigurableResource):
    """The SMTP server deliveries go through. Configure with ``dg.EnvVar`` (docs/delivery.md
    lists ``REPORTING_SMTP_*``); the defaults reach a local test server on localhost:1025."""

    host: str = Field(default="localhost", description="SMTP server host name.")
    port: int = Field(
        default=1025, description="SMTP server port, 1-65535 (25, 587 with STARTTLS, 1025 locally)."
    )
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before login.")
    username: str | None = Field(default=None, description="Login user; empty = no authentication.")
    password: str | None = Field(
        default=None, repr=False, description="Login password; set it with an EnvVar, it is never logged."
    )
    sender: str = Field(
        default="reports@localhost",
        description="From address, e.g. 'Reporting <reports@example.com>'.",
    )
    timeout_seconds: float = Field(
        default=10.0, description="Socket timeout per SMTP operation, above 0 and at most 600 seconds."
    )
    max_attempts: int = Field(default=3, description="Tries per message within a run, 1-20.")
    backoff_base_seconds: float = Field(
        default=2.0, description="Wait after the first failed try, 0-300 seconds; doubles after each one."
    )

    @field_validator(*_PARSERS, mode="before")
    @classmethod
    def _check_value(cls, value: object, info: ValidationInfo) -> object:
        """The rules ``smtp_settings_from_env`` applies, so a launchpad value gets its message."""
        if is_env_var(value):
            return value
        name = str(info.field_name)
        return _PARSERS[name](SMTP_VARIABLES[name], value)

    @model_validator(mode="after")
    def _check_login(self) -> SmtpResource:
        user, password = SMTP_VARIABLES["username"], SMTP_VARIABLES["password"]
        if self.username and not self.password:
            raise SettingsError(f"{user} is set but {password} is empty; {_LOGIN_PAIR}")
        if self.password and not self.username:
            raise SettingsError(f"{password} is set but {user} is empty; {_LOGIN_PAIR}")
        return self

    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.host,
            port=self.port,
            starttls=self.starttls,
            username=self.username or None,
            password=self.password or None,
            sender=self.sender,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
        )


@dataclass(frozen=True)
class SendResult:
    message_id: str
    attempts: int


def sender_domain(sender: str) -> str:
    """The domain of the From address (for Message-IDs), ``localhost`` when it has none."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def prepare(settings: SmtpSettings, message: EmailMessage) -> str:
    """Fill From, Date and Message-ID when missing; return the Message-ID."""
    if message["From"] is None:
        message["From"] = settings.sender
    if message["Date"] is None:
        message["Date"] = formatdate(usegmt=True)
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=sender_domain(settings.sender))
    return str(message["Message-ID"])


def send_message(settings: SmtpSettings, message: EmailMessage) -> str:
    """Send ``message`` in one SMTP transaction to its To/Cc/Bcc addresses; return its Message-ID.

    Raises :class:`DeliveryAttemptError` (``permanent`` for 5xx replies) on any failure,
    including a server that accepts some recipients and refuses others.
    """
    message_id = prepare(settings, message)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise classify(exc, settings) from exc
    if refused:
        raise _refused(refused, settings)
    return message_id


def send_with_retries(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, DeliveryAttemptError, float], None] | None = None,
) -> SendResult:
    """Send with up to ``settings.max_attempts`` tries and exponential backoff between them.

    Permanent failures (5xx) are not retried within the run. The same Message-ID is used for
    every try. Raises :class:`DeliveryAttemptError` carrying the number of tries made.
    """
    prepare(settings, message)
    attempt = 0
    while True:
        attempt += 1
        try:
            return SendResult(send_message(settings, message), attempt)
        except DeliveryAttemptError as exc:
            if exc.permanent or attempt >= settings.max_attempts:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                kind = "permanent failure, not retried" if exc.permanent else f"gave up after {tries}"
                raise DeliveryAttemptError(
                    f"{exc} ({kind})", attempts=attempt, permanent=exc.permanent
                ) from exc
            delay = settings.backoff(attempt)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _refused(refused: dict[str, tuple[int, bytes]], settings: SmtpSettings) -> DeliveryAttemptError:
    detail = "; ".join(f"{rcpt}: {code} {_reply_text(reply)}" for rcpt, (code, reply) in refused.items())
    permanent = all(500 <= code < 600 for code, _ in refused.values())
    return DeliveryAttemptError(f"recipient refused by {settings.server}: {detail}", permanent=permanent)


def classify(exc: BaseException, settings: SmtpSettings) -> DeliveryAttemptError:
    """An smtplib/socket error as a one-line DeliveryAttemptError, transient or permanent."""
    where = settings.server
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused(exc.recipients, settings)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        what = {
            smtplib.SMTPAuthenticationError: f"login as {settings.username!r} refused",
            smtplib.SMTPSenderRefused: f"sender {settings.sender!r} refused",
            smtplib.SMTPDataError: "message refused",
            smtplib.SMTPConnectError: "connection refused by the server",
            smtplib.SMTPHeloError: "greeting refused",
        }.get(type(exc), "command refused")
        return DeliveryAttemptError(
            f"{what} by {where}: {code} {_reply_text(exc.smtp_error)}", permanent=500 <= code < 600
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryAttemptError(f"{where} does not support what was asked: {exc}", permanent=True)
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib reports a read timeout as SMTPServerDisconnected("... timed out")
        return DeliveryAttemptError(f"no answer from {where} within {settings.timeout_seconds:g}s (timeout)")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryAttemptError(f"{where} closed the connection: {exc}")
    if isinstance(exc, ConnectionRefusedError):
        return DeliveryAttemptError(
            f"cannot connect to SMTP server {where}: connection refused (is it running? "
            f"check {ENV_PREFIX}HOST / {ENV_PREFIX}PORT)"
        )
    if isinstance(exc, ssl.SSLError):
        return DeliveryAttemptError(f"TLS with {where} failed: {exc}", permanent=True)
    if isinstance(exc, OSError):
        return DeliveryAttemptError(f"network error talking to {where}: {exc}")
    return DeliveryAttemptError(f"SMTP error with {where}: {type(exc).__name__}: {exc}")
