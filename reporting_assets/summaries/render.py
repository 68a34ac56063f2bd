"""Render a customer's day as markdown (the ``daily_summary`` macro of ``templates/daily_summary.md.j2``).

Values reach the template already escaped and marked :class:`MarkdownSafe` (labels, badges
and icons once per process, names and messages through a cache), so the environment's
``finalize`` passes them through: the output is what escaping each value in the template
gives. The template is called as a macro of its module: no new render context per summary.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Any

import jinja2

from reporting_assets.customer_settings.formatting import PLAIN, LocalizedFormat, PlainFormat
from reporting_assets.error_patterns.flagged import FlaggedPattern
from reporting_assets.execution_reports.render import (
    STATUS_BADGES,
    PipelineLabels,
    count_change,
    duration,
    labels_for,
    thousands,
)
from reporting_assets.execution_reports.source_event import EXTERNAL_PREFIX, is_external_run_id
from reporting_assets.markdown_text import MarkdownSafe, link_target, markdown_environment, md_escape
from reporting_assets.partition_keys import CustomerDay
from reporting_assets.summaries.aggregate import DaySummary

TOTAL_LABELS = {
    "new_orders": "New Orders",
    "updated_orders": "Updated Orders",
    "manufacturing_updates": "Manufacturing Updates",
    "shipping_updates": "Shipping Updates",
}
_TOTAL_LABELS = tuple((name, MarkdownSafe(md_escape(label))) for name, label in TOTAL_LABELS.items())
_BADGES = {status: MarkdownSafe(badge) for status, badge in STATUS_BADGES.items()}
_ERROR_ICON = MarkdownSafe(md_escape("❌"))
_WARNING_ICON = MarkdownSafe(md_escape("⚠️"))
_COMPLETE = MarkdownSafe("✅ COMPLETE")
_INCOMPLETE = MarkdownSafe("⚠️ INCOMPLETE")
_NO_TIME = MarkdownSafe("—")
_CLOCK = tuple(MarkdownSafe(f"{h:02d}:{m:02d}") for h in range(24) for m in range(60))  # by minute of day
_ONE_DAY = dt.timedelta(days=1)
_UTC = MarkdownSafe("UTC")
DEFAULT_FLAGGED_SHOWN = 5
"""Flagged error patterns listed in a summary before "... (N more)" (a customer's list length
setting overrides it)."""
_FLAG_ICONS = {"new": MarkdownSafe("🆕 **new**"), "growing": MarkdownSafe("📈 **growing**")}


@dataclass(frozen=True)
class SummaryView:
    """How one customer's day reads: its number, date and time format, its list length, and the
    day's flagged error patterns."""

    fmt: PlainFormat = PLAIN
    list_length: int | None = None
    flagged: Sequence[FlaggedPattern] = ()


@cache
def environment() -> jinja2.Environment:
    return markdown_environment("reporting_assets.summaries", {})


@cache
def summary_macro() -> Callable[..., str]:
    """The template's ``daily_summary`` macro (loaded once per process)."""
    macro: Callable[..., str] = environment().get_template("daily_summary.md.j2").module.daily_summary  # type: ignore[attr-defined]
    return macro


# counts repeat a lot from day to day: their formatted forms are cached
_count = lru_cache(maxsize=4096, typed=True)(thousands)
_change = lru_cache(maxsize=8192, typed=True)(count_change)


def _titles(labels: Mapping[str, PipelineLabels]) -> Callable[[str], MarkdownSafe]:
    """A pipeline's title in summaries (the registry's display name), escaped once per name."""
    made: dict[str, MarkdownSafe] = {}

    def title(pipeline_type: str) -> MarkdownSafe:
        found = made.get(pipeline_type)
        if found is None:
            found = made[pipeline_type] = MarkdownSafe(md_escape(labels_for(pipeline_type, labels).title))
        return found

    return title


