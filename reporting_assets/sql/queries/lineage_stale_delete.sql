-- Lineage rows for figures a re-rendered report no longer has.
DELETE FROM reporting.report_lineage l
USING reporting.pipeline_execution_reports r
WHERE l.report_id = r.id
  AND r.partition_key = ANY(%(partition_keys)s)
  AND NOT EXISTS (
      SELECT 1 FROM lineage_leaves s WHERE s.report_id = l.report_id AND s.figure_path = l.figure_path)
