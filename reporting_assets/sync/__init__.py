"""Sync sessions: a multi-customer sync job, session folders with an executive summary, reports
that exist even when the sync fails, structured log ids. See docs/sync.md.

The Dagster definitions are in ``definitions.py``; this package imports nothing, so the CLI
(``sync.cli``) loads without Dagster.
"""
