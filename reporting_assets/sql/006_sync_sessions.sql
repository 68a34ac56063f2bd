-- Sync sessions (docs/sync.md): the sample order list the sync reads, the session's own
-- records (sessions, customers, batches, every API operation with its payloads, record errors)
-- and the sample target the sync writes to (a simulated external board: groups, items, subitems).

-- The order list the sync reads (FACT_ORDER_LIST), filled by the synthetic source.
-- A record is PENDING until its item (and subitems) exist on the target; a failed record stays
-- PENDING with its last error, so the next session retries it.
CREATE TABLE reporting.sync_order_list (
    id bigserial PRIMARY KEY,
    customer_key text NOT NULL REFERENCES reporting.customers (partition_key) ON DELETE CASCADE,
    order_id text NOT NULL CHECK (length(order_id) BETWEEN 1 AND 100),
    product text NOT NULL CHECK (length(product) BETWEEN 1 AND 255),
    quantity integer NOT NULL CHECK (quantity >= 0),
    delivery_date date,
    status text NOT NULL CHECK (length(status) BETWEEN 1 AND 100),
    sizes jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(sizes) = 'object'),
    sync_state varchar(10) NOT NULL DEFAULT 'PENDING' CHECK (sync_state IN ('PENDING', 'SYNCED')),
    group_id text,                      -- the customer's group on the target (one per customer)
    item_id text,                       -- the record's item on the target, once created
    last_sync_id varchar(30),           -- the last session that touched the record
    sync_attempts integer NOT NULL DEFAULT 0 CHECK (sync_attempts >= 0),
    last_error text,
    last_error_cause varchar(30),
    synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sync_order_list_one_per_order UNIQUE (customer_key, order_id),
    CONSTRAINT sync_order_list_error_has_cause CHECK ((last_error IS NULL) = (last_error_cause IS NULL))
);
-- What a session reads: a customer's pending records, least-tried first.
CREATE INDEX sync_order_list_pending
    ON reporting.sync_order_list (customer_key, sync_attempts, order_id) WHERE sync_state = 'PENDING';
-- What customer reports read: a customer's pending records whose last sync failed, newest first.
CREATE INDEX sync_order_list_errors
    ON reporting.sync_order_list (customer_key, updated_at DESC, order_id)
    WHERE sync_state = 'PENDING' AND last_error IS NOT NULL;

-- One row per sync session (one Dagster run). The executive summary lives here too, so it
-- survives a reports folder that could not be written.
CREATE TABLE reporting.sync_sessions (
    sync_id varchar(30) PRIMARY KEY CHECK (sync_id ~ '^[0-9]{12}-SYNC-[0-9A-F]{8}$'),
    run_id varchar(255) UNIQUE,
    environment varchar(64) NOT NULL,
    dry_run boolean NOT NULL,
    filters jsonb NOT NULL DEFAULT '{}'::jsonb,     -- customers, limit, skip_subitems, generate_report
    customers jsonb NOT NULL DEFAULT '[]'::jsonb,   -- the customer keys in scope, in order
    status varchar(10) NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'success', 'partial', 'failed', 'canceled')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    folder text,                                   -- the session folder (absolute path)
    error text,                                    -- why the session failed, if it did
    reports_error text,                            -- why files could not be written, if so
    finalized_by varchar(20) CHECK (finalized_by IN ('session', 'sensor')),
    summary_json jsonb,
    summary_markdown text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sync_sessions_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX sync_sessions_running ON reporting.sync_sessions (started_at) WHERE status = 'running';

-- One row per customer in a session's scope: what the customer's report and the summary show.
CREATE TABLE reporting.sync_session_customers (
    sync_id varchar(30) NOT NULL REFERENCES reporting.sync_sessions (sync_id) ON DELETE CASCADE,
    customer_key text NOT NULL,
    customer_name varchar(255) NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    status varchar(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'success', 'partial', 'failed')),
    records_in_scope integer NOT NULL DEFAULT 0 CHECK (records_in_scope >= 0),
    records_processed integer NOT NULL DEFAULT 0 CHECK (records_processed >= 0),
    records_synced integer NOT NULL DEFAULT 0 CHECK (records_synced >= 0),
    items_created integer NOT NULL DEFAULT 0 CHECK (items_created >= 0),
    items_updated integer NOT NULL DEFAULT 0 CHECK (items_updated >= 0),
    subitems_created integer NOT NULL DEFAULT 0 CHECK (subitems_created >= 0),
    subitems_updated integer NOT NULL DEFAULT 0 CHECK (subitems_updated >= 0),
    errors integer NOT NULL DEFAULT 0 CHECK (errors >= 0),
    pending_before integer NOT NULL DEFAULT 0 CHECK (pending_before >= 0),
    group_id text,
    group_title text,
    group_action varchar(10) CHECK (group_action IN ('created', 'found', 'known', 'planned')),
    group_applied integer NOT NULL DEFAULT 0 CHECK (group_applied >= 0),
    started_at timestamptz,
    finished_at timestamptz,
    seconds numeric(12, 3) NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    error text,
    report_file text,                              -- relative to the session folder
    contract_emitted boolean NOT NULL DEFAULT false,
    PRIMARY KEY (sync_id, customer_key),
    CONSTRAINT sync_session_customers_counts
        CHECK (records_synced + errors = records_processed AND records_processed <= records_in_scope)
);

