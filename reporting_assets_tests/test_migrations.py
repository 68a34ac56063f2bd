"""The migration runner against the real PostgreSQL of the test session."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting_assets.db.connection import connect
from reporting_assets.db.migrations import SQL_DIR, discover, migrate
from reporting_assets.errors import MigrationError

TMP_VERSIONS = ("901", "902", "903")
TMP_TABLES = ("tmp_migration_test_a", "tmp_migration_test_b", "tmp_migration_test_c")
TABLE_A = "CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id int);\n"
SET_CHECKSUM_001 = "UPDATE reporting.schema_migrations SET checksum = %s WHERE version = '001'"


def _cleanup(url: str) -> None:
    with connect(url) as conn:
        for table in TMP_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS reporting.{table}")
        conn.execute("DELETE FROM reporting.schema_migrations WHERE version = ANY(%s)", (list(TMP_VERSIONS),))


@pytest.fixture
def tmp_migrations(database_url: str, tmp_path: Path) -> Iterator[Path]:
    """An empty migration folder; test tables and version rows 901-903 are removed afterwards."""
    _cleanup(database_url)
    folder = tmp_path / "sql"
    folder.mkdir()
    yield folder
    _cleanup(database_url)


def _recorded(url: str) -> dict[str, dict]:
    with connect(url) as conn:
        rows = conn.execute("SELECT version, name, checksum FROM reporting.schema_migrations").fetchall()
    return {row["version"]: row for row in rows}


def _table_exists(url: str, table: str) -> bool:
    with connect(url) as conn:
        row = conn.execute("SELECT to_regclass(%s) AS oid", (f"reporting.{table}",)).fetchone()
    return row["oid"] is not None


def test_migrate_is_idempotent(database_url: str) -> None:
    assert migrate(database_url) == []  # the session fixture already migrated
    assert migrate(database_url) == []


def test_every_sql_file_is_recorded_with_its_checksum(database_url: str) -> None:
    files = sorted(SQL_DIR.glob("*.sql"))
    assert files, "the project ships at least one migration"
    recorded = _recorded(database_url)
    for path in files:
        version = path.name[:3]
        assert version in recorded, path.name
        assert recorded[version]["name"] == path.stem
        statements = b"".join(
            line
            for line in path.read_bytes().splitlines(keepends=True)
            if not line.lstrip().startswith(b"--")
        )
        assert recorded[version]["checksum"] == hashlib.sha256(statements).hexdigest()
    assert [m.name for m in discover()] == [p.stem for p in files]


def test_core_schema_exists(database_url: str) -> None:
    for table in (
        "customers",
        "pipeline_execution_reports",
        "workflow_executions",
        "workflow_execution_partitions",
        "report_lineage",
        "latest_pipeline_execution_reports",
    ):
        assert _table_exists(database_url, table), table


def test_new_migration_is_applied_once(database_url: str, tmp_migrations: Path) -> None:
    (tmp_migrations / "901_tmp_a.sql").write_text(
        "CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id int PRIMARY KEY);\n"
        "INSERT INTO reporting.tmp_migration_test_a VALUES (1);\n",
        encoding="utf-8",
    )
    (tmp_migrations / "902_tmp_b.sql").write_text(
        "CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_b (id int);\n", encoding="utf-8"
    )
    assert migrate(database_url, tmp_migrations) == ["901_tmp_a", "902_tmp_b"]
    assert migrate(database_url, tmp_migrations) == []
    assert _table_exists(database_url, "tmp_migration_test_a")
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) AS n FROM reporting.tmp_migration_test_a").fetchone()["n"] == 1
    recorded = _recorded(database_url)
    assert recorded["901"]["name"] == "901_tmp_a"
    assert recorded["902"]["name"] == "902_tmp_b"
    # a later file in the same folder is applied on the next run, the earlier ones are not re-run
    (tmp_migrations / "903_tmp_c.sql").write_text(
        "CREATE TABLE reporting.tmp_migration_test_c (id int);\n", encoding="utf-8"
    )
    assert migrate(database_url, tmp_migrations) == ["903_tmp_c"]


def test_editing_an_applied_migration_is_refused(database_url: str, tmp_migrations: Path) -> None:
    path = tmp_migrations / "901_tmp_a.sql"
    path.write_text("CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id int);\n", encoding="utf-8")
    assert migrate(database_url, tmp_migrations) == ["901_tmp_a"]
    checksum = _recorded(database_url)["901"]["checksum"]
    path.write_text(
        "CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id int, extra text);\n", encoding="utf-8"
    )
    with pytest.raises(MigrationError, match=r"901_tmp_a\.sql changed after it was applied"):
        migrate(database_url, tmp_migrations)
    assert _recorded(database_url)["901"]["checksum"] == checksum
    # the failed run left the runner usable: the project's own migrations still run
    assert migrate(database_url) == []


def test_failing_migration_is_rolled_back_and_not_recorded(database_url: str, tmp_migrations: Path) -> None:
    (tmp_migrations / "901_tmp_a.sql").write_text(
        "CREATE TABLE reporting.tmp_migration_test_a (id int);\nSELECT * FROM reporting.no_such_table;\n",
        encoding="utf-8",
    )
    with pytest.raises(MigrationError, match=r"901_tmp_a\.sql failed"):
        migrate(database_url, tmp_migrations)
    assert "901" not in _recorded(database_url)
    assert not _table_exists(database_url, "tmp_migration_test_a")


@pytest.mark.parametrize("name", ["1_short.sql", "901-dash.sql", "901_CamelCase.sql", "init.sql", "901_.sql"])
def test_badly_named_file_is_refused(database_url: str, tmp_migrations: Path, name: str) -> None:
    (tmp_migrations / "901_tmp_a.sql").write_text(
        "CREATE TABLE reporting.tmp_migration_test_a (id int);\n", encoding="utf-8"
    )
    (tmp_migrations / name).write_text("SELECT 1;\n", encoding="utf-8")
    with pytest.raises(MigrationError, match=r"must be named NNN_lower_snake\.sql") as info:
        migrate(database_url, tmp_migrations)
    assert name in str(info.value)
    # refused before anything ran
    assert "901" not in _recorded(database_url)
    assert not _table_exists(database_url, "tmp_migration_test_a")


def test_duplicate_versions_are_refused(tmp_migrations: Path) -> None:
    (tmp_migrations / "901_one.sql").write_text("SELECT 1;\n", encoding="utf-8")
    (tmp_migrations / "901_two.sql").write_text("SELECT 1;\n", encoding="utf-8")
    with pytest.raises(MigrationError, match="share a version number"):
        discover(tmp_migrations)


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="is missing"):
        discover(tmp_path / "nowhere")


def test_rewording_a_comment_of_an_applied_migration_is_accepted(
    database_url: str, tmp_migrations: Path
) -> None:
    path = tmp_migrations / "901_tmp_a.sql"
    path.write_text(
        "-- first wording\n" + TABLE_A,
        encoding="utf-8",
    )
    assert migrate(database_url, tmp_migrations) == ["901_tmp_a"]
    checksum = _recorded(database_url)["901"]["checksum"]
    path.write_text(
        "-- better wording,\n  -- on two lines\n" + TABLE_A,
        encoding="utf-8",
    )
    assert migrate(database_url, tmp_migrations) == []
    assert _recorded(database_url)["901"]["checksum"] == checksum


def test_a_whole_file_checksum_recorded_by_the_older_runner_is_still_accepted(
    database_url: str, tmp_migrations: Path
) -> None:
    """Databases migrated before comments stopped counting hold sha256 of the whole file."""
    path = tmp_migrations / "901_tmp_a.sql"
    path.write_text(
        "-- a table\nCREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id int);\n", encoding="utf-8"
    )
    assert migrate(database_url, tmp_migrations) == ["901_tmp_a"]
    with connect(database_url) as conn:
        conn.execute(
            "UPDATE reporting.schema_migrations SET checksum = %s WHERE version = '901'",
            (hashlib.sha256(path.read_bytes()).hexdigest(),),
        )
    assert migrate(database_url, tmp_migrations) == []
    # the project's own migrations, recorded as the older runner did for the released files
    with connect(database_url) as conn:
        before = _recorded(database_url)["001"]["checksum"]
        conn.execute(SET_CHECKSUM_001, ("bc26f2e4853a2d27f0f29d4b983481d3d8de2c8eec708cb2efedee1d5850355e",))
    try:
        assert migrate(database_url) == []
    finally:
        with connect(database_url) as conn:
            conn.execute(
                "UPDATE reporting.schema_migrations SET checksum = %s WHERE version = '001'", (before,)
            )
    # a statement changed under an old whole-file checksum is still refused
    path.write_text(
        "CREATE TABLE IF NOT EXISTS reporting.tmp_migration_test_a (id bigint);\n", encoding="utf-8"
    )
    with pytest.raises(MigrationError, match=r"901_tmp_a\.sql changed after it was applied"):
        migrate(database_url, tmp_migrations)
