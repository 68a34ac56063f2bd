-- One customer, one spelling: 'peloton', 'Peloton' and 'PELOTON' name the same customer, so
-- partition keys and display names are unique without regard to case. Display names never hold
-- control characters (they reach terminals, markdown reports and HTML emails).
-- Customers that already break a rule are listed and the migration is refused: nothing is
-- merged, renamed or dropped behind anyone's back.
DO $$
DECLARE
    problems text;
BEGIN
    WITH shown AS (
        -- control characters shown as JSON escapes (\n, \u001b), never raw
        SELECT partition_key,
               format('%L (%s)', partition_key,
                      regexp_replace(to_json(display_name::text)::text,
                                     '[\u007f-\u009f\u2028\u2029]', '?', 'g')) AS label,
               display_name
        FROM reporting.customers
    ), found AS (
        SELECT 'partition keys that differ only by case: '
               || string_agg(label, ', ' ORDER BY partition_key) AS line
        FROM shown GROUP BY lower(partition_key) HAVING count(*) > 1
        UNION ALL
        SELECT 'display names that differ only by case: '
               || string_agg(label, ', ' ORDER BY partition_key)
        FROM shown GROUP BY lower(display_name) HAVING count(*) > 1
        UNION ALL
        SELECT 'display name with a control character: ' || label
        FROM shown WHERE display_name ~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029]'
    )
    SELECT string_agg('  - ' || line, E'\n' ORDER BY line) INTO problems FROM found;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION USING
            MESSAGE = 'registered customers clash once keys and display names are compared '
                      'without case, or hold a control character in their display name '
                      '(listed as ''partition key'' ("display name")):' || E'\n' || problems,
            HINT = 'Give each customer its own display name (UPDATE reporting.customers SET '
                   'display_name = ''...'' WHERE partition_key = ''...''), keep one of each set of '
                   'keys that differ only by case (DELETE FROM reporting.customers WHERE '
                   'partition_key = ''...'' also deletes that key''s daily summaries, deliveries '
                   'and sync lines), then run `reporting-assets db migrate` again.';
    END IF;
END
$$;

CREATE UNIQUE INDEX customers_partition_key_lower_key ON reporting.customers (lower(partition_key));
CREATE UNIQUE INDEX customers_display_name_lower_key ON reporting.customers (lower(display_name));
ALTER TABLE reporting.customers ADD CONSTRAINT customers_display_name_no_control_characters
    CHECK (display_name !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029]');
