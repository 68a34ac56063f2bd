"""The synthetic order board and the three sample pipelines that report over it."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys

import pytest

from reporting_assets.reporter import PipelineReporter
from reporting_assets.sources import synthetic
from reporting_assets.sources.catalog import PIPELINE_DESCRIPTIONS
from reporting_assets.sources.pipelines import PIPELINES, SimulatedPipelineFailure, run_pipeline

CUSTOMERS = ("ACTIVELY BLACK", "PELOTON", "GREYSON")
DAY = dt.date(2025, 6, 17)
# a weekday, a weekend day, the first day of a year (board spans the year boundary)
DAYS = (DAY, dt.date(2025, 6, 14), dt.date(2025, 1, 1), dt.date(2025, 2, 3))
ORDER_ID = re.compile(r"^([A-Z0-9]{3})-(\d{4})-(\d{3,})$")


def _clear_caches() -> None:
    for cached in (
        synthetic.board,
        synthetic.lifecycle,
        synthetic.orders_created_on,
        synthetic._year_offsets,
    ):
        cached.cache_clear()


def _lifecycles(customer: str, day: dt.date) -> dict[str, synthetic.Lifecycle]:
    """Every order on the board of ``day`` or the day before, by id."""
    out = {}
    for back in range(synthetic.BOARD_HISTORY_DAYS + 1, -1, -1):
        created = day - dt.timedelta(days=back)
        for index in range(synthetic.orders_created_on(customer, created)):
            order = synthetic.lifecycle(customer, created, index)
            out[order.order_id] = order
    return out


def _board_digest(customer: str, day: dt.date) -> str:
    board = synthetic.board(customer, day)
    return hashlib.sha256(repr(sorted(board.items())).encode()).hexdigest()


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_board_and_diff_are_deterministic(customer: str) -> None:
    board = synthetic.board(customer, DAY)
    change = synthetic.diff(customer, DAY)
    _clear_caches()
    recomputed = synthetic.board(customer, DAY)
    assert recomputed is not board  # really computed again, not served from the cache
    assert recomputed == board
    assert synthetic.diff(customer, DAY) == change


@pytest.mark.integration
def test_board_is_the_same_in_another_process_with_another_hash_seed() -> None:
    code = (
        "import datetime as dt, hashlib\n"
        "from reporting_assets.sources import synthetic\n"
        "b = synthetic.board('ACTIVELY BLACK', dt.date(2025, 6, 17))\n"
        "print(hashlib.sha256(repr(sorted(b.items())).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _board_digest("ACTIVELY BLACK", DAY)


def test_boards_differ_between_customers_and_days() -> None:
    digests = {_board_digest(c, d) for c in CUSTOMERS for d in (DAY, DAY - dt.timedelta(days=1))}
    assert len(digests) == 2 * len(CUSTOMERS)


# --- order ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "prefix"),
    [("ACTIVELY BLACK", "ACT"), ("PELOTON", "PEL"), ("AT&T", "ATT"), ("O'NEILL", "ONE"), ("X", "XXX")],
)
def test_order_prefix(customer: str, prefix: str) -> None:
    assert synthetic.order_prefix(customer) == prefix


@pytest.mark.parametrize("customer", CUSTOMERS)
@pytest.mark.parametrize("day", DAYS)
def test_new_order_ids_are_prefix_year_sequence(customer: str, day: dt.date) -> None:
    new = synthetic.diff(customer, day).new
    assert len(new) == synthetic.orders_created_on(customer, day)
    already = sum(
        synthetic.orders_created_on(customer, dt.date(day.year, 1, 1) + dt.timedelta(days=n))
        for n in range((day - dt.date(day.year, 1, 1)).days)
    )
    for position, order in enumerate(new, start=1):
        match = ORDER_ID.match(order.order_id)
        assert match, order.order_id
        assert match.group(1) == synthetic.order_prefix(customer)
        assert int(match.group(2)) == day.year
        assert int(match.group(3)) == already + position
        assert order.status == "Received" and order.stage == synthetic.STAGES[0]
        assert order.product in synthetic.PRODUCTS
        assert order.quantity > 0 and order.quantity % 50 == 0


def test_first_order_of_the_year_is_001() -> None:
    new = synthetic.diff("ACTIVELY BLACK", dt.date(2025, 1, 1)).new
    assert [o.order_id for o in new[:3]] == ["ACT-2025-001", "ACT-2025-002", "ACT-2025-003"]


@pytest.mark.parametrize("day", [dt.date(2025, 1, 15), DAY])
def test_order_ids_are_unique_on_a_board(day: dt.date) -> None:
    board = synthetic.board("ACTIVELY BLACK", day)
    expected = sum(
        synthetic.orders_created_on("ACTIVELY BLACK", day - dt.timedelta(days=back))
        for back in range(synthetic.BOARD_HISTORY_DAYS + 1)
    )
    assert len(board) == expected
    years = {ORDER_ID.match(order_id).group(2) for order_id in board}  # type: ignore[union-attr]
    assert years == ({"2024", "2025"} if day.month == 1 else {"2025"})


def test_weekends_are_quieter() -> None:
    for customer in CUSTOMERS:
        day = dt.date(2025, 6, 2)  # a Monday
        for offset in range(28):
            current = day + dt.timedelta(days=offset)
            count = synthetic.orders_created_on(customer, current)
            assert (2 <= count <= 9) if current.weekday() >= 5 else (8 <= count <= 24)


# --- the diff follows the lifecycles -----------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
@pytest.mark.parametrize("day", DAYS)
def test_diff_follows_lifecycles(customer: str, day: dt.date) -> None:
    change = synthetic.diff(customer, day)
    yesterday = synthetic.board(customer, day - dt.timedelta(days=1))
    orders = _lifecycles(customer, day)
    carried = [orders[order_id] for order_id in change.today if order_id in yesterday]

    expected_moves: dict[str, set[str]] = {}
    for lc in carried:
        for stage, entered in zip(synthetic.STAGES[1:], lc.stage_dates, strict=True):
            if entered == day:
                expected_moves.setdefault(stage, set()).add(lc.order_id)
    assert {
        stage: {o.order_id for o in moved} for stage, moved in change.stage_moves.items()
    } == expected_moves
    assert list(change.stage_moves) == [s for s in synthetic.STAGES if s in change.stage_moves]
    for stage, moved in change.stage_moves.items():
        assert all(o.stage == stage for o in moved)
        # the day before, each was exactly one stage behind
        assert all(
            synthetic.STAGES.index(yesterday[o.order_id].stage) == synthetic.STAGES.index(stage) - 1
            for o in moved
        )

    assert {o.order_id for o in change.shipped} == {lc.order_id for lc in carried if lc.shipped_on == day}
    for order in change.shipped:
        assert order.status == "Shipped" and yesterday[order.order_id].status == "Ready to Ship"
        assert order.carrier == orders[order.order_id].carrier
        assert order.shipped_on == day
    assert {o.order_id for o in change.became_ready} == {lc.order_id for lc in carried if lc.ready_on == day}
    assert {o.order_id for o in change.qc_passed} == {lc.order_id for lc in carried if lc.qc_passed_on == day}
    assert {o.order_id for o in change.qc_flagged} == {
        lc.order_id for lc in carried if lc.qc_flagged_on == day
    }

    quantity_updates = {u.order_id: u for u in change.updated if u.field == "quantity"}
    expected_quantity = {
        lc.order_id
        for lc in carried
        if lc.quantity_edit and lc.quantity_edit[0] == day and lc.quantity_edit[1] != lc.quantity
    }
    assert set(quantity_updates) == expected_quantity
    for order_id, update in quantity_updates.items():
        lc = orders[order_id]
        assert lc.quantity_edit is not None
        assert update.before == f"{lc.quantity:,}" and update.after == f"{lc.quantity_edit[1]:,}"
        assert update.quantity_delta == lc.quantity_edit[1] - lc.quantity
    new_ids = {o.order_id for o in change.new}
    assert new_ids.isdisjoint(yesterday)
    assert new_ids == set(change.today) - set(yesterday)


def test_nothing_moves_when_nothing_is_due() -> None:
    """An order's state only changes on the days its lifecycle names."""
    lc = synthetic.lifecycle("PELOTON", DAY, 0)
    events = {
        lc.created,
        *lc.stage_dates,
        lc.qc_passed_on,
        lc.ready_on,
        lc.shipped_on,
        *([lc.qc_flagged_on] if lc.qc_flagged_on else []),
        *([lc.quantity_edit[0]] if lc.quantity_edit else []),
        *([lc.delivery_edit[0]] if lc.delivery_edit else []),
    }
    day = lc.created
    while day <= lc.shipped_on + dt.timedelta(days=2):
        before = synthetic.state_on(lc, day - dt.timedelta(days=1))
        after = synthetic.state_on(lc, day)
        if day not in events:
            assert before == after, day
        day += dt.timedelta(days=1)
    assert synthetic.state_on(lc, lc.shipped_on).status == "Shipped"
    assert lc.created < lc.stage_dates[0] < lc.stage_dates[1] < lc.stage_dates[2] < lc.qc_passed_on
    assert lc.qc_passed_on <= lc.ready_on < lc.shipped_on


