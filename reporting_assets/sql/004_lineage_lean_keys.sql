-- report_lineage.run_id is implied by execution_partition_id (whose row names the run, and
-- `lineage verify` checks the two agree); its own foreign key cost a third of lineage write
-- time in benchmarks/render_store.py. The run_id index stays for lookups by run.
ALTER TABLE reporting.report_lineage DROP CONSTRAINT IF EXISTS report_lineage_run_id_fkey;
