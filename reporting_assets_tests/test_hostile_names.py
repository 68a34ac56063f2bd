"""Names and numbers a hostile or clumsy user types, through the real CLI, the migration runner
and real Dagster runs: each gets a message naming what is wrong, and nothing stored changes."""

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.db.connection import connect
from reporting_assets.db.migrations import SQL_DIR, migrate
from reporting_assets.db.urls import with_database
from reporting_assets.errors import MigrationError
from reporting_assets.partitions import CUSTOMERS_PARTITIONS_NAME, customer_day_partitions
from reporting_assets.reporter import PipelineReporter, report_failures
from reporting_assets.sync.cli import main as sync_main
from reporting_assets_tests.helpers import QUIET, render, report_rows, run_cli
from reporting_assets_tests.support.sync import write_config

EVIL_NAME = "Evil\nCorp\x1b[2J\x1b[31mRED\x07"
DAY = "2025-06-17"
CASE_MIGRATION = "010_customers_case_insensitive"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, **(env or {})})


def _customer_rows(conn: psycopg.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT partition_key, display_name, created_at, updated_at FROM reporting.customers "
        "ORDER BY partition_key"
    ).fetchall()
    conn.commit()
    return rows


def _partitions(instance: dg.DagsterInstance) -> list[str]:
    return sorted(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME))


# --- customers add ----------------------------------------------------------------------------------


def test_cli_refuses_terminal_escapes_in_a_display_name(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    before = _customer_rows(conn)
    result = _cli("customers", "add", EVIL_NAME, "--key", "EVIL")
    assert result.returncode == 2
    assert result.stderr == (
        "error: The customer display name holds the control character U+000A (LINE FEED) at "
        "position 5; control characters (line breaks, tabs, escape sequences) are not allowed in "
        "names. Remove it and try again.\n"
    )
    assert result.stdout == ""
    assert _customer_rows(conn) == before
    assert _partitions(instance) == sorted(customers)
    listed = _cli("customers", "list")
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "EVIL" not in listed.stdout


@pytest.mark.parametrize("name", ["peloton", "Peloton"])
def test_cli_refuses_a_customer_that_differs_only_by_case(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], name: str
) -> None:
    before = _customer_rows(conn)
    result = _cli("customers", "add", name)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: Partition key '{name}' differs only by case from the registered customer 'PELOTON' "
        f"(partition key 'PELOTON'); partition keys are compared without case"
    )
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _customer_rows(conn) == before
    assert _partitions(instance) == sorted(customers)


def test_cli_renames_only_with_rename_and_says_so(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    before = _customer_rows(conn)
    refused = _cli("customers", "add", "Evil Rename", "--key", "PELOTON")
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: Partition key 'PELOTON' is already registered as 'PELOTON'; nothing was changed. To "
        "rename it to 'Evil Rename', run `reporting-assets customers add 'Evil Rename' --key 'PELOTON' "
        "--rename`.\n"
    )
    assert "Registered" not in refused.stdout
    assert _customer_rows(conn) == before

    renamed = _cli("customers", "add", "Evil Rename", "--key", "PELOTON", "--rename")
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout == "Partition key 'PELOTON' renamed from 'PELOTON' to 'Evil Rename'\n"
    again = _cli("customers", "add", "Evil Rename", "--key", "PELOTON")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "'Evil Rename' is already registered as partition key 'PELOTON'; nothing changed\n"

    after = _customer_rows(conn)
    assert [(r["partition_key"], r["display_name"]) for r in after] == [
        ("ACTIVELY BLACK", "ACTIVELY BLACK"),
        ("GREYSON", "GREYSON"),
        ("PELOTON", "Evil Rename"),
    ]
    assert after[0] == before[0] and after[1] == before[1]  # the others untouched
    assert after[2]["created_at"] == before[2]["created_at"]
    assert _partitions(instance) == sorted(customers)


