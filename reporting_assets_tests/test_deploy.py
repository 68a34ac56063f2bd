"""The deployment files, checked without a cluster: the instance settings load with Dagster's own
config schema, the Helm values pass the chart's values schema, and the queue's tag limit keeps
two runs of one customer apart."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import jsonschema
import psycopg
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData, class_from_code_pointer
from dagster._utils.tags import TagConcurrencyLimitsCounter
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from reporting_assets_tests.helpers import REPO_ROOT, run_sources

DEPLOY = REPO_ROOT / "deploy"
CHART_DATA = Path(__file__).parent / "data" / "helm"
CUSTOMER_TAG = "dagster/partition/customer"
INSTANCE_FILES = [REPO_ROOT / "dagster.yaml", DEPLOY / "dagster.yaml"]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_instance_settings_pass_dagsters_instance_schema(path: Path, tmp_path: Path) -> None:
    shutil.copy(path, tmp_path / "dagster.yaml")
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    for section in ("run_launcher", "run_coordinator", "compute_logs"):
        if section in config:
            _check_class_config(config[section])
    storage = config["storage"]
    if "custom" in storage:
        _check_class_config(storage["custom"])


def _check_class_config(section: Mapping[str, Any]) -> None:
    """The class imports and its own config schema accepts the section's config (Dagster does
    this when the instance starts; the class is not constructed, so no cluster is needed)."""
    data = ConfigurableClassData(
        section["module"], section["class"], yaml.safe_dump(section.get("config") or {})
    )
    klass = class_from_code_pointer(data.module_name, data.class_name)  # dagster.core -> dagster._core
    result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
    assert result.success, [error.message for error in result.errors or []]


def test_the_cluster_instance_uses_postgres_from_the_environment_and_k8s_runs() -> None:
    config = _load(DEPLOY / "dagster.yaml")
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "REPORTING_DAGSTER_DATABASE_URL"}}}
    assert (config["run_launcher"]["module"], config["run_launcher"]["class"]) == (
        "dagster_k8s",
        "K8sRunLauncher",
    )
    assert config["run_launcher"]["config"]["env_secrets"] == ["reporting-assets-env"]


def test_a_broken_run_coordinator_config_is_caught(tmp_path: Path) -> None:
    config = _load(DEPLOY / "dagster.yaml")
    config["run_coordinator"]["config"]["tag_concurrency_limits"][0]["value"] = {"perValue": True}
    with pytest.raises(AssertionError, match=r'Received unexpected config entry "perValue"'):
        _check_class_config(config["run_coordinator"])


def _helm_merge(defaults: Any, values: Any) -> Any:
    """Helm's values merge: maps merge key by key, lists and scalars are replaced."""
    if isinstance(defaults, dict) and isinstance(values, dict):
        merged = dict(defaults)
        for key, value in values.items():
            merged[key] = _helm_merge(defaults.get(key), value)
        return merged
    return values


def _remote_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if str(node.get("$ref", "")).startswith("https://") else []
        return found + [ref for value in node.values() for ref in _remote_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _remote_refs(value)]
    return []


def _chart_validator() -> jsonschema.protocols.Validator:
    """The chart's schema; its Kubernetes object definitions (remote) accept anything here."""
    schema = json.loads(
        (CHART_DATA / "dagster-user-deployments.values.schema.json").read_text(encoding="utf-8")
    )
    stubs: dict[str, dict[str, Any]] = {}
    for ref in _remote_refs(schema):
        uri, pointer = ref.split("#", 1)
        node = stubs.setdefault(uri, {})
        for part in pointer.strip("/").split("/"):
            node = node.setdefault(part, {})
    registry: Registry[Any] = Registry().with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012)) for uri, doc in stubs.items()
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_user_deployment_values_pass_the_charts_values_schema() -> None:
    values = _load(DEPLOY / "helm" / "user-deployments-values.yaml")
    merged = _helm_merge(_load(CHART_DATA / "dagster-user-deployments.values.yaml"), values)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _chart_validator().iter_errors(merged)]
    assert errors == []
    (deployment,) = merged["deployments"]
    assert deployment["codeServerArgs"] == ["-m", "reporting_assets.definitions"]
    assert deployment["port"] == 4000
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True


def test_the_chart_schema_refuses_a_broken_user_deployment() -> None:
    values = _load(DEPLOY / "helm" / "user-deployments-values.yaml")
    values["deployments"][0]["port"] = "4000"
    del values["deployments"][0]["image"]["pullPolicy"]
    merged = _helm_merge(_load(CHART_DATA / "dagster-user-deployments.values.yaml"), values)
    messages = sorted(e.message for e in _chart_validator().iter_errors(merged))
    assert messages == ["'4000' is not of type 'integer'", "'pullPolicy' is a required property"]


def test_the_dagster_chart_values_carry_the_same_queue_limits_as_the_instance_settings() -> None:
    instance = _load(DEPLOY / "dagster.yaml")["run_coordinator"]["config"]
    chart = _load(DEPLOY / "helm" / "dagster-values.yaml")
    queued = chart["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert chart["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert chart["runLauncher"]["type"] == "K8sRunLauncher"
    assert chart["postgresql"]["enabled"] is False
    assert queued["maxConcurrentRuns"] == instance["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == instance["tag_concurrency_limits"]


def test_the_queue_holds_a_second_run_of_the_same_customer(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """Real runs carry the customer tag the limit keys on: one customer's second run waits,
    another customer's run goes ahead."""
    limits = _load(DEPLOY / "dagster.yaml")["run_coordinator"]["config"]["tag_concurrency_limits"]
    running = instance.get_run_by_id(run_sources(instance, "PELOTON|2025-06-16").run_id)
    same_customer = instance.get_run_by_id(run_sources(instance, "PELOTON|2025-06-17").run_id)
    other_customer = instance.get_run_by_id(run_sources(instance, "GREYSON|2025-06-17").run_id)
    assert running and same_customer and other_customer
    assert running.tags[CUSTOMER_TAG] == "PELOTON"
    counter = TagConcurrencyLimitsCounter(limits, [running])
    assert counter.is_blocked(same_customer)
    assert not counter.is_blocked(other_customer)
