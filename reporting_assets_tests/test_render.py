"""Rendering a run-report contract as the markdown execution report (golden file, change phrases,
escaping)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import urllib.parse
from pathlib import Path

import pytest

from reporting_assets.contract import (
    Change,
    Counts,
    DatabaseOperations,
    ManufacturingSummary,
    Metrics,
    RunReport,
    ShippingSummary,
)
from reporting_assets.customer_settings import templates
from reporting_assets.customer_settings.model import ReportSettings, TemplateBlocks
from reporting_assets.customer_settings.templates import SAMPLE_CONTEXT, render_blocks
from reporting_assets.execution_reports import render as render_module
from reporting_assets.execution_reports.render import PipelineLabels, count_change, render_report, time_change
from reporting_assets.markdown_text import link_target, md_escape
from reporting_assets_tests.helpers import GOLDEN_DIR, REPO_ROOT

GOLDEN = GOLDEN_DIR / "order_sync_report.md"
RUN_ID = "3f2a9c1e-5b7d-4e21-9a0c-8d6f1b2e4a77"
RUN_URL = f"http://localhost:3000/runs/{RUN_ID}"
GENERATED_AT = dt.datetime(2025, 6, 17, 15, 30, 22, tzinfo=dt.UTC)
ORDER_SYNC_LABELS = PipelineLabels("Order Sync", "New Orders", "Updated Orders")
"""The labels the registry gives the sample order sync."""
DAY = dt.date(2025, 6, 17)
NEW_ORDERS = [
    ("ACT-2025-001", "Spring Collection Hoodie", 500),
    ("ACT-2025-002", "Summer Tee Basic", 1200),
    ("ACT-2025-003", "Winter Jacket Premium", 300),
    ("ACT-2025-004", "Rain Shell", 650),
    ("ACT-2025-005", "Polo Classic", 900),
]
UPDATED_ORDERS = [
    ("ACT-2024-945", "Quantity changed: 800 → 850 (+50)"),
    ("ACT-2024-902", "Delivery date updated: 2025-07-15 → 2025-07-10"),
    ("ACT-2024-888", "Status: In Production → Ready to Ship"),
    ("ACT-2024-870", "Quantity changed: 1,000 → 950 (-50)"),
]


def order_sync_report(**overrides: object) -> RunReport:
    """The sample order-sync run of docs/report-format.md, built by hand with fixed values."""
    changes = [
        Change(category="new_order", description=f"{product} (Qty: {qty:,})", key=key, quantity=qty)
        for key, product, qty in NEW_ORDERS
    ] + [Change(category="order_updated", description=text, key=key) for key, text in UPDATED_ORDERS]
    fields: dict[str, object] = dict(
        customer="ACTIVELY BLACK",
        customer_key="ACTIVELY BLACK",
        pipeline_type="order_sync",
        execution_date=DAY,
        status="success",
        run_id=RUN_ID,
        started_at=dt.datetime(2025, 6, 17, 15, 28, 0, tzinfo=dt.UTC),
        finished_at=dt.datetime(2025, 6, 17, 15, 30, 24, tzinfo=dt.UTC),
        counts=Counts(records_processed=1247, new=45, updated=23),
        changes=changes,
        changes_total=68,
        change_counts={"new_order": 45, "order_updated": 23},
        manufacturing=ManufacturingSummary(
            stage_moves={"Cut Complete": 5, "Sewing In Progress": 8, "Finished Goods": 12},
            qc_flagged=3,
            qc_passed=15,
            delayed=2,
        ),
        shipping=ShippingSummary(
            ready_to_ship=18,
            ready_volume=45600,
            estimated_ship_date=dt.date(2025, 6, 18),
            shipped_by_carrier={"FedEx": 12, "UPS": 8},
            shipped_volume=32100,
        ),
        metrics=Metrics(
            execution_time_seconds=144.0,
            records_per_second=8.66,
            database_operations=DatabaseOperations(inserts=45, updates=23, queries=156),
            api_calls={"manufacturing_system": 8, "monday_com": 12, "shipping_system": 5},
        ),
        next_actions=[
            "Review 3 quality flagged orders",
            "Coordinate pickup for 18 ready-to-ship orders",
            "Follow up on 2 delayed production items",
        ],
    )
    fields.update(overrides)
    return RunReport.model_validate(fields)


def previous_day_report() -> RunReport:
    return RunReport(
        customer="ACTIVELY BLACK",
        customer_key="ACTIVELY BLACK",
        pipeline_type="order_sync",
        execution_date=DAY - dt.timedelta(days=1),
        status="success",
        run_id="0b1c2d3e-0000-4000-8000-000000000001",
        counts=Counts(records_processed=1091, new=33, updated=18),
        metrics=Metrics(execution_time_seconds=174.0),
    )


def render(report: RunReport, previous: RunReport | None = None, **kwargs: object) -> str:
    options: dict[str, object] = dict(
        previous=previous, run_url=RUN_URL, generated_at=GENERATED_AT, labels=ORDER_SYNC_LABELS
    )
    options.update(kwargs)
    return render_report(report, **options)  # type: ignore[arg-type]


def section(markdown: str, heading: str) -> str:
    """The text of the ``## heading`` section, up to the next ``---`` rule."""
    start = markdown.index(heading)
    end = markdown.find("\n---\n", start)
    return markdown[start : end if end != -1 else len(markdown)]


