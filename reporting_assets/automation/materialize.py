"""What the automation assets do when they materialize: build, store and show the reports,
then send the alerts. Imported by the asset bodies, so loading the code location does not pay for
the report builder, the store, psycopg, Jinja2 or the mail renderer."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster_shared.check import CheckError

from reporting_assets.automation.alerts import send_alerts
from reporting_assets.automation.assets import (
    AUTOMATION_REPORTS,
    SUCCESS_RATE_CHECK,
    AutomationReportConfig,
)
from reporting_assets.automation.fallback import event_log_reader
from reporting_assets.automation.health import (
    AutomationHealth,
    LocationAutomations,
    automation_health,
    repository_health,
)
from reporting_assets.automation.render import render_markdown
from reporting_assets.automation.report import AutomationReport, ReportRequest, generate_reports, overall
from reporting_assets.automation.resources import AutomationSettingsResource
from reporting_assets.automation.store import reports_for_runs, store_reports
from reporting_assets.automation.window import ReportWindow, current_report_time, iso, parse_report_time
from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.logging_ids import get_logger
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.resources import PostgresResource, ReportSettingsResource


def report_window(config: AutomationReportConfig, now: dt.datetime | None = None) -> ReportWindow:
    moment = parse_report_time(config.report_time) if config.report_time else current_report_time(now)
    return ReportWindow.ending_at(moment, config.time_window_hours)


def report_metadata(reports: list[AutomationReport], window: ReportWindow) -> dict[str, dg.MetadataValue]:
    """The asset view: the markdown report, a table of sources and plottable numbers."""
    totals = overall(reports)
    table = dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "source": r.source,
                    "total": r.metrics.total,
                    "successful": r.metrics.successful,
                    "failed": r.metrics.failed,
                    "partial": r.metrics.partial,
                    "success_rate": round(100 * r.metrics.success_rate, 1)
                    if r.metrics.success_rate is not None
                    else None,
                    "actions_per_hour": r.document["performance_metrics"]["actions_per_hour"],
                    "below_threshold": r.below_alert_threshold,
                    "data": r.document["metadata"]["data_source"],
                    "recommendations": len(r.recommendations),
                }
            )
            for r in reports
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("source", "string"),
                dg.TableColumn("total", "int"),
                dg.TableColumn("successful", "int"),
                dg.TableColumn("failed", "int"),
                dg.TableColumn("partial", "int"),
                dg.TableColumn("success_rate", "float", description="percent; empty when no actions"),
                dg.TableColumn("actions_per_hour", "float"),
                dg.TableColumn("below_threshold", "bool"),
                dg.TableColumn("data", "string", description="lineage, or dagster_event_log (fallback)"),
                dg.TableColumn("recommendations", "int"),
            ]
        ),
    )
    rate = totals["overall_success_rate"]
    return {
        "report": dg.MetadataValue.md(render_markdown(reports, window)),
        "sources": table,
        "window_start": dg.MetadataValue.text(iso(window.start)),
        "window_end": dg.MetadataValue.text(iso(window.end)),
        "time_window_hours": dg.MetadataValue.int(window.hours),
        "total_actions": dg.MetadataValue.int(totals["total_actions"]),
        "success_rate": dg.MetadataValue.float(round(100 * rate, 2) if rate is not None else 0.0),
        "below_alert_threshold": dg.MetadataValue.text(", ".join(totals["below_alert_threshold"]) or "none"),
        "fallback_sources": dg.MetadataValue.text(", ".join(totals["fallback"]) or "none"),
        "recommendations": dg.MetadataValue.int(totals["recommendations"]),
    }


def success_rate_check(reports: list[AutomationReport], threshold: float) -> dg.AssetCheckResult:
    below = [r for r in reports if r.below_alert_threshold]
    return dg.AssetCheckResult(
        check_name=SUCCESS_RATE_CHECK,
        asset_key=AUTOMATION_REPORTS,
        passed=not below,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Below the {threshold * 100:g}% success target: "
            + ", ".join(f"{r.source} {100 * (r.metrics.success_rate or 0):.1f}%" for r in below)
            if below
            else f"Every source with actions is at or above {threshold * 100:g}% success."
        ),
        metadata={
            "threshold": dg.MetadataValue.float(threshold),
            "below": dg.MetadataValue.json(
                {r.source: r.document["performance_metrics"]["overall_success_rate"] for r in below}
            ),
        },
    )


def location_health(
    context: dg.AssetExecutionContext, code_location: LocationAutomations, window: ReportWindow
) -> AutomationHealth:
    """System health over the repository the run was launched from; an in-process run
    (``execute_in_process``, tests) carries none, so then over the schedules and sensors the
    ``code_location`` resource holds (the same names and default statuses)."""
    try:
        repository = context.repository_def
    except CheckError:
        return automation_health(context.instance, code_location.schedules, code_location.sensors, window)
    return repository_health(context.instance, repository, window)


def materialize_reports(
    context: dg.AssetExecutionContext,
    config: AutomationReportConfig,
    postgres: PostgresResource,
    report_settings: ReportSettingsResource,
    automation: AutomationSettingsResource,
    code_location: LocationAutomations,
) -> dg.MaterializeResult:
    """The ``automation_reports`` materialization: the reports of the window, stored, with the
    success-rate check."""
    window = report_window(config)
    settings = automation.rule_settings()
    health = location_health(context, code_location, window)
    request = ReportRequest(window, config.sources, config.detailed, settings, report_settings.run_url)
    with postgres.connection(doing=f"building automation reports for {window.describe()}") as conn:
        sources = load_registry(conn).sources()
        reports = generate_reports(
            conn,
            request,
            health,
            defined_sources=sorted(sources),
            event_log=event_log_reader(context.instance, sources),
        )
        written = store_reports(conn, reports, context.run.run_id)
        conn.commit()  # stored before the materialization and the alert step report on it
    log = get_logger(__name__, context.log)
    log.info(
        "aa-001",
        "Automation reports for %s: %d source(s), %d row(s) written",
        window.describe(),
        len(reports),
        written,
    )
    for report in reports:
        if report.fallback:
            log.warning(
                "aa-002",
                "%s: fallback report from the event log (%s)",
                report.source,
                report.fallback_reason,
            )
    return dg.MaterializeResult(
        metadata=report_metadata(reports, window),
        check_results=[success_rate_check(reports, settings.alert_threshold)],
    )


def materialize_alerts(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    smtp: SmtpResource,
    automation: AutomationSettingsResource,
) -> dg.MaterializeResult:
    """The ``automation_alerts`` materialization: one email per source below the threshold."""
    run = context.run
    run_ids = list(dict.fromkeys(i for i in (run.run_id, run.parent_run_id, run.root_run_id) if i))
    with postgres.connection(doing="sending automation alerts") as conn:
        stored = reports_for_runs(conn, run_ids) or reports_for_runs(conn, [])
        outcome = send_alerts(
            conn,
            smtp.settings(),
            automation.alert_recipients,
            [s.document for s in stored],
            log=context.log.info,
        )
    if outcome.failed:
        raise dg.Failure(description=outcome.failure_message())
    return dg.MaterializeResult(
        metadata={
            "window_end": dg.MetadataValue.text(iso(stored[0].report_time) if stored else "none"),
            "due": dg.MetadataValue.text(", ".join(outcome.due) or "none"),
            "sent": dg.MetadataValue.int(len(outcome.with_status("sent"))),
            "already_sent": dg.MetadataValue.int(len(outcome.with_status("already_sent"))),
            "recipients": dg.MetadataValue.int(len(automation.alert_recipients)),
        }
    )
