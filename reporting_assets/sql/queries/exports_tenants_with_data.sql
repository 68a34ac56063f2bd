-- Tenants that have usage events (optionally only those in %(tenants)s). A loose index scan
-- (recursive CTE over usage_events_tenant_time) so it stays fast with millions of events.
WITH RECURSIVE tenants AS (
    (SELECT tenant_id FROM analytics.usage_events ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT e.tenant_id FROM analytics.usage_events e
            WHERE e.tenant_id > tenants.tenant_id ORDER BY e.tenant_id LIMIT 1)
    FROM tenants WHERE tenants.tenant_id IS NOT NULL
)
SELECT tenant_id FROM tenants
WHERE tenant_id IS NOT NULL
  AND (%(tenants)s::text[] IS NULL OR tenant_id = ANY(%(tenants)s::text[]))
ORDER BY tenant_id
