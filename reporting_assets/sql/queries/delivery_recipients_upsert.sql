-- Add a summary recipient, or re-activate / rename one.
INSERT INTO reporting.summary_recipients AS r (customer_key, email, display_name, active)
VALUES (%(customer_key)s, %(email)s, %(display_name)s, true)
ON CONFLICT (customer_key, email) DO UPDATE
    SET display_name = COALESCE(EXCLUDED.display_name, r.display_name),
        active = true,
        updated_at = now()
    WHERE r.active IS DISTINCT FROM true
       OR (EXCLUDED.display_name IS NOT NULL AND r.display_name IS DISTINCT FROM EXCLUDED.display_name)
RETURNING (xmax = 0) AS inserted
