INSERT INTO reporting.workflow_executions AS w
    (run_id, job_name, status, started_at, completed_at, external_execution_id, source)
SELECT * FROM unnest(%(run_ids)s::text[], %(job_names)s::text[], %(statuses)s::text[],
                     %(started_at)s::timestamptz[], %(completed_at)s::timestamptz[],
                     %(external_ids)s::text[], %(sources)s::text[])
ON CONFLICT (run_id) DO UPDATE SET
    job_name = EXCLUDED.job_name,
    status = EXCLUDED.status,
    started_at = EXCLUDED.started_at,
    completed_at = EXCLUDED.completed_at,
    external_execution_id = COALESCE(EXCLUDED.external_execution_id, w.external_execution_id),
    source = EXCLUDED.source,
    updated_at = now()
WHERE (w.job_name, w.status, w.started_at, w.completed_at, w.external_execution_id, w.source)
      IS DISTINCT FROM (EXCLUDED.job_name, EXCLUDED.status, EXCLUDED.started_at,
                        EXCLUDED.completed_at,
                        COALESCE(EXCLUDED.external_execution_id, w.external_execution_id),
                        EXCLUDED.source)
