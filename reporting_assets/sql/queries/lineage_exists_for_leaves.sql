-- Whether any report of this write already has lineage rows (if none: plain insert, no upsert).
SELECT EXISTS (
    SELECT 1 FROM reporting.report_lineage l
    WHERE l.report_id IN (SELECT DISTINCT report_id FROM lineage_leaves)
) AS found
