-- Operational health (the export_failure_rate and export_backlog checks): exports finished in
-- the window, failed ones among them, and how many wait (pending) or are stuck processing.
SELECT
    count(*) FILTER (WHERE status = 'completed' AND updated_at >= %(since)s) AS completed,
    count(*) FILTER (WHERE status = 'failed' AND updated_at >= %(since)s) AS failed,
    count(*) FILTER (WHERE status = 'pending') AS pending,
    count(*) FILTER (WHERE status = 'processing' AND updated_at < %(stuck_before)s) AS stuck
FROM reporting.exports
WHERE status IN ('pending', 'processing') OR updated_at >= %(since)s
