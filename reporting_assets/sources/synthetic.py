"""A deterministic synthetic order board per customer that evolves day by day.

Every order has a seeded lifecycle (created, quantity and delivery-date edits, production
stages, quality control, pickup, shipment). A day's board is the state of every order on that
day, so new and updated orders, stage moves and shipments are real differences between two
days' boards: computed, not invented. The same (customer, day) always gives the same board.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

PRODUCTS = (
    "Spring Collection Hoodie",
    "Summer Tee Basic",
    "Winter Jacket Premium",
    "Performance Legging",
    "Training Short",
    "Crew Neck Sweatshirt",
    "Quarter Zip Pullover",
    "Rain Shell",
    "Polo Classic",
    "Cargo Pant",
    "Merino Base Layer",
    "Cycling Jersey",
    "Denim Jacket",
    "Fleece Vest",
)
STAGES = ("Order Received", "Cut Complete", "Sewing In Progress", "Finished Goods")
CARRIERS = (("FedEx", 5), ("UPS", 4), ("DHL", 1))
BOARD_HISTORY_DAYS = 100  # orders older than this have left the board


@dataclass(frozen=True)
class Lifecycle:
    """Everything that will happen to one order, decided when it is created."""

    order_id: str
    product: str
    created: dt.date
    quantity: int
    quantity_edit: tuple[dt.date, int] | None
    delivery_date: dt.date
    delivery_edit: tuple[dt.date, dt.date] | None
    stage_dates: tuple[dt.date, ...]  # when it entered STAGES[1:]
    qc_flagged_on: dt.date | None
    qc_passed_on: dt.date
    ready_on: dt.date
    estimated_ship_date: dt.date
    shipped_on: dt.date
    carrier: str


@dataclass(frozen=True)
class OrderState:
    """One order as the board shows it on a given day."""

    order_id: str
    product: str
    quantity: int
    delivery_date: dt.date
    status: str
    stage: str
    qc: str | None  # None, "flagged" or "passed"
    estimated_ship_date: dt.date | None
    shipped_on: dt.date | None
    carrier: str | None


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def order_prefix(customer_key: str) -> str:
    letters = "".join(ch for ch in customer_key.upper() if ch.isalnum())
    return (letters + "XXX")[:3]


@lru_cache(maxsize=4096)
def orders_created_on(customer_key: str, day: dt.date) -> int:
    """How many orders a customer places on a day (weekends are quieter)."""
    rng = _rng("volume", customer_key, day)
    base = rng.randint(2, 9) if day.weekday() >= 5 else rng.randint(8, 24)
    return base


@lru_cache(maxsize=512)
def _year_offsets(customer_key: str, year: int) -> tuple[int, ...]:
    """Running order count per day of the year, so ids read ACT-2025-001, ACT-2025-002..."""
    offsets, total = [], 0
    day = dt.date(year, 1, 1)
    while day.year == year:
        offsets.append(total)
        total += orders_created_on(customer_key, day)
        day += dt.timedelta(days=1)
    return tuple(offsets)


@lru_cache(maxsize=200_000)
def lifecycle(customer_key: str, created: dt.date, index: int) -> Lifecycle:
    seq = _year_offsets(customer_key, created.year)[created.timetuple().tm_yday - 1] + index + 1
    order_id = f"{order_prefix(customer_key)}-{created.year}-{seq:03d}"
    rng = _rng("order", customer_key, order_id)
    days = dt.timedelta
    quantity = rng.randint(2, 60) * 50
    delivery = created + days(rng.randint(30, 70))
    cut = created + days(rng.randint(2, 8))
    sewing = cut + days(rng.randint(1, 5))
    finished = sewing + days(rng.randint(3, 9))
    flagged = finished + days(1) if rng.random() < 0.15 else None
    passed = (flagged or finished) + days(rng.randint(1, 3))
    ready = passed + days(rng.randint(0, 2))
    estimated = ready + days(rng.randint(1, 3))
    shipped = ready + days(rng.randint(1, 4))
    quantity_edit = None
    if rng.random() < 0.25:
        quantity_edit = (
            created + days(rng.randint(1, (cut - created).days or 1)),
            max(50, quantity + rng.choice((-1, 1)) * rng.randint(1, 6) * 50),
        )
    delivery_edit = None
    if rng.random() < 0.2:
        delivery_edit = (created + days(rng.randint(1, 20)), delivery + days(rng.randint(-7, 10)))
    carrier = rng.choices([c for c, _ in CARRIERS], weights=[w for _, w in CARRIERS])[0]
    return Lifecycle(
        order_id,
        rng.choice(PRODUCTS),
        created,
        quantity,
        quantity_edit,
        delivery,
        delivery_edit,
        (cut, sewing, finished),
        flagged,
        passed,
        ready,
        estimated,
        shipped,
        carrier,
    )


def state_on(order: Lifecycle, day: dt.date) -> OrderState:
    quantity = order.quantity
    if order.quantity_edit and order.quantity_edit[0] <= day:
        quantity = order.quantity_edit[1]
    delivery = order.delivery_date
    if order.delivery_edit and order.delivery_edit[0] <= day:
        delivery = order.delivery_edit[1]
    stage_index = sum(1 for entered in order.stage_dates if entered <= day)
    qc = None
    if order.qc_passed_on <= day:
        qc = "passed"
    elif order.qc_flagged_on and order.qc_flagged_on <= day:
        qc = "flagged"
    if order.shipped_on <= day:
        status = "Shipped"
    elif order.ready_on <= day:
        status = "Ready to Ship"
    elif stage_index > 0:
        status = "In Production"
    else:
        status = "Received"
    return OrderState(
        order_id=order.order_id,
        product=order.product,
        quantity=quantity,
        delivery_date=delivery,
        status=status,
        stage=STAGES[stage_index],
        qc=qc,
        estimated_ship_date=order.estimated_ship_date if status == "Ready to Ship" else None,
        shipped_on=order.shipped_on if status == "Shipped" else None,
        carrier=order.carrier if status == "Shipped" else None,
    )


@lru_cache(maxsize=64)
def board(customer_key: str, day: dt.date) -> dict[str, OrderState]:
    """The customer's order board at the end of ``day`` (orders of the last 100 days)."""
    states: dict[str, OrderState] = {}
    for back in range(BOARD_HISTORY_DAYS, -1, -1):
        created = day - dt.timedelta(days=back)
        for index in range(orders_created_on(customer_key, created)):
            order = lifecycle(customer_key, created, index)
            states[order.order_id] = state_on(order, day)
    return states


