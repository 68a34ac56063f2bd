-- Every execution report of the wanted days, in run order within a day, lean columns, one query.
-- The days come as ranges of consecutive days per customer: one index range scan each.
-- The contract (the widest column, compressed) is read only for reports that have warnings or
-- errors: summary_json's warning_count / error_count are the lengths of the contract's lists
-- (RunReport.summary); a summary without a count of 0 reads the contract. Empty lists are NULL.
-- summary_json (most are compressed) is unpacked once per report by jsonb_to_record, not once
-- per field read.
SELECT r.customer_key, r.execution_date, r.customer_name, r.pipeline_type, r.execution_id,
       r.status, r.run_started_at,
       (s.counts ->> 'new')::integer AS new,
       (s.counts ->> 'updated')::integer AS updated,
       (r.metrics_json ->> 'execution_time_seconds')::double precision AS seconds,
       CASE WHEN s.warning_count = '0' THEN NULL
            ELSE nullif(r.contract_json -> 'warnings', '[]') END AS warnings,
       CASE WHEN s.error_count = '0' THEN NULL
            ELSE nullif(r.contract_json -> 'errors', '[]') END AS errors
FROM unnest(%(customer_keys)s::text[], %(first_days)s::date[], %(last_days)s::date[])
         AS w(customer_key, first_day, last_day)
JOIN reporting.pipeline_execution_reports r
  ON r.customer_key = w.customer_key AND r.execution_date BETWEEN w.first_day AND w.last_day
CROSS JOIN LATERAL jsonb_to_record(r.summary_json) AS s(counts jsonb, warning_count jsonb, error_count jsonb)
ORDER BY r.customer_key, r.execution_date, r.run_started_at NULLS FIRST, r.event_storage_id NULLS FIRST, r.id
