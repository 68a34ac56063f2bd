"""Render a run-report contract as the markdown execution report (docs/report-format.md).

The Jinja2 templates are in ``templates/``. Rendering is a pure function of (report, previous
day's report, run URL, generated-at), so re-rendering unchanged inputs yields byte-identical
markdown.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import jinja2
import orjson

from reporting_assets.contract import Change, RunReport
from reporting_assets.customer_settings.formatting import PLAIN, PlainFormat
from reporting_assets.customer_settings.model import ReportSettings
from reporting_assets.customer_settings.rendering import DEFAULT_RENDERING, CustomerRendering, warm_settings
from reporting_assets.markdown_text import MarkdownSafe, code_block_safe, link_target, markdown_environment

DEFAULT_LIST_LENGTH = 10
ORDER_CATEGORIES = {"new_order": "✅ New Orders Added", "order_updated": "📝 Orders Updated"}
STATUS_BADGES = {"success": "✅ SUCCESS", "partial": "⚠️ PARTIAL", "failed": "❌ FAILED"}


@dataclass(frozen=True)
class PipelineLabels:
    """How a pipeline is named in reports: its title and the "new" and "updated" rows (from the
    pipeline registry)."""

    title: str
    new: str = "New Records"
    updated: str = "Updated Records"


def labels_for(pipeline_type: str, labels: Mapping[str, PipelineLabels] | None = None) -> PipelineLabels:
    """The registry's labels of ``pipeline_type``, else ones made from its name."""
    found = (labels or {}).get(pipeline_type)
    return found or PipelineLabels(pipeline_type.replace("_", " ").title())


@dataclass(frozen=True)
class RunLinks:
    """Where a report's footer points: the Dagster run, or for a run reported from outside
    Dagster the external run (from the registry's template) and the Dagster event."""

    dagster: str | None
    external: str | None = None
    external_id: str | None = None


def thousands(value: float | int, fmt: PlainFormat = PLAIN) -> MarkdownSafe:
    if isinstance(value, float) and not value.is_integer():
        return fmt.decimal(value, 2)
    return fmt.integer(int(value))


def duration(seconds: float, fmt: PlainFormat = PLAIN) -> MarkdownSafe:
    if seconds < 1:
        return MarkdownSafe(f"{fmt.fixed(seconds * 1000, 0)} ms")
    if seconds < 60:
        return MarkdownSafe(f"{fmt.fixed(seconds, 1)} seconds")
    return MarkdownSafe(f"{fmt.fixed(seconds / 60, 1)} minutes")


def _short_seconds(seconds: float, fmt: PlainFormat) -> str:
    seconds = abs(seconds)
    if seconds < 60:
        return f"{fmt.fixed(seconds, 0)}s" if seconds >= 1 else f"{fmt.fixed(seconds, 1)}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest}s" if rest else f"{minutes}m"


def count_change(current: int, previous: int | None, fmt: PlainFormat = PLAIN) -> MarkdownSafe:
    """The report's Change column for counts: "+12 from yesterday"."""
    if previous is None:
        return MarkdownSafe("first run")
    diff = current - previous
    if diff == 0:
        return MarkdownSafe("no change from yesterday")
    return MarkdownSafe(f"{fmt.signed(diff)} from yesterday")


def time_change(current: float, previous: float | None, fmt: PlainFormat = PLAIN) -> MarkdownSafe:
    """The report's Change column for time: "-30s improvement" / "+12s slower"."""
    if previous is None:
        return MarkdownSafe("first run")
    diff = current - previous
    if abs(diff) < 0.05:
        return MarkdownSafe("no change")
    sign = "-" if diff < 0 else "+"
    return MarkdownSafe(f"{sign}{_short_seconds(diff, fmt)} {'improvement' if diff < 0 else 'slower'}")


def performance_json(report: RunReport) -> MarkdownSafe:
    return code_block_safe(indented_json(performance_payload(report)))


def performance_payload(report: RunReport) -> dict[str, object]:
    """What the report's Performance Metrics block shows, as JSON."""
    metrics = report.metrics
    payload: dict[str, object] = {
        "execution_time_seconds": metrics.execution_time_seconds,
        "records_per_second": metrics.records_per_second,
        "database_operations": metrics.database_operations.model_dump(),
        "api_calls": metrics.api_calls,
        "error_count": metrics.error_count,
        "warning_count": metrics.warning_count,
    }
    if metrics.custom:
        payload["custom"] = dict(sorted(metrics.custom.items()))
    return payload


def indented_json(value: object) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, written by orjson when its text is the
    same: with ``indent`` the standard library runs its pure-Python encoder (~13 µs of a report's
    performance block; orjson and the check below take ~2 µs)."""
    if same_in_orjson(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONEncodeError:  # ints beyond 64 bits, lone surrogates, non-str keys
            pass
    return json.dumps(value, indent=2, ensure_ascii=False)


_SAME_LEAVES = frozenset({str, int, bool, type(None)})


def same_in_orjson(value: object) -> bool:
    """Whether orjson writes ``value`` as ``json.dumps`` does, or refuses it (then it raises).

    Both write strings (same escapes), ints, dicts and lists alike, and floats as Python's
    ``repr`` except where ``repr`` uses an exponent (below 1e-4 and from 1e16: orjson writes
    ``0.00001`` for ``1e-05``); NaN and infinities orjson writes as null. Exact types only: a
    subclass may serialize differently. Tested against ``json.dumps`` on generated values.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) in _SAME_LEAVES:
            continue
        if type(item) is float:
            if not (item == 0.0 or 1e-4 <= abs(item) < 1e16):
                return False
        elif type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        else:
            return False
    return True


