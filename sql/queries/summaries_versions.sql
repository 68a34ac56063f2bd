-- Current version per (customer, day), through the unique (customer_key, summary_date) index.
SELECT s.customer_key, s.summary_date, s.version
FROM reporting.daily_customer_summaries s
JOIN unnest(%(customer_keys)s::text[], %(days)s::date[]) AS w(customer_key, summary_date)
  ON w.customer_key = s.customer_key AND w.summary_date = s.summary_date
