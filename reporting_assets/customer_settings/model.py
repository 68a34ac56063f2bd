"""What a customer's report settings are and the rules each value must follow.

Every value is optional: unset means the default format. Values are checked when they are
set, with messages that name the value and what is accepted (close names for a misspelt
locale or time zone), so a report run never meets a bad setting.
"""

from __future__ import annotations

import difflib
import zoneinfo
from dataclasses import dataclass, field
from functools import cache

from reporting_assets.errors import ReportingError
from reporting_assets.text_rules import refuse_control_characters

SECTIONS = ("summary", "order_changes", "manufacturing", "shipping", "performance", "next_actions")
"""The execution report sections a customer may switch off (header, warnings and errors and
the footer always show)."""
MAX_LIST_LENGTH = 1000
MAX_PREFIX_LENGTH = 100


class CustomerSettingsError(ReportingError):
    """A customer report setting (or a customer template) is not valid."""


@dataclass(frozen=True)
class TemplateBlocks:
    """The customer's extra markdown blocks (template sources, read from its template folder)."""

    folder: str
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True)
class ReportSettings:
    """A customer's report settings as stored; None: the default format for that value."""

    customer_key: str
    hidden_sections: frozenset[str] = frozenset()
    list_length: int | None = None
    locale: str | None = None
    time_zone: str | None = None
    subject_prefix: str | None = None
    version: int = 0
    templates: TemplateBlocks | None = field(default=None, compare=False)

    def shows(self, section: str) -> bool:
        return section not in self.hidden_sections

    def as_json(self) -> dict[str, object]:
        return {
            "customer_key": self.customer_key,
            "sections": {name: self.shows(name) for name in SECTIONS},
            "list_length": self.list_length,
            "locale": self.locale,
            "time_zone": self.time_zone,
            "subject_prefix": self.subject_prefix,
            "version": self.version,
        }


def check_sections(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, SECTIONS, n=1, cutoff=0.5)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise CustomerSettingsError(
            f"Unknown report section {', '.join(hints)}: the sections are {', '.join(SECTIONS)}."
        )
    return sorted(set(names), key=SECTIONS.index)


def check_list_length(value: int) -> int:
    if not 1 <= value <= MAX_LIST_LENGTH:
        raise CustomerSettingsError(
            f"List length {value} is out of range: give 1 to {MAX_LIST_LENGTH} entries before '... (N more)'."
        )
    return value


@cache
def _locale_names() -> dict[str, str]:
    from babel import localedata  # when a locale is checked, not when the CLI or code location loads

    return {name.lower(): name for name in localedata.locale_identifiers()}


def check_locale(value: str) -> str:
    """The Babel locale identifier for ``value`` (``de_DE``, ``de-DE`` and ``de_de`` are one)."""
    names = _locale_names()
    found = names.get(value.strip().replace("-", "_").lower())
    if found is None:
        close = difflib.get_close_matches(value.replace("-", "_").lower(), list(names), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(names[c]) for c in close)}?" if close else ""
        raise CustomerSettingsError(
            f"Unknown locale {value!r}.{hint} Give a locale identifier such as 'en_US', 'de_DE' or 'fr_FR'."
        )
    import babel

    babel.Locale.parse(found)
    return found


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def check_time_zone(value: str) -> str:
    names = _zone_names()
    found = names.get(value.strip().lower())
    if found is None:
        close = difflib.get_close_matches(value.strip().lower(), list(names), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(names[c]) for c in close)}?" if close else ""
        raise CustomerSettingsError(
            f"Unknown time zone {value!r}.{hint} Give an IANA time zone such as 'Europe/Berlin' or 'UTC'."
        )
    return found


def check_subject_prefix(value: str) -> str:
    refuse_control_characters(value, "subject prefix", CustomerSettingsError)
    value = value.strip()
    if not value or len(value) > MAX_PREFIX_LENGTH:
        raise CustomerSettingsError(
            f"The subject prefix must be 1 to {MAX_PREFIX_LENGTH} characters (got {len(value)})."
        )
    return value
