"""SMTP, S3 and export settings: one parser per integration, the same message everywhere.

Each bad value goes through every entry point that reads it: the real ``reporting-assets
exports run`` subprocess (the command that sends and uploads), loading the code location's
definitions, building the resource from the environment, and a Dagster run configured in the
launchpad. Every one must say the same thing: the variable, the value and what it may be.
Real PostgreSQL and real in-process Dagster runs; no mocks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from reporting_assets import definitions
from reporting_assets.db.connection import connect
from reporting_assets.delivery.resources import smtp_resource_from_env
from reporting_assets.delivery.smtp import SmtpResource, SmtpSettings, smtp_settings_from_env
from reporting_assets.env_settings import flag, port, seconds
from reporting_assets.errors import SettingsError
from reporting_assets.exports import cli as exports_cli
from reporting_assets.exports import engine
from reporting_assets.exports.models import Actor
from reporting_assets.exports.s3 import S3Resource, S3Settings, s3_resource_from_env, s3_settings_from_env
from reporting_assets.exports.settings import (
    ExportSettings,
    ExportSettingsResource,
    export_settings_from_env,
    export_settings_resource_from_env,
)
from reporting_assets.redaction import redact
from reporting_assets_tests.helpers import REPO_ROOT

PREFIXES = ("REPORTING_SMTP_", "REPORTING_S3_", "REPORTING_EXPORTS_")
ADMIN = Actor("settings-co", "admin@settings.example", "admin")
AS_ADMIN = ["--tenant", ADMIN.tenant_id, "--user", ADMIN.user_id, "--role", "admin"]
FLAG_ALLOWED = "use true/false, 1/0, yes/no or on/off (any case)."
PORT_ALLOWED = "use a whole number from 1 to 65535."
URL_ALLOWED = (
    "use an http:// or https:// URL with a host and an optional port from 1 to 65535, e.g. http://minio:9000."
)

SMTP_CASES = {
    "starttls-maybe": (
        {"REPORTING_SMTP_STARTTLS": "maybe"},
        f"REPORTING_SMTP_STARTTLS='maybe' is not a yes/no value; {FLAG_ALLOWED}",
    ),
    "port-abc": (
        {"REPORTING_SMTP_PORT": "abc"},
        f"REPORTING_SMTP_PORT='abc' is not a whole number; {PORT_ALLOWED}",
    ),
    "port-70000": (
        {"REPORTING_SMTP_PORT": "70000"},
        f"REPORTING_SMTP_PORT='70000' is out of range; {PORT_ALLOWED}",
    ),
    "password-empty": (
        {"REPORTING_SMTP_USERNAME": "reporter", "REPORTING_SMTP_PASSWORD": ""},
        "REPORTING_SMTP_USERNAME is set but REPORTING_SMTP_PASSWORD is empty; set both to log in, "
        "or neither to send without login.",
    ),
    "timeout-zero": (
        {"REPORTING_SMTP_TIMEOUT_SECONDS": "0"},
        "REPORTING_SMTP_TIMEOUT_SECONDS='0' is out of range; use a number of seconds greater than 0 "
        "and at most 600, e.g. 10 or 2.5.",
    ),
    "timeout-ten-s": (
        {"REPORTING_SMTP_TIMEOUT_SECONDS": "10s"},
        "REPORTING_SMTP_TIMEOUT_SECONDS='10s' is not a number; use a number of seconds greater than 0 "
        "and at most 600, e.g. 10 or 2.5.",
    ),
}
S3_CASES = {
    "endpoint-port-abc": (
        {"REPORTING_S3_ENDPOINT_URL": "http://127.0.0.1:abc"},
        f"REPORTING_S3_ENDPOINT_URL='http://127.0.0.1:abc' is not a usable URL; {URL_ALLOWED}",
    ),
    "endpoint-port-70000": (
        {"REPORTING_S3_ENDPOINT_URL": "http://127.0.0.1:70000"},
        f"REPORTING_S3_ENDPOINT_URL='http://127.0.0.1:70000' is not a usable URL; {URL_ALLOWED}",
    ),
    "access-key-empty": (
        {"REPORTING_S3_SECRET_ACCESS_KEY": "s3-S3cret-value", "REPORTING_S3_ACCESS_KEY_ID": " "},
        "REPORTING_S3_SECRET_ACCESS_KEY is set but REPORTING_S3_ACCESS_KEY_ID is empty; set both, or "
        "neither to use boto3's own credentials (AWS_* variables, instance roles).",
    ),
    "timeout-negative": (
        {"REPORTING_S3_CONNECT_TIMEOUT_SECONDS": "-1"},
        "REPORTING_S3_CONNECT_TIMEOUT_SECONDS='-1' is out of range; use a number of seconds greater "
        "than 0 and at most 300, e.g. 10 or 2.5.",
    ),
    "addressing-style": (
        {"REPORTING_S3_ADDRESSING_STYLE": "diagonal"},
        "REPORTING_S3_ADDRESSING_STYLE='diagonal' is not a known value; use one of auto, path, virtual.",
    ),
    "presign-expiry": (
        {"REPORTING_S3_PRESIGN_EXPIRY_SECONDS": "1w"},
        "REPORTING_S3_PRESIGN_EXPIRY_SECONDS='1w' is not a whole number; use a whole number from 60 "
        "to 604800.",
    ),
}
EXPORT_CASES = {
    "row-limit-abc": (
        {"REPORTING_EXPORTS_MAX_ROW_LIMIT": "abc"},
        "REPORTING_EXPORTS_MAX_ROW_LIMIT='abc' is not a whole number; use a whole number from 1 to 10000000.",
    ),
    "row-limit-above-the-database-check": (
        {"REPORTING_EXPORTS_MAX_ROW_LIMIT": "20000000"},
        "REPORTING_EXPORTS_MAX_ROW_LIMIT='20000000' is out of range; use a whole number from 1 to 10000000.",
    ),
    "retention-zero": (
        {"REPORTING_EXPORTS_RETENTION_DAYS": "0"},
        "REPORTING_EXPORTS_RETENTION_DAYS='0' is out of range; use a whole number from 1 to 3650.",
    ),
    "timeout-fraction": (
        {"REPORTING_EXPORTS_STATEMENT_TIMEOUT_SECONDS": "1.5"},
        "REPORTING_EXPORTS_STATEMENT_TIMEOUT_SECONDS='1.5' is not a whole number; use a whole number "
        "from 1 to 86400.",
    ),
}
BAD = {
    **{f"smtp-{k}": (smtp_settings_from_env, smtp_resource_from_env, *v) for k, v in SMTP_CASES.items()},
    **{f"s3-{k}": (s3_settings_from_env, s3_resource_from_env, *v) for k, v in S3_CASES.items()},
    **{
        f"exports-{k}": (export_settings_from_env, export_settings_resource_from_env, *v)
        for k, v in EXPORT_CASES.items()
    },
}
CLI_CASES = [
    "smtp-starttls-maybe",
    "smtp-port-abc",
    "smtp-port-70000",
    "smtp-password-empty",
    "smtp-timeout-zero",
    "s3-endpoint-port-abc",
    "s3-endpoint-port-70000",
    "s3-access-key-empty",
    "s3-timeout-negative",
    "exports-row-limit-abc",
    "exports-timeout-fraction",
]
GOOD_ENV = {
    "REPORTING_SMTP_HOST": "smtp.example.com",
    "REPORTING_SMTP_PORT": " 587 ",
    "REPORTING_SMTP_STARTTLS": "Yes",
    "REPORTING_SMTP_USERNAME": "reporter",
    "REPORTING_SMTP_PASSWORD": "smtp-Settings-s3cret",
    "REPORTING_SMTP_SENDER": "Reporting <reports@example.com>",
    "REPORTING_SMTP_TIMEOUT_SECONDS": "2.5",
    "REPORTING_SMTP_MAX_ATTEMPTS": "5",
    "REPORTING_SMTP_BACKOFF_SECONDS": "0",
    "REPORTING_S3_ENDPOINT_URL": "http://minio.example:9000",
    "REPORTING_S3_REGION_NAME": "eu-west-1",
    "REPORTING_S3_BUCKET": "reports-bucket",
    "REPORTING_S3_PREFIX": "nightly/",
    "REPORTING_S3_ACCESS_KEY_ID": "AKIDSETTINGS",
    "REPORTING_S3_SECRET_ACCESS_KEY": "s3-Settings-s3cret",
    "REPORTING_S3_ADDRESSING_STYLE": "PATH",
    "REPORTING_S3_PRESIGN_EXPIRY_SECONDS": "3600",
    "REPORTING_S3_CONNECT_TIMEOUT_SECONDS": "4.5",
    "REPORTING_S3_MAX_ATTEMPTS": "2",
    "REPORTING_EXPORTS_MAX_ROW_LIMIT": "5000",
    "REPORTING_EXPORTS_RETENTION_DAYS": "30",
    "REPORTING_EXPORTS_STATEMENT_TIMEOUT_SECONDS": "90",
}


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Callable[[Mapping[str, str]], None]:
    """Set exactly these integration variables in this process (the others unset)."""
    for key in list(os.environ):
        if key.startswith(PREFIXES):
            monkeypatch.delenv(key)

    def apply(values: Mapping[str, str]) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return apply


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every error a failed run recorded in its event log, as the UI shows them."""
    texts = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            texts.append(error.to_string())
    return "\n".join(texts)