# --- golden file -------------------------------------------------------------------------------


def test_order_sync_report_matches_golden_file() -> None:
    markdown = render(order_sync_report(), previous_day_report(), list_length=3)
    if os.environ.get("UPDATE_GOLDEN") == "1":  # regenerate on purpose, then review the diff
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(markdown, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing; create it with UPDATE_GOLDEN=1 and review it"
    assert markdown == GOLDEN.read_text(encoding="utf-8")


def test_golden_report_follows_the_seed_structure() -> None:
    markdown = render(order_sync_report(), previous_day_report(), list_length=3)
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# 📋 Pipeline Execution Report",
        "## 📊 Execution Summary",
        "## 🔄 Order Changes",
        "### ✅ New Orders Added (45)",
        "### 📝 Orders Updated (23)",
        "## 🏭 Manufacturing Updates",
        "### Production Status Changes",
        "### Quality Control",
        "## 🚚 Shipping Updates",
        "### Ready to Ship",
        "### Shipped Today",
        "## ⚡ Performance Metrics",
        "## 🎯 Next Actions",
    ]
    assert "**Customer**: ACTIVELY BLACK  \n" in markdown
    assert "**Date**: 2025-06-17  \n" in markdown
    assert "**Pipeline**: Order Sync  \n" in markdown
    assert "**Status**: ✅ SUCCESS  \n" in markdown
    summary = section(markdown, "## 📊 Execution Summary")
    assert "| **New Orders** | 45 | +12 from yesterday |" in summary
    assert "| **Updated Orders** | 23 | +5 from yesterday |" in summary
    assert "| **Processing Time** | 2.4 minutes | -30s improvement |" in summary
    assert "| **Records Processed** | 1,247 | +156 from yesterday |" in summary
    changes = section(markdown, "## 🔄 Order Changes")
    assert "- **ACT-2025-001** - Spring Collection Hoodie (Qty: 500)" in changes
    assert "- **ACT-2025-002** - Summer Tee Basic (Qty: 1,200)" in changes
    assert "ACT-2025-004" not in changes  # past list_length
    assert "- ... (42 more)" in changes
    assert "- ... (20 more)" in changes
    manufacturing = section(markdown, "## 🏭 Manufacturing Updates")
    assert '- **8 orders** moved to "Sewing In Progress"' in manufacturing
    assert "- **3 orders** flagged for quality review" in manufacturing
    assert "- **15 orders** passed final inspection" in manufacturing
    shipping = section(markdown, "## 🚚 Shipping Updates")
    assert "- **Total volume**: 45,600 units" in shipping
    assert "- **Estimated ship date**: 2025-06-18" in shipping
    assert "- **12 orders** shipped via FedEx" in shipping
    assert "- **Total shipped volume**: 32,100 units" in shipping
    performance = section(markdown, "## ⚡ Performance Metrics")
    body = performance.split("```json\n", 1)[1].split("\n```", 1)[0]
    payload = json.loads(body)
    assert payload["execution_time_seconds"] == 144.0
    assert payload["database_operations"] == {"inserts": 45, "updates": 23, "deletes": 0, "queries": 156}
    assert payload["api_calls"]["monday_com"] == 12
    actions = section(markdown, "## 🎯 Next Actions")
    assert "- [ ] Review 3 quality flagged orders" in actions
    assert actions.count("- [ ] ") == 3
    assert "*Report generated at: 2025-06-17 15:30:22*" in markdown
    assert f"*Dagster Run: [View Details]({RUN_URL})*" in markdown
    assert markdown.rstrip().endswith(f"[View Details]({RUN_URL})*")


