-- Per-customer report settings: which execution report sections are shown, the list length
-- before "... (N more)", the locale of numbers and dates, the time zone of displayed times
-- (stored times stay UTC) and the daily summary email's subject prefix. NULL or no row: the
-- default format. `version` grows with every change, so a summary rendered afterwards records
-- which settings it was made with.
CREATE TABLE reporting.customer_report_settings (
    customer_key text PRIMARY KEY REFERENCES reporting.customers (partition_key) ON DELETE CASCADE,
    hidden_sections text[] NOT NULL DEFAULT '{}'
        CONSTRAINT customer_report_settings_sections CHECK (
            hidden_sections <@ ARRAY['summary', 'order_changes', 'manufacturing', 'shipping',
                                     'performance', 'next_actions']::text[]),
    list_length integer CHECK (list_length BETWEEN 1 AND 1000),
    locale text CHECK (locale ~ '^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})*$'),
    time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
    subject_prefix text CHECK (length(subject_prefix) BETWEEN 1 AND 100),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at timestamptz NOT NULL DEFAULT now()
);
