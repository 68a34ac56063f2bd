-- Every execution report of the wanted (customer, day) pairs, lean columns, one query.
SELECT r.customer_key, r.customer_name, r.execution_date, r.pipeline_type, r.execution_id,
       r.status, r.run_started_at, r.event_storage_id, r.id,
       (r.summary_json #>> '{counts,new}')::integer AS new,
       (r.summary_json #>> '{counts,updated}')::integer AS updated,
       (r.metrics_json ->> 'execution_time_seconds')::double precision AS seconds,
       r.contract_json -> 'warnings' AS warnings,
       r.contract_json -> 'errors' AS errors
FROM reporting.pipeline_execution_reports r
JOIN unnest(%(customer_keys)s::text[], %(days)s::date[]) AS w(customer_key, summary_date)
  ON w.customer_key = r.customer_key AND w.summary_date = r.execution_date
ORDER BY r.customer_key, r.execution_date, r.run_started_at NULLS FIRST, r.event_storage_id NULLS FIRST, r.id
