"""Error patterns: the errors and warnings of every execution report, grouped by fingerprint."""
