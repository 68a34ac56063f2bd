"""Automation reports: per source system metrics over a time window, twice daily and on demand,
with recommendations, a success-rate check and alert emails. See docs/automation.md.

The Dagster definitions are in ``definitions.py``; this package imports nothing, so the CLI
(``automation.cli``) loads without Dagster.
"""
