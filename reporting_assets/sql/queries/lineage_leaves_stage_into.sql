-- Followed by lineage_leaves: a rewrite stages the leaves for the stale delete and the upsert.
INSERT INTO lineage_leaves
