-- Serialise summary writes per customer until the transaction ends, so the stored versions read
-- next stay true: new days are COPYed straight into the table (none can appear meanwhile), and
-- restated days are archived before they are replaced. The keys come sorted: two runs take
-- their locks in the same order.
SELECT pg_advisory_xact_lock(hashtextextended('daily_summary:' || k.customer_key, 0))
FROM unnest(%(customer_keys)s::text[]) AS k(customer_key)
