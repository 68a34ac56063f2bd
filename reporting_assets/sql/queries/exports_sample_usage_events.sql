-- Deterministic sample usage events: for each tenant and day from %(start)s (UTC midnight) for
-- %(days)s days, %(per_day)s events on weekdays and half as many at weekends. Every value is
-- derived from hashes of (the sample seed, tenant, day, n), so the same arguments always give the same
-- rows; re-running inserts nothing new (event ids are deterministic).
-- The rows only, in the column order of sample_data.SAMPLE_TABLES["usage_events"]: the generator
-- inserts them into PostgreSQL or ClickHouse, so both engines get the same rows.
SELECT
    md5(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i)::uuid,
    t.tenant,
    d.day + (abs(h.a) %% 86400000) * interval '1 millisecond',
    'user-' || lpad((abs(h.b) %% %(users)s)::text, 4, '0'),
    'device-' || lpad((abs(h.b) %% %(users)s * 2 + abs(h.c) %% 2)::text, 4, '0'),
    'session-' || left(md5(t.tenant || ':' || d.day::date || ':' || (abs(h.b) %% %(users)s)), 12),
    (ARRAY['page_view', 'page_view', 'page_view', 'page_view', 'feature_use', 'feature_use',
           'login', 'search', 'export', 'error'])[1 + abs(h.c) %% 10],
    (ARRAY['dashboard', 'reports', 'billing', 'settings', 'search', 'admin'])[1 + abs(h.d) %% 6],
    (abs(h.d) %% 30000)::integer,
    (ARRAY['US', 'DE', 'GB', 'FR', 'JP', 'BR', 'IN', 'CA'])[1 + abs(h.a / 7) %% 8]
FROM unnest(%(tenants)s::text[]) AS t(tenant)
CROSS JOIN generate_series(
    %(start)s::timestamptz, %(start)s::timestamptz + (%(days)s - 1) * interval '1 day', interval '1 day'
) AS d(day)
CROSS JOIN LATERAL generate_series(
    1, CASE WHEN extract(isodow FROM d.day) >= 6 THEN greatest(%(per_day)s / 2, 1) ELSE %(per_day)s END
) AS n(i)
CROSS JOIN LATERAL (
    SELECT hashtextextended(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i, 1) AS a,
           hashtextextended(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i, 2) AS b,
           hashtextextended(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i, 3) AS c,
           hashtextextended(%(sample_seed)s || ':' || t.tenant || ':' || d.day::date || ':' || n.i, 4) AS d
) AS h
