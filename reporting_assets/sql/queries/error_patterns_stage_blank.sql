-- Empty lines, and lines of nothing but spaces and control characters, have a blank
-- fingerprint: no pattern.
DELETE FROM error_patterns_stage WHERE fingerprint = ''
