"""Workflow lineage: every stored figure traceable to the run that produced it."""
