"""The project as a package: package data, the project home, `dg`, and a wheel installed into a
fresh virtualenv that runs the demo and a `dagster asset materialize` from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import resources
from pathlib import Path

import pytest

from reporting_assets.db.migrations import discover
from reporting_assets.errors import ProjectHomeError
from reporting_assets.home import HOME_ENV, default_dagster_yaml, ensure_dagster_yaml, project_home
from reporting_assets.instance import write_dotenv
from reporting_assets_tests.helpers import REPO_ROOT

SHARED_SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
STATE_ENV = (
    HOME_ENV,
    "DAGSTER_HOME",
    "PYTHONPATH",
    "REPORTING_DATABASE_URL",
    "REPORTING_DAGSTER_DATABASE_URL",
    "REPORTING_DATA_DIR",
    "REPORTING_REPORTS_DIR",
    "REPORTING_SYNC_CONFIG",
)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a new user: none of the project's variables, no checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in STATE_ENV}
    return {**env, **extra}


def test_the_shipped_instance_settings_are_the_repo_root_dagster_yaml() -> None:
    assert default_dagster_yaml() == (REPO_ROOT / "dagster.yaml").read_text(encoding="utf-8")


def test_the_repo_sql_and_config_folders_point_at_the_package_data() -> None:
    package = Path(str(resources.files("reporting_assets")))
    assert (REPO_ROOT / "sql").resolve() == package / "sql"
    assert (REPO_ROOT / "config").resolve() == package / "config"
    assert [m.path.name for m in discover()] == sorted(p.name for p in (REPO_ROOT / "sql").glob("*.sql"))


def test_the_home_is_the_current_folder_unless_reporting_home_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert project_home({}) == tmp_path
    other = tmp_path / "other"
    other.mkdir()
    assert project_home({HOME_ENV: str(other)}) == other
    dagster_yaml, written = ensure_dagster_yaml(other)
    assert written and dagster_yaml.read_text(encoding="utf-8") == default_dagster_yaml()
    dagster_yaml.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    assert ensure_dagster_yaml(other) == (dagster_yaml, False)  # the user's settings are kept
    assert dagster_yaml.read_text(encoding="utf-8") == "telemetry:\n  enabled: false\n"
    (other / ".env").write_text("SMTP_HOST=mail\nDAGSTER_HOME=/old\n", encoding="utf-8")
    assert write_dotenv(other).read_text(encoding="utf-8").splitlines() == [
        "SMTP_HOST=mail",
        f"DAGSTER_HOME={other}",
        f"{HOME_ENV}={other}",
    ]


def test_a_missing_or_file_home_is_refused_with_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ProjectHomeError, match=rf"REPORTING_HOME={missing} does not exist: create it"):
        project_home({HOME_ENV: str(missing)})
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(ProjectHomeError, match=r"is not a folder: create it \(mkdir -p"):
        project_home({HOME_ENV: str(a_file)})


def test_a_home_inside_site_packages_is_refused() -> None:
    with pytest.raises(ProjectHomeError, match=r"inside the Python installation's site-packages"):
        project_home({HOME_ENV: str(SHARED_SITE_PACKAGES)})


def _without_write_permission(command: list[str]) -> list[str]:
    """Root writes anywhere: drop the capability that lets it, so permission bits count."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only for this process")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", *command]


@pytest.mark.integration
def test_a_read_only_home_is_a_clear_cli_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    try:
        result = subprocess.run(
            _without_write_permission([sys.executable, "-m", "reporting_assets.cli", "db", "url"]),
            capture_output=True,
            text=True,
            env=_clean_env(PYTHONPATH=str(REPO_ROOT), **{HOME_ENV: str(home)}),
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    finally:
        home.chmod(0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: The project home REPORTING_HOME={home} is read-only for this user: create it "
        f"(mkdir -p {home}) or set REPORTING_HOME to a writable folder. It holds the embedded "
        f"database (.data/), reports/, .env and Dagster's storage."
    )
    assert "Traceback" not in result.stderr
    assert list(home.iterdir()) == []


@pytest.mark.integration
def test_dg_check_defs_passes_from_the_repo_root() -> None:
    dg = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg), "check", "defs"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully." in result.stdout + result.stderr


def _files(root: Path) -> dict[str, int]:
    """Every file below root (bytecode caches aside) with its modification time."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.integration
def test_the_wheel_installs_into_a_new_venv_and_runs_from_an_empty_folder(tmp_path: Path) -> None:
    """Build the wheel, install it (no checkout on the path) and run the README's two steps there.

    Dependencies come from the shared virtualenv through a ``.pth`` line, which Python appends
    after the new venv's own site-packages: reporting_assets itself can only come from the wheel.
    """
    source = tmp_path / "source"  # exactly what the Dockerfile copies into its build stage
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "dagster.yaml"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "reporting_assets",
        source / "reporting_assets",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."],
        capture_output=True,
        text=True,
        cwd=source,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("reporting_assets-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "shared_dependencies.pth").write_text(f"{SHARED_SITE_PACKAGES}\n", encoding="utf-8")
    install = subprocess.run(
        # --ignore-installed: the shared venv's editable reporting_assets must not count as installed
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--ignore-installed",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    installed = _files(site)
    assert "reporting_assets/sql/001_reporting_core.sql" in installed
    assert "reporting_assets/sql/queries/reports_stage.sql" in installed
    assert "reporting_assets/config/sync.toml" in installed
    assert "reporting_assets/defaults/dagster.yaml" in installed
    assert "reporting_assets/api/pages/templates/base.html.j2" in installed
    assert "reporting_assets/api/pages/static/builder.js" in installed

    home = tmp_path / "empty"
    home.mkdir()
    env = _clean_env(PYTHONDONTWRITEBYTECODE="1")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), capture_output=True, text=True, env=env, cwd=home, timeout=600, check=False
        )

    where = run(str(python), "-c", "import reporting_assets; print(reporting_assets.__file__)")
    assert where.stdout.strip() == str(site / "reporting_assets" / "__init__.py"), where.stderr

    demo = run(str(venv / "bin" / "reporting-assets"), "demo", "--customer", "PELOTON", "--days", "2")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert f"Project home: {home}" in demo.stdout
    assert f"Wrote {home / 'dagster.yaml'}" in demo.stdout
    counts = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in demo.stdout.splitlines()
        if line.strip().startswith("reporting.")
    }
    assert counts["reporting.customers"] == 1
    assert counts["reporting.pipeline_execution_reports"] == 6  # 1 customer x 2 days x 3 pipelines
    assert counts["reporting.workflow_executions"] == 2
    assert (home / ".env").read_text(encoding="utf-8").splitlines()[-2:] == [
        f"DAGSTER_HOME={home}",
        f"{HOME_ENV}={home}",
    ]
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == default_dagster_yaml()
    assert (home / ".data" / "postgres" / "PG_VERSION").is_file()

    materialize = run(
        str(python),
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "reporting_assets.definitions",
        "--select",
        "execution_reports",
        "--partition",
        "PELOTON|2025-06-17",
    )
    assert materialize.returncode == 0, materialize.stderr[-3000:]
    assert "RUN_SUCCESS" in materialize.stderr
    shown = run(str(venv / "bin" / "reporting-assets"), "reports", "show", "PELOTON|2025-06-17")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("# 📋 Pipeline Execution Report") == 3

    assert _files(site) == installed  # nothing written next to the installed code
    assert not list(home.glob(".tmp_dagster_home_*"))  # the .env's DAGSTER_HOME was used
    assert (home / "storage").is_dir()  # Dagster's compute logs live in the home
