-- One child row per (run, pipeline, customer, day), derived from the stored reports.
INSERT INTO reporting.workflow_execution_partitions AS p
    (run_id, pipeline_type, customer_key, execution_date, partition_key, status, record_count,
     external_execution_id)
SELECT r.execution_id, r.pipeline_type, r.customer_key, r.execution_date, r.partition_key, r.status,
       COALESCE((r.summary_json #>> '{counts,records_processed}')::integer, 0),
       r.external_execution_id
FROM reporting.pipeline_execution_reports r
WHERE r.partition_key = ANY(%(partition_keys)s)
ON CONFLICT (run_id, pipeline_type, customer_key, execution_date) DO UPDATE SET
    partition_key = EXCLUDED.partition_key,
    status = EXCLUDED.status,
    record_count = EXCLUDED.record_count,
    external_execution_id = EXCLUDED.external_execution_id,
    updated_at = now()
WHERE (p.partition_key, p.status, p.record_count, p.external_execution_id)
      IS DISTINCT FROM (EXCLUDED.partition_key, EXCLUDED.status, EXCLUDED.record_count,
                        EXCLUDED.external_execution_id)
