"""Delivery errors: each message says what failed and what to do next."""

from __future__ import annotations

from reporting_assets.errors import ReportingError


class DeliveryError(ReportingError):
    """A delivery could not be planned or made (bad key, missing summary, ...)."""


class RecipientError(ReportingError):
    """A summary recipient is invalid or not registered."""


class DeliveryAttemptError(DeliveryError):
    """Sending failed after ``attempts`` tries; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, attempts: int = 1, permanent: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.permanent = permanent
