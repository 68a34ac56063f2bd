"""The sample target: a simulated external board (think monday.com) the sync writes to.

It keeps real state in PostgreSQL (schema ``sample_target``: groups, items, subitems), answers
JSON-like requests with JSON-like responses, and misbehaves the way remote APIs do, as
configured per environment (``[target]`` in config/sync.toml): latency with jitter, timeouts,
items a batch call rejects (partial batch failures), an outage for chosen customers, and
dropdown columns that only accept their own labels ('Cancelled' is not 'CANCELLED'). Like the
real thing, it does not stop a client from creating duplicate groups or items: that is the
sync's job. Each call is one transaction on the target's own connection, committed before it
answers (the target is another system: the sync's rollback cannot undo it).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from reporting_assets.db.connection import CONNECT_TIMEOUT_SECONDS, Connection, unavailable
from reporting_assets.db.queries import query
from reporting_assets.logging_ids import get_logger
from reporting_assets.sync.config import TargetSettings
from reporting_assets.sync.errors import TargetTimeout, TargetUnavailable

log = get_logger(__name__)

Payload = dict[str, Any]
OPERATIONS = (
    "get_groups",
    "create_group",
    "find_items",
    "create_items",
    "update_items",
    "create_subitems",
    "update_subitems",
)


class SampleTarget:
    """One client session with the sample target (its own database connection)."""

    def __init__(
        self,
        url: str,
        settings: TargetSettings,
        dropdown_labels: Mapping[str, Sequence[str]],
        *,
        seed: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.settings = settings
        self.dropdown_labels = {column: set(labels) for column, labels in dropdown_labels.items()}
        self.rng = random.Random(f"{settings.seed}:{seed}")  # same seed, same calls: same faults
        self.sleep = sleep
        self.failing = set(settings.fail_customers)
        self._conn: Connection | None = None

    def __enter__(self) -> SampleTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> Connection:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(
                    self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS, row_factory=dict_row, autocommit=True
                )
            except psycopg.OperationalError as exc:
                raise unavailable(self.url, exc, "connecting to the sample target") from exc
        return self._conn

    # --- the API ---------------------------------------------------------------------------

    def call(self, operation: str, customer_key: str, request: Payload) -> Payload:
        """Perform one API call: latency, simulated faults, then the operation itself.

        Raises :class:`TargetTimeout` or :class:`TargetUnavailable`; item-level rejections come
        back in the response (``results[i].error``), as a batch API reports them.
        """
        handler = getattr(self, f"_op_{operation}", None)
        if operation not in OPERATIONS or handler is None:
            raise ValueError(f"Unknown target operation {operation!r}; use one of {', '.join(OPERATIONS)}")
        self._latency()
        if customer_key in self.failing:
            log.debug("st-001", "Simulated outage for %s on %s", customer_key, operation)
            raise TargetUnavailable(
                f"503 Service Unavailable from the target on {operation} for customer {customer_key!r} "
                f"(simulated outage: target.fail_customers)"
            )
        if self.settings.timeout_rate and self.rng.random() < self.settings.timeout_rate:
            log.debug("st-002", "Simulated timeout on %s for %s", operation, customer_key)
            raise TargetTimeout(
                f"{operation} timed out after {self.settings.latency_ms:g} ms "
                f"(simulated: target.timeout_rate)"
            )
        try:
            with self.conn.transaction():
                response: Payload = handler(request)
        except psycopg.OperationalError as exc:
            self.close()
            raise unavailable(self.url, exc, f"calling the sample target ({operation})") from exc
        return response

    def _latency(self) -> None:
        latency = self.settings.latency_ms
        if self.settings.jitter_ms:
            latency += self.rng.uniform(-self.settings.jitter_ms, self.settings.jitter_ms)
        if latency > 0:
            self.sleep(latency / 1000)

    def _rejected(self) -> bool:
        return bool(self.settings.item_failure_rate) and self.rng.random() < self.settings.item_failure_rate

    def _invalid_value(self, column_values: Mapping[str, Any]) -> str | None:
        for column, labels in self.dropdown_labels.items():
            value = column_values.get(column)
            if value is None:
                continue
            chosen = value.get("labels", []) if isinstance(value, dict) else [value]
            for label in chosen:
                if label not in labels:
                    return (
                        f"ColumnValueException: label {label!r} does not exist in dropdown column "
                        f"{column!r} (labels: {', '.join(sorted(labels))})"
                    )
        return None

    def _screen(
        self, entries: Sequence[Payload], reject: bool = True
    ) -> tuple[list[Payload], dict[str, str]]:
        """Entries the target accepts, and ``ref -> error`` for those it rejects (random
        rejections hit items only; subitems fail with their call)."""
        accepted, errors = [], {}
        for entry in entries:
            problem = self._invalid_value(entry.get("column_values", {}))
            if problem is None and reject and self._rejected():
                problem = (
                    "ITEM_SAVE_FAILED: the item could not be saved, try again "
                    "(simulated: target.item_failure_rate)"
                )
            if problem is None:
                accepted.append(entry)
            else:
                errors[str(entry["ref"])] = problem
        return accepted, errors

    def _op_get_groups(self, request: Payload) -> Payload:
        rows = self.conn.execute(
            query("sync_target_groups_find"), {"board": request["board"], "title": request["title"]}
        ).fetchall()
        return {"groups": [{"id": r["group_id"], "title": r["title"]} for r in rows]}

    def _op_create_group(self, request: Payload) -> Payload:
        row = self.conn.execute(
            query("sync_target_group_create"), {"board": request["board"], "title": request["title"]}
        ).fetchone()
        assert row is not None
        return {"group": {"id": row["group_id"], "title": row["title"]}}

    def _op_find_items(self, request: Payload) -> Payload:
        rows = self.conn.execute(
            query("sync_target_items_find"), {"group_id": request["group_id"], "keys": request["keys"]}
        ).fetchall()
        return {
            "items": [
                {
                    "id": r["item_id"],
                    "key": r["external_key"],
                    "name": r["name"],
                    "column_values": r["column_values"],
                    "subitems": r["subitems"],
                }
                for r in rows
            ]
        }

    def _op_create_items(self, request: Payload) -> Payload:
        accepted, errors = self._screen(request["items"])
        created: dict[str, str] = {}
        if accepted:
            rows = self.conn.execute(
                query("sync_target_items_create"),
                {
                    "group_id": request["group_id"],
                    "names": [e["name"] for e in accepted],
                    "keys": [e["key"] for e in accepted],
                    "column_values": [Jsonb(e["column_values"]) for e in accepted],
                },
            ).fetchall()
            by_key = {r["external_key"]: r["item_id"] for r in rows}
            created = {str(e["ref"]): by_key[e["key"]] for e in accepted}
        return _results(request["items"], created, errors)

    def _op_update_items(self, request: Payload) -> Payload:
        accepted, errors = self._screen(request["items"])
        updated: dict[str, str] = {}
        if accepted:
            rows = self.conn.execute(
                query("sync_target_items_update"),
                {
                    "item_ids": [e["item_id"] for e in accepted],
                    "names": [e["name"] for e in accepted],
                    "column_values": [Jsonb(e["column_values"]) for e in accepted],
                },
            ).fetchall()
            found = {r["item_id"] for r in rows}
            for e in accepted:
                if e["item_id"] in found:
                    updated[str(e["ref"])] = e["item_id"]
                else:
                    errors[str(e["ref"])] = f"InvalidItemIdException: item {e['item_id']} does not exist"
        return _results(request["items"], updated, errors)

    def _op_create_subitems(self, request: Payload) -> Payload:
        accepted, errors = self._screen(request["subitems"], reject=False)
        created: dict[str, str] = {}
        if accepted:
            rows = self.conn.execute(
                query("sync_target_subitems_create"),
                {
                    "item_ids": [e["parent_item_id"] for e in accepted],
                    "names": [e["name"] for e in accepted],
                    "column_values": [Jsonb(e["column_values"]) for e in accepted],
                },
            ).fetchall()
            by_parent = {(r["item_id"], r["name"]): r["subitem_id"] for r in rows}
            for e in accepted:
                subitem_id = by_parent.get((e["parent_item_id"], e["name"]))
                if subitem_id is None:
                    errors[str(e["ref"])] = (
                        f"InvalidItemIdException: parent item {e['parent_item_id']} does not exist"
                    )
                else:
                    created[str(e["ref"])] = subitem_id
        return _results(request["subitems"], created, errors)

    def _op_update_subitems(self, request: Payload) -> Payload:
        accepted, errors = self._screen(request["subitems"], reject=False)
        updated: dict[str, str] = {}
        if accepted:
            rows = self.conn.execute(
                query("sync_target_subitems_update"),
                {
                    "subitem_ids": [e["subitem_id"] for e in accepted],
                    "column_values": [Jsonb(e["column_values"]) for e in accepted],
                },
            ).fetchall()
            found = {r["subitem_id"] for r in rows}
            for e in accepted:
                if e["subitem_id"] in found:
                    updated[str(e["ref"])] = e["subitem_id"]
                else:
                    errors[str(e["ref"])] = (
                        f"InvalidItemIdException: subitem {e['subitem_id']} does not exist"
                    )
        return _results(request["subitems"], updated, errors)


def _results(entries: Sequence[Payload], ok: Mapping[str, str], errors: Mapping[str, str]) -> Payload:
    results: list[Payload] = []
    for entry in entries:
        ref = str(entry["ref"])
        if ref in ok:
            results.append({"ref": ref, "id": ok[ref]})
        else:
            results.append({"ref": ref, "error": errors.get(ref, "not processed")})
    return {"results": results}
