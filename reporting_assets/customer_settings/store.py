"""Read and change ``reporting.customer_report_settings`` (the CLI, the API and the renderer
share these functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting_assets.customer_settings.model import (
    CustomerSettingsError,
    ReportSettings,
    check_list_length,
    check_locale,
    check_sections,
    check_subject_prefix,
    check_time_zone,
)
from reporting_assets.customer_settings.templates import check_blocks, read_blocks
from reporting_assets.customers import get_customer
from reporting_assets.db.connection import Connection
from reporting_assets.errors import ProjectHomeError
from reporting_assets.home import project_home

_COLUMNS = "customer_key, hidden_sections, list_length, locale, time_zone, subject_prefix, version"


@dataclass(frozen=True)
class SettingsChange:
    """What ``settings set`` asks for; None leaves a value as it is. ``clear`` names values to
    set back to the default."""

    hide: tuple[str, ...] = ()
    show: tuple[str, ...] = ()
    list_length: int | None = None
    locale: str | None = None
    time_zone: str | None = None
    subject_prefix: str | None = None
    clear: tuple[str, ...] = ()


CLEARABLE = ("list_length", "locale", "time_zone", "subject_prefix")


def _settings(row: dict[str, Any]) -> ReportSettings:
    return ReportSettings(
        customer_key=row["customer_key"],
        hidden_sections=frozenset(row["hidden_sections"]),
        list_length=row["list_length"],
        locale=row["locale"],
        time_zone=row["time_zone"],
        subject_prefix=row["subject_prefix"],
        version=row["version"],
    )


def templates_home() -> Path | None:
    """The project home holding ``templates/customers/``; None where there is no usable home
    (such a run renders without template blocks rather than failing)."""
    try:
        return project_home()
    except ProjectHomeError:
        return None


def get_settings(conn: Connection, customer_key: str) -> ReportSettings:
    """The customer's settings (the defaults when none are stored); an unknown customer is an error."""
    customer = get_customer(conn, customer_key)
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM reporting.customer_report_settings WHERE customer_key = %s",
        (customer.partition_key,),
    ).fetchone()
    return _settings(row) if row else ReportSettings(customer.partition_key)


def settings_for(
    conn: Connection, customer_keys: Sequence[str], home: Path | None
) -> dict[str, ReportSettings]:
    """Stored settings of ``customer_keys`` (customers without a row are left out), with their
    template blocks read from ``home`` (None: no template blocks)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM reporting.customer_report_settings WHERE customer_key = ANY(%s)",
        (list(customer_keys),),
    ).fetchall()
    found = {}
    for row in rows:
        settings = _settings(row)
        if home is not None:
            blocks = read_blocks(home, settings.customer_key)
            if blocks.header is not None or blocks.footer is not None:
                settings = ReportSettings(**{**settings.__dict__, "templates": blocks})
        found[settings.customer_key] = settings
    return found


def subject_prefix(conn: Connection, customer_key: str) -> str | None:
    """The customer's daily summary email subject prefix (None: no prefix)."""
    row = conn.execute(
        "SELECT subject_prefix FROM reporting.customer_report_settings WHERE customer_key = %s",
        (customer_key,),
    ).fetchone()
    return row["subject_prefix"] if row else None


def set_settings(
    conn: Connection, customer_key: str, change: SettingsChange, home: Path | None
) -> ReportSettings:
    """Validate ``change`` and the customer's templates in ``home`` (None: no project home, so
    no templates are used), then store it (the version grows).

    Nothing is re-rendered: run ``reports rerender`` for the days that should show it.
    """
    current = get_settings(conn, customer_key)
    unknown_clear = [c for c in change.clear if c not in CLEARABLE]
    if unknown_clear:
        raise CustomerSettingsError(
            f"Cannot clear {', '.join(map(repr, unknown_clear))}: clearable are {', '.join(CLEARABLE)} "
            f"(show sections again with --show)."
        )
    hidden = set(current.hidden_sections) | set(check_sections(list(change.hide)))
    hidden -= set(check_sections(list(change.show)))
    values: dict[str, Any] = {
        "list_length": current.list_length,
        "locale": current.locale,
        "time_zone": current.time_zone,
        "subject_prefix": current.subject_prefix,
    }
    if change.list_length is not None:
        values["list_length"] = check_list_length(change.list_length)
    if change.locale is not None:
        values["locale"] = check_locale(change.locale)
    if change.time_zone is not None:
        values["time_zone"] = check_time_zone(change.time_zone)
    if change.subject_prefix is not None:
        values["subject_prefix"] = check_subject_prefix(change.subject_prefix)
    for name in change.clear:
        values[name] = None
    if home is not None:
        check_blocks(read_blocks(home, current.customer_key))
    row = conn.execute(
        f"""INSERT INTO reporting.customer_report_settings
               (customer_key, hidden_sections, list_length, locale, time_zone, subject_prefix)
           VALUES (%(key)s, %(hidden)s, %(list_length)s, %(locale)s, %(time_zone)s, %(subject_prefix)s)
           ON CONFLICT (customer_key) DO UPDATE SET
               hidden_sections = EXCLUDED.hidden_sections, list_length = EXCLUDED.list_length,
               locale = EXCLUDED.locale, time_zone = EXCLUDED.time_zone,
               subject_prefix = EXCLUDED.subject_prefix,
               version = customer_report_settings.version + 1, updated_at = now()
           RETURNING {_COLUMNS}""",
        {"key": current.customer_key, "hidden": sorted(hidden), **values},
    ).fetchone()
    conn.commit()
    assert row is not None
    return _settings(row)


def reset_settings(conn: Connection, customer_key: str) -> bool:
    """Back to the default format; False when nothing was set. The row stays, its version grows:
    a version is never reused, so a summary's recorded version always names one set of settings."""
    customer = get_customer(conn, customer_key)
    changed = conn.execute(
        """UPDATE reporting.customer_report_settings
           SET hidden_sections = '{}', list_length = NULL, locale = NULL, time_zone = NULL,
               subject_prefix = NULL, version = version + 1, updated_at = now()
           WHERE customer_key = %s
             AND (hidden_sections <> '{}' OR list_length IS NOT NULL OR locale IS NOT NULL
                  OR time_zone IS NOT NULL OR subject_prefix IS NOT NULL)""",
        (customer.partition_key,),
    ).rowcount
    conn.commit()
    return bool(changed)
