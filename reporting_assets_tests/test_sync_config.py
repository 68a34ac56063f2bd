"""The sync's TOML config (validated before any call, errors that name the fix), sync ids and
folder/file names that are safe for any customer name."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from reporting_assets.sync.config import DEFAULT_CONFIG_PATH, load_config
from reporting_assets.sync.errors import SyncConfigError, SyncInputError
from reporting_assets.sync.folders import SYNC_ID, SessionFolder, customer_slug, new_sync_id, parse_sync_id

REPO_CONFIG = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_repo_config_has_valid_named_profiles() -> None:
    config = load_config(DEFAULT_CONFIG_PATH)
    assert config.default_environment == "development"
    assert set(config.environments) == {"development", "staging", "production"}
    production = config.profile("production")
    assert production.batch_size == 50 and production.target.latency_ms == 40  # overrides
    assert production.fields["order_id"] == "text_order_id"  # defaults merged in
    assert production.dropdown_label("status", "Cancelled") == "CANCELLED"
    assert production.dropdown_label("status", "Lost") is None
    assert config.profile().environment == "development"


def test_a_case_mismatch_in_the_dropdown_mapping_names_the_fix(tmp_path: Path) -> None:
    text = REPO_CONFIG.replace('"Cancelled" = "CANCELLED"', '"Cancelled" = "Cancelled"')
    with pytest.raises(
        SyncConfigError, match=r"\[dropdowns\.status\.values\] maps 'Cancelled' to 'Cancelled'"
    ) as error:
        load_config(config_file(tmp_path, text)).profile("production")
    message = str(error.value)
    assert "[dropdowns.status.values] maps 'Cancelled' to 'Cancelled'" in message
    assert "labels are case-sensitive" in message
    assert 'did you mean \'CANCELLED\'? Fix: set "Cancelled" = "CANCELLED"' in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("batch_size = 25", "batch_size = 0"), "'batch_size': Input should be greater than or equal to 1"),
        (
            ("timeout_rate = 0.0", "timeout_rate = 2"),
            "'target.timeout_rate': Input should be less than or equal to 1",
        ),
        (('order_id = "text_order_id"\n', ""), "[fields] must map 'order_id'"),
        (('product = "name"', 'colour = "name"'), "unknown order list column(s) 'colour'"),
        (('level = "INFO"', 'level = "LOUD"'), "'LOUD' is not a log level"),
        (
            (
                '"sync.target" = "WARNING"\n\n[environments.development]',
                '"sync.targte" = "WARNING"\n\n[environments.development]',
            ),
            "unknown component 'sync.targte'. Did you mean 'sync.target'",
        ),
        (("max_retries = 2", "max_retries = 'two'"), "'max_retries': Input should be a valid integer"),
    ],
)
def test_invalid_settings_name_the_field_and_the_file(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert change[0] in REPO_CONFIG
    path = config_file(tmp_path, REPO_CONFIG.replace(change[0], change[1], 1))
    with pytest.raises(SyncConfigError, match=re.escape(expected)) as error:
        load_config(path).profile("development")
    assert str(path) in str(error.value) or "sync.toml" in str(error.value)


def test_an_unknown_key_in_a_user_file_names_the_key_the_table_and_the_file(tmp_path: Path) -> None:
    text = REPO_CONFIG.replace("batch_size = 25", "batchsize = 25").replace(
        "latency_ms = ", "latncy_ms = ", 1
    )
    path = config_file(tmp_path, text)
    with pytest.raises(
        SyncConfigError, match=r"unknown key 'batchsize' \(did you mean 'batch_size'\?\)"
    ) as error:
        load_config(path).profile("development")
    message = str(error.value)
    assert message.startswith(f"{path}, environment 'development': ")
    assert "unknown key 'target.latncy_ms' (did you mean 'target.latency_ms'?); keys of [target]: " in message
    with pytest.raises(
        SyncConfigError, match=r"Environment 'prod' is not defined in the default config/sync\.toml"
    ):
        load_config().profile("prod")


def test_missing_broken_or_unknown_files_and_environments(tmp_path: Path) -> None:
    with pytest.raises(SyncConfigError, match=r"does not exist\. Fix the path, or unset REPORTING_SYNC"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(SyncConfigError, match="is not valid TOML"):
        load_config(config_file(tmp_path, "[defaults\n"))
    with pytest.raises(
        SyncConfigError, match=r"Environment 'prod' is not defined .* Did you mean 'production'\?"
    ):
        load_config(DEFAULT_CONFIG_PATH).profile("prod")
    with pytest.raises(SyncConfigError, match="unknown top-level key"):
        load_config(config_file(tmp_path, REPO_CONFIG + "\n[target]\nlatency_ms = 1\n"))


def test_sync_ids_have_the_seed_format_and_refuse_anything_else() -> None:
    sync_id = new_sync_id(dt.datetime(2025, 8, 2, 20, 27, 59, tzinfo=dt.UTC))
    assert SYNC_ID.match(sync_id) and sync_id.startswith("202508022027-SYNC-")
    assert parse_sync_id("202508022027-SYNC-765151E9") == "202508022027-SYNC-765151E9"
    for bad in (
        "SYNC-7AC96AF9-20250802",
        "202508022027-SYNC-765151e9",
        "../../etc",
        "202508022027-SYNC-765151E9/..",
    ):
        with pytest.raises(SyncInputError, match="YYYYMMDDHHMM-SYNC-XXXXXXXX"):
            parse_sync_id(bad)


def test_customer_file_names_are_safe_and_never_collide(tmp_path: Path) -> None:
    names = [
        "Acme/EU",
        "Acme EU",
        "acme-eu",
        "../../etc/passwd",
        "Évian & Co.",
        "<script>",
        "🚀",
        "A" * 300,
        "CON",
    ]
    slugs = [customer_slug(n) for n in names]
    assert len(set(slugs)) == len(names)
    for slug in slugs:
        assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug) and len(slug) <= 47
    assert customer_slug("PELOTON").startswith("peloton-") and customer_slug("🚀").startswith("customer-")
    folder = SessionFolder(tmp_path, "202508022027-SYNC-765151E9")
    folder.create()
    started = dt.datetime(2025, 8, 2, 20, 27, 5, tzinfo=dt.UTC)
    for name in names:
        relative = folder.customer_report_name(name, started)
        assert relative.startswith("customer_reports/") and relative.endswith("_20250802_202705.md")
        assert folder.write_text(relative, "x").parent == folder.path / "customer_reports"
    with pytest.raises(SyncInputError, match="outside the session folder"):
        folder.write_text("../../escape.md", "x")
    assert not (tmp_path / "escape.md").exists()
