"""A customer's settings turned into what the execution report renderer uses: the number and
date format, the sections shown, the list length and the rendered template blocks."""

from __future__ import annotations

from dataclasses import dataclass

from reporting_assets.contract import RunReport
from reporting_assets.customer_settings.formatting import PLAIN, LocalizedFormat, PlainFormat
from reporting_assets.customer_settings.model import SECTIONS, ReportSettings
from reporting_assets.customer_settings.templates import block_context, compile_blocks, render_blocks
from reporting_assets.markdown_text import MarkdownSafe


@dataclass(frozen=True)
class CustomerRendering:
    """How one report renders for its customer (the default: :data:`DEFAULT_RENDERING`)."""

    fmt: PlainFormat
    shown: dict[str, bool]
    list_length: int | None = None
    header: MarkdownSafe | None = None
    footer: MarkdownSafe | None = None


DEFAULT_RENDERING = CustomerRendering(PLAIN, dict.fromkeys(SECTIONS, True))


def report_format(settings: ReportSettings | None) -> PlainFormat:
    """The customer's number, date and time format (the default when it set neither)."""
    if settings is None or not (settings.locale or settings.time_zone):
        return PLAIN
    return LocalizedFormat(settings.locale, settings.time_zone)


def warm_settings(settings: ReportSettings) -> None:
    """Compile the customer's template blocks and load its locale data in this process now (what
    forked render workers then inherit)."""
    report_format(settings).warm()
    compile_blocks(settings.templates)


def customer_rendering(
    settings: ReportSettings | None, report: RunReport, pipeline_title: str
) -> tuple[CustomerRendering, tuple[str, ...]]:
    """The rendering of ``report`` under ``settings``, and warnings about template blocks that
    failed (those blocks are left out)."""
    if settings is None:
        return DEFAULT_RENDERING, ()
    fmt = report_format(settings)
    blocks = render_blocks(
        settings.templates,
        block_context(
            customer=report.customer,
            customer_key=report.customer_key,
            day=fmt.date(report.execution_date),
            pipeline=report.pipeline_type,
            pipeline_title=pipeline_title,
            status=report.status,
            run_id=report.run_id,
            counts=report.counts.model_dump(),
        ),
    )
    warnings = tuple(f"Customer {report.customer_key!r}: {w}" for w in blocks.warnings)
    return (
        CustomerRendering(
            fmt,
            {name: settings.shows(name) for name in SECTIONS},
            settings.list_length,
            blocks.header,
            blocks.footer,
        ),
        warnings,
    )