def test_rerendering_the_same_inputs_is_byte_identical() -> None:
    first = render(order_sync_report(), previous_day_report())
    second = render(order_sync_report(), previous_day_report())
    assert first.encode() == second.encode()


def test_default_list_length_shows_every_listed_change_up_to_ten() -> None:
    markdown = render(order_sync_report(), previous_day_report())
    for key, _, _ in NEW_ORDERS:
        assert f"**{key}**" in markdown
    assert "- ... (40 more)" in markdown  # 45 new orders, 5 listed
    assert "- ... (19 more)" in markdown  # 23 updated orders, 4 listed


def test_first_run_without_previous_day() -> None:
    markdown = render(order_sync_report(), previous=None, run_url=None, generated_at=None)
    summary = section(markdown, "## 📊 Execution Summary")
    rows = [line for line in summary.splitlines() if line.startswith("| **")]
    assert len(rows) == 4
    assert all(row.endswith("| first run |") for row in rows)
    assert "*Report generated at: not stored yet*" in markdown
    assert "*Dagster Run: not recorded*" in markdown


def test_a_hostile_run_link_cannot_break_out_of_the_footer_link() -> None:
    hostile = "http://ui/runs/a) [x](javascript:alert(1)"
    markdown = render(order_sync_report(), previous=None, run_url=hostile, generated_at=None)
    footer = "*Dagster Run: [View Details](http://ui/runs/a%29%20%5Bx%5D%28javascript:alert%281%29)*"
    assert footer in markdown
    assert "[x](javascript" not in markdown


# --- change phrases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (45, None, "first run"),
        (45, 33, "+12 from yesterday"),
        (10, 25, "-15 from yesterday"),
        (7, 7, "no change from yesterday"),
        (0, 0, "no change from yesterday"),
        (2500, 1000, "+1,500 from yesterday"),
    ],
)
def test_count_change(current: int, previous: int | None, expected: str) -> None:
    assert count_change(current, previous) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (144.0, None, "first run"),
        (144.0, 174.0, "-30s improvement"),
        (156.0, 144.0, "+12s slower"),
        (144.0, 144.0, "no change"),
        (144.02, 144.0, "no change"),
        (60.0, 150.0, "-1m 30s improvement"),
        (300.0, 180.0, "+2m slower"),
        (1.0, 0.5, "+0.5s slower"),
    ],
)
def test_time_change(current: float, previous: float | None, expected: str) -> None:
    assert time_change(current, previous) == expected


def test_failed_records_row_appears_when_records_failed() -> None:
    report = order_sync_report(counts=Counts(records_processed=1247, new=45, updated=23, failed=4))
    markdown = render(report, previous_day_report())
    assert "| **Failed Records** | 4 | +4 from yesterday |" in markdown


# --- untrusted text stays inert ------------------------------------------------------------------


