"""Customer trends: the last 30 days per customer, one daily partition."""
