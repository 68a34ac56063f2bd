-- Deterministic sample device health: every device of each tenant reports every 4 hours
-- (see exports_sample_usage_events.sql for the approach); re-running inserts nothing new.
-- The rows only, in the column order of sample_data.SAMPLE_TABLES["device_metrics"]: the generator
-- inserts them into PostgreSQL or ClickHouse, so both engines get the same rows.
SELECT
    t.tenant,
    'device-' || lpad(dev.i::text, 4, '0'),
    s.at,
    (ARRAY['ios', 'android', 'windows', 'macos', 'linux'])[1 + dev.i %% 5],
    '3.' || (dev.i %% 4) || '.' || (abs(h.a) %% 3),
    round((abs(h.a) %% 10000) / 100.0, 2),
    round((256 + abs(h.b) %% 7936)::numeric, 1),
    round((abs(h.c) %% 10000) / 100.0, 2),
    round((5 + abs(h.d) %% 50000 / 100.0)::numeric, 2)
FROM unnest(%(tenants)s::text[]) AS t(tenant)
CROSS JOIN generate_series(0, %(devices)s - 1) AS dev(i)
CROSS JOIN generate_series(
    %(start)s::timestamptz, %(start)s::timestamptz + %(days)s * interval '1 day' - interval '4 hours',
    interval '4 hours'
) AS s(at)
CROSS JOIN LATERAL (
    SELECT hashtextextended(%(sample_seed)s || ':m:' || t.tenant || ':' || dev.i || ':' || s.at, 1) AS a,
           hashtextextended(%(sample_seed)s || ':m:' || t.tenant || ':' || dev.i || ':' || s.at, 2) AS b,
           hashtextextended(%(sample_seed)s || ':m:' || t.tenant || ':' || dev.i || ':' || s.at, 3) AS c,
           hashtextextended(%(sample_seed)s || ':m:' || t.tenant || ':' || dev.i || ':' || s.at, 4) AS d
) AS h