@dg.asset
def settings_probe(
    smtp: SmtpResource, s3: S3Resource, exports: ExportSettingsResource
) -> tuple[SmtpSettings, S3Settings, ExportSettings]:
    """What the resources hold inside a run (EnvVars resolved)."""
    return smtp.settings(), s3.settings(), exports.settings()


def _probe(resources: Mapping[str, Any], run_config: Mapping[str, Any] | None = None) -> Any:
    return dg.materialize_to_memory(
        [settings_probe], resources=dict(resources), run_config=dict(run_config or {}), raise_on_error=False
    )


# --- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [(w, True) for w in ("true", "TRUE", "1", "yes", "Yes", "on", " ON ")]
    + [(w, False) for w in ("false", "False", "0", "no", "NO", "off", "Off")],
)
def test_booleans_take_the_four_pairs_in_any_case(text: str, expected: bool) -> None:
    assert flag("REPORTING_SMTP_STARTTLS", text) is expected


@pytest.mark.parametrize("text", ["maybe", "y", "2", "enabled", "tru"])
def test_any_other_boolean_word_is_refused_with_the_allowed_words(text: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"REPORTING_SMTP_STARTTLS={text!r} is not a yes/no")):
        flag("REPORTING_SMTP_STARTTLS", text)


def test_ports_and_timeouts_have_bounds() -> None:
    assert (port("P", "1"), port("P", "65535")) == (1, 65535)
    with pytest.raises(SettingsError, match=re.escape("P='0' is out of range; use a whole number from 1")):
        port("P", "0")
    with pytest.raises(SettingsError, match=re.escape("T='inf' is out of range")):
        seconds("T", "inf", 600)
    with pytest.raises(SettingsError, match=re.escape("T='nan' is out of range")):
        seconds("T", "nan", 600)
    assert seconds("T", "0", 300, zero=True) == 0.0


