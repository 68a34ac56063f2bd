#!/usr/bin/env bash
# Report a run from a system without Python: POST the run-report contract (docs/contract.md) to
# the reports HTTP API with a token of role `pipeline`
# (`reporting-assets api token --tenant acme --user cron@acme.example --role pipeline`).
# Usage: API_URL=http://127.0.0.1:8004 PIPELINE_TOKEN=... examples/report_run.sh CUSTOMER DAY EXECUTION_ID
set -euo pipefail
customer="$1" day="$2" execution_id="$3"
curl --fail-with-body -sS -X POST "${API_URL:-http://127.0.0.1:8004}/api/pipeline-runs" \
  -H "Authorization: Bearer ${PIPELINE_TOKEN}" \
  -H 'Content-Type: application/json' \
  --data-binary @- <<JSON
{
  "schema_version": 1,
  "customer": "${customer}",
  "customer_key": "${customer}",
  "pipeline_type": "board_planning",
  "execution_date": "${day}",
  "status": "success",
  "external_execution_id": "${execution_id}",
  "counts": {"records_processed": 3, "new": 2, "updated": 1}
}
JSON
