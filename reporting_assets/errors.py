"""Exceptions whose messages tell the user what is wrong and what to do next."""

from reporting_assets.redaction import redact


class ReportingError(Exception):
    """Base class: every error raised on purpose by this project.

    Its text arguments are redacted on the way in, so no message built from a URL, a
    conninfo string or a driver's error can carry a password to a terminal, a log line or
    Dagster's event log.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class DatabaseUnavailableError(ReportingError):
    """PostgreSQL could not be reached or went away."""


class DatabaseUrlError(ReportingError):
    """A database URL (``REPORTING_DATABASE_URL``, a resource setting) cannot be parsed."""


class SettingsError(ReportingError):
    """A setting (an environment variable or a resource field) holds a value it cannot take."""


class MigrationError(ReportingError):
    """A migration file is missing, changed after it was applied, or failed."""


class CustomerError(ReportingError):
    """A customer name or partition key is invalid or not registered."""


class ContractError(ReportingError):
    """Run-report metadata does not match the contract."""


class ProjectHomeError(ReportingError):
    """The project home (``REPORTING_HOME`` or the current folder) is missing or not writable."""


class PipelineError(ReportingError):
    """A pipeline is not registered, or a registry entry has a value it cannot take."""


class InstanceUnavailableError(ReportingError):
    """The Dagster instance (or the reporting database) could not be reached to record a run."""
