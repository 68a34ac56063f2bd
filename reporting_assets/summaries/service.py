"""Summarize and store the days of a set of partitions: one read of the reports, one COPY out.

Reports are read in one query (ranges of consecutive days), aggregated and rendered here. Only
summaries whose content hash changed are written. Days without a summary yet stream into the
table through one binary COPY while the next ones render; restated days are staged, the
versions they replace archived, then upserted. A per-customer advisory lock keeps the stored
versions (read first) true until the caller commits, so no other run can insert or restate
those days in between.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple

import orjson
from psycopg import Copy, postgres, sql
from psycopg.adapt import Buffer, Dumper
from psycopg.pq import Format
from psycopg.types.json import set_json_loads

from reporting_assets.customer_settings.rendering import report_format
from reporting_assets.customer_settings.store import settings_for
from reporting_assets.customers import display_names
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.error_patterns.store import flagged_for_days
from reporting_assets.parallel import gc_paused
from reporting_assets.partition_keys import CustomerDay, parse_partition_key
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.summaries.aggregate import DaySummary, ReportRow, summarize
from reporting_assets.summaries.render import SummaryView, render_summaries

_SUMMARIES_TABLE = ("reporting", "daily_customer_summaries")  # names for sql.Identifier
_STAGE_TABLE = ("summaries_stage",)
_COPY_COLUMNS = (  # (column, binary COPY type), in the order of _Built.row
    ("customer_name", "text"),
    ("customer_key", "text"),
    ("summary_date", "date"),
    ("partition_key", "text"),
    ("total_pipelines", "int4"),
    ("successful_pipelines", "int4"),
    ("new_orders", "int4"),
    ("updated_orders", "int4"),
    ("manufacturing_updates", "int4"),
    ("shipping_updates", "int4"),
    ("combined_markdown", "text"),
    ("status_json", "jsonb"),
    ("is_complete", "bool"),
    ("missing_pipelines", "text[]"),
    ("content_hash", "text"),
)
_ONE_DAY = dt.timedelta(days=1)
_DAY_ORDER = attrgetter("customer_key", "day")  # sorting by it compares plain tuples

DayKey = tuple[str, dt.date]


@dataclass(slots=True)
class StoredSummary:
    """A summary as stored. Not frozen, like :class:`DaySummary`: a frozen dataclass costs four
    times as much to build, and a backfill returns one per partition."""

    summary: DaySummary
    markdown: str
    content_hash: str
    version: int


class _Built(NamedTuple):
    summary: DaySummary
    markdown: str
    status_json: str
    content_hash: str

    @property
    def key(self) -> DayKey:
        return self.summary.partition.customer_key, self.summary.partition.day

    def row(self) -> tuple[Any, ...]:
        summary, totals = self.summary, self.summary.totals
        return (
            summary.customer_name,
            summary.partition.customer_key,
            summary.partition.day,
            summary.partition.partition_key,
            summary.total_pipelines,
            summary.successful_pipelines,
            totals["new_orders"],
            totals["updated_orders"],
            totals["manufacturing_updates"],
            totals["shipping_updates"],
            self.markdown,
            self.status_json,
            summary.is_complete,
            summary.missing,
            self.content_hash,
        )


class _JsonbTextDumper(Dumper):
    """A jsonb COPY field from JSON that is already text (the status): the version byte, then the
    text. psycopg's Jsonb wrapper and its dumper cost about a microsecond a row more."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> Buffer:
        return b"\x01" + obj.encode()


@cache
def _copy_statement(table: tuple[str, ...]) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(name) for name, _ in _COPY_COLUMNS)
    return sql.SQL(query("summaries_copy")).format(table=sql.Identifier(*table), columns=columns)


@contextmanager
def _copy_into(conn: Connection, table: tuple[str, ...]) -> Iterator[Copy]:
    cursor = conn.cursor()
    cursor.adapters.register_dumper(None, _JsonbTextDumper)  # used for the jsonb column of set_types
    with cursor.copy(_copy_statement(table)) as copy:
        copy.set_types([kind for _, kind in _COPY_COLUMNS])
        yield copy


def day_ranges(partitions: Sequence[CustomerDay]) -> dict[str, list[Any]]:
    """Sorted ``partitions`` as runs of consecutive days per customer (query parameters)."""
    customers: list[str] = []
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    for p in partitions:
        if customers and customers[-1] == p.customer_key and lasts[-1] + _ONE_DAY == p.day:
            lasts[-1] = p.day
        else:
            customers.append(p.customer_key)
            firsts.append(p.day)
            lasts.append(p.day)
    return {"customer_keys": customers, "first_days": firsts, "last_days": lasts}


def _with_days_before(partitions: Sequence[CustomerDay]) -> list[CustomerDay]:
    """``partitions`` and the day before each (the Change column compares with it), once each,
    sorted. Only the days before that are no partition themselves are built: most are, and a
    frozen :class:`CustomerDay` costs a microsecond to build and another to hash."""
    days = {(p.customer_key, p.day): p for p in partitions}
    for p in partitions:
        before = (p.customer_key, p.day - _ONE_DAY)
        if before not in days:
            days[before] = CustomerDay(*before)
    return sorted(days.values(), key=_DAY_ORDER)


