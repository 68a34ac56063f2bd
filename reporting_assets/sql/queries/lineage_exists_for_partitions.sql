-- Whether any report of these partitions already has lineage rows (if none: the figures are
-- inserted straight from the reports, with no staging and no upsert).
SELECT EXISTS (
    SELECT 1 FROM reporting.pipeline_execution_reports r
    JOIN reporting.report_lineage l ON l.report_id = r.id
    WHERE r.partition_key = ANY(%(partition_keys)s)
) AS found
