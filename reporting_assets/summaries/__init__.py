"""Daily customer summaries (seed 000): a day's execution reports aggregated per customer."""