def _summary_rows(markdown: str) -> list[str]:
    return [
        line for line in section(markdown, "## 📊 Execution Summary").splitlines() if line.startswith("|")
    ]


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_and_html_in_names_are_inert() -> None:
    hostile = "<script>alert(1)</script> **ACME** | x"
    report = order_sync_report(
        customer=hostile,
        changes=[
            Change(
                category="new_order",
                description="**Bold** <img src=x onerror=alert(1)> | [x](http://e)",
                key="<b>K</b>|1",
            ),
            Change(category="order_updated", description="# Heading\n- injected item", key="ACT-1"),
            Change(category="order_updated", description="```\n## Fenced\n```", key="ACT-2"),
        ],
        metrics=Metrics(execution_time_seconds=3.0, custom={"evil|metric": 1.0}),
        next_actions=["<script>x</script> | **do it**"],
    )
    markdown = render(report, previous_day_report())
    assert "<script>" not in markdown
    assert not re.search(r"(?<!\\)[<>]", markdown), "raw HTML angle bracket in the report"
    assert "**ACME**" not in markdown
    assert "\\*\\*ACME\\*\\*" in markdown
    assert "**Customer**: \\<script\\>alert(1)\\</script\\> \\*\\*ACME\\*\\* \\| x  \n" in markdown
    assert "**Bold**" not in markdown
    assert "](http://e)" in markdown and "\\[x\\](http://e)" in markdown
    # no injected heading or list item: the description stays on its list line
    assert not any(line.startswith("# Heading") for line in markdown.splitlines())
    assert "- **ACT-1** - \\# Heading - injected item" in markdown
    assert "- **ACT-2** - \\`\\`\\` ## Fenced \\`\\`\\`" in markdown
    assert not any(line.startswith(("## Fenced", "```")) for line in section(markdown, "## 🔄").splitlines())
    # the summary table keeps its shape: header, rule, four rows plus the custom metric row
    rows = _summary_rows(markdown)
    assert len(rows) == 2 + 4 + 1
    assert all(_unescaped_pipes(row) == 4 for row in rows), rows


def test_backticks_cannot_break_out_of_the_json_code_block() -> None:
    report = order_sync_report(
        metrics=Metrics(
            execution_time_seconds=2.0,
            # a line break in a name is refused by the contract itself (test_contract); backticks are not
            api_calls={"``` # pwned ```": 3, "sys````": 1, "```": 2},
            custom={"```": 1.0},
        )
    )
    markdown = render(report, previous_day_report())
    performance = section(markdown, "## ⚡ Performance Metrics")
    lines = performance.splitlines()
    opening = lines.index("```json")
    fences = [i for i, line in enumerate(lines) if re.fullmatch(r" {0,3}(`{3,}|~{3,}).*", line)]
    # exactly the opening fence and one closing fence, and the closing fence ends the section
    assert fences == [opening, len(lines) - 1], lines
    assert lines[-1] == "```"
    assert not any(line.startswith("# pwned") for line in markdown.splitlines())
    assert markdown.count("## 🎯 Next Actions") == 1


# --- failed runs -------------------------------------------------------------------------------


def test_failed_status_badge_and_errors_section() -> None:
    report = order_sync_report(
        status="failed",
        errors=["Pipeline failed: RuntimeError: board API returned 503", "Second <problem> | here"],
        warnings=["12 orders are past their delivery date and not shipped"],
        metrics=Metrics(execution_time_seconds=3.5, error_count=2, warning_count=1),
    )
    markdown = render(report, previous_day_report())
    assert "**Status**: ❌ FAILED  \n" in markdown
    assert "✅ SUCCESS" not in markdown
    problems = section(markdown, "## ⚠️ Warnings and Errors")
    assert "### ❌ Errors (2)" in problems
    assert "- Pipeline failed: RuntimeError: board API returned 503" in problems
    assert "- Second \\<problem\\> \\| here" in problems
    assert "### ⚠️ Warnings (1)" in problems
    assert "- 12 orders are past their delivery date and not shipped" in problems
    # the problems section sits between shipping and performance
    assert markdown.index("## 🚚 Shipping Updates") < markdown.index("## ⚠️ Warnings and Errors")
    assert markdown.index("## ⚠️ Warnings and Errors") < markdown.index("## ⚡ Performance Metrics")


