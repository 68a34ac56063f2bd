"""``reporting-assets analytics ...``: the analytics tables reports read, on the chosen engine.

``analytics init`` creates the tables where they are missing (ClickHouse: the database and three
MergeTree tables; PostgreSQL: they come with the migrations) and, with ``--sample``, fills them
with the deterministic sample. The engine is ``REPORTING_ANALYTICS_ENGINE`` (postgres or
clickhouse) with ``REPORTING_ANALYTICS_URL`` for a ClickHouse server. ``exports sample-data``
uses the same code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

SAMPLE_DEFAULT_TENANTS = "acme,globex,initech"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that shape the sample (shared with ``exports sample-data``)."""
    parser.add_argument("--tenants", default=SAMPLE_DEFAULT_TENANTS, help="comma-separated tenant ids")
    parser.add_argument("--days", type=_positive, default=90, help="days of data (default 90)")
    parser.add_argument("--end", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD (default today, UTC)")
    parser.add_argument(
        "--events-per-day", type=_positive, default=200, help="events per tenant and weekday (default 200)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def sample_spec(args: argparse.Namespace) -> Any:
    from reporting_assets.exports.sample_data import SampleSpec

    return SampleSpec(
        end=args.end or dt.datetime.now(dt.UTC).date(),
        tenants=tuple(t.strip() for t in args.tenants.split(",") if t.strip()),
        days=args.days,
        events_per_day=args.events_per_day,
    )


def run_init(args: argparse.Namespace, *, sample: bool) -> int:
    """Create the tables (idempotent), optionally insert the sample, and say where."""
    from reporting_assets.exports.analytics import init_analytics
    from reporting_assets.exports.cli import _settings, _url

    settings = _settings()
    spec = sample_spec(args) if sample else None
    result = init_analytics(settings, _url(), spec)
    if args.json:
        shown = result.as_json()
        if spec is not None:
            shown.update(tenants=list(spec.tenants), days=spec.days)
        print(json.dumps(shown, indent=2))
        return 0
    print(f"Analytics tables ready ({result.engine}): {result.where}")
    if spec is not None and result.inserted is not None:
        print(
            f"Sample data for {', '.join(spec.tenants)} ({spec.days} days to {spec.end}): "
            + ", ".join(f"{n:,} {t}" for t, n in result.inserted.items())
            + " inserted"
        )
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    return run_init(args, sample=args.sample)


def add_cli(subparsers: Any) -> None:
    """Add the ``analytics`` command to the top-level subparsers."""
    analytics = subparsers.add_parser(
        "analytics",
        help="the analytics tables reports read (PostgreSQL or ClickHouse)",
        description="The analytics tables (usage_events, user_sessions, device_metrics) on the engine "
        "REPORTING_ANALYTICS_ENGINE chooses: postgres (default) or clickhouse (REPORTING_ANALYTICS_URL for a "
        "server, else the embedded engine in the project home).",
    )
    sub = analytics.add_subparsers(dest="analytics_command", required=True, metavar="ACTION")
    init = sub.add_parser(
        "init",
        help="create the analytics tables where missing (idempotent); --sample adds sample data",
        description="Create the analytics tables where they are missing (ClickHouse: MergeTree ordered by "
        "tenant and time; PostgreSQL: from the migrations). Existing tables and rows are kept.",
    )
    init.add_argument(
        "--sample",
        action="store_true",
        help="also insert the deterministic sample (same rows on either engine)",
    )
    add_sample_arguments(init)
    init.set_defaults(handler=_cmd_init)
