-- Occurrences of the day the day's reports no longer have.
DELETE FROM reporting.error_pattern_occurrences o
WHERE o.day = %(day)s
  AND NOT EXISTS (
      SELECT 1
      FROM error_patterns_stage s
      JOIN reporting.error_patterns p ON p.severity = s.severity AND p.fingerprint = s.fingerprint
      WHERE p.id = o.pattern_id AND s.customer_key = o.customer_key)