def test_partial_status_badge() -> None:
    markdown = render(order_sync_report(status="partial", errors=["1 record rejected"]), None)
    assert "**Status**: ⚠️ PARTIAL  \n" in markdown
    assert "### ❌ Errors (1)" in markdown


def test_external_execution_id_line_only_when_present() -> None:
    assert "External Execution ID" not in render(order_sync_report(), None)
    markdown = render(order_sync_report(external_execution_id="kestra_exec_20250617_001234"), None)
    header = markdown.split("\n---\n", 1)[0]
    assert "**External Execution ID**: kestra\\_exec\\_20250617\\_001234  \n" in header
    assert (
        header.index("**Execution ID**")
        < header.index("**External Execution ID**")
        < header.index("**Status**")
    )


def _md_escape_reference(value: object) -> str:
    """md_escape without its fast path: collapse whitespace, escape inline and line-start syntax."""
    text = " ".join(str(value).split())
    text = re.sub(r"([\\`*_\[\]<>|~&!{}])", r"\\\1", text)
    return re.sub(r"^(\s*)([#+\-=>]|\d+[.)])", lambda m: m.group(1) + "\\" + m.group(2), text)


def _tricky_texts() -> list[str]:
    """Every string of up to 3 characters over an alphabet of markdown syntax, whitespace,
    digits and letters, plus longer mixes."""
    alphabet = ["a", "Z", "1", "9", " ", "  ", "\t", "\n", "\u00a0", "#", "-", "+", "=", ">", ".", ")",
                "*", "_", "[", "`", "|", "\\", "<", "&", "é", "ü"]  # fmt: skip
    texts = ["".join(p) for n in range(4) for p in itertools.product(alphabet, repeat=n)]
    return [*texts, "ACTIVELY BLACK", "12. item", "run-00001-0001-0", " padded ", "a  b", "1) x", "x 1) y"]


def test_md_escape_fast_path_gives_what_full_escaping_gives() -> None:
    for text in _tricky_texts():
        assert md_escape(text) == _md_escape_reference(text), repr(text)
    assert md_escape(None) == ""
    assert md_escape(1234) == "1234"


def test_link_target_fast_path_gives_what_percent_encoding_gives() -> None:
    safe = ":/?&=#%@+,;~!$'*-._"
    for text in [*_tricky_texts(), "http://localhost:3000/runs/3f2a9c1e", "http://h/runs/a b(c)"]:
        assert link_target(text) == urllib.parse.quote(text, safe=safe), repr(text)


def test_warm_compiles_the_report_templates_and_the_customers_blocks(tmp_path: Path) -> None:
    """What forked render workers inherit: every report template, and each customer's blocks,
    compiled once in the run's process (a broken block is left for render time to report)."""
    render_module.environment.cache_clear()
    assert not render_module.environment().cache
    header = "> {{ customer }} on {{ date }}"
    blocks = TemplateBlocks(str(tmp_path), header, "{% if %}broken")
    render_module.warm([ReportSettings("PELOTON", locale="de_DE", templates=blocks)])

    files = {p.name for p in (REPO_ROOT / "reporting_assets/execution_reports/templates").glob("*.j2")}
    cached = {name for _, name in render_module.environment().cache}
    assert cached == files and "execution_report.md.j2" in files
    compiled = templates._compiled.cache_info().misses
    rendered = render_blocks(TemplateBlocks(str(tmp_path), header, None), SAMPLE_CONTEXT)
    assert rendered.header == "> Sample Customer on 2025-06-17"
    assert templates._compiled.cache_info().misses == compiled  # compiled by warm, not here
    render(order_sync_report())
    assert {name for _, name in render_module.environment().cache} == files
