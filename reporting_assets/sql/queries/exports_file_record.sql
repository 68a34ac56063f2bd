-- Remember a stored export file (local or S3) with its expiry, for the cleanup.
INSERT INTO reporting.export_files (export_id, tenant_id, storage, location, bucket, endpoint_url, size, expires_at)
VALUES (%(export_id)s, %(tenant_id)s, %(storage)s, %(location)s, %(bucket)s, %(endpoint_url)s, %(size)s, %(expires_at)s)
ON CONFLICT (storage, bucket, location) DO UPDATE
    SET export_id = EXCLUDED.export_id, size = EXCLUDED.size, expires_at = EXCLUDED.expires_at,
        deleted_at = NULL
RETURNING id