def _total_labels(labels: Mapping[str, PipelineLabels]) -> Callable[[str], tuple[MarkdownSafe, MarkdownSafe]]:
    """The totals rows of a pipeline outside the named totals: "CRM Sync: New Contacts" and its
    updated-records label (the registry's labels), escaped once per pipeline."""
    made: dict[str, tuple[MarkdownSafe, MarkdownSafe]] = {}

    def rows(pipeline_type: str) -> tuple[MarkdownSafe, MarkdownSafe]:
        found = made.get(pipeline_type)
        if found is None:
            named = labels_for(pipeline_type, labels)
            found = made[pipeline_type] = (
                MarkdownSafe(md_escape(f"{named.title}: {named.new}")),
                MarkdownSafe(md_escape(f"{named.title}: {named.updated}")),
            )
        return found

    return rows


@lru_cache(maxsize=8192)
def _escaped_text(text: str) -> MarkdownSafe:
    return MarkdownSafe(md_escape(text))


def _escaped(value: object) -> MarkdownSafe:
    """What the environment's ``finalize`` prints for ``value`` (cached for strings)."""
    return _escaped_text(value) if type(value) is str else MarkdownSafe(md_escape(value))


def _clock(started: dt.datetime | None, day: dt.date, zone: zoneinfo.ZoneInfo | None = None) -> MarkdownSafe:
    """The run's start time (UTC, or in ``zone``); with its date when that is not the summary's
    day (a run for the 16th that started at 00:01 on the 17th must not read as the start of the
    16th)."""
    if started is None:
        return _NO_TIME
    if zone is not None:
        started = started.astimezone(zone)
    clock = _CLOCK[started.hour * 60 + started.minute]
    return clock if started.date() == day else MarkdownSafe(f"{started:%m-%d} {clock}")


def _flagged_line(pattern: FlaggedPattern, fmt: PlainFormat) -> MarkdownSafe:
    """``🆕 **new** error, 12x today: Order \\<n\\> failed`` (growing: with every customer's
    count and the 7-day average)."""
    head = f"{_FLAG_ICONS[pattern.flag]} {pattern.severity}, {fmt.integer(pattern.occurrences)}x today"
    if pattern.flag == "growing":
        head += (
            f" (all customers: {fmt.integer(pattern.total_occurrences)}x, "
            f"7-day average {fmt.decimal(pattern.seven_day_average, 1)})"
        )
    return MarkdownSafe(f"{head}: {md_escape(pattern.fingerprint)}")


