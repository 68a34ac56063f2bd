"""The web pages' plain functions, without a server: the builder form both ways and where its
errors go, the schedule form's cron text, next runs across a DST change and timezone
suggestions, the charts' geometry, safe redirects and one-time nonces."""

from __future__ import annotations

import datetime as dt
import threading
import time

from reporting_assets.api.pages import builder_form as bf
from reporting_assets.api.pages.charts import trend, value_chart
from reporting_assets.api.pages.forms import Form
from reporting_assets.api.pages.nonces import Once
from reporting_assets.api.pages.schedule_form import ScheduleState, close_zones, describe_cron, timing
from reporting_assets.api.pages.session import safe_next
from reporting_assets.exports.defaults import USAGE_SUMMARY
from reporting_assets.exports.dsl import compile_query
from reporting_assets.exports.models import Report

NOW = dt.datetime(2025, 6, 17, 12, tzinfo=dt.UTC)


def _report(values: dict) -> Report:
    return Report(
        id="00000000-0000-0000-0000-000000000001",
        name=values["name"],
        description=values.get("description"),
        tenant_id="acme",
        created_by="a@acme.example",
        query_config=values["query_config"],
        visualization_config=values.get("visualization_config"),
        filters=None,
        row_limit=values["row_limit"],
        is_public=values["is_public"],
        tags=[],
        system_key=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_default_usage_summary_goes_through_the_form_and_back_to_the_same_query() -> None:
    state = bf.from_report(_report(USAGE_SUMMARY))
    assert [c.field for c in state.columns] == ["timestamp", "event_type", "tenant_id"]
    assert [a.alias for a in state.aggregates] == ["total_events", "unique_users", "unique_devices"]
    values = bf.to_values(state).values
    original = compile_query(USAGE_SUMMARY["query_config"], tenant_id="acme", as_of=NOW)
    again = compile_query(values["query_config"], tenant_id="acme", as_of=NOW)
    assert {c.name for c in again.columns} == {c.name for c in original.columns}
    assert again.filters_text == original.filters_text
    assert values["visualization_config"] == {k: v for k, v in USAGE_SUMMARY["visualization_config"].items()}
    assert (values["row_limit"], values["is_public"]) == (1000, True)


def test_submitted_fields_become_the_query_and_unknown_or_blank_rows_are_ignored() -> None:
    state = bf.parse_form(
        Form(
            [
                ("name", " Sessions "),
                ("table", "user_sessions"),
                ("col", "user_sessions.platform"),
                ("col", "usage_events.event_type"),
                ("agg.0.fn", "avg"),
                ("agg.0.field", "duration_seconds"),
                ("agg.1.fn", ""),
                ("filter.0.field", "page_views"),
                ("filter.0.op", "between"),
                ("filter.0.value", "2"),
                ("filter.0.value2", "9"),
                ("filter.1.field", "platform"),
                ("filter.1.op", "in"),
                ("filter.1.value", "web, ios"),
                ("order.0.field", ""),
                ("row_limit", "5,000"),
                ("something", "else"),
            ]
        )
    )
    values = bf.to_values(state).values
    assert values["name"] == "Sessions" and values["row_limit"] == 5000
    assert values["query_config"] == {
        "table": "user_sessions",
        "fields": ["platform", {"aggregate": "avg", "field": "duration_seconds"}],
        "filters": [
            {"field": "page_views", "op": "between", "value": [2, 9]},
            {"field": "platform", "op": "in", "value": ["web", "ios"]},
        ],
        "group_by": ["platform"],
    }


def test_engine_problems_land_next_to_the_control_they_name() -> None:
    built = bf.to_values(
        bf.BuilderState(
            table="usage_events",
            columns=[bf.Column("event_type")],
            filters=[bf.FilterRow("duration_ms", "eq", "x")],
            order=[bf.OrderRow("nope")],
        )
    )
    placed = bf.place_errors(
        [
            "filters[0].value: expected a whole number, got 'x'",
            "order_by[0].field: 'nope' is not a result column",
            "visualization_config.y: None is not a numeric column",
            "query: something without a control",
        ],
        built.controls,
    )
    assert set(placed) == {"filter-0", "order-0", "viz-y", "form"}


def test_cron_in_words_and_next_runs_in_the_zone_and_utc_across_the_dst_change() -> None:
    assert describe_cron("0 9 * * 1") == "At 09:00, only on Monday"
    assert describe_cron("@daily") == "At 00:00"
    result = timing("0 9 * * *", "America/New_York", now=dt.datetime(2025, 3, 7, 12, tzinfo=dt.UTC))
    assert [(local.hour, utc.hour) for local, utc in result.runs] == [
        (9, 14),
        (9, 14),
        (9, 13),
        (9, 13),
        (9, 13),
    ]
    assert [local.tzname() for local, _ in result.runs][1:3] == ["EST", "EDT"]
    bad = timing("0 0 31 2 *", "Mars/Olympus")
    assert "never fires" in bad.errors["cron"][0] and "unknown time zone" in bad.errors["timezone"][0]


def test_a_timezone_typo_gets_close_names() -> None:
    assert close_zones("Europe/Berln")[0] == "Europe/Berlin"
    assert close_zones("america/new york") == ["America/New_York"]
    assert "Asia/Tokyo" in close_zones("Tokio")


def test_schedule_form_values() -> None:
    state = ScheduleState.from_form(
        Form(
            [
                ("name", "W"),
                ("cron_expression", "0 9 * * 1"),
                ("timezone", ""),
                ("format", "pdf"),
                ("delivery_method", "both"),
                ("recipients", "a@x.example,\nb@x.example ; a@x.example"),
                ("s3_bucket", "bucket-1"),
                ("is_active", "1"),
            ]
        )
    )
    values = state.values()
    assert values["timezone"] == "UTC" and values["s3_config"] == {"bucket": "bucket-1"}
    assert values["recipients"] == ["a@x.example", "b@x.example", "a@x.example"]


def test_charts_scale_to_their_box() -> None:
    chart = value_chart("bar", "T", [("a", 5.0), ("b", 10.0), ("c", 0.0)])
    assert [round(b.height, 1) for b in chart.bars] == [84.0, 168.0, 0.0]
    assert all(b.y + b.height == chart.baseline for b in chart.bars)
    line = value_chart("line", "T", [("a", 1.0), ("b", 2.0)])
    assert len(line.line.split()) == 2
    rows = [
        {"day": dt.date(2025, 6, 17), "runs": 4, "successful_runs": 3, "new_orders": 10, "total_seconds": 8.0}
    ]
    t = trend(rows, dt.date(2025, 6, 17), 30)
    assert len(t.days) == 30 and t.days[-1].runs == 4 and t.days[0].runs == 0
    assert (t.runs, t.success_rate, t.new_orders, t.avg_seconds) == (4, 75.0, 10, 2.0)


def test_after_sign_in_only_paths_of_this_site() -> None:
    assert safe_next("/reports/new?x=1") == "/reports/new?x=1"
    for unsafe in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None, "reports"):
        assert safe_next(unsafe) == "/"


def test_a_nonce_runs_its_action_once_even_when_submitted_twice_at_the_same_time() -> None:
    once = Once()
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        time.sleep(0.05)
        return f"export-{len(calls)}"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(once.run("acme/a", "n1", action))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["export-1", "export-1"] and len(calls) == 1
    assert once.run("acme/b", "n1", action) == "export-2"
    assert once.run("acme/a", "", action) == "export-3"
