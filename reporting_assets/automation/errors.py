"""Automation report errors: each message says what was wrong and what to do instead."""

from __future__ import annotations

from reporting_assets.errors import ReportingError


class AutomationReportError(ReportingError):
    """An automation report could not be made as asked."""


class TimeWindowError(AutomationReportError):
    """The time window is zero, negative or absurdly long."""


class UnknownSourceError(AutomationReportError):
    """A requested source system is not one the reports know."""


class ExportError(AutomationReportError):
    """The JSON export could not be written."""