def _render(
    summary: DaySummary,
    previous: DaySummary | None,
    link: Callable[[str], MarkdownSafe],
    macro: Callable[..., str],
    title: Callable[[str], MarkdownSafe],
    total_labels: Callable[[str], tuple[MarkdownSafe, MarkdownSafe]],
    view: SummaryView | None = None,
) -> str:
    had_runs = previous is not None and previous.total_pipelines > 0
    before = previous.totals if previous is not None and had_runs else None
    current = summary.totals
    day = summary.partition.day
    fmt = view.fmt if view is not None else PLAIN
    flagged: list[MarkdownSafe] = []
    more_flagged = 0
    if view is not None and view.flagged:
        shown = view.list_length or DEFAULT_FLAGGED_SHOWN
        flagged = [_flagged_line(p, fmt) for p in view.flagged[:shown]]
        more_flagged = max(0, len(view.flagged) - shown)
    count: Callable[[int], MarkdownSafe] = _count
    change: Callable[[int, int | None], MarkdownSafe] = _change
    zone, zone_name, day_text = None, _UTC, MarkdownSafe(day.isoformat())
    if isinstance(fmt, LocalizedFormat):  # else the default format, with its cached forms
        count = fmt.integer
        change = partial(count_change, fmt=fmt)
        zone = zoneinfo.ZoneInfo(fmt.time_zone or "UTC")
        zone_name = MarkdownSafe(md_escape(zone.key))
        day_text = fmt.date(day)
    totals: list[tuple[Any, ...]] = [
        (label, count(current[name]), change(current[name], before[name] if before is not None else None))
        for name, label in _TOTAL_LABELS
    ]
    others_before = previous.pipeline_totals if previous is not None and had_runs else None
    if summary.pipeline_totals or others_before:
        for pipeline in sorted(summary.pipeline_totals.keys() | (others_before or {}).keys(), key=title):
            now = summary.pipeline_totals.get(pipeline, (0, 0))
            then = others_before.get(pipeline, (0, 0)) if others_before is not None else None
            for label, value, was in zip(total_labels(pipeline), now, then or (None, None), strict=True):
                totals.append((label, count(value), change(value, was)))
    timeline = [
        (
            _clock(run.run_started_at, day, zone),
            title(run.pipeline_type),
            _BADGES[run.status],
            duration(run.seconds or 0.0, fmt),
            link(run.execution_id),
        )
        for run in summary.timeline
    ]
    problems = [(title(p), _ERROR_ICON, _escaped(m)) for p, m in summary.errors]
    if summary.warnings:
        problems += [(title(p), _WARNING_ICON, _escaped(m)) for p, m in summary.warnings]
    # positional, in the macro's order: Jinja2 matches keyword arguments in Python (2 us a call)
    return macro(
        _escaped(summary.customer_name),  # name
        day_text,  # day
        _COMPLETE if summary.is_complete else _INCOMPLETE,  # status
        [title(p) for p in summary.missing],  # missing
        [title(p) for p in summary.failed],  # failed
        count(summary.total_pipelines),  # runs
        count(summary.successful_pipelines),  # successful
        totals,
        timeline,
        problems,
        zone_name,  # zone
        flagged,
        more_flagged,
    )


def _short_id(run_id: str) -> str:
    """A Dagster run id's first 8 characters; a run reported from outside Dagster is shown by its
    external execution id (up to 16 characters)."""
    if is_external_run_id(run_id):
        return run_id.removeprefix(EXTERNAL_PREFIX).partition(":")[2][:16]
    return run_id[:8]


def _links(run_url: Callable[[str], str]) -> Callable[[str], MarkdownSafe]:
    """The timeline's run link, once per run id (a run reports several pipelines of a day)."""
    made: dict[str, MarkdownSafe] = {}

    def link(run_id: str) -> MarkdownSafe:
        found = made.get(run_id)
        if found is None:
            found = made[run_id] = MarkdownSafe(
                f"[{md_escape(_short_id(run_id))}]({link_target(run_url(run_id))})"
            )
        return found

    return link


def render_summaries(
    partitions: Iterable[CustomerDay],
    summaries: Mapping[CustomerDay, DaySummary],
    run_url: Callable[[str], str],
    labels: Mapping[str, PipelineLabels] | None = None,
    views: Callable[[CustomerDay], SummaryView | None] | None = None,
) -> Iterator[str]:
    """The markdown of each partition's summary (in order), with the change against the day
    before; ``labels`` are the registry's names of the pipelines, ``views`` gives a partition's
    format and flagged patterns (None: the default)."""
    link = _links(run_url)
    macro = summary_macro()
    title = _titles(labels or {})
    total_labels = _total_labels(labels or {})
    by_day = {(p.customer_key, p.day): s for p, s in summaries.items()}
    for p in partitions:
        previous = by_day.get((p.customer_key, p.day - _ONE_DAY))
        yield _render(summaries[p], previous, link, macro, title, total_labels, views(p) if views else None)


def render_summary(
    summary: DaySummary,
    previous: DaySummary | None,
    run_url: Callable[[str], str],
    labels: Mapping[str, PipelineLabels] | None = None,
    view: SummaryView | None = None,
) -> str:
    """The daily summary (docs/report-format.md): totals with change vs the previous day, timeline,
    problems, flagged error patterns."""
    named = labels or {}
    return _render(
        summary, previous, _links(run_url), summary_macro(), _titles(named), _total_labels(named), view
    )
