-- A customer may belong to a tenant of the reports API: users of that tenant see its pipeline
-- reports, summaries and lineage; tokens of the operations tenant see every customer. NULL: no
-- tenant (only the operations tenant sees it). Tenant ids follow the API's rule for tenants.
ALTER TABLE reporting.customers
    ADD COLUMN tenant_id text
        CONSTRAINT customers_tenant_id_format CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$');
CREATE INDEX customers_tenant_id ON reporting.customers (tenant_id) WHERE tenant_id IS NOT NULL;
