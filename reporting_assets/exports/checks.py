"""Checks shared by reports, schedules and exports: ids, names and ownership, plus the clock
and the JSON parameter they are stored with."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.exports.errors import ExportError, NotFoundError, PermissionDeniedError
from reporting_assets.exports.models import Actor
from reporting_assets.text_rules import refuse_control_characters


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_id(value: str, what: str) -> str:
    """A report, schedule or export id as stored; anything else is "not found", naming the
    shape an id has."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFoundError(
            f"{what} {str(value)[:80]!r} is not an id (ids are UUIDs such as "
            f"'3f1c2a9e-7d4b-4c1e-9a53-2b6f0c8e1d7a'; `reporting-assets exports list` shows them)"
        ) from None


def jsonb_or_none(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def check_name(value: Any, what: str, error: type[ExportError]) -> str:
    """A report or schedule name as stored: trimmed, runs of spaces made one; otherwise as
    typed (HTML, '../', '|' and emoji are text: documents and file names never interpret them).
    Control characters are refused, naming the character and its position."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(f"name: a {what} name must be text, got {type(value).__name__}")
    refuse_control_characters(value, f"{what} name", error)
    name = " ".join(value.split())
    if not name or len(name) > 255:
        raise error(f"name: a {what} needs a name of 1-255 characters (got {len(name)})")
    return name


def check_owner(actor: Actor, owner: str, what: str) -> None:
    """Only the owner or an admin of the tenant may change an object."""
    if not (actor.is_admin or owner == actor.user_id):
        raise PermissionDeniedError(
            f"{what} belongs to {owner!r}; only its owner or an admin of tenant {actor.tenant_id!r} "
            "can change it."
        )
