"""Sync errors: each message says what is wrong and what to do next."""

from __future__ import annotations

from reporting_assets.errors import ReportingError


class SyncError(ReportingError):
    """Base class of the sync's own errors."""


class SyncConfigError(SyncError):
    """``config/sync.toml`` (or the file given) is missing, unreadable or invalid."""


class SyncInputError(SyncError):
    """A flag or run config value is invalid (limit, customer, sync id...)."""


class SyncPreflightError(SyncError):
    """Pending records cannot be sent as configured (e.g. a dropdown value the target lacks) and
    the profile says to stop before any API call."""


class ReportsFolderError(SyncError):
    """The session folder or one of its files could not be written (read-only, full disk...).

    The session's database record (``reporting.sync_sessions``, with its summary) still exists.
    """


class TargetError(SyncError):
    """An API call to the sample target failed."""

    cause = "target_unavailable"
    retryable = True


class TargetTimeout(TargetError):
    cause = "timeout"


class TargetUnavailable(TargetError):
    cause = "target_unavailable"
