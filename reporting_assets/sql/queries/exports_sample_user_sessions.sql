-- Deterministic sample sessions: %(sessions_per_day)s per tenant and day (see
-- exports_sample_usage_events.sql for the approach); re-running inserts nothing new.
-- The rows only, in the column order of sample_data.SAMPLE_TABLES["user_sessions"]: the generator
-- inserts them into PostgreSQL or ClickHouse, so both engines get the same rows.
SELECT
    'session-' || left(md5(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i), 16),
    t.tenant,
    'user-' || lpad((abs(h.b) %% %(users)s)::text, 4, '0'),
    'device-' || lpad((abs(h.b) %% %(users)s * 2 + abs(h.c) %% 2)::text, 4, '0'),
    d.day + (abs(h.a) %% 86400) * interval '1 second',
    d.day + (abs(h.a) %% 86400 + 30 + abs(h.c) %% 3600) * interval '1 second',
    (30 + abs(h.c) %% 3600)::integer,
    (1 + abs(h.d) %% 40)::integer,
    (ARRAY['web', 'web', 'ios', 'android', 'desktop'])[1 + abs(h.d) %% 5],
    (ARRAY['US', 'DE', 'GB', 'FR', 'JP', 'BR', 'IN', 'CA'])[1 + abs(h.a / 7) %% 8]
FROM unnest(%(tenants)s::text[]) AS t(tenant)
CROSS JOIN generate_series(
    %(start)s::timestamptz, %(start)s::timestamptz + (%(days)s - 1) * interval '1 day', interval '1 day'
) AS d(day)
CROSS JOIN generate_series(1, %(sessions_per_day)s) AS n(i)
CROSS JOIN LATERAL (
    SELECT hashtextextended(%(sample_seed)s || ':s:' || t.tenant || ':' || d.day::date || ':' || n.i, 1) AS a,
           hashtextextended(%(sample_seed)s || ':s:' || t.tenant || ':' || d.day::date || ':' || n.i, 2) AS b,
           hashtextextended(%(sample_seed)s || ':s:' || t.tenant || ':' || d.day::date || ':' || n.i, 3) AS c,
           hashtextextended(%(sample_seed)s || ':s:' || t.tenant || ':' || d.day::date || ':' || n.i, 4) AS d
) AS h
