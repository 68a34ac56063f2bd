-- Figures without lineage, lineage that no longer matches its figure, and broken references.
SELECT
    (SELECT count(*) FROM reporting.pipeline_execution_reports r
       CROSS JOIN LATERAL reporting.jsonb_leaves(r.summary_json) leaf
       LEFT JOIN reporting.report_lineage l ON l.report_id = r.id AND l.figure_path = leaf.path
      WHERE l.report_id IS NULL) AS figures_without_lineage,
    (SELECT count(*) FROM reporting.report_lineage l
       JOIN reporting.pipeline_execution_reports r ON r.id = l.report_id
       LEFT JOIN LATERAL (SELECT leaf.value FROM reporting.jsonb_leaves(r.summary_json) leaf
                           WHERE leaf.path = l.figure_path) cur ON true
      WHERE cur.value IS DISTINCT FROM l.figure_value) AS stale_lineage_rows,
    (SELECT count(*) FROM reporting.report_lineage l
       LEFT JOIN reporting.workflow_executions w ON w.run_id = l.run_id
      WHERE w.run_id IS NULL) AS lineage_without_execution,
    (SELECT count(*) FROM reporting.report_lineage l
       LEFT JOIN reporting.workflow_execution_partitions p ON p.id = l.execution_partition_id
      WHERE p.id IS NULL OR p.run_id <> l.run_id) AS lineage_with_broken_partition,
    (SELECT count(*) FROM reporting.pipeline_execution_reports r
       LEFT JOIN reporting.workflow_executions w ON w.run_id = r.execution_id
      WHERE w.run_id IS NULL) AS reports_without_execution
