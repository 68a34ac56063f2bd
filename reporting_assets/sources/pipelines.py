"""What each sample pipeline does for one customer and day, reported through PipelineReporter.

Every figure comes from the synthetic board (``synthetic.diff``); next actions and warnings are
rules over those figures. Plain functions: the Dagster assets in ``assets.py`` only wire them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from reporting_assets.contract import ManufacturingSummary, ShippingSummary
from reporting_assets.reporter import PipelineReporter
from reporting_assets.sources import synthetic
from reporting_assets.sources.catalog import Simulation

DELAY_WINDOW_DAYS = 7
PAGE_SIZE = 100


class SimulatedPipelineFailure(RuntimeError):
    """Raised on purpose when a run is configured with ``simulate: failure``."""


def _pages(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE_SIZE))


def _describe(update: synthetic.FieldUpdate) -> str:
    if update.field == "quantity":
        return f"Quantity changed: {update.before} → {update.after} ({update.quantity_delta:+,})"
    if update.field == "delivery_date":
        return f"Delivery date updated: {update.before} → {update.after}"
    return f"Status: {update.before} → {update.after}"


def order_sync(reporter: PipelineReporter, customer_key: str, day: dt.date) -> synthetic.BoardDiff:
    change = synthetic.diff(customer_key, day)
    board = change.today
    reporter.count_api_calls("monday_com", _pages(len(board)))
    reporter.count_database_operations("queries", _pages(len(board)) + 1)
    for order in change.new:
        reporter.log_change(
            "new_order",
            f"{order.product} (Qty: {order.quantity:,})",
            key=order.order_id,
            after=order.status,
            quantity=order.quantity,
        )
    by_order: dict[str, list[synthetic.FieldUpdate]] = {}
    for update in change.updated:
        by_order.setdefault(update.order_id, []).append(update)
    for order_id, updates in by_order.items():
        reporter.log_change(
            "order_updated",
            "; ".join(_describe(u) for u in updates),
            key=order_id,
            before=", ".join(u.before for u in updates),
            after=", ".join(u.after for u in updates),
        )
    updated_orders = len(by_order)
    reporter.count_database_operations("inserts", len(change.new))
    reporter.count_database_operations("updates", updated_orders)
    reporter.log_metric("records_processed", len(board))
    reporter.log_metric("new", len(change.new))
    reporter.log_metric("updated", updated_orders)
    overdue = [o for o in board.values() if o.status != "Shipped" and o.delivery_date < day]
    if overdue:
        reporter.add_warning(f"{len(overdue)} orders are past their delivery date and not shipped")
        reporter.add_next_action(f"Contact the customer about {len(overdue)} orders past their delivery date")
    return change


def manufacturing_sync(reporter: PipelineReporter, customer_key: str, day: dt.date) -> synthetic.BoardDiff:
    change = synthetic.diff(customer_key, day)
    in_production = [o for o in change.today.values() if o.status == "In Production"]
    delayed = [o for o in in_production if (o.delivery_date - day).days < DELAY_WINDOW_DAYS]
    for stage, orders in change.stage_moves.items():
        for order in orders:
            reporter.log_change(
                "stage_move", f"{order.product} moved to {stage}", key=order.order_id, after=stage
            )
    for order in change.qc_flagged:
        reporter.log_change("qc_flagged", f"{order.product} flagged for quality review", key=order.order_id)
    for order in change.qc_passed:
        reporter.log_change("qc_passed", f"{order.product} passed final inspection", key=order.order_id)
    moved = sum(len(v) for v in change.stage_moves.values())
    entering = len(change.stage_moves.get(synthetic.STAGES[1], []))
    reporter.set_manufacturing(
        ManufacturingSummary(
            stage_moves={stage: len(orders) for stage, orders in change.stage_moves.items()},
            qc_flagged=len(change.qc_flagged),
            qc_passed=len(change.qc_passed),
            delayed=len(delayed),
        )
    )
    reporter.count_api_calls("manufacturing_system", _pages(len(in_production)) + math.ceil(moved / 25))
    reporter.count_database_operations("queries", _pages(len(in_production)))
    reporter.count_database_operations("updates", moved + len(change.qc_flagged) + len(change.qc_passed))
    reporter.log_metric("records_processed", len(in_production))
    reporter.log_metric("new", entering)
    reporter.log_metric("updated", moved - entering + len(change.qc_flagged) + len(change.qc_passed))
    if change.qc_flagged:
        reporter.add_next_action(f"Review {len(change.qc_flagged)} quality flagged orders")
    if delayed:
        reporter.add_next_action(f"Follow up on {len(delayed)} delayed production items")
        reporter.add_warning(f"{len(delayed)} orders in production are due within {DELAY_WINDOW_DAYS} days")
    return change


def shipping_sync(reporter: PipelineReporter, customer_key: str, day: dt.date) -> synthetic.BoardDiff:
    change = synthetic.diff(customer_key, day)
    ready = [o for o in change.today.values() if o.status == "Ready to Ship"]
    by_carrier: dict[str, int] = {}
    for order in change.shipped:
        assert order.carrier is not None
        by_carrier[order.carrier] = by_carrier.get(order.carrier, 0) + 1
        reporter.log_change(
            "shipped",
            f"{order.product} shipped via {order.carrier}",
            key=order.order_id,
            quantity=order.quantity,
        )
    for order in change.became_ready:
        reporter.log_change(
            "ready_to_ship", f"{order.product} ready for pickup", key=order.order_id, quantity=order.quantity
        )
    # orders whose estimate has passed are rescheduled for the next day's pickup
    next_pickup = day + dt.timedelta(days=1)
    estimated = [max(o.estimated_ship_date, next_pickup) for o in ready if o.estimated_ship_date]
    reporter.set_shipping(
        ShippingSummary(
            ready_to_ship=len(ready),
            ready_volume=sum(o.quantity for o in ready),
            estimated_ship_date=min(estimated) if estimated else None,
            shipped_by_carrier=dict(sorted(by_carrier.items(), key=lambda kv: (-kv[1], kv[0]))),
            shipped_volume=sum(o.quantity for o in change.shipped),
        )
    )
    reporter.count_api_calls("shipping_system", _pages(len(ready)) + len(by_carrier))
    reporter.count_database_operations("queries", _pages(len(ready)))
    reporter.count_database_operations("updates", len(change.shipped) + len(change.became_ready))
    reporter.log_metric("records_processed", len(ready) + len(change.shipped))
    reporter.log_metric("new", len(change.became_ready))
    reporter.log_metric("updated", len(change.shipped))
    if ready:
        reporter.add_next_action(f"Coordinate pickup for {len(ready)} ready-to-ship orders")
    waiting = [o for o in ready if o.estimated_ship_date and o.estimated_ship_date < day]
    if waiting:
        reporter.add_warning(f"{len(waiting)} ready orders missed their estimated ship date")
    return change


# what each pipeline does is its asset description: catalog.PIPELINE_DESCRIPTIONS
PIPELINES: dict[str, Callable[[PipelineReporter, str, dt.date], synthetic.BoardDiff]] = {
    "order_sync": order_sync,
    "manufacturing_sync": manufacturing_sync,
    "shipping_sync": shipping_sync,
}


def run_pipeline(
    pipeline_type: str,
    reporter: PipelineReporter,
    customer_key: str,
    day: dt.date,
    simulate: Simulation = "none",
) -> None:
    """Run one sample pipeline; ``simulate`` makes it partial or failing on purpose."""
    change = PIPELINES[pipeline_type](reporter, customer_key, day)
    if simulate == "partial":
        rejected = max(1, len(change.updated) // 10)
        reporter.log_metric("failed", rejected)
        reporter.add_error(
            f"{rejected} records rejected by the target: dropdown value 'Cancelled' is not one "
            f"of the allowed values ('CANCELLED')"
        )
    elif simulate == "failure":
        raise SimulatedPipelineFailure(
            f"simulated failure of {pipeline_type} for {customer_key} on {day.isoformat()} "
            f"(run config simulate='failure')"
        )
