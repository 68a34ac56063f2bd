"""Per-execution markdown reports (seed 000): read runs from the event log, render, store."""
