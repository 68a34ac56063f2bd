"""The run-report contract: what every source pipeline run tells the reporting layer.

A producer (through :class:`reporting_assets.reporter.PipelineReporter`) emits one
``run_report`` JSON metadata entry holding a :class:`RunReport`, plus numeric entries the
Dagster UI plots. Consumers parse it with :func:`parse_run_report`, which names the field and
the run when something is wrong. Documented in ``docs/contract.md``; bump ``SCHEMA_VERSION``
(and keep reading the old one) for any change that is not purely additive.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from reporting_assets.errors import ContractError
from reporting_assets.text_rules import WITHOUT_CONTROL_CHARACTERS, control_character_problem

SCHEMA_VERSION: Literal[1] = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)
RUN_REPORT_METADATA_KEY = "run_report"
DEFAULT_MAX_CHANGES = 1_000


# names reach terminals, markdown and HTML emails: refuse ESC, BEL, line breaks... ~55 names per
# contract, checked natively (a Python validator costs a call per name); ``problem_message`` turns
# pydantic's "should match pattern" back into the rule's message naming the character
_Clean = StringConstraints(pattern=WITHOUT_CONTROL_CHARACTERS)
Status = Literal["success", "failed", "partial"]
PipelineType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,99}$")]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255), _Clean]
Key = Annotated[str, StringConstraints(max_length=255), _Clean]
MetricName = Annotated[str, StringConstraints(max_length=100), _Clean]
NonNegative = Annotated[int, Field(ge=0)]


# NaN and infinities are refused in every numeric field: they cannot be compared with yesterday's
# value and are not JSON (Dagster's event log would store NaN/Infinity)
_RULES = ConfigDict(extra="forbid", strict=False, allow_inf_nan=False)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, **_RULES)


# A contract holds up to a thousand changes (~45 in a typical one), so a change is a slotted
# pydantic dataclass, not a model: validating one costs about two thirds of a model's.
@dataclass(frozen=True, slots=True, kw_only=True, config=_RULES)
class Change:
    """One change a run made or saw (a new order, a quantity update, a stage move...)."""

    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    description: Text
    key: Key | None = None
    before: Text | None = None
    after: Text | None = None
    quantity: int | None = None
    count: Annotated[int, Field(ge=1)] = 1


class Counts(_Model):
    records_processed: NonNegative = 0
    new: NonNegative = 0
    updated: NonNegative = 0
    failed: NonNegative = 0


class DatabaseOperations(_Model):
    inserts: NonNegative = 0
    updates: NonNegative = 0
    deletes: NonNegative = 0
    queries: NonNegative = 0


class Metrics(_Model):
    """The performance figures every run reports, plus free-form numeric metrics from ``log_metric``."""

    execution_time_seconds: Annotated[float, Field(ge=0)] = 0.0
    records_per_second: Annotated[float, Field(ge=0)] = 0.0
    database_operations: DatabaseOperations = DatabaseOperations()
    api_calls: dict[MetricName, NonNegative] = {}
    error_count: NonNegative = 0
    warning_count: NonNegative = 0
    custom: dict[MetricName, float] = {}
    previous: dict[MetricName, float] = {}


class ManufacturingSummary(_Model):
    stage_moves: dict[Name, NonNegative] = {}
    qc_flagged: NonNegative = 0
    qc_passed: NonNegative = 0
    delayed: NonNegative = 0


class ShippingSummary(_Model):
    ready_to_ship: NonNegative = 0
    ready_volume: NonNegative = 0
    estimated_ship_date: dt.date | None = None
    shipped_by_carrier: dict[Name, NonNegative] = {}
    shipped_volume: NonNegative = 0


class RunReport(_Model):
    """Everything one pipeline run reports for one customer and day."""

    schema_version: Literal[1] = SCHEMA_VERSION
    customer: Name
    customer_key: Name
    pipeline_type: PipelineType
    execution_date: dt.date
    status: Status
    run_id: Key | None = None
    external_execution_id: Key | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    counts: Counts = Counts()
    changes: list[Change] = []
    changes_total: NonNegative = 0
    change_counts: dict[Annotated[str, StringConstraints(max_length=64), _Clean], NonNegative] = {}
    manufacturing: ManufacturingSummary | None = None
    shipping: ShippingSummary | None = None
    metrics: Metrics = Metrics()
    warnings: list[Text] = []
    errors: list[Text] = []
    next_actions: list[Text] = []

    def summary(self) -> dict[str, Any]:
        """The figures a report shows (``summary_json``): each leaf gets a lineage row."""
        out: dict[str, Any] = {
            "status": self.status,
            "counts": self.counts.model_dump(),
            "changes_total": self.changes_total,
            "changes_by_category": dict(sorted(self.change_counts.items())),
            "warning_count": len(self.warnings),
            "error_count": len(self.errors),
        }
        if self.manufacturing is not None:
            out["manufacturing"] = self.manufacturing.model_dump(mode="json")
        if self.shipping is not None:
            out["shipping"] = self.shipping.model_dump(mode="json")
        return out


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":  # the problem is the dict key itself
            path += " (key)"
        else:
            # a dict key is producer data: never print its control characters raw
            shown = repr(part) if control_character_problem(part, "key") else part
            path += f".{shown}" if path else shown
    return path or "(root)"


def parse_run_report(raw: Any, *, source: str) -> RunReport:
    """Validate contract JSON; ``source`` names the run/event in the error message."""
    if not isinstance(raw, dict):
        raise ContractError(
            f"{source}: metadata entry '{RUN_REPORT_METADATA_KEY}' must be a JSON object, got "
            f"{type(raw).__name__}. Emit it with PipelineReporter.to_metadata()."
        )
    version = raw.get("schema_version")
    if type(version) is not int or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ContractError(
            f"{source}: unknown schema_version {version!r}; this reporting_assets reads "
            f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}. Upgrade reporting_assets or emit "
            f"schema_version={SCHEMA_VERSION}."
        )
    try:
        return RunReport.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(
            f"{source}: run_report does not match contract v{SCHEMA_VERSION}: "
            f"{describe_problems(exc)}. See docs/contract.md."
        ) from exc


def describe_problems(exc: ValidationError) -> str:
    """The first five problems of a validation error, each naming its field and input."""
    problems = "; ".join(
        f"field '{_field_path(err['loc'])}': {problem_message(err)} (got {_short(err.get('input'))})"
        for err in exc.errors()[:5]
    )
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return problems + more


def problem_message(err: ErrorDetails) -> str:
    """pydantic's message for one problem; a name refused for a control character gets the
    rule's own message, naming the character and its position, and an unknown field of a change
    (a dataclass, which pydantic reports as an unexpected argument) the message of any other."""
    if (
        err["type"] == "string_pattern_mismatch"
        and err.get("ctx", {}).get("pattern") == WITHOUT_CONTROL_CHARACTERS
    ):
        return f"Value error, {control_character_problem(err['input'], 'name')}"
    if err["type"] == "unexpected_keyword_argument":
        return "Extra inputs are not permitted"
    return err["msg"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
