-- Report builder and scheduled exports (docs/exports.md): saved reports over a query DSL,
-- cron + timezone schedules, exports with their history, and the analytics source they read.
--
-- The report builder's original columns and CHECKs are kept; additions are marked. Timestamps are timestamptz
-- (a plain TIMESTAMP has no zone; every session here runs in UTC). Tenant consistency is
-- enforced by composite foreign keys: a schedule or export can only point at a report of its
-- own tenant.

-- gen_random_uuid() is built in from PostgreSQL 13 on.

-- ---------------------------------------------------------------------------------------------
-- Saved reports
CREATE TABLE reporting.reports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar(255) NOT NULL CHECK (length(btrim(name)) > 0),
    description text,
    tenant_id varchar(100) NOT NULL CHECK (length(tenant_id) > 0),
    created_by varchar(100) NOT NULL CHECK (length(created_by) > 0),
    query_config jsonb NOT NULL CHECK (jsonb_typeof(query_config) = 'object'),
    visualization_config jsonb CHECK (visualization_config IS NULL OR jsonb_typeof(visualization_config) = 'object'),
    filters jsonb CHECK (filters IS NULL OR jsonb_typeof(filters) = 'array'),
    -- the application enforces its configurable maximum (default 100,000); this is a hard cap
    row_limit integer NOT NULL DEFAULT 10000 CHECK (row_limit BETWEEN 1 AND 10000000),
    is_public boolean NOT NULL DEFAULT false,
    tags text[] NOT NULL DEFAULT '{}',
    -- addition: set on rows created by `exports init-defaults` so re-running it is a no-op
    system_key varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reports_id_tenant UNIQUE (id, tenant_id),
    CONSTRAINT reports_system_key UNIQUE (tenant_id, system_key)
);
CREATE INDEX reports_tenant_owner ON reporting.reports (tenant_id, created_by);

-- ---------------------------------------------------------------------------------------------
-- Schedules: cron expression evaluated in `timezone`; deleted with their report
CREATE TABLE reporting.schedules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    report_id uuid NOT NULL,
    name varchar(255) NOT NULL CHECK (length(btrim(name)) > 0),
    description text,
    cron_expression varchar(100) NOT NULL,
    timezone varchar(50) NOT NULL DEFAULT 'UTC',
    format varchar(20) NOT NULL CHECK (format IN ('csv', 'pdf', 'xlsx')),
    delivery_method varchar(20) NOT NULL CHECK (delivery_method IN ('email', 's3', 'both')),
    recipients text[] NOT NULL DEFAULT '{}',
    s3_config jsonb CHECK (s3_config IS NULL OR jsonb_typeof(s3_config) = 'object'),
    email_config jsonb CHECK (email_config IS NULL OR jsonb_typeof(email_config) = 'object'),
    is_active boolean NOT NULL DEFAULT true,
    last_run_at timestamptz,
    -- the next occurrence not yet run (UTC); the sensor requests it once it is due
    next_run_at timestamptz,
    run_count integer NOT NULL DEFAULT 0 CHECK (run_count >= 0),
    tenant_id varchar(100) NOT NULL,
    created_by varchar(100) NOT NULL CHECK (length(created_by) > 0),
    system_key varchar(100),                               -- addition (see reports)
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),       -- addition
    CONSTRAINT schedules_report FOREIGN KEY (report_id, tenant_id)
        REFERENCES reporting.reports (id, tenant_id) ON DELETE CASCADE,
    CONSTRAINT schedules_email_needs_recipients
        CHECK (delivery_method = 's3' OR cardinality(recipients) > 0),
    CONSTRAINT schedules_system_key UNIQUE (tenant_id, system_key)
);
CREATE INDEX schedules_report ON reporting.schedules (report_id);
CREATE INDEX schedules_tenant_owner ON reporting.schedules (tenant_id, created_by);
-- the sensor's query: active schedules, soonest first
CREATE INDEX schedules_due ON reporting.schedules (next_run_at) WHERE is_active;

