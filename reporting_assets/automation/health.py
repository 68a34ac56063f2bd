"""System health: the code location's schedules and sensors, running or not, and failing or not.

The report's ``active_rules`` / ``total_rules`` count the automations this code location defines
(``total``) and those that are running (``active``): a stored instigator state in the instance
(started or stopped from the UI/CLI) wins; without one, the definition's default status holds.
Failed ticks in the report window (read from the instance's tick storage) say which are failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from reporting_assets.automation.window import ReportWindow, iso

if TYPE_CHECKING:  # Dagster is imported where it is used: reports and rules load without it
    import dagster as dg
    from dagster._core.definitions.partitions.partitioned_schedule import (
        UnresolvedPartitionedAssetScheduleDefinition,
    )
    from dagster._core.scheduler.instigation import InstigatorState

    # A schedule as Definitions holds it (a partitioned asset job's is resolved with the repository).
    Schedule = dg.ScheduleDefinition | UnresolvedPartitionedAssetScheduleDefinition

Kind = Literal["schedule", "sensor"]
_MAX_ERROR_CHARS = 300
_WRAPPERS = {"SensorExecutionError", "ScheduleExecutionError"}  # Dagster's, around the user's error


@dataclass(frozen=True)
class Automation:
    """One schedule or sensor as the report sees it."""

    name: str
    kind: Kind
    running: bool
    status_from: Literal["instance", "default"]
    failed_ticks: int = 0
    last_error: str | None = None
    last_failure_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "status": "running" if self.running else "stopped",
            "failed_ticks": self.failed_ticks,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class AutomationHealth:
    automations: list[Automation] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.automations)

    @property
    def active(self) -> int:
        return sum(a.running for a in self.automations)

    @property
    def utilization_rate(self) -> float | None:
        return round(self.active / self.total, 3) if self.total else None

    @property
    def failing(self) -> list[Automation]:
        return [a for a in self.automations if a.failed_ticks]

    @property
    def stopped(self) -> list[Automation]:
        return [a for a in self.automations if not a.running]

    def of_kind(self, kind: Kind) -> list[Automation]:
        return [a for a in self.automations if a.kind == kind]

    def as_json(self) -> dict[str, Any]:
        """The report's ``system_health`` section (rules = automations): core keys, then the breakdown."""
        return {
            "active_rules": self.active,
            "total_rules": self.total,
            "rule_utilization_rate": self.utilization_rate,
            "schedules_running": sum(a.running for a in self.of_kind("schedule")),
            "schedules_total": len(self.of_kind("schedule")),
            "sensors_running": sum(a.running for a in self.of_kind("sensor")),
            "sensors_total": len(self.of_kind("sensor")),
            "failed_ticks": sum(a.failed_ticks for a in self.automations),
            "automations": [a.as_json() for a in self.automations],
        }


def _default_running(definition: Schedule | dg.SensorDefinition) -> bool:
    status = definition.default_status
    return status is not None and status.value == "RUNNING"


def _state_running(state: InstigatorState, default_running: bool) -> bool:
    from dagster._core.scheduler.instigation import InstigatorStatus

    if state.status == InstigatorStatus.RUNNING:
        return True
    if state.status == InstigatorStatus.STOPPED:
        return False
    return default_running  # DECLARED_IN_CODE / AUTOMATICALLY_RUNNING: the code decides


def _user_error(error: Any) -> str:
    """The first error in the cause chain that is not a Dagster wrapper, on one line."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    chosen = next(
        (e for e in chain if not (e.cls_name or "").startswith("Dagster") and e.cls_name not in _WRAPPERS),
        None,
    )
    chosen = chosen or chain[0]
    message = " ".join(str(chosen.message).split())
    prefix = f"{chosen.cls_name}: " if chosen.cls_name else ""
    text = message if message.startswith(prefix) else prefix + message
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _states(
    instance: dg.DagsterInstance, repository_name: str, location_name: str | None
) -> dict[tuple[Kind, str], InstigatorState]:
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    found: dict[tuple[Kind, str], InstigatorState] = {}
    if instance.schedule_storage is None:  # an ephemeral instance: only code defaults apply
        return found
    for state in instance.all_instigator_state():
        selector = state.repository_selector
        if selector.repository_name != repository_name:
            continue
        if location_name is not None and selector.location_name != location_name:
            continue
        kind: Kind = "schedule" if state.instigator_type == InstigatorType.SCHEDULE else "sensor"
        key = (kind, state.name)
        # with several code locations of the same repository name, a running state wins
        if key not in found or state.status == InstigatorStatus.RUNNING:
            found[key] = state
    return found


def automation_health(
    instance: dg.DagsterInstance,
    schedules: Iterable[Schedule],
    sensors: Iterable[dg.SensorDefinition],
    window: ReportWindow,
    *,
    repository_name: str = "__repository__",
    location_name: str | None = None,
) -> AutomationHealth:
    """Running vs defined schedules and sensors, with their failed ticks in ``window``."""
    from dagster._core.scheduler.instigation import TickStatus

    states = _states(instance, repository_name, location_name)
    after, before = window.start.timestamp(), window.end.timestamp()
    automations: list[Automation] = []
    definitions: Sequence[tuple[Kind, Schedule | dg.SensorDefinition]] = [
        *(("schedule", s) for s in schedules),
        *(("sensor", s) for s in sensors),
    ]
    for kind, definition in sorted(definitions, key=lambda item: (item[0], item[1].name)):
        default = _default_running(definition)
        state = states.get((kind, definition.name))
        if state is None:
            automations.append(Automation(definition.name, kind, default, "default"))
            continue
        failures = instance.get_ticks(
            state.instigator_origin_id,
            state.selector_id,
            after=after,
            before=before,
            statuses=[TickStatus.FAILURE],
        )
        latest = max(failures, key=lambda t: t.timestamp, default=None)
        automations.append(
            Automation(
                definition.name,
                kind,
                _state_running(state, default),
                "instance",
                failed_ticks=len(failures),
                last_error=_user_error(latest.error) if latest is not None and latest.error else None,
                last_failure_at=dt.datetime.fromtimestamp(latest.timestamp, dt.UTC) if latest else None,
            )
        )
    return AutomationHealth(automations)


@dataclass(frozen=True)
class LocationAutomations:
    """The schedules and sensors of the whole code location, handed to the automation report as
    the ``code_location`` resource: a run launched from the code location reads them from its
    repository, but an in-process run (``execute_in_process``) has none."""

    schedules: tuple[Schedule, ...] = ()
    sensors: tuple[dg.SensorDefinition, ...] = ()


def repository_health(
    instance: dg.DagsterInstance,
    repository: dg.RepositoryDefinition,
    window: ReportWindow,
    *,
    location_name: str | None = None,
) -> AutomationHealth:
    """:func:`automation_health` for every schedule and sensor of a code location."""
    return automation_health(
        instance,
        repository.schedule_defs,
        repository.sensor_defs,
        window,
        repository_name=repository.name,
        location_name=location_name,
    )


def describe_failure(automation: Automation) -> str:
    """``sensor x (2 failed ticks, last at 2025-07-10T20:59:30Z): ConnectionError: ...``."""
    ticks = f"{automation.failed_ticks} failed tick{'s' if automation.failed_ticks != 1 else ''}"
    when = f", last at {iso(automation.last_failure_at)}" if automation.last_failure_at else ""
    error = f": {automation.last_error}" if automation.last_error else ""
    return f"{automation.kind} {automation.name} ({ticks}{when}){error}"
