-- One API operation (one attempt) with its request and response payloads.
INSERT INTO reporting.sync_api_operations
    (sync_id, customer_key, batch_no, operation, attempt, status, record_count, error_count, duration_ms,
     api_request_payload, api_response_payload, error)
VALUES (%(sync_id)s, %(customer_key)s, %(batch_no)s, %(operation)s, %(attempt)s, %(status)s,
        %(record_count)s, %(error_count)s, %(duration_ms)s, %(request)s, %(response)s, %(error)s)