@jinja2.pass_context
def _thousands_filter(context: jinja2.runtime.Context, value: float | int) -> MarkdownSafe:
    """``|thousands`` in the report's format (the ``fmt`` the report renders with)."""
    return thousands(value, context["fmt"])


@cache
def environment() -> jinja2.Environment:
    return markdown_environment("reporting_assets.execution_reports", {"thousands": _thousands_filter})


def warm(settings: Iterable[ReportSettings] = ()) -> None:
    """Compile the report's templates, and the template blocks and locale data of the customers'
    ``settings``, in this process now: forked render workers inherit them by copy-on-write
    instead of each compiling and loading them again (~25 ms for the templates, ~14 ms per
    locale, per worker)."""
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)
    for customer in settings:
        warm_settings(customer)


def render_report(
    report: RunReport,
    *,
    previous: RunReport | None,
    run_url: str | RunLinks | None,
    generated_at: dt.datetime | None,
    list_length: int = DEFAULT_LIST_LENGTH,
    labels: PipelineLabels | None = None,
    custom: CustomerRendering = DEFAULT_RENDERING,
) -> str:
    """The execution report's markdown for one run; ``previous`` is the same pipeline's run the
    day before. ``run_url`` is the Dagster run's link, or :class:`RunLinks` of an external run;
    ``custom``: the customer's format, sections, list length and template blocks."""
    labels = labels or labels_for(report.pipeline_type)
    links = run_url if isinstance(run_url, RunLinks) else RunLinks(run_url)
    fmt = custom.fmt
    list_length = custom.list_length or list_length
    prev_counts = previous.counts if previous else None
    summary_rows = [
        (
            labels.new,
            thousands(report.counts.new, fmt),
            count_change(report.counts.new, prev_counts.new if prev_counts else None, fmt),
        ),
        (
            labels.updated,
            thousands(report.counts.updated, fmt),
            count_change(report.counts.updated, prev_counts.updated if prev_counts else None, fmt),
        ),
        (
            "Processing Time",
            duration(report.metrics.execution_time_seconds, fmt),
            time_change(
                report.metrics.execution_time_seconds,
                previous.metrics.execution_time_seconds if previous else None,
                fmt,
            ),
        ),
        (
            "Records Processed",
            thousands(report.counts.records_processed, fmt),
            count_change(
                report.counts.records_processed,
                prev_counts.records_processed if prev_counts else None,
                fmt,
            ),
        ),
    ]
    if report.counts.failed or (prev_counts and prev_counts.failed):
        summary_rows.append(
            (
                "Failed Records",
                thousands(report.counts.failed, fmt),
                count_change(report.counts.failed, prev_counts.failed if prev_counts else None, fmt),
            )
        )
    for name, value in sorted(report.metrics.custom.items()):
        before = report.metrics.previous.get(name)
        change = (
            MarkdownSafe("—")
            if before is None
            else MarkdownSafe(f"{fmt.signed_decimal(value - before, 2)} vs previous")
        )
        summary_rows.append((name.replace("_", " ").title(), thousands(value, fmt), change))

    # the changes of the categories listed below, in one pass (not one per category; no pass when
    # no category is listed, as in reports whose changes all belong to the summary sections)
    listed = [c for c in report.change_counts if c not in _SECTION_CATEGORIES]
    by_category: dict[str, list[Change]] = {c: [] for c in listed}
    if by_category:
        for entry in report.changes:
            if (group := by_category.get(entry.category)) is not None:
                group.append(entry)
    order_sections = []
    other_changes = []
    for category, title in ORDER_CATEGORIES.items():
        total = report.change_counts.get(category, 0)
        if total:
            items = by_category[category]
            order_sections.append((title, total, items[:list_length], _more(total, items, list_length)))
    for category, total in sorted(report.change_counts.items()):
        if category in ORDER_CATEGORIES or category in _SECTION_CATEGORIES:
            continue
        items = by_category[category]
        other_changes.append(
            (category.replace("_", " ").title(), total, items[:list_length], _more(total, items, list_length))
        )

    template = environment().get_template("execution_report.md.j2")
    return template.render(
        report=report,
        pipeline_title=labels.title,
        status_badge=MarkdownSafe(STATUS_BADGES[report.status]),
        summary_rows=summary_rows,
        order_sections=order_sections,
        other_changes=other_changes,
        performance=performance_json(report),
        execution_id=links.external_id or report.run_id,
        external=links.external_id is not None,
        run_url=link_target(links.dagster) if links.dagster else None,
        external_url=link_target(links.external) if links.external else None,
        generated_at=fmt.timestamp(generated_at) if generated_at else None,
        fmt=fmt,
        show=custom.shown,
        customer_header=custom.header,
        customer_footer=custom.footer,
    )


_SECTION_CATEGORIES = {"stage_move", "qc_flagged", "qc_passed", "ready_to_ship", "shipped"}


def _more(total: int, items: list, list_length: int) -> int:
    """How many entries the "... (N more)" line stands for (count-weighted beyond the shown)."""
    shown = sum(c.count for c in items[:list_length])
    return max(total - shown, 0)
