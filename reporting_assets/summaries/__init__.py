"""Daily customer summaries: a day's execution reports aggregated per customer."""
