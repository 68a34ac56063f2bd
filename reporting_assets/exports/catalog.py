"""The whitelist: the only tables and fields a report query may touch, with their types.

Nothing outside this catalog reaches SQL: table and field names in a query are looked up here
and only the catalog's own names are turned into identifiers. Types drive value checking
(a text value on an integer field is an error, not a cast), which operators apply (``like``
on text only, ``sum``/``avg`` on numbers only), and how formats render cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "integer", "number", "timestamp", "date", "boolean"]
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "number"})
TENANT_FIELD = "tenant_id"
"""Every table has it; the compiler always adds ``tenant_id = <acting tenant>``."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: str
    description: str
    fields: tuple[FieldSpec, ...]
    time_field: str
    """The table's main timestamp (what "last 7 days" usually means)."""

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "time_field": self.time_field,
            "fields": [{"name": f.name, "type": f.type, "description": f.description} for f in self.fields],
        }


def _f(name: str, type_: FieldType, description: str) -> FieldSpec:
    return FieldSpec(name, type_, description)


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            name="usage_events",
            schema="analytics",
            description="One row per product event (login, page view, feature use, ...).",
            time_field="timestamp",
            fields=(
                _f("timestamp", "timestamp", "When the event happened (UTC)."),
                _f("tenant_id", "text", "Tenant the event belongs to."),
                _f("user_id", "text", "User who caused the event."),
                _f("device_id", "text", "Device the event came from."),
                _f("session_id", "text", "Session the event belongs to."),
                _f("event_type", "text", "Kind of event, e.g. login, page_view, export."),
                _f("feature", "text", "Product feature involved."),
                _f("duration_ms", "integer", "Time spent, in milliseconds."),
                _f("country", "text", "ISO 3166 country code."),
            ),
        ),
        TableSpec(
            name="user_sessions",
            schema="analytics",
            description="One row per user session.",
            time_field="started_at",
            fields=(
                _f("session_id", "text", "Session id."),
                _f("tenant_id", "text", "Tenant the session belongs to."),
                _f("user_id", "text", "User of the session."),
                _f("device_id", "text", "Device of the session."),
                _f("started_at", "timestamp", "Session start (UTC)."),
                _f("ended_at", "timestamp", "Session end (UTC); empty while open."),
                _f("duration_seconds", "integer", "Length of the session in seconds."),
                _f("page_views", "integer", "Pages viewed in the session."),
                _f("platform", "text", "web, ios, android or desktop."),
                _f("country", "text", "ISO 3166 country code."),
            ),
        ),
        TableSpec(
            name="device_metrics",
            schema="analytics",
            description="Periodic health samples per device.",
            time_field="timestamp",
            fields=(
                _f("timestamp", "timestamp", "When the sample was taken (UTC)."),
                _f("tenant_id", "text", "Tenant the device belongs to."),
                _f("device_id", "text", "Device id."),
                _f("os", "text", "Operating system."),
                _f("app_version", "text", "App version."),
                _f("cpu_percent", "number", "CPU use, 0-100."),
                _f("memory_mb", "number", "Memory in use, MB."),
                _f("battery_percent", "number", "Battery level, 0-100."),
                _f("network_latency_ms", "number", "Network round trip, ms."),
            ),
        ),
    )
}


def table_names() -> list[str]:
    return sorted(TABLES)


def describe_tables() -> list[dict[str, object]]:
    """The tables and fields a report may read, as JSON-ready values."""
    return [TABLES[name].as_json() for name in table_names()]
