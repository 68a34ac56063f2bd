-- One delivery ledger for everything the project sends (docs/delivery.md): daily summary emails,
-- their corrections, alerts and report exports (email or S3). A (subject, recipient, content)
-- is delivered once; a retry only re-sends what is not 'sent'. Plus who receives each
-- customer's daily summary email.

CREATE TABLE reporting.deliveries (
    id bigserial PRIMARY KEY,
    kind varchar(40) NOT NULL
        CHECK (kind IN ('daily_summary', 'summary_correction', 'alert', 'export')),
    -- What is delivered, e.g. 'daily_summary:PELOTON|2025-06-17' or 'export:42'.
    subject_key text NOT NULL CHECK (length(subject_key) BETWEEN 1 AND 500),
    channel varchar(10) NOT NULL CHECK (channel IN ('email', 's3')),
    -- An email address (channel 'email') or an S3 target such as 's3://bucket/prefix/'.
    recipient text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 1024),
    content_hash char(64) NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    status varchar(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    message_id text,                   -- the email's Message-ID once sent
    object_key text,                   -- the S3 object key once stored
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,   -- e.g. email subject, summary version
    sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deliveries_once UNIQUE (kind, subject_key, channel, recipient, content_hash),
    CONSTRAINT deliveries_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT deliveries_failed_has_error CHECK (status <> 'failed' OR last_error IS NOT NULL)
);
-- "What was sent before for this subject (and recipient)?"
CREATE INDEX deliveries_subject ON reporting.deliveries (subject_key, channel, recipient);
-- Deliveries still open (pending, sending, failed): small, whatever the history.
CREATE INDEX deliveries_open ON reporting.deliveries (status, updated_at) WHERE status <> 'sent';

-- Who receives a customer's daily summary email.
CREATE TABLE reporting.summary_recipients (
    customer_key text NOT NULL REFERENCES reporting.customers (partition_key) ON DELETE CASCADE,
    email varchar(254) NOT NULL
        CHECK (email = lower(btrim(email)) AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    display_name varchar(255) CHECK (display_name IS NULL OR length(btrim(display_name)) > 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_key, email)
);

-- The email sensor looks at summaries of recent days and summaries restated recently
-- (an old day recomputed today needs a correction): both lookups stay indexed.
CREATE INDEX daily_customer_summaries_updated_at ON reporting.daily_customer_summaries (updated_at);
