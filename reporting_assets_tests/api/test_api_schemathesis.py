"""Schemathesis over the served OpenAPI with an admin token: no server error and no status the
OpenAPI does not document, on any route. Generated requests per operation (hypothesis), driven
here without schemathesis' pytest plugin. Slow: integration."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from reporting_assets_tests.api.support import ADMIN, Served

SKIPPED = {
    # each of these submits a Dagster run per generated request; test_api_exports covers them
    ("POST", "/api/reports/exports"),
    ("POST", "/api/reports/exports/{export_id}/retry"),
    ("POST", "/api/reports/schedules/{schedule_id}/run"),
}


@pytest.mark.integration
def test_no_server_error_and_no_undocumented_status(api: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Case) -> None:
            case.call_and_validate(
                headers=ADMIN,
                checks=[schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance],
            )

        run()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 20, checked
