"""Deliveries: the daily summary email and the one delivery ledger (``reporting.deliveries``)
that alerts and report exports reuse. See docs/delivery.md.

The Dagster definitions are in ``definitions.py``; this package imports nothing, so the CLI
(``delivery.cli``) and the ledger load without Dagster.
"""