@dataclass(frozen=True)
class FieldUpdate:
    order_id: str
    product: str
    field: str  # "quantity", "delivery_date" or "status"
    before: str
    after: str
    quantity_delta: int | None = None


@dataclass(frozen=True)
class BoardDiff:
    """What changed on a customer's board from one day to the next."""

    new: list[OrderState]
    updated: list[FieldUpdate]
    stage_moves: dict[str, list[OrderState]]
    qc_flagged: list[OrderState]
    qc_passed: list[OrderState]
    became_ready: list[OrderState]
    shipped: list[OrderState]
    today: dict[str, OrderState]


def diff(customer_key: str, day: dt.date) -> BoardDiff:
    before = board(customer_key, day - dt.timedelta(days=1))
    today = board(customer_key, day)
    new: list[OrderState] = []
    updated: list[FieldUpdate] = []
    qc_flagged: list[OrderState] = []
    qc_passed: list[OrderState] = []
    ready: list[OrderState] = []
    shipped: list[OrderState] = []
    stage_moves: dict[str, list[OrderState]] = {}
    for order_id, now in today.items():
        was = before.get(order_id)
        if was is None:
            new.append(now)
            continue
        if now.quantity != was.quantity:
            updated.append(
                FieldUpdate(
                    order_id,
                    now.product,
                    "quantity",
                    f"{was.quantity:,}",
                    f"{now.quantity:,}",
                    now.quantity - was.quantity,
                )
            )
        if now.delivery_date != was.delivery_date:
            updated.append(
                FieldUpdate(
                    order_id,
                    now.product,
                    "delivery_date",
                    was.delivery_date.isoformat(),
                    now.delivery_date.isoformat(),
                )
            )
        if now.status != was.status:
            updated.append(FieldUpdate(order_id, now.product, "status", was.status, now.status))
        if now.stage != was.stage:
            stage_moves.setdefault(now.stage, []).append(now)
        if now.qc != was.qc:
            (qc_flagged if now.qc == "flagged" else qc_passed).append(now)
        if now.status != was.status and now.status == "Ready to Ship":
            ready.append(now)
        if now.status != was.status and now.status == "Shipped":
            shipped.append(now)
    ordered_moves = {stage: stage_moves[stage] for stage in STAGES if stage in stage_moves}
    return BoardDiff(new, updated, ordered_moves, qc_flagged, qc_passed, ready, shipped, today)
