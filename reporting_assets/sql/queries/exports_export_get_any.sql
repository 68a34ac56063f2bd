-- One export by id, whatever its tenant (export runs act for the export's initiator).
SELECT * FROM reporting.exports WHERE id = %(id)s