-- ---------------------------------------------------------------------------------------------
-- Exports: one row per export (manual or one schedule occurrence) = the export's history
CREATE TABLE reporting.exports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    report_id uuid NOT NULL,
    schedule_id uuid REFERENCES reporting.schedules (id) ON DELETE SET NULL,
    tenant_id varchar(100) NOT NULL,
    initiated_by varchar(100) NOT NULL CHECK (length(initiated_by) > 0),
    format varchar(20) NOT NULL CHECK (format IN ('csv', 'pdf', 'xlsx')),
    status varchar(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    file_path text,
    file_size bigint CHECK (file_size IS NULL OR file_size >= 0),
    row_count integer CHECK (row_count IS NULL OR row_count >= 0),
    error_message text,
    download_url text,
    expires_at timestamptz,
    execution_time_ms integer CHECK (execution_time_ms IS NULL OR execution_time_ms >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    -- additions
    trigger varchar(20) NOT NULL DEFAULT 'manual' CHECK (trigger IN ('manual', 'schedule')),
    -- the schedule occurrence this export is (UTC); unique per schedule: exactly once
    scheduled_for timestamptz,
    -- relative date filters ("last 7 days") are evaluated as of this instant, so a retry
    -- exports the same data as the first attempt
    as_of timestamptz NOT NULL DEFAULT now(),
    -- email/s3/both for this export (copied from the schedule; NULL = download only)
    delivery_method varchar(20) CHECK (delivery_method IS NULL OR delivery_method IN ('email', 's3', 'both')),
    -- recipients / S3 target / email options, copied from the schedule when the export is
    -- created, so a retry delivers to the same targets even if the schedule changed or is gone
    delivery_config jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(delivery_config) = 'object'),
    content_hash char(64) CHECK (content_hash IS NULL OR content_hash ~ '^[0-9a-f]{64}$'),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    started_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exports_report FOREIGN KEY (report_id, tenant_id)
        REFERENCES reporting.reports (id, tenant_id) ON DELETE CASCADE,
    CONSTRAINT exports_occurrence_once UNIQUE (schedule_id, scheduled_for),
    CONSTRAINT exports_completed_at CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CONSTRAINT exports_failed_has_error CHECK (status <> 'failed' OR error_message IS NOT NULL)
);
CREATE INDEX exports_tenant_created ON reporting.exports (tenant_id, created_at DESC);
CREATE INDEX exports_report ON reporting.exports (report_id);
CREATE INDEX exports_open ON reporting.exports (status, created_at) WHERE status IN ('pending', 'processing');
-- health checks: exports finished in the last N hours
CREATE INDEX exports_updated ON reporting.exports (updated_at);

-- ---------------------------------------------------------------------------------------------
-- Addition: every stored export file (local or S3), kept apart from `exports` so a file whose
-- export was deleted (or cascaded away with its report) is still found and removed.
CREATE TABLE reporting.export_files (
    id bigserial PRIMARY KEY,
    export_id uuid REFERENCES reporting.exports (id) ON DELETE SET NULL,
    tenant_id varchar(100) NOT NULL,
    storage varchar(10) NOT NULL CHECK (storage IN ('local', 's3')),
    location text NOT NULL,          -- the local path, or the S3 object key
    bucket text,                     -- S3 only
    endpoint_url text,               -- S3 only: which store (empty = AWS)
    size bigint NOT NULL CHECK (size >= 0),
    expires_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT export_files_s3_bucket CHECK ((storage = 's3') = (bucket IS NOT NULL)),
    CONSTRAINT export_files_once UNIQUE (storage, bucket, location)
);
CREATE INDEX export_files_to_clean ON reporting.export_files (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX export_files_orphans ON reporting.export_files (id) WHERE deleted_at IS NULL AND export_id IS NULL;
CREATE INDEX export_files_export ON reporting.export_files (export_id);

-- ---------------------------------------------------------------------------------------------
-- The analytics source (PostgreSQL by default). Filled by the sample
-- generator (`reporting-assets exports sample-data`) or by real event ingestion.
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE analytics.usage_events (
    event_id uuid PRIMARY KEY,
    tenant_id varchar(100) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    user_id varchar(100) NOT NULL,
    device_id varchar(100),
    session_id varchar(100),
    event_type varchar(50) NOT NULL,
    feature text,                    -- free text (feature paths), unbounded
    duration_ms integer CHECK (duration_ms IS NULL OR duration_ms >= 0),
    country char(2),
    properties jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- every report query filters on the tenant, almost all on a time range
CREATE INDEX usage_events_tenant_time ON analytics.usage_events (tenant_id, "timestamp");

CREATE TABLE analytics.user_sessions (
    session_id varchar(100) PRIMARY KEY,
    tenant_id varchar(100) NOT NULL,
    user_id varchar(100) NOT NULL,
    device_id varchar(100),
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    duration_seconds integer CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    page_views integer NOT NULL DEFAULT 0 CHECK (page_views >= 0),
    platform varchar(20),
    country char(2)
);
CREATE INDEX user_sessions_tenant_time ON analytics.user_sessions (tenant_id, started_at);

CREATE TABLE analytics.device_metrics (
    tenant_id varchar(100) NOT NULL,
    device_id varchar(100) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    os varchar(20),
    app_version varchar(20),
    cpu_percent double precision CHECK (cpu_percent IS NULL OR cpu_percent BETWEEN 0 AND 100),
    memory_mb double precision CHECK (memory_mb IS NULL OR memory_mb >= 0),
    battery_percent double precision CHECK (battery_percent IS NULL OR battery_percent BETWEEN 0 AND 100),
    network_latency_ms double precision CHECK (network_latency_ms IS NULL OR network_latency_ms >= 0),
    PRIMARY KEY (tenant_id, device_id, "timestamp")
);
CREATE INDEX device_metrics_tenant_time ON analytics.device_metrics (tenant_id, "timestamp");
