"""The run-report contract: PipelineReporter builds it, parse_run_report validates it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import dagster as dg
import pytest
from pydantic import ValidationError

from reporting_assets.contract import (
    DEFAULT_MAX_CHANGES,
    RUN_REPORT_METADATA_KEY,
    SCHEMA_VERSION,
    ManufacturingSummary,
    RunReport,
    ShippingSummary,
    parse_run_report,
)
from reporting_assets.errors import ContractError
from reporting_assets.reporter import NUMERIC_METADATA_KEYS, PipelineReporter

DAY = dt.date(2025, 6, 17)
SOURCE = "run 1a2b3c order_sync ACTIVELY BLACK|2025-06-17"


def make_reporter(customer: str = "ACTIVELY BLACK", **kwargs: Any) -> PipelineReporter:
    return PipelineReporter(customer, "order_sync", "run-1a2b3c", execution_date=DAY, **kwargs)


def filled_reporter() -> PipelineReporter:
    reporter = make_reporter(external_execution_id="kestra_exec_20250617_001234")
    reporter.log_change("new_order", "Spring Collection Hoodie (Qty: 500)", key="ACT-2025-001", quantity=500)
    reporter.log_change("new_order", "Summer Tee Basic (Qty: 1,200)", key="ACT-2025-002", quantity=1200)
    reporter.log_change(
        "order_updated", "Quantity changed: 800 → 850 (+50)", key="ACT-2024-945", before=800, after=850
    )
    reporter.log_metric("records_processed", 1247)
    reporter.log_metric("new", 2)
    reporter.log_metric("updated", 1)
    reporter.log_metric("queries", 156)
    reporter.log_metric("api_calls.monday_com", 12)
    reporter.log_metric("items_fetched", 1247, previous_value=1091)
    reporter.count_api_calls("shipping_system", 2)
    reporter.count_api_calls("shipping_system", 3)
    reporter.count_database_operations("inserts", 2)
    reporter.add_warning("2 orders are past their delivery date and not shipped")
    reporter.add_next_action("Contact the customer about 2 orders past their delivery date")
    return reporter


def valid_payload() -> dict[str, Any]:
    return filled_reporter().build().model_dump(mode="json")


# --- building ----------------------------------------------------------------------------------


def test_reporter_builds_a_valid_run_report() -> None:
    report = filled_reporter().build()
    assert isinstance(report, RunReport)
    assert report.schema_version == SCHEMA_VERSION
    assert report.customer == "ACTIVELY BLACK"
    assert report.customer_key == "ACTIVELY BLACK"  # defaults to the display name
    assert report.pipeline_type == "order_sync"
    assert report.execution_date == DAY
    assert report.run_id == "run-1a2b3c"
    assert report.external_execution_id == "kestra_exec_20250617_001234"
    assert report.status == "success"
    assert report.counts.model_dump() == {"records_processed": 1247, "new": 2, "updated": 1, "failed": 0}
    assert [c.key for c in report.changes] == ["ACT-2025-001", "ACT-2025-002", "ACT-2024-945"]
    assert report.changes[2].before == "800" and report.changes[2].after == "850"
    assert report.changes_total == 3
    assert report.change_counts == {"new_order": 2, "order_updated": 1}
    assert report.metrics.database_operations.model_dump() == {
        "inserts": 2,
        "updates": 0,
        "deletes": 0,
        "queries": 156,
    }
    assert report.metrics.api_calls == {"monday_com": 12, "shipping_system": 5}
    assert list(report.metrics.api_calls) == sorted(report.metrics.api_calls)
    assert report.metrics.custom == {"items_fetched": 1247.0}
    assert report.metrics.previous == {"items_fetched": 1091.0}
    assert report.metrics.warning_count == 1 and report.metrics.error_count == 0
    assert report.started_at is not None and report.finished_at is not None
    assert report.finished_at >= report.started_at
    assert report.metrics.execution_time_seconds >= 0
    # the built contract is accepted by the consumer's parser as is
    assert parse_run_report(report.model_dump(mode="json"), source=SOURCE) == report


def test_explicit_customer_key_is_kept_apart_from_display_name() -> None:
    report = make_reporter("Actively Black Inc.", customer_key="ACTIVELY BLACK").build()
    assert report.customer == "Actively Black Inc."
    assert report.customer_key == "ACTIVELY BLACK"


def test_built_report_is_a_snapshot() -> None:
    reporter = filled_reporter()
    report = reporter.build()
    reporter.log_change("new_order", "late change", key="ACT-2025-003")
    reporter.add_error("late error")
    assert report.changes_total == 3
    assert len(report.changes) == 3
    assert report.change_counts == {"new_order": 2, "order_updated": 1}
    assert report.errors == []
    with pytest.raises(ValidationError, match="Instance is frozen"):
        report.status = "failed"  # type: ignore[misc]


def test_unknown_database_operation_is_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown database operation 'upserts'"):
        make_reporter().count_database_operations("upserts")


# --- metadata ----------------------------------------------------------------------------------


def test_to_metadata_has_contract_json_and_numeric_entries() -> None:
    reporter = filled_reporter()
    metadata = reporter.to_metadata()
    assert isinstance(metadata[RUN_REPORT_METADATA_KEY], dg.JsonMetadataValue)
    payload = metadata[RUN_REPORT_METADATA_KEY].value
    report = parse_run_report(payload, source=SOURCE)
    assert report.counts.records_processed == 1247
    assert report.change_counts == {"new_order": 2, "order_updated": 1}
    assert json.loads(json.dumps(payload)) == payload  # plain JSON

    assert set(NUMERIC_METADATA_KEYS) <= set(metadata)
    for key in ("records_processed", "new_records", "updated_records", "errors"):
        assert isinstance(metadata[key], dg.IntMetadataValue), key
    assert isinstance(metadata["seconds"], dg.FloatMetadataValue)
    assert metadata["records_processed"].value == report.counts.records_processed == 1247
    assert metadata["new_records"].value == report.counts.new == 2
    assert metadata["updated_records"].value == report.counts.updated == 1
    assert metadata["errors"].value == len(report.errors) == 0
    assert metadata["seconds"].value == report.metrics.execution_time_seconds
    assert metadata["status"].value == "success"


def test_to_metadata_counts_errors_and_passes_status() -> None:
    reporter = filled_reporter()
    reporter.add_error("boom")
    reporter.add_error("bang")
    metadata = reporter.to_metadata(status="failed")
    assert metadata["errors"].value == 2
    assert metadata["status"].value == "failed"
    assert metadata[RUN_REPORT_METADATA_KEY].value["status"] == "failed"
    assert metadata[RUN_REPORT_METADATA_KEY].value["errors"] == ["boom", "bang"]
    result = reporter.materialize_result()
    assert result.metadata is not None
    assert result.metadata["status"].value == "partial"


# --- parse errors ------------------------------------------------------------------------------


def _contract_error(payload: Any) -> str:
    with pytest.raises(ContractError, match=f"^{re.escape(SOURCE)}: ") as info:
        parse_run_report(payload, source=SOURCE)
    return str(info.value)


def test_wrong_type_names_field_path_and_source() -> None:
    payload = valid_payload()
    payload["counts"]["new"] = "many"
    message = _contract_error(payload)
    assert message.startswith(SOURCE + ":")
    assert "field 'counts.new'" in message
    assert "'many'" in message


def test_wrong_type_in_list_item_names_index() -> None:
    payload = valid_payload()
    payload["changes"][1]["count"] = 0
    payload["changes"][2]["category"] = "Not A Category"
    message = _contract_error(payload)
    assert SOURCE in message
    assert "field 'changes[1].count'" in message
    assert "field 'changes[2].category'" in message


def test_negative_count_is_rejected() -> None:
    payload = valid_payload()
    payload["counts"]["records_processed"] = -1
    assert "field 'counts.records_processed'" in _contract_error(payload)


def test_missing_required_field_names_it() -> None:
    payload = valid_payload()
    del payload["customer"]
    message = _contract_error(payload)
    assert message.startswith(SOURCE + ":")
    assert "field 'customer'" in message
    assert "Field required" in message


def test_unknown_extra_field_names_it() -> None:
    payload = valid_payload()
    payload["metrics"]["cpu_seconds"] = 3
    message = _contract_error(payload)
    assert "field 'metrics.cpu_seconds'" in message and SOURCE in message


def test_unknown_or_missing_field_of_a_change_reads_as_in_any_other_part() -> None:
    payload = valid_payload()
    payload["changes"][0]["priority"] = "high"
    del payload["changes"][1]["description"]
    message = _contract_error(payload)
    assert "field 'changes[0].priority': Extra inputs are not permitted (got 'high')" in message
    assert "field 'changes[1].description': Field required" in message


@pytest.mark.parametrize("payload", [None, "a string", [1, 2, 3], 42])
def test_non_dict_payload(payload: Any) -> None:
    message = _contract_error(payload)
    assert message.startswith(SOURCE + ":")
    assert f"'{RUN_REPORT_METADATA_KEY}' must be a JSON object" in message
    assert type(payload).__name__ in message


@pytest.mark.parametrize("version", [99, 0, "1", None])
def test_unknown_schema_version(version: Any) -> None:
    payload = valid_payload()
    payload["schema_version"] = version
    message = _contract_error(payload)
    assert message.startswith(SOURCE + ":")
    assert f"unknown schema_version {version!r}" in message


def test_many_problems_are_summarised() -> None:
    payload = valid_payload()
    for key in ("records_processed", "new", "updated", "failed"):
        payload["counts"][key] = "x"
    payload["customer"] = ""
    payload["status"] = "exploded"
    payload["pipeline_type"] = "Order Sync"
    message = _contract_error(payload)
    assert message.count("field '") == 5
    assert "(+2 more)" in message


# --- unicode -----------------------------------------------------------------------------------


def test_unicode_and_emoji_round_trip() -> None:
    reporter = make_reporter("Café ☕ 東京", customer_key="CAFE TOKYO")
    reporter.log_change("new_order", "Sakura hoodie 🌸 (Qty: 1,200) — ünïcödé", key="CAF-2025-001")
    reporter.log_change("order_updated", "Status: 🏭 → 🚚", key="CAF-2025-002", before="🏭", after="🚚")
    reporter.add_warning("⚠️ 東京 warehouse closed")
    reporter.add_next_action("Call Zoë about 👕")
    reporter.set_shipping(ShippingSummary(shipped_by_carrier={"ヤマト運輸": 3}))
    report = reporter.build()
    dumped = report.model_dump(mode="json")
    wire = json.dumps(dumped, ensure_ascii=False)
    parsed = parse_run_report(json.loads(wire), source=SOURCE)
    assert parsed == report
    assert parsed.customer == "Café ☕ 東京"
    assert parsed.changes[0].description == "Sakura hoodie 🌸 (Qty: 1,200) — ünïcödé"
    assert parsed.changes[1].after == "🚚"
    assert parsed.shipping is not None and parsed.shipping.shipped_by_carrier == {"ヤマト運輸": 3}
    # and through ASCII-escaped JSON too
    assert parse_run_report(json.loads(json.dumps(dumped)), source=SOURCE) == report


# --- change cap --------------------------------------------------------------------------------


def test_hundred_thousand_changes_keep_the_first_thousand() -> None:
    reporter = make_reporter()
    categories = ("new_order", "order_updated", "stage_move", "shipped")
    for i in range(100_000):
        reporter.log_change(categories[i % 4], f"change {i}", key=f"K-{i}")
    report = reporter.build()
    assert DEFAULT_MAX_CHANGES == 1_000
    assert len(report.changes) == DEFAULT_MAX_CHANGES
    assert report.changes[0].description == "change 0"
    assert report.changes[-1].description == "change 999"
    assert report.changes_total == 100_000
    assert report.change_counts == dict.fromkeys(categories, 25_000)
    assert sum(report.change_counts.values()) == 100_000
    summary = report.summary()
    assert summary["changes_total"] == 100_000
    assert summary["changes_by_category"] == dict.fromkeys(sorted(categories), 25_000)


def test_change_counts_are_weighted_by_count() -> None:
    reporter = make_reporter(max_changes=2)
    reporter.log_change("stage_move", "5 orders moved", count=5)
    reporter.log_change("stage_move", "3 orders moved", count=3)
    reporter.log_change("qc_flagged", "1 flagged")
    report = reporter.build()
    assert len(report.changes) == 2
    assert report.changes_total == 3
    assert report.change_counts == {"stage_move": 8, "qc_flagged": 1}


def test_rejected_change_does_not_corrupt_the_counters() -> None:
    reporter = make_reporter()
    reporter.log_change("new_order", "valid", key="ACT-2025-001")
    with pytest.raises(ContractError, match=r"change 'Not A Category' .*field 'category'"):
        reporter.log_change("Not A Category", "rejected")
    with pytest.raises(ContractError, match=r"field 'count': Input should be greater than or equal to 1"):
        reporter.log_change("new_order", "rejected: count must be >= 1", count=0)
    report = reporter.build()
    assert report.changes_total == 1
    assert report.change_counts == {"new_order": 1}


def test_changes_past_the_cap_are_validated_like_the_others() -> None:
    reporter = make_reporter(max_changes=1)
    reporter.log_change("new_order", "kept")
    with pytest.raises(ContractError, match=r"field 'category'"):
        reporter.log_change("Not A Category", "past the cap")
    with pytest.raises(ContractError, match=r"field 'count'"):
        reporter.log_change("new_order", "past the cap", count=-5)
    report = reporter.build()  # and the contract can still be built
    assert report.change_counts == {"new_order": 1}
    assert report.changes_total == 1


# --- status ------------------------------------------------------------------------------------


def test_status_defaults() -> None:
    reporter = make_reporter()
    assert reporter.build().status == "success"
    reporter.add_warning("only a warning")
    assert reporter.build().status == "success"
    reporter.add_error("3 records rejected")
    partial = reporter.build()
    assert partial.status == "partial"
    assert partial.errors == ["3 records rejected"]
    assert partial.metrics.error_count == 1
    assert reporter.build(status="failed").status == "failed"
    assert make_reporter().build(status="failed").status == "failed"


def test_invalid_status_is_rejected_by_the_contract() -> None:
    with pytest.raises(
        ContractError, match=r"order_sync run report for 'ACTIVELY BLACK' on 2025-06-17 .*field 'status'"
    ):
        make_reporter().build(status="exploded")  # type: ignore[arg-type]


# --- summary -----------------------------------------------------------------------------------


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{path}[{i}]"))
        return out
    return {path: value}


def test_summary_leaves() -> None:
    reporter = filled_reporter()
    reporter.add_error("1 record rejected")
    reporter.set_manufacturing(
        ManufacturingSummary(stage_moves={"Cut Complete": 5}, qc_flagged=3, qc_passed=15)
    )
    reporter.set_shipping(
        ShippingSummary(
            ready_to_ship=18,
            ready_volume=45600,
            estimated_ship_date=dt.date(2025, 6, 18),
            shipped_by_carrier={"FedEx": 12, "UPS": 8},
            shipped_volume=32100,
        )
    )
    summary = reporter.build().summary()
    assert json.loads(json.dumps(summary)) == summary  # storable as JSONB as is
    assert _leaves(summary) == {
        "status": "partial",
        "counts.records_processed": 1247,
        "counts.new": 2,
        "counts.updated": 1,
        "counts.failed": 0,
        "changes_total": 3,
        "changes_by_category.new_order": 2,
        "changes_by_category.order_updated": 1,
        "warning_count": 1,
        "error_count": 1,
        "manufacturing.stage_moves.Cut Complete": 5,
        "manufacturing.qc_flagged": 3,
        "manufacturing.qc_passed": 15,
        "manufacturing.delayed": 0,
        "shipping.ready_to_ship": 18,
        "shipping.ready_volume": 45600,
        "shipping.estimated_ship_date": "2025-06-18",
        "shipping.shipped_by_carrier.FedEx": 12,
        "shipping.shipped_by_carrier.UPS": 8,
        "shipping.shipped_volume": 32100,
    }


def test_summary_without_sections_and_sorted_categories() -> None:
    reporter = make_reporter()
    reporter.log_change("zeta", "z")
    reporter.log_change("alpha", "a")
    summary = reporter.build().summary()
    assert "manufacturing" not in summary and "shipping" not in summary
    assert list(summary["changes_by_category"]) == ["alpha", "zeta"]


def test_parse_does_not_mutate_its_input() -> None:
    payload = valid_payload()
    before = copy.deepcopy(payload)
    parse_run_report(payload, source=SOURCE)
    assert payload == before


# --- non-finite metrics and control characters ----------------------------------------------------

LABEL = "order_sync run report for 'ACTIVELY BLACK' on 2025-06-17"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_custom_metric_is_refused_naming_it(value: float) -> None:
    reporter = filled_reporter()
    reporter.log_metric("conversion_rate", 0.25, previous_value=0.2)
    before = reporter.build()
    with pytest.raises(
        ContractError,
        match=rf"^{LABEL}: metric 'conversion_rate' must be a finite number, got {value!r}; NaN and infinit",
    ):
        reporter.log_metric("conversion_rate", value)
    with pytest.raises(
        ContractError, match=r"previous value of metric 'conversion_rate' must be a finite number"
    ):
        reporter.log_metric("conversion_rate", 0.3, previous_value=value)
    after = reporter.build()
    assert after.metrics.custom == before.metrics.custom == {"items_fetched": 1247.0, "conversion_rate": 0.25}
    assert after.metrics.previous == {"items_fetched": 1091.0, "conversion_rate": 0.2}
    json.dumps(after.model_dump(mode="json"), allow_nan=False)  # plain JSON, no NaN/Infinity


@pytest.mark.parametrize("name", ["records_processed", "inserts", "api_calls.monday_com"])
def test_nan_count_names_the_metric_instead_of_a_conversion_error(name: str) -> None:
    reporter = filled_reporter()
    before = reporter.build().model_dump(exclude={"started_at", "finished_at", "metrics"})
    with pytest.raises(ContractError, match=rf"^{LABEL}: metric '{name}' must be a finite number, got nan;"):
        reporter.log_metric(name, float("nan"))
    with pytest.raises(ContractError, match=rf"metric '{name}' must be a number, got 'many'"):
        reporter.log_metric(name, "many")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match=r"API calls to 'crm' must be a finite number, got inf"):
        reporter.count_api_calls("crm", float("inf"))  # type: ignore[arg-type]
    with pytest.raises(ContractError, match=r"database queries must be a finite number, got nan"):
        reporter.count_database_operations("queries", float("nan"))  # type: ignore[arg-type]
    report = reporter.build()
    assert report.model_dump(exclude={"started_at", "finished_at", "metrics"}) == before
    assert report.metrics.api_calls == {"monday_com": 12, "shipping_system": 5}
    assert report.metrics.database_operations.queries == 156


def test_build_refuses_a_non_finite_value_set_directly() -> None:
    reporter = filled_reporter()
    reporter.custom_metrics["conversion_rate"] = float("nan")
    with pytest.raises(
        ContractError,
        match=rf"^{LABEL} does not match contract v1: field 'metrics.custom.conversion_rate': "
        r"Input should be a finite number \(got nan\)",
    ):
        reporter.build()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("metrics", "custom", "conversion_rate"), "NaN"),
        (("metrics", "previous", "items_fetched"), "Infinity"),
        (("metrics", "execution_time_seconds"), "-Infinity"),
        (("counts", "new"), "NaN"),
    ],
)
def test_non_finite_numbers_read_back_from_the_event_log_are_refused(
    path: tuple[str, ...], value: str
) -> None:
    payload = valid_payload()
    payload["metrics"]["custom"]["conversion_rate"] = 0.25
    target = payload
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = "__HERE__"
    raw = json.loads(json.dumps(payload).replace('"__HERE__"', value))  # what Dagster stores and returns
    message = _contract_error(raw)
    assert message.startswith(SOURCE + ":")
    assert f"field '{'.'.join(path)}': Input should be a finite number" in message


def test_control_characters_in_contract_names_are_refused() -> None:
    with pytest.raises(
        ContractError,
        match=r"^The customer name holds the control character U\+001B \(ESCAPE\) at position 5",
    ):
        make_reporter("Evil\x1b[2J")
    with pytest.raises(
        ContractError, match=r"^The pipeline name holds the control character U\+000A \(LINE FEED\)"
    ):
        PipelineReporter("ACTIVELY BLACK", "order\nsync", execution_date=DAY)
    with pytest.raises(
        ContractError, match=r"^The customer key holds the control character U\+0007 \(BELL\)"
    ):
        make_reporter(customer_key="ACME\x07")
    reporter = filled_reporter()
    before = reporter.build().model_dump(exclude={"started_at", "finished_at", "metrics"})
    with pytest.raises(ContractError, match=r"^The metric name holds the control character U\+001B"):
        reporter.log_metric("rate\x1b[31m", 1.0)
    with pytest.raises(
        ContractError, match=r"field 'key': Value error, The name holds the control character U\+000D"
    ):
        reporter.log_change("new_order", "Hoodie", key="ACT\r-1")
    assert reporter.build().model_dump(exclude={"started_at", "finished_at", "metrics"}) == before


def test_control_characters_in_names_read_back_are_refused_without_echoing_them() -> None:
    payload = valid_payload()
    payload["customer"] = "Evil\nCorp\x1b[2J\x1b[31mRED\x07"
    payload["shipping"] = {"shipped_by_carrier": {"Fed\x1bEx": 3}}
    payload["manufacturing"] = {"stage_moves": {"Cut\u2028ting": 1}}
    message = _contract_error(payload)
    assert (
        "field 'customer': Value error, The name holds the control character U+000A (LINE FEED) at position 5"
        in message
    )
    assert (
        "field 'shipping.shipped_by_carrier.'Fed\\x1bEx' (key)': Value error, The name holds the control "
        "character U+001B (ESCAPE) at position 4" in message
    )
    assert "U+2028 (LINE SEPARATOR) at position 4" in message
    assert not any(c in message for c in "\n\x1b\x07\u2028")


def test_whole_number_metrics_stay_exact() -> None:
    reporter = make_reporter()
    reporter.log_metric("records_processed", 12_345_678_901_234_567)
    reporter.count_api_calls("crm", 9_007_199_254_740_993)
    report = reporter.build()
    assert report.counts.records_processed == 12_345_678_901_234_567
    assert report.metrics.api_calls == {"crm": 9_007_199_254_740_993}
