"""A customer's report settings over HTTP (admins of the customer's tenant): read, change
(validated like ``customers settings set``), reset to the default format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from reporting_assets.api.context import Admin, Conn
from reporting_assets.api.reads import visible_customer
from reporting_assets.customer_settings.model import MAX_LIST_LENGTH, SECTIONS
from reporting_assets.customer_settings.store import (
    SettingsChange,
    get_settings,
    reset_settings,
    set_settings,
    templates_home,
)

router = APIRouter(prefix="/api/customers", tags=["customer report settings"])
CustomerKey = Annotated[str, Path(min_length=1, max_length=100)]


class SettingsBody(BaseModel):
    """The values to change; a field left out keeps its value, ``null`` sets it back to the default."""

    model_config = ConfigDict(extra="forbid")

    sections: dict[str, bool] | None = Field(
        default=None, description=f"section -> shown; sections: {', '.join(SECTIONS)}"
    )
    list_length: int | None = Field(default=None, ge=1, le=MAX_LIST_LENGTH)
    locale: str | None = Field(default=None, max_length=40, examples=["de_DE"])
    time_zone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    subject_prefix: str | None = Field(default=None, max_length=200, examples=["[ACME]"])


def _change(body: SettingsBody) -> SettingsChange:
    given = body.model_fields_set
    sections = body.sections or {}
    values = {name: getattr(body, name) for name in ("list_length", "locale", "time_zone", "subject_prefix")}
    return SettingsChange(
        hide=tuple(name for name, shown in sections.items() if not shown),
        show=tuple(name for name, shown in sections.items() if shown),
        clear=tuple(name for name, value in values.items() if name in given and value is None),
        **{name: value for name, value in values.items() if value is not None},
    )


@router.get("/{key}/settings", summary="A customer's report settings (admin)")
def read_settings(key: CustomerKey, caller: Admin, conn: Conn) -> dict[str, Any]:
    visible_customer(conn, caller, key)
    return get_settings(conn, key).as_json()


@router.put("/{key}/settings", summary="Change a customer's report settings (admin; re-renders nothing)")
def change_settings(key: CustomerKey, body: SettingsBody, caller: Admin, conn: Conn) -> dict[str, Any]:
    visible_customer(conn, caller, key)
    return set_settings(conn, key, _change(body), templates_home()).as_json()


@router.delete("/{key}/settings", summary="Back to the default format (admin)")
def delete_settings(key: CustomerKey, caller: Admin, conn: Conn) -> dict[str, Any]:
    visible_customer(conn, caller, key)
    reset_settings(conn, key)
    return get_settings(conn, key).as_json()
