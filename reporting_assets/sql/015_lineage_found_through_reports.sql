-- report_lineage rows are found by run through their reports: pipeline_execution_reports is
-- indexed by execution_id (its one-per-run key) and report_lineage by report_id (its primary key),
-- and a row's run_id is its report's execution_id (the figure write copies it from there). The
-- run_id index was a third index to maintain per figure row, about a third of the figure write in
-- benchmarks/render_store.py.
DROP INDEX IF EXISTS reporting.report_lineage_run;
