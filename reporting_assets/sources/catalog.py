"""The sample pipelines by name, with what each one does (its asset's description), and the
failures a run can simulate. Kept apart from ``pipelines.py`` so loading the code location names
the assets without importing the pipelines, the synthetic source or the report builder."""

from typing import Literal

Simulation = Literal["none", "partial", "failure"]

PIPELINE_DESCRIPTIONS = {
    "order_sync": "Order board sync: new orders, quantity/date/status edits (the report's Order Changes).",
    "manufacturing_sync": "Production status and quality control (the report's Manufacturing Updates).",
    "shipping_sync": "Pickups and shipments per carrier (the report's Shipping Updates).",
}
"""Pipeline type -> description; ``pipelines.PIPELINES`` has one function per key."""
