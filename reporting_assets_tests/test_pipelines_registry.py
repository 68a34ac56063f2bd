"""The pipeline registry: values checked with messages that say what to do, the sample pipelines
registered by the migration, keys that cannot be a pipeline's, and the CLI."""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest

from reporting_assets.errors import PipelineError
from reporting_assets.execution_reports.source_event import external_run_id
from reporting_assets.pipelines.registry import (
    Pipeline,
    Registry,
    add_pipeline,
    load_registry,
    remove_pipeline,
    validate_pipeline,
)
from reporting_assets_tests.helpers import run_cli

KESTRA = "https://kestra.example.com/executions/{id}"
CRM = Pipeline("crm_sync", "CRM Sync", "crm_sync", "hubspot", KESTRA)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pipeline_type": "CRM-sync"}, "Pipeline type 'CRM-sync' is not valid"),
        ({"source_system": "Hub Spot"}, "Source system 'Hub Spot' is not valid"),
        ({"asset_key": "crm sync"}, "Asset key 'crm sync' is not valid"),
        ({"display_name": "CRM\x1b[2J"}, "control character U\\+001B"),
        ({"run_link_template": "javascript:alert(1)//{id}"}, "only http and https links"),
        ({"run_link_template": "https://kestra.example.com/executions/"}, "has no \\{id\\}"),
        ({"run_link_template": "ftp://files.example.com/{id}"}, "must be an http:// or https:// URL"),
    ],
)
def test_a_bad_registry_value_is_refused_naming_it(change: dict[str, str], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        validate_pipeline(Pipeline(**{**CRM.__dict__, **change}))


def test_run_links_fill_in_the_quoted_external_id_and_an_unregistered_pipeline_names_the_command() -> None:
    registry = Registry((CRM, Pipeline("board", "Board", "board", "monday")))
    assert CRM.run_link("exec/42 a") == "https://kestra.example.com/executions/exec%2F42%20a"
    links = registry.run_links(lambda r: f"http://ui/runs/{r}", lambda k: f"http://ui/assets/{k}")
    assert links(external_run_id("crm_sync", "42")) == "https://kestra.example.com/executions/42"
    assert links(external_run_id("board", "7")) == "http://ui/assets/board"  # no template
    assert links("3f2a9c1e") == "http://ui/runs/3f2a9c1e"
    assert registry.sources() == {"hubspot": [dg.AssetKey("crm_sync")], "monday": [dg.AssetKey("board")]}
    with pytest.raises(
        PipelineError,
        match=r"'crm_synk' is not registered\. Did you mean 'crm_sync'\?.*"
        r"`reporting-assets pipelines add crm_synk",
    ):
        registry.require("crm_synk")


def test_the_migration_registers_the_samples_and_keys_collide_with_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    registry = load_registry(conn)
    assert [p.pipeline_type for p in registry.pipelines] == [
        "manufacturing_sync",
        "order_sync",
        "shipping_sync",
        "sync_order_list",
    ]
    assert registry.expected_daily == ["manufacturing_sync", "order_sync", "shipping_sync"]
    assert registry.by_type["order_sync"].new_label == "New Orders"

    assert add_pipeline(conn, CRM) == "registered"
    assert add_pipeline(conn, CRM) == "unchanged"
    renamed = Pipeline(**{**CRM.__dict__, "display_name": "HubSpot CRM"})
    with pytest.raises(PipelineError, match=r"already registered with other settings.*--replace"):
        add_pipeline(conn, renamed)
    assert add_pipeline(conn, renamed, replace=True) == "updated"
    with pytest.raises(PipelineError, match="'order_sync' already belongs to pipeline 'order_sync'"):
        add_pipeline(conn, Pipeline("orders_again", "Orders", "order_sync", "orders"))
    with pytest.raises(PipelineError, match="'execution_reports' is already an asset of this code location"):
        add_pipeline(
            conn,
            Pipeline("reports", "Reports", "execution_reports", "reports"),
            [dg.AssetKey("execution_reports")],
        )
    assert remove_pipeline(conn, "crm_sync").display_name == "HubSpot CRM"
    with pytest.raises(PipelineError, match="'crm_sync' is not registered"):
        remove_pipeline(conn, "crm_sync")
    with pytest.raises(psycopg.errors.CheckViolation, match="pipelines_run_link_template_check"):
        conn.execute(
            "INSERT INTO reporting.pipelines (pipeline_type, display_name, asset_key, source_system, "
            "run_link_template) VALUES ('x', 'X', 'x', 'x', 'javascript:{id}')"
        )


@pytest.mark.integration
def test_pipelines_cli_adds_shows_lists_and_refuses_a_report_asset_as_key(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    helped = run_cli("pipelines", "add", "--help")
    assert helped.returncode == 0 and "--run-link TEMPLATE" in helped.stdout and "{id}" in helped.stdout

    added = run_cli(
        "pipelines",
        "add",
        "crm_sync",
        "--name",
        "CRM Sync",
        "--source-system",
        "hubspot",
        "--run-link",
        KESTRA,
    )
    assert added.returncode == 0, added.stderr
    assert "Registered pipeline 'crm_sync' (asset crm_sync, source system hubspot)" in added.stdout
    shown = json.loads(run_cli("pipelines", "show", "crm_sync", "--json").stdout)
    assert shown["run_link_template"] == KESTRA and shown["expected_daily"] is True
    assert "crm_sync" in run_cli("pipelines", "list").stdout

    clash = run_cli("pipelines", "add", "reports", "--asset-key", "daily_customer_summaries")
    assert clash.returncode == 2
    assert clash.stderr.startswith("error: Asset key 'daily_customer_summaries' is already an asset")
    bad = run_cli("pipelines", "add", "crm2", "--run-link", "javascript:alert({id})")
    assert bad.returncode == 2 and "only http and https links" in bad.stderr
    missing = run_cli("pipelines", "show", "crm_synk")
    assert missing.returncode == 2 and "`reporting-assets pipelines add crm_synk" in missing.stderr