def test_sync_suggests_the_key_whatever_its_case(
    customers: list[str], conn: psycopg.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = "SELECT count(*) AS n FROM reporting.sync_sessions"
    sessions = conn.execute(count).fetchone()["n"]
    conn.commit()
    assert sync_main(["sync", "--config", str(write_config(tmp_path)), "--customer", "greyson"]) == 2
    err = capsys.readouterr().err
    assert (
        "Customer 'greyson' is not registered; partition keys are case-sensitive. Did you mean 'GREYSON'?"
        in err
    )
    assert conn.execute(count).fetchone()["n"] == sessions
    conn.commit()


# --- migration 010 refuses existing clashes -----------------------------------------------------------


@pytest.fixture
def pre_010_database(pg_server_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated up to (not including) 010."""
    name = "reporting_pre_010_test"
    maintenance = with_database(pg_server_url, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    earlier = tmp_path / "sql"
    earlier.mkdir()
    for path in SQL_DIR.glob("*.sql"):
        if path.name < CASE_MIGRATION:
            shutil.copy(path, earlier)
    url = with_database(pg_server_url, name)
    migrate(url, earlier)
    yield url
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migration_lists_existing_clashes_and_changes_nothing(pre_010_database: str) -> None:
    url = pre_010_database
    with connect(url) as conn:
        conn.execute(
            "INSERT INTO reporting.customers (partition_key, display_name) VALUES "
            "('PELOTON', 'PELOTON'), ('peloton', 'Peloton Inc'), ('Peloton', 'peloton inc'), "
            "('EVIL', %s), ('GREYSON', 'GREYSON')",
            (EVIL_NAME,),
        )
        conn.commit()
        before = _customer_rows(conn)
    listing = (
        "  - display name with a control character: 'EVIL' (\"Evil\\nCorp\\u001b[2J\\u001b[31mRED\\u0007\")\n"
        "  - display names that differ only by case: "
        "'Peloton' (\"peloton inc\"), 'peloton' (\"Peloton Inc\")\n"
        "  - partition keys that differ only by case: 'PELOTON' (\"PELOTON\"), 'Peloton' (\"peloton inc\"), "
        "'peloton' (\"Peloton Inc\")\n"
    )
    with pytest.raises(
        MigrationError, match=rf"^{CASE_MIGRATION}\.sql failed: registered customers clash"
    ) as info:
        migrate(url)
    assert listing in str(info.value)

    result = _cli("db", "migrate", env={"REPORTING_DATABASE_URL": url})
    assert result.returncode == 2
    assert listing in result.stderr
    assert "HINT:  Give each customer its own display name" in result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr

    with connect(url) as conn:
        assert _customer_rows(conn) == before
        recorded = conn.execute("SELECT version FROM reporting.schema_migrations WHERE version = '010'")
        assert recorded.fetchall() == []
        # fixed as the hint says, the migration applies
        conn.execute("DELETE FROM reporting.customers WHERE partition_key IN ('peloton', 'Peloton')")
        conn.execute("UPDATE reporting.customers SET display_name = 'Evil Corp' WHERE partition_key = 'EVIL'")
        conn.commit()
    assert CASE_MIGRATION in migrate(url)
    with connect(url) as conn:
        assert [(r["partition_key"], r["display_name"]) for r in _customer_rows(conn)] == [
            ("EVIL", "Evil Corp"),
            ("GREYSON", "GREYSON"),
            ("PELOTON", "PELOTON"),
        ]


# --- non-finite metrics through real runs -----------------------------------------------------------------


def test_a_nan_metric_fails_the_run_naming_it_and_stores_plain_json(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{DAY}"

    @dg.asset(name="order_sync", partitions_def=customer_day_partitions)
    def order_sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        reporter = PipelineReporter(
            "PELOTON", "order_sync", context.run.run_id, execution_date=dt.date.fromisoformat(DAY)
        )
        with report_failures(context, reporter):
            reporter.log_metric("records_processed", 10)
            reporter.log_metric("conversion_rate", float("nan"))
            return reporter.materialize_result()

    run = dg.materialize(
        [order_sync], instance=instance, partition_key=key, run_config=QUIET, raise_on_error=False
    )
    assert not run.success
    (observation,) = [
        entry.asset_observation for entry in instance.all_logs(run.run_id) if entry.asset_observation
    ]
    contract = observation.metadata[RUN_REPORT_METADATA_KEY].value
    json.dumps(contract, allow_nan=False)  # nothing non-finite reached the event log
    assert contract["counts"]["records_processed"] == 10
    assert contract["metrics"]["custom"] == {}
    (error,) = contract["errors"]
    assert "metric 'conversion_rate' must be a finite number, got nan" in error

    render(instance, key)
    (row,) = report_rows(conn, [key])
    assert row["status"] == "failed"
    assert row["contract_json"]["errors"] == [error]
    assert "metric 'conversion\\_rate' must be a finite number, got nan" in row["markdown_content"]
    assert "nan" not in json.dumps(row["metrics_json"]).lower()


def test_a_nan_contract_from_another_producer_still_gets_an_error_report(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"GREYSON|{DAY}"
    contract = (
        PipelineReporter("GREYSON", "order_sync", execution_date=dt.date.fromisoformat(DAY))
        .build()
        .model_dump(mode="json")
    )
    contract["metrics"]["custom"]["conversion_rate"] = float("nan")
    contract["metrics"]["previous"]["conversion_rate"] = float("inf")

    @dg.asset(name="order_sync", partitions_def=customer_day_partitions)
    def order_sync() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={RUN_REPORT_METADATA_KEY: dg.MetadataValue.json(contract)})

    run = dg.materialize([order_sync], instance=instance, partition_key=key, run_config=QUIET)
    render(instance, key)
    (row,) = report_rows(conn, [key])
    assert row["status"] == "failed"
    (error,) = row["contract_json"]["errors"]
    assert run.run_id in error
    assert "field 'metrics.custom.conversion_rate': Input should be a finite number (got nan)" in error
    assert "field 'metrics.previous.conversion_rate': Input should be a finite number (got inf)" in error
    assert "+inf" not in row["markdown_content"] and "| nan" not in row["markdown_content"]
