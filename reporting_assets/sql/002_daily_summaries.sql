-- Daily customer summaries (docs/report-format.md) with completeness and a history of restatements.

-- Which pipelines a customer is expected to run each day; a customer without rows expects
-- the defaults configured on SummarySettingsResource (the three sample pipelines).
CREATE TABLE reporting.customer_expected_pipelines (
    customer_key text NOT NULL REFERENCES reporting.customers (partition_key) ON DELETE CASCADE,
    pipeline_type varchar(100) NOT NULL CHECK (pipeline_type ~ '^[a-z][a-z0-9_]{0,99}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_key, pipeline_type)
);

CREATE TABLE reporting.daily_customer_summaries (
    id bigserial PRIMARY KEY,
    customer_name varchar(255) NOT NULL,
    customer_key text NOT NULL,
    summary_date date NOT NULL,
    partition_key text NOT NULL,
    total_pipelines integer NOT NULL DEFAULT 0 CHECK (total_pipelines >= 0),
    successful_pipelines integer NOT NULL DEFAULT 0 CHECK (successful_pipelines >= 0),
    new_orders integer NOT NULL DEFAULT 0,
    updated_orders integer NOT NULL DEFAULT 0,
    manufacturing_updates integer NOT NULL DEFAULT 0,
    shipping_updates integer NOT NULL DEFAULT 0,
    combined_markdown text NOT NULL,
    status_json jsonb NOT NULL,        -- complete, expected, missing, failed, counts, deadline
    is_complete boolean NOT NULL,
    missing_pipelines text[] NOT NULL DEFAULT '{}',
    content_hash char(64) NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_key, summary_date)
);
CREATE INDEX daily_customer_summaries_date ON reporting.daily_customer_summaries (summary_date);

-- Every version a summary had before it was restated: nothing is silently overwritten.
CREATE TABLE reporting.daily_customer_summary_history (
    id bigserial PRIMARY KEY,
    summary_id bigint NOT NULL REFERENCES reporting.daily_customer_summaries (id) ON DELETE CASCADE,
    customer_key text NOT NULL,
    summary_date date NOT NULL,
    version integer NOT NULL,
    replaced_by_version integer NOT NULL,
    total_pipelines integer NOT NULL,
    successful_pipelines integer NOT NULL,
    new_orders integer NOT NULL,
    updated_orders integer NOT NULL,
    manufacturing_updates integer NOT NULL,
    shipping_updates integer NOT NULL,
    combined_markdown text NOT NULL,
    status_json jsonb NOT NULL,
    is_complete boolean NOT NULL,
    content_hash char(64) NOT NULL,
    valid_from timestamptz NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (summary_id, version)
);
