-- Every leaf figure of the partitions' reports, in report_lineage's column order: inserted
-- straight into report_lineage on a first write, else staged in lineage_leaves for the upsert.
SELECT r.id, leaf.path, leaf.value, r.execution_id, p.id, r.event_storage_id, r.external_execution_id
FROM reporting.pipeline_execution_reports r
JOIN reporting.workflow_execution_partitions p
  ON p.run_id = r.execution_id AND p.pipeline_type = r.pipeline_type
 AND p.customer_key = r.customer_key AND p.execution_date = r.execution_date
CROSS JOIN LATERAL reporting.jsonb_leaves(r.summary_json) leaf
WHERE r.partition_key = ANY(%(partition_keys)s)
