"""Email addresses as the project stores them: checked and normalised without a database, so
resource settings (alert recipients) and forms can use the rule."""

from __future__ import annotations

import re

from reporting_assets.delivery.errors import RecipientError

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?$")
EMAIL_RULES = "an address like name@example.com: ASCII only, one '@', a dotted domain, at most 254 characters"


def normalize_email(text: str) -> str:
    """``text`` as a stored address (trimmed, lower case), or a RecipientError saying why not."""
    email = text.strip().lower()
    if not email.isascii():
        raise RecipientError(
            f"{text!r} is not a supported email address: {EMAIL_RULES} (internationalised "
            f"addresses need SMTPUTF8, which is not supported; use the punycode domain)."
        )
    local = email.partition("@")[0]
    if len(email) > 254 or len(local) > 64 or not _EMAIL.match(email):
        raise RecipientError(f"{text!r} is not a valid email address: {EMAIL_RULES}.")
    return email
