"""The pipeline registry and reports from pipelines that run outside this code location."""
