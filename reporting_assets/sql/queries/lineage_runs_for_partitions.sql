-- The runs of the partitions' reports. A run reported from outside Dagster (source_event
-- 'external') has no Dagster run record: its job is its pipeline, its times come from its
-- reports (read only for such runs: reading the contract of every report cost half this query).
SELECT execution_id AS run_id,
       max(external_execution_id) AS external_execution_id,
       bool_or(source_event = 'external') AS external,
       min(pipeline_type) AS pipeline_type,
       min(status) AS report_status,
       min(run_started_at) AS started_at,
       max((contract_json ->> 'finished_at')::timestamptz)
           FILTER (WHERE source_event = 'external') AS finished_at
FROM reporting.pipeline_execution_reports
WHERE partition_key = ANY(%(partition_keys)s)
GROUP BY execution_id
ORDER BY execution_id
