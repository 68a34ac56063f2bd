-- A schedule occurrence was claimed: count it and move next_run_at past it (never backwards).
UPDATE reporting.schedules
SET last_run_at = now(),
    run_count = run_count + 1,
    next_run_at = CASE WHEN next_run_at IS NULL OR next_run_at < %(next_run_at)s
                       THEN %(next_run_at)s ELSE next_run_at END
WHERE id = %(id)s
