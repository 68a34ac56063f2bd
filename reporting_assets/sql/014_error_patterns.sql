-- Error patterns (the error_patterns asset, docs/error-patterns.md): the errors and warnings of
-- every execution report grouped by fingerprint (the message with numbers, ids, quoted values and
-- timestamps masked). One row per pattern; per day and customer, its occurrences, the pipelines
-- it came from and the latest run that reported it; per day, the pattern's totals and its flag
-- ('new': first seen that day, 'growing': more than 3x its average of the 7 days before).
-- A day is recomputed whole from its reports: re-running it adds nothing.
CREATE TABLE reporting.error_patterns (
    id bigserial PRIMARY KEY,
    severity varchar(10) NOT NULL CHECK (severity IN ('error', 'warning')),
    fingerprint text NOT NULL CHECK (length(fingerprint) <= 300),
    example_message text NOT NULL,               -- the latest message of the pattern's last day
    first_seen date NOT NULL,
    last_seen date NOT NULL CHECK (last_seen >= first_seen),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT error_patterns_once UNIQUE (severity, fingerprint)
);

CREATE TABLE reporting.error_pattern_occurrences (
    pattern_id bigint NOT NULL REFERENCES reporting.error_patterns (id) ON DELETE CASCADE,
    day date NOT NULL,
    customer_key text NOT NULL,
    occurrences integer NOT NULL CHECK (occurrences >= 1),
    reports integer NOT NULL CHECK (reports BETWEEN 1 AND occurrences),
    pipelines text[] NOT NULL,
    example_message text NOT NULL,
    latest_report_id bigint NOT NULL,
    latest_run_id varchar(255) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pattern_id, day, customer_key)
);
CREATE INDEX error_pattern_occurrences_day ON reporting.error_pattern_occurrences (day);
-- The daily summaries read a customer's days.
CREATE INDEX error_pattern_occurrences_customer_day ON reporting.error_pattern_occurrences (customer_key, day);

CREATE TABLE reporting.error_pattern_days (
    pattern_id bigint NOT NULL REFERENCES reporting.error_patterns (id) ON DELETE CASCADE,
    day date NOT NULL,
    occurrences integer NOT NULL CHECK (occurrences >= 1),
    customers integer NOT NULL CHECK (customers >= 1),
    seven_day_average double precision NOT NULL CHECK (seven_day_average >= 0),
    flag varchar(10) CHECK (flag IN ('new', 'growing')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pattern_id, day)
);
CREATE INDEX error_pattern_days_day ON reporting.error_pattern_days (day) INCLUDE (flag);

-- A day's reports (the refresh reads one day of every customer).
CREATE INDEX IF NOT EXISTS pipeline_execution_reports_day ON reporting.pipeline_execution_reports (execution_date);
