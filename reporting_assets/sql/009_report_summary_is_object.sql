-- An execution report's summary_json is always a JSON object (build_row writes RunReport.summary).
-- The daily summaries unpack it once per report with jsonb_to_record, which fails on anything
-- else; the constraint names the bad row at write time instead of failing a later summary run.
ALTER TABLE reporting.pipeline_execution_reports
    ADD CONSTRAINT pipeline_execution_reports_summary_is_object
    CHECK (jsonb_typeof(summary_json) = 'object');
