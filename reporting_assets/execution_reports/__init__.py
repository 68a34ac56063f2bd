"""Per-execution markdown reports: read runs from the event log, render, store."""
