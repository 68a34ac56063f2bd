-- The flagged patterns of customer days (runs of consecutive days per customer, as the daily
-- summaries read their reports), with the customer's occurrences and the day's total.
SELECT o.customer_key, o.day, d.flag, p.severity, p.fingerprint, o.occurrences,
       d.occurrences AS total_occurrences, d.seven_day_average
FROM unnest(%(customer_keys)s::text[], %(first_days)s::date[], %(last_days)s::date[])
     AS w (customer_key, first_day, last_day)
JOIN reporting.error_pattern_occurrences o
  ON o.customer_key = w.customer_key AND o.day BETWEEN w.first_day AND w.last_day
JOIN reporting.error_pattern_days d ON d.pattern_id = o.pattern_id AND d.day = o.day
JOIN reporting.error_patterns p ON p.id = o.pattern_id
WHERE d.flag IS NOT NULL
ORDER BY o.customer_key, o.day, d.flag DESC, o.occurrences DESC, p.id
