"""Errors of the report builder and exports. Each names the bad part (the DSL path, the
schedule field, the bucket, ...) and says what to do, because they reach end users through the
CLI (which prints the message and exits 2). The class says what kind of failure it is."""

from __future__ import annotations

from reporting_assets.errors import ReportingError


class ExportError(ReportingError):
    """Base class of everything raised on purpose by ``reporting_assets.exports``."""


class QueryValidationError(ExportError):
    """A query (DSL), filter list or row limit is invalid.

    ``problems`` lists every problem found (path + message), not just the first, so a report
    builder can mark all bad parts at once. ``report`` names a saved report whose stored query
    fails a rule (one saved before the rule existed): its preview and exports say so.
    """

    def __init__(self, problems: list[str] | str, *, report: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = "Invalid query" if report is None else f"{report} cannot run: its query is invalid"
        if len(self.problems) == 1:
            message = f"{head}: {self.problems[0]}"
        else:
            message = f"{head}:\n" + "\n".join(f"  - {p}" for p in self.problems)
        if report is not None:
            message += "\nChange the report's query or filters (update the report), or delete it."
        super().__init__(message)


class ScheduleValidationError(ExportError):
    """A schedule's cron expression, timezone, format, delivery or recipients are invalid."""


class ReportValidationError(ExportError):
    """A report's name, row limit, visualization or other settings are invalid."""


class NotFoundError(ExportError):
    """A report, schedule or export does not exist for this tenant.

    Rows of other tenants are reported as not found too: their existence is not revealed.
    """


class PermissionDeniedError(ExportError):
    """The acting user may see the object but not do this to it."""


class ExportStateError(ExportError):
    """The export is not in a state that allows this (download before completion, retry of a
    completed export, expired file)."""


class StorageError(ExportError):
    """S3 or the local export folder cannot be used (missing bucket, bad credentials, disk)."""


class AnalyticsUnavailableError(ExportError):
    """The analytics engine cannot be reached or refuses the login (named without its password),
    or its client library is not installed."""


class AnalyticsSchemaError(ExportError):
    """An analytics table the catalog names is missing on the engine, or one of its columns has
    a type the catalog does not read that way."""
