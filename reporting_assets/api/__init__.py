"""The reports HTTP API: the report builder's endpoints and the pipeline reports, over the same
functions the CLI and Dagster call (``exports.engine``, the stored reports, summaries and
lineage). ``reporting-assets api`` serves it; see docs/api.md."""
