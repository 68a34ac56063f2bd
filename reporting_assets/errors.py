"""Exceptions whose messages tell the user what is wrong and what to do next."""


class ReportingError(Exception):
    """Base class: every error raised on purpose by this project."""


class DatabaseUnavailableError(ReportingError):
    """PostgreSQL could not be reached or went away."""


class MigrationError(ReportingError):
    """A migration file is missing, changed after it was applied, or failed."""


class CustomerError(ReportingError):
    """A customer name or partition key is invalid or not registered."""


class ContractError(ReportingError):
    """Run-report metadata does not match the contract."""


class ProjectHomeError(ReportingError):
    """The project home (``REPORTING_HOME`` or the current folder) is missing or not writable."""
