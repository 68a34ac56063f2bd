-- The source systems: the registry's, plus every pipeline type that reported without being
-- registered (found by a loose index scan over workflow_execution_partitions_pipeline: one index
-- probe per distinct value, whatever the number of rows).
WITH RECURSIVE seen(pipeline_type) AS (
    (SELECT pipeline_type FROM reporting.workflow_execution_partitions ORDER BY pipeline_type LIMIT 1)
    UNION ALL
    SELECT (SELECT p.pipeline_type
            FROM reporting.workflow_execution_partitions p
            WHERE p.pipeline_type > seen.pipeline_type
            ORDER BY p.pipeline_type
            LIMIT 1)
    FROM seen
    WHERE seen.pipeline_type IS NOT NULL
)
SELECT coalesce(pl.source_system, seen.pipeline_type) AS source
FROM seen LEFT JOIN reporting.pipelines pl ON pl.pipeline_type = seen.pipeline_type
WHERE seen.pipeline_type IS NOT NULL
UNION
SELECT source_system FROM reporting.pipelines
