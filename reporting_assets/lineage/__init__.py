"""Workflow lineage (seed 004): every stored figure traceable to the run that produced it."""
