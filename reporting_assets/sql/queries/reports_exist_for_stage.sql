-- Whether any staged report is already stored (if none: plain insert, no upsert).
SELECT EXISTS (
    SELECT 1 FROM reports_stage s
    JOIN reporting.pipeline_execution_reports r
      ON r.execution_id = s.execution_id AND r.pipeline_type = s.pipeline_type
     AND r.customer_key = s.customer_key AND r.execution_date = s.execution_date
) AS found
