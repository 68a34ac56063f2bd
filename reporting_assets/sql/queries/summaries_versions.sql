-- Stored version and content hash of the summaries in ranges of consecutive days per customer
-- (one range scan of the unique (customer_key, summary_date) index each): a summary whose hash
-- is unchanged is not written again.
SELECT s.customer_key, s.summary_date, s.version, s.content_hash
FROM unnest(%(customer_keys)s::text[], %(first_days)s::date[], %(last_days)s::date[])
         AS w(customer_key, first_day, last_day)
JOIN reporting.daily_customer_summaries s
  ON s.customer_key = w.customer_key AND s.summary_date BETWEEN w.first_day AND w.last_day