def _report_rows(cursor: Any) -> Callable[[Sequence[Any]], ReportRow]:
    return ReportRow._make


def fetch_reports(conn: Connection, wanted: Sequence[CustomerDay]) -> list[ReportRow]:
    """The reports of the sorted ``wanted`` days, ordered by customer, day and run (in binary:
    dates, timestamps and numbers arrive without text parsing on either side; the warning and
    error lists are parsed by orjson)."""
    with conn.cursor(row_factory=_report_rows, binary=True) as cur:
        set_json_loads(orjson.loads, cur)
        return cur.execute(query("summaries_reports"), day_ranges(wanted)).fetchall()


def stored_versions(conn: Connection, partitions: Sequence[CustomerDay]) -> dict[DayKey, tuple[int, str]]:
    """(version, content hash) of the stored summaries among the sorted ``partitions``."""
    # planned per call (not prepared): the summaries table grows during a backfill
    rows = conn.execute(query("summaries_versions"), day_ranges(partitions), prepare=False)
    return {(r["customer_key"], r["summary_date"]): (r["version"], r["content_hash"]) for r in rows}


def _build(summary: DaySummary, markdown: str, settings_version: int | None = None) -> _Built:
    status_json = summary.status_text()
    if settings_version is not None:  # made with the customer's report settings of that version
        status_json = f'{status_json[:-1]}, "report_settings_version": {settings_version}}}'
    digest = hashlib.sha256(markdown.encode())
    digest.update(status_json.encode())
    return _Built(summary, markdown, status_json, digest.hexdigest())


def _restate(conn: Connection, restated: Sequence[_Built], customers: list[str]) -> dict[DayKey, int]:
    """Archive the stored versions of ``restated`` days and write the new ones; their versions."""
    conn.execute(query("summaries_stage"))
    with _copy_into(conn, _STAGE_TABLE) as copy:
        for item in restated:
            copy.write_row(item.row())
    # planned per call (not prepared): the summaries table grows during a backfill
    conn.execute(query("summaries_archive"), {"customer_keys": customers}, prepare=False)
    rows = conn.execute(query("summaries_restate"), prepare=False)
    return {(r["customer_key"], r["summary_date"]): r["version"] for r in rows}


def summarize_partitions(
    conn: Connection,
    partition_keys: Sequence[str],
    run_url: Callable[[str], str],
    default_expected: Sequence[str] = (),
    asset_url: Callable[[str], str] | None = None,
) -> list[StoredSummary]:
    """Aggregate, render and upsert the summaries of ``partition_keys`` (restatements are versioned).

    ``default_expected`` empty: the registered pipelines marked expected daily. Pipelines are
    named by their registered display names; runs reported from outside Dagster link to their
    external run (or their asset's page, ``asset_url``).
    """
    registry = load_registry(conn)
    default_expected = list(default_expected) or registry.expected_daily
    run_url = registry.run_links(run_url, asset_url)
    partitions = [parse_partition_key(k) for k in dict.fromkeys(partition_keys)]
    wanted = _with_days_before(partitions)
    customers = sorted({p.customer_key for p in partitions})
    expected = {
        r["customer_key"]: r["pipelines"]
        for r in conn.execute(query("summaries_expected"), {"customer_keys": customers})
    }
    names = display_names(conn, customers)
    settings = settings_for(conn, customers, None)
    settings_versions = {key: s.version for key, s in settings.items()}
    flagged = flagged_for_days(conn, day_ranges(sorted(partitions, key=_DAY_ORDER)))
    views = {
        key: SummaryView(report_format(s), s.list_length)
        for key, s in settings.items()
        if s.locale or s.time_zone or s.list_length
    }

    def view(partition: CustomerDay) -> SummaryView | None:
        found = flagged.get((partition.customer_key, partition.day))
        own = views.get(partition.customer_key)
        if found is None:
            return own
        return replace(own or SummaryView(), flagged=found)

    conn.execute(query("summaries_lock"), {"customer_keys": customers})
    stored = stored_versions(conn, sorted(partitions, key=_DAY_ORDER))
    versions = {key: version for key, (version, _) in stored.items()}
    built: list[_Built] = []
    restated: list[_Built] = []
    with gc_paused(), conn.transaction():
        summaries = summarize(wanted, fetch_reports(conn, wanted), names, expected, default_expected)
        markdowns = render_summaries(partitions, summaries, run_url, registry.labels, view)
        with ExitStack() as copying:
            new_days = None
            if any((p.customer_key, p.day) not in stored for p in partitions):
                new_days = copying.enter_context(_copy_into(conn, _SUMMARIES_TABLE))
            for partition, markdown in zip(partitions, markdowns, strict=True):
                item = _build(summaries[partition], markdown, settings_versions.get(partition.customer_key))
                built.append(item)
                previous = stored.get(item.key)
                if previous is None:
                    assert new_days is not None, "the COPY is open whenever a day has no summary yet"
                    new_days.write_row(item.row())  # sent while the next summaries render
                    versions[item.key] = 1
                elif previous[1] != item.content_hash:
                    restated.append(item)
        if restated:
            versions.update(_restate(conn, restated, customers))
    return [StoredSummary(b.summary, b.markdown, b.content_hash, versions[b.key]) for b in built]
