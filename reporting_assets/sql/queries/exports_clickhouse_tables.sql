-- The analytics tables on ClickHouse (`reporting-assets analytics init`), column for column the
-- PostgreSQL tables of the report catalog (nullable where PostgreSQL's are; timestamps in UTC with
-- microseconds, as timestamptz). MergeTree sorted by (tenant_id, time): every report query filters
-- on the tenant and almost all on a time range. Text of few distinct values (tenant, event type,
-- feature, country, platform, OS, app version) is LowCardinality: smaller, and faster to filter and
-- group; users, devices and sessions are unbounded and stay String. An older init's plain String
-- columns read the same. {database} is the target database, quoted by the
-- caller; statements are separated by semicolons and each is idempotent.
CREATE DATABASE IF NOT EXISTS {database};

CREATE TABLE IF NOT EXISTS {database}.usage_events (
    event_id UUID,
    tenant_id LowCardinality(String),
    "timestamp" DateTime64(6, 'UTC'),
    user_id String,
    device_id Nullable(String),
    session_id Nullable(String),
    event_type LowCardinality(String),
    feature LowCardinality(Nullable(String)),
    duration_ms Nullable(Int32),
    country LowCardinality(Nullable(String))
) ENGINE = MergeTree ORDER BY (tenant_id, "timestamp");

CREATE TABLE IF NOT EXISTS {database}.user_sessions (
    session_id String,
    tenant_id LowCardinality(String),
    user_id String,
    device_id Nullable(String),
    started_at DateTime64(6, 'UTC'),
    ended_at Nullable(DateTime64(6, 'UTC')),
    duration_seconds Nullable(Int32),
    page_views Int32,
    platform LowCardinality(Nullable(String)),
    country LowCardinality(Nullable(String))
) ENGINE = MergeTree ORDER BY (tenant_id, started_at);

CREATE TABLE IF NOT EXISTS {database}.device_metrics (
    tenant_id LowCardinality(String),
    device_id String,
    "timestamp" DateTime64(6, 'UTC'),
    os LowCardinality(Nullable(String)),
    app_version LowCardinality(Nullable(String)),
    cpu_percent Nullable(Float64),
    memory_mb Nullable(Float64),
    battery_percent Nullable(Float64),
    network_latency_ms Nullable(Float64)
) ENGINE = MergeTree ORDER BY (tenant_id, "timestamp")
