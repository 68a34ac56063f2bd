-- The export of one schedule occurrence, if it was claimed before.
SELECT * FROM reporting.exports WHERE schedule_id = %(schedule_id)s AND scheduled_for = %(scheduled_for)s
