"""No secret is ever printed: database passwords in every form psycopg accepts, the SMTP password
and the S3 secret key stay out of CLI output, error messages, reprs, Dagster's event log and
logs. A malformed database URL is refused with the accepted forms, never a traceback."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from reporting_assets.db.connection import Connection, connect
from reporting_assets.db.shell import psql_invocation
from reporting_assets.db.urls import to_psycopg2_url, with_database
from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.delivery.jobs import run_config_for
from reporting_assets.delivery.recipients import add_recipient
from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.errors import DatabaseUnavailableError, DatabaseUrlError
from reporting_assets.exports.s3 import S3Resource, S3Settings, upload_file
from reporting_assets.redaction import redact
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.helpers import run_cli
from reporting_assets_tests.support.delivery import YESTERDAY, insert_summary, ledger, send_run
from reporting_assets_tests.support.servers import free_port

SECRET = "S3cret"
URL_FORM = f"postgresql://u@127.0.0.1:1/db?password={SECRET}"
KEY_VALUE_FORM = f"host=127.0.0.1 port=1 dbname=db user=u password={SECRET}"
UNREACHABLE = {"url-query": URL_FORM, "key-value": KEY_VALUE_FORM}
BAD_URL_MESSAGE = "is not a PostgreSQL connection string"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, "REPORTING_DAGSTER_DATABASE_URL": "", **env})


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("postgresql://u:S3cret@db:5432/r", "postgresql://u:***@db:5432/r"),
        (URL_FORM, "postgresql://u@127.0.0.1:1/db?password=***"),
        (
            "postgres://u@h/db?sslmode=require&password=S3cret&x=1",
            "postgres://u@h/db?sslmode=require&password=***&x=1",
        ),
        (KEY_VALUE_FORM, "host=127.0.0.1 port=1 dbname=db user=u password=***"),
        ("host=h password = 'S3 c\\'ret' dbname=x", "host=h password = '***' dbname=x"),
        ("user=u password=S3cr\\ et dbname=x", "user=u password=*** dbname=x"),
        (
            'missing "=" after "postgresql+psycopg2://u:S3cret@h/d" in',
            'missing "=" after "postgresql+psycopg2://u:***@h/d" in',
        ),
        ("postgresql://u:S3/cret@h/db", "postgresql://u:***@h/db"),
        ("{'user': 'u', 'password': 'S3cret'}", "{'user': 'u', 'password': '***'}"),
        ("S3Settings(secret_access_key='S3cret')", "S3Settings(secret_access_key='***')"),
        ("postgresql://postgres:@/reporting?host=/tmp/pg", "postgresql://postgres:@/reporting?host=/tmp/pg"),
        ("postgresql://u@h/db?application_name=a@b", "postgresql://u@h/db?application_name=a@b"),
    ],
)
def test_redact_masks_every_form_psycopg_accepts(text: str, redacted: str) -> None:
    assert redact(text) == redacted
    assert redact(redacted) == redacted


def test_configured_secrets_are_masked_even_quoted_out_of_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "pg-S3cret")
    monkeypatch.setenv("REPORTING_DATABASE_URL", "postgresql://u:S3%zzcret@h/db")
    assert redact('invalid percent-encoded token: "S3%zzcret"; pg-S3cret') == (
        'invalid percent-encoded token: "***"; ***'
    )
    error = DatabaseUnavailableError("driver said: pg-S3cret")
    assert str(error) == "driver said: ***" and "pg-S3cret" not in repr(error)


def test_key_value_conninfo_serves_dagster_storage_and_other_databases() -> None:
    assert with_database(KEY_VALUE_FORM, "dagster") == (
        "user=u password=S3cret dbname=dagster host=127.0.0.1 port=1"
    )
    assert to_psycopg2_url(KEY_VALUE_FORM) == "postgresql+psycopg2://u:S3cret@127.0.0.1:1/db"
    assert to_psycopg2_url("host=/tmp/pg dbname=dagster user=postgres") == (
        "postgresql+psycopg2://postgres@/dagster?host=%2Ftmp%2Fpg"
    )


@pytest.mark.parametrize("form", UNREACHABLE.values(), ids=UNREACHABLE.keys())
@pytest.mark.integration
def test_cli_never_prints_the_database_password_and_says_what_to_do(form: str) -> None:
    url = _cli("db", "url", "--dagster", env={"REPORTING_DATABASE_URL": form, "PGPASSWORD": "pg-S3cret"})
    assert url.returncode == 0, url.stderr
    assert url.stdout.splitlines()[0] == form.replace(SECRET, "***")
    customers = _cli("customers", "list", env={"REPORTING_DATABASE_URL": form, "PGPASSWORD": "pg-S3cret"})
    assert customers.returncode == 2
    assert f"{form.replace(SECRET, '***')} is unavailable while applying migrations" in customers.stderr
    assert "start the server (or fix REPORTING_DATABASE_URL) and re-run" in customers.stderr
    for result in (url, customers):
        output = result.stdout + result.stderr
        assert SECRET not in output and "pg-S3cret" not in output
        assert "Traceback" not in output


@pytest.mark.integration
def test_show_password_is_the_one_way_to_see_it() -> None:
    shown = _cli("db", "url", "--show-password", env={"REPORTING_DATABASE_URL": URL_FORM})
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == URL_FORM


@pytest.mark.parametrize("form", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_failed_dagster_run_keeps_the_database_password_out_of_its_event_log_and_logs(
    form: str, session_instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    @dg.asset
    def customer_count(postgres: PostgresResource) -> dg.MaterializeResult:
        with postgres.connection(doing="counting customers") as conn:
            conn.execute("SELECT count(*) FROM reporting.customers")
        return dg.MaterializeResult(metadata={"database": redact(postgres.url())})

    caplog.set_level(logging.DEBUG)
    result = dg.materialize(
        [customer_count],
        instance=session_instance,
        resources={"postgres": PostgresResource(database_url=form)},
        tags={"reporting/purpose": "secrets test"},
        raise_on_error=False,
    )
    assert not result.success
    records = session_instance.all_logs(result.run_id)
    event_log = "\n".join(serialize_value(record) for record in records)
    assert "is unavailable while applying migrations" in event_log
    assert form.replace(SECRET, "***").replace("'", "") in event_log.replace("\\u0027", "").replace("'", "")
    run = session_instance.get_run_by_id(result.run_id)
    assert run is not None
    tags = serialize_value(dict(run.tags))
    compute_logs = "".join(
        path.read_text(errors="replace")
        for path in Path(session_instance.root_directory).rglob("*")
        if path.is_file() and path.suffix in (".out", ".err", ".log", ".complete")
    )
    assert SECRET not in event_log + tags + compute_logs + caplog.text


@pytest.mark.parametrize("bad", ["not a url", "postgresql+psycopg2://u:S3cret@h/db", "host=h port=abc"])
@pytest.mark.integration
def test_a_malformed_database_url_is_refused_with_the_accepted_forms(bad: str) -> None:
    result = _cli("customers", "list", env={"REPORTING_DATABASE_URL": bad})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: REPORTING_DATABASE_URL={redact(bad)!r} {BAD_URL_MESSAGE}")
    assert "postgresql://report_user@db.example.com:5432/reporting" in result.stderr
    assert "'host=db.example.com port=5432 dbname=reporting user=report_user'" in result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr


def test_connect_refuses_a_malformed_url_before_psycopg_does() -> None:
    expected = re.escape(f"the database URL='not a url' {BAD_URL_MESSAGE}")
    with pytest.raises(DatabaseUrlError, match=expected), connect("not a url"):
        pass


def test_a_malformed_url_fails_a_dagster_run_naming_the_setting_or_variable(
    session_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    @dg.asset
    def probe(postgres: PostgresResource) -> None:
        with postgres.connection(doing="probing"):
            pass

    def failure(resource: PostgresResource) -> str:
        result = dg.materialize(
            [probe], instance=session_instance, resources={"postgres": resource}, raise_on_error=False
        )
        assert not result.success
        return "\n".join(serialize_value(record) for record in session_instance.all_logs(result.run_id))

    assert f"PostgresResource.database_url='not a url' {BAD_URL_MESSAGE}" in failure(
        PostgresResource(database_url="not a url")
    )
    monkeypatch.setenv("REPORTING_DATABASE_URL", "not a url")
    assert f"REPORTING_DATABASE_URL='not a url' {BAD_URL_MESSAGE}" in failure(PostgresResource())


def test_resource_reprs_hide_passwords_and_keys() -> None:
    postgres = PostgresResource(database_url=f"postgresql://u:{SECRET}@h/db")
    assert repr(postgres) == "PostgresResource(database_url='postgresql://u:***@h/db', apply_migrations=True)"
    smtp = SmtpResource(username="reporter", password="smtp-S3cret")
    s3 = S3Resource(access_key_id="AKIDEXAMPLE", secret_access_key="s3-S3cret")
    shown = " ".join([repr(smtp), str(smtp), repr(smtp.settings()), repr(s3), str(s3), repr(s3.settings())])
    assert "reporter" in shown and "AKIDEXAMPLE" in shown
    assert SECRET not in shown


def test_psql_gets_the_password_through_the_environment_not_argv() -> None:
    argv, env = psql_invocation(URL_FORM, ["-c", "select 1"])
    assert SECRET not in " ".join(argv)
    assert argv[1:] == ["user=u dbname=db host=127.0.0.1 port=1", "-c", "select 1"]
    assert env["PGPASSWORD"] == SECRET


def test_a_failed_email_delivery_keeps_the_smtp_password_out_of_ledger_event_log_and_logs(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY)
    down = free_port()
    smtp = SmtpResource(
        host="127.0.0.1", port=down, username="reporter", password="smtp-S3cret", max_attempts=1
    )
    caplog.set_level(logging.DEBUG)
    run = send_run(instance, database_url, smtp, run_config_for("PELOTON", YESTERDAY, content_hash))
    assert not run.success
    [row] = ledger(conn, f"daily_summary:PELOTON|{YESTERDAY.isoformat()}").values()
    assert row.status == "failed"
    assert f"cannot connect to SMTP server 127.0.0.1:{down}" in (row.last_error or "")
    event_log = "\n".join(serialize_value(record) for record in instance.all_logs(run.run_id))
    assert f"127.0.0.1:{down}" in event_log
    assert "smtp-S3cret" not in (row.last_error or "") + event_log + caplog.text


@pytest.mark.integration
def test_a_failed_s3_upload_keeps_the_secret_key_out_of_the_message_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = free_port()
    settings = S3Settings(
        endpoint_url=f"http://127.0.0.1:{down}",
        bucket="exports",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="s3-S3cret",
        connect_timeout_seconds=1,
        max_attempts=1,
    )
    export = tmp_path / "export.csv"
    export.write_text("a,b\n1,2\n")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(
        DeliveryAttemptError, match=f"cannot reach S3 endpoint http://127.0.0.1:{down}"
    ) as error:
        upload_file(
            settings.client(),
            settings,
            export,
            "exports",
            "k/export.csv",
            content_type="text/csv",
            metadata={},
        )
    assert "s3-S3cret" not in str(error.value) + repr(settings) + caplog.text
