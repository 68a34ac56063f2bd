"""Row limits of report queries: the query language's defaults, also the export settings'
defaults (which load with the code location, without the query compiler)."""

DEFAULT_ROW_LIMIT = 10_000
DEFAULT_MAX_ROW_LIMIT = 100_000