# --- pipelines ---------------------------------------------------------------------------------


def _run(pipeline: str, customer: str = "ACTIVELY BLACK", day: dt.date = DAY, **kwargs) -> PipelineReporter:
    reporter = PipelineReporter(customer, pipeline, "run-test", execution_date=day)
    run_pipeline(pipeline, reporter, customer, day, **kwargs)
    return reporter


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_order_sync_matches_the_diff(customer: str) -> None:
    change = synthetic.diff(customer, DAY)
    report = _run("order_sync", customer).build()
    updated_orders = {u.order_id for u in change.updated}
    assert report.status == "success"
    assert report.counts.new == len(change.new) == synthetic.orders_created_on(customer, DAY)
    assert report.counts.updated == len(updated_orders)
    assert report.counts.records_processed == len(change.today)
    assert report.change_counts["new_order"] == len(change.new)
    assert report.change_counts.get("order_updated", 0) == len(updated_orders)
    assert report.changes_total == len(change.new) + len(updated_orders)
    assert [c.key for c in report.changes if c.category == "new_order"] == [o.order_id for o in change.new]
    assert {c.key for c in report.changes if c.category == "order_updated"} == updated_orders
    assert report.metrics.database_operations.inserts == len(change.new)
    assert report.metrics.database_operations.updates == len(updated_orders)
    first = change.new[0]
    assert report.changes[0].description == f"{first.product} (Qty: {first.quantity:,})"
    overdue = [o for o in change.today.values() if o.status != "Shipped" and o.delivery_date < DAY]
    assert bool(overdue) == any("past their delivery date" in w for w in report.warnings)


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_manufacturing_sync_matches_the_diff(customer: str) -> None:
    change = synthetic.diff(customer, DAY)
    report = _run("manufacturing_sync", customer).build()
    assert report.manufacturing is not None
    assert report.manufacturing.stage_moves == {s: len(o) for s, o in change.stage_moves.items()}
    assert report.manufacturing.qc_flagged == len(change.qc_flagged)
    assert report.manufacturing.qc_passed == len(change.qc_passed)
    moved = sum(len(o) for o in change.stage_moves.values())
    assert report.change_counts.get("stage_move", 0) == moved
    assert report.counts.new == len(change.stage_moves.get("Cut Complete", []))
    in_production = [o for o in change.today.values() if o.status == "In Production"]
    assert report.counts.records_processed == len(in_production)
    assert bool(change.qc_flagged) == any("quality flagged" in a for a in report.next_actions)
    assert report.shipping is None


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_shipping_sync_matches_the_diff(customer: str) -> None:
    change = synthetic.diff(customer, DAY)
    report = _run("shipping_sync", customer).build()
    ready = [o for o in change.today.values() if o.status == "Ready to Ship"]
    assert report.shipping is not None
    assert report.shipping.ready_to_ship == len(ready)
    assert report.shipping.ready_volume == sum(o.quantity for o in ready)
    assert sum(report.shipping.shipped_by_carrier.values()) == len(change.shipped)
    for carrier, count in report.shipping.shipped_by_carrier.items():
        assert count == sum(1 for o in change.shipped if o.carrier == carrier)
    counts = list(report.shipping.shipped_by_carrier.values())
    assert counts == sorted(counts, reverse=True)
    assert report.shipping.shipped_volume == sum(o.quantity for o in change.shipped)
    if ready:
        assert report.shipping.estimated_ship_date is not None
        assert report.shipping.estimated_ship_date > DAY
    assert report.counts.new == len(change.became_ready)
    assert report.counts.updated == len(change.shipped)
    assert report.change_counts.get("shipped", 0) == len(change.shipped)
    assert report.manufacturing is None