def test_empty_variables_keep_the_defaults() -> None:
    blank = {name: "  " for name in GOOD_ENV}
    assert smtp_settings_from_env(blank) == SmtpSettings()
    assert s3_settings_from_env(blank) == S3Settings()
    assert export_settings_from_env(blank) == export_settings_from_env({})
    assert smtp_resource_from_env(blank).settings() == SmtpSettings()


# --- every bad value, through every entry point -------------------------------------------------


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_variable_fails_the_reader_the_resource_and_the_code_location_alike(
    case: str, environ: Callable[[Mapping[str, str]], None]
) -> None:
    from_env, resource_from_env, env, message = BAD[case]
    with pytest.raises(SettingsError, match=f"^{re.escape(message)}$"):
        from_env(env)
    with pytest.raises(SettingsError, match=f"^{re.escape(message)}$"):
        resource_from_env(env)
    environ(env)
    with pytest.raises(SettingsError, match=f"^{re.escape(message)}$"):
        definitions.defs()
    assert "s3-S3cret-value" not in message


@pytest.mark.parametrize("case", ["smtp-port-abc", "s3-endpoint-port-70000", "exports-retention-zero"])
@pytest.mark.integration
def test_the_code_location_refuses_to_load_with_the_same_message(case: str, tmp_path: Path) -> None:
    """What a deployment sees: ``dagster definitions validate`` (as ``dagster dev`` or a code
    server loads the code location) fails, naming the variable and its allowed values."""
    _from_env, _resource, env, message = BAD[case]
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "reporting_assets.definitions"],
        capture_output=True,
        text=True,
        env={**_clean_environ(), **env, "DAGSTER_HOME": str(tmp_path)},
        cwd=REPO_ROOT,
        timeout=180,
        check=False,
    )
    assert result.returncode == 1
    assert f"reporting_assets.errors.SettingsError: {message}\n" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def schedule_id(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An email schedule of a saved report, for ``exports run``."""
    settings = ExportSettings(storage_dir=tmp_path_factory.mktemp("exports"))
    with connect(database_url) as conn:
        report = engine.create_report(
            conn,
            ADMIN,
            {
                "name": "Settings check",
                "query_config": {"table": "usage_events", "fields": ["event_type"]},
            },
            settings,
        )
        schedule = engine.create_schedule(
            conn,
            ADMIN,
            report.id,
            {
                "name": "Weekly",
                "cron_expression": "0 9 * * 1",
                "format": "csv",
                "delivery_method": "both",
                "recipients": ["ops@settings.example"],
                "s3_config": {"bucket": "settings-bucket"},
            },
        )
    yield schedule.id
    with connect(database_url) as conn:
        engine.delete_report(conn, ADMIN, report.id)


def _stored(database_url: str) -> list[tuple[Any, ...]]:
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT 'export', id::text, status FROM reporting.exports WHERE tenant_id = %s "
            "UNION ALL SELECT 'schedule', id::text, next_run_at::text FROM reporting.schedules "
            "WHERE tenant_id = %s ORDER BY 1, 2",
            (ADMIN.tenant_id, ADMIN.tenant_id),
        ).fetchall()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_cli_that_sends_refuses_a_bad_variable_in_one_line_and_stores_nothing(
    case: str, schedule_id: str, database_url: str
) -> None:
    _from_env, _resource, env, message = BAD[case]
    before = _stored(database_url)
    result = subprocess.run(
        [sys.executable, "-m", "reporting_assets.cli", "exports", "run", schedule_id, *AS_ADMIN],
        capture_output=True,
        text=True,
        env={**_clean_environ(), **env},
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"error: {message}\n")
    assert _stored(database_url) == before  # no export left pending for the sensor to pick up


# --- the resource's own validators: a launchpad value, a variable changed before the run ---------


@pytest.mark.parametrize(
    ("key", "config", "message"),
    [
        ("smtp", {"port": 70000}, SMTP_CASES["port-70000"][1]),
        ("smtp", {"timeout_seconds": 0}, SMTP_CASES["timeout-zero"][1]),
        ("smtp", {"username": "reporter"}, SMTP_CASES["password-empty"][1]),
        ("s3", {"endpoint_url": "http://127.0.0.1:70000"}, S3_CASES["endpoint-port-70000"][1]),
        ("s3", {"connect_timeout_seconds": -1}, S3_CASES["timeout-negative"][1]),
        ("exports", {"retention_days": 0}, EXPORT_CASES["retention-zero"][1]),
    ],
)
@pytest.mark.integration
def test_a_bad_launchpad_value_fails_the_run_with_the_same_message(
    key: str, config: dict[str, Any], message: str, environ: Callable[[Mapping[str, str]], None]
) -> None:
    resources = {"smtp": SmtpResource(), "s3": S3Resource(), "exports": ExportSettingsResource()}
    result = _probe(resources, {"resources": {key: {"config": config}}})
    assert not result.success
    assert f"SettingsError: {message}" in _failure_text(result)


@pytest.mark.integration
def test_a_variable_changed_between_loading_and_the_run_fails_the_run_with_the_same_message(
    environ: Callable[[Mapping[str, str]], None],
) -> None:
    environ({"REPORTING_SMTP_PORT": "2525"})
    resources = {"smtp": smtp_resource_from_env(), "s3": S3Resource(), "exports": ExportSettingsResource()}
    environ({"REPORTING_SMTP_PORT": "70000"})
    result = _probe(resources)
    assert not result.success
    assert f"SettingsError: {SMTP_CASES['port-70000'][1]}" in _failure_text(result)


# --- good values: the CLI and the code location read them identically ---------------------------


@pytest.mark.integration
def test_the_cli_and_the_code_locations_resources_read_good_values_identically(
    environ: Callable[[Mapping[str, str]], None], tmp_path: Path
) -> None:
    environ({**GOOD_ENV, "REPORTING_EXPORTS_DIR": str(tmp_path / "files")})
    cli_read = (
        exports_cli.smtp_settings_from_env(),
        exports_cli.s3_settings_from_env(),
        export_settings_from_env(),
    )
    resources = definitions.defs().resources or {}
    for key, variable in (("smtp", "REPORTING_SMTP_PASSWORD"), ("s3", "REPORTING_S3_SECRET_ACCESS_KEY")):
        assert GOOD_ENV[variable] not in repr(resources[key])  # the UI and logs see the name only
    result = _probe({key: resources[key] for key in ("smtp", "s3", "exports")})
    assert result.success
    assert result.output_for_node("settings_probe") == cli_read

    smtp, s3, exports = cli_read
    assert (smtp.port, smtp.starttls, smtp.timeout_seconds, smtp.backoff_base_seconds) == (
        587,
        True,
        2.5,
        0.0,
    )
    assert (s3.addressing_style, s3.connect_timeout_seconds, s3.max_attempts) == ("path", 4.5, 2)
    assert (exports.max_row_limit, exports.retention.days, exports.statement_timeout_ms) == (5000, 30, 90_000)
    assert exports.storage_dir == tmp_path / "files"


def test_a_password_read_from_settings_is_masked_wherever_it_appears_later() -> None:
    smtp_settings_from_env({"REPORTING_SMTP_USERNAME": "u", "REPORTING_SMTP_PASSWORD": "mapping-only-pw1"})
    s3_settings_from_env(
        {"REPORTING_S3_ACCESS_KEY_ID": "AKID", "REPORTING_S3_SECRET_ACCESS_KEY": "mapping-only-k2"}
    )
    assert redact("535 mapping-only-pw1 refused; mapping-only-k2") == "535 *** refused; ***"
