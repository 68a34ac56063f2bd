-- One schedule by id, whatever its tenant (for the sensor and export runs, which act for the
-- schedule's owner).
SELECT * FROM reporting.schedules WHERE id = %(id)s
