-- Binary COPY of summaries into reporting.daily_customer_summaries, for days that have no
-- summary yet (none can appear while summaries_lock is held), or into summaries_stage for
-- restatements. The table and column names are composed with psycopg.sql.Identifier.
COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)