def test_every_pipeline_is_registered() -> None:
    assert set(PIPELINES) == {"order_sync", "manufacturing_sync", "shipping_sync"}
    # the assets are built from the catalog, the runs from PIPELINES: one name list
    assert list(PIPELINE_DESCRIPTIONS) == list(PIPELINES)


def test_pipeline_markdown_lists_the_new_orders() -> None:
    change = synthetic.diff("ACTIVELY BLACK", DAY)
    markdown = _run("order_sync").generate_markdown()
    assert f"### ✅ New Orders Added ({len(change.new)})" in markdown
    assert f"- **{change.new[0].order_id}** - {change.new[0].product}" in markdown
    if len(change.new) > 10:
        assert f"- ... ({len(change.new) - 10} more)" in markdown


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_simulate_partial(pipeline: str) -> None:
    change = synthetic.diff("PELOTON", DAY)
    reporter = _run(pipeline, "PELOTON", simulate="partial")
    report = reporter.build()
    rejected = max(1, len(change.updated) // 10)
    assert report.status == "partial"
    assert report.counts.failed == rejected
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{rejected} records rejected by the target")
    assert reporter.to_metadata()["errors"].value == 1


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_simulate_failure(pipeline: str) -> None:
    reporter = PipelineReporter("GREYSON", pipeline, "run-test", execution_date=DAY)
    with pytest.raises(
        SimulatedPipelineFailure, match=f"simulated failure of {pipeline} for GREYSON on 2025-06-17"
    ):
        run_pipeline(pipeline, reporter, "GREYSON", DAY, simulate="failure")
    assert reporter.build(status="failed").status == "failed"


def test_simulate_none_is_a_clean_run() -> None:
    report = _run("order_sync", simulate="none").build()
    assert report.status == "success"
    assert report.errors == [] and report.counts.failed == 0