-- One row per batch of records sent together.
CREATE TABLE reporting.sync_batches (
    sync_id varchar(30) NOT NULL REFERENCES reporting.sync_sessions (sync_id) ON DELETE CASCADE,
    customer_key text NOT NULL,
    batch_no integer NOT NULL CHECK (batch_no >= 1),
    records integer NOT NULL CHECK (records >= 0),
    synced integer NOT NULL CHECK (synced >= 0),
    errors integer NOT NULL CHECK (errors >= 0),
    api_operations integer NOT NULL CHECK (api_operations >= 0),
    seconds numeric(12, 3) NOT NULL CHECK (seconds >= 0),
    status varchar(10) NOT NULL CHECK (status IN ('success', 'partial', 'failed', 'planned')),
    PRIMARY KEY (sync_id, customer_key, batch_no),
    CONSTRAINT sync_batches_counts CHECK (synced + errors = records)
);

-- Every API operation (every attempt) against the target, with its payloads: the audit trail.
CREATE TABLE reporting.sync_api_operations (
    id bigserial PRIMARY KEY,
    sync_id varchar(30) NOT NULL REFERENCES reporting.sync_sessions (sync_id) ON DELETE CASCADE,
    customer_key text NOT NULL,
    batch_no integer,                               -- NULL for group operations
    operation varchar(30) NOT NULL CHECK (operation IN (
        'get_groups', 'create_group', 'find_items', 'create_items', 'update_items',
        'create_subitems', 'update_subitems')),
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status varchar(10) NOT NULL CHECK (status IN ('ok', 'partial', 'error', 'timeout', 'planned')),
    record_count integer NOT NULL DEFAULT 0 CHECK (record_count >= 0),
    error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    duration_ms numeric(12, 3) NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    api_request_payload jsonb NOT NULL,
    api_response_payload jsonb,                     -- NULL when planned (dry run) or timed out
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_api_operations_session ON reporting.sync_api_operations (sync_id, customer_key, batch_no);

-- One row per record that failed in a session (the order list keeps only the latest error).
CREATE TABLE reporting.sync_record_errors (
    id bigserial PRIMARY KEY,
    sync_id varchar(30) NOT NULL REFERENCES reporting.sync_sessions (sync_id) ON DELETE CASCADE,
    customer_key text NOT NULL,
    order_id text NOT NULL,
    batch_no integer,
    cause varchar(30) NOT NULL CHECK (cause IN (
        'dropdown_mismatch', 'timeout', 'target_unavailable', 'item_rejected', 'subitem_failed',
        'locked', 'not_run', 'session_failed')),
    message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_record_errors_session ON reporting.sync_record_errors (sync_id, customer_key);

-- The sample target: a simulated external board (think monday.com). It keeps state like the
-- real one would, and like the real one it does not prevent duplicate groups or items: avoiding
-- them is the sync's job.
CREATE SCHEMA IF NOT EXISTS sample_target;

CREATE TABLE sample_target.groups (
    group_id text PRIMARY KEY,
    board text NOT NULL,
    title text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sample_target_groups_title ON sample_target.groups (board, title);

CREATE TABLE sample_target.items (
    item_id text PRIMARY KEY,
    group_id text NOT NULL REFERENCES sample_target.groups (group_id),
    name text NOT NULL,
    external_key text NOT NULL,                     -- the mapped order id column's value
    column_values jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sample_target_items_key ON sample_target.items (group_id, external_key);

CREATE TABLE sample_target.subitems (
    subitem_id text PRIMARY KEY,
    item_id text NOT NULL REFERENCES sample_target.items (item_id),
    name text NOT NULL,
    column_values jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sample_target_subitems_item ON sample_target.subitems (item_id);

CREATE SEQUENCE sample_target.ids START 100001;
