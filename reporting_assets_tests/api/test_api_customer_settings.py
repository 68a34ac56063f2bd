"""A customer's report settings over HTTP: admins of its tenant read, change and reset them;
users and other tenants cannot; bad values are 422 naming them."""

from __future__ import annotations

import dagster as dg
import psycopg

from reporting_assets.customers import add_customer
from reporting_assets_tests.api.support import Served, auth

ADMIN = auth("acme", "root@acme.example", "admin")
USER = auth("acme", "alice@acme.example", "user")
OTHER_ADMIN = auth("globex", "root@globex.example", "admin")


def test_admins_read_change_and_reset_a_customers_settings(
    api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    add_customer(conn, instance, "PELOTON", tenant="acme")
    path = "/api/customers/PELOTON/settings"
    with api.client() as client:
        assert client.get(path, headers=USER).status_code == 403
        hidden = client.get(path, headers=OTHER_ADMIN)
        assert hidden.status_code == 404 and "tenant 'globex'" in hidden.json()["error"]["message"]
        assert client.get(path, headers=ADMIN).json()["version"] == 0

        changed = client.put(
            path,
            headers=ADMIN,
            json={"sections": {"manufacturing": False}, "locale": "de_DE", "subject_prefix": "[P]"},
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (
            body["sections"]["manufacturing"] is False and body["locale"] == "de_DE" and body["version"] == 1
        )

        cleared = client.put(path, headers=ADMIN, json={"locale": None, "sections": {"manufacturing": True}})
        assert cleared.json()["locale"] is None and cleared.json()["subject_prefix"] == "[P]"

        bad = client.put(path, headers=ADMIN, json={"locale": "de_DX", "sections": {"shiping": False}})
        assert bad.status_code == 422
        assert "Unknown report section 'shiping' (did you mean 'shipping'?)" in bad.json()["error"]["message"]
        bad = client.put(path, headers=ADMIN, json={"locale": "de_DX"})
        assert bad.status_code == 422 and "Did you mean" in bad.json()["error"]["message"]
        assert client.put(path, headers=ADMIN, json={"colour": "red"}).status_code == 422

        assert client.delete(path, headers=USER).status_code == 403
        reset = client.delete(path, headers=ADMIN)
        # the version keeps counting (set, cleared, reset): a version is never reused
        assert reset.status_code == 200 and reset.json()["version"] == 3
        assert reset.json()["subject_prefix"] is None and reset.json()["sections"]["manufacturing"] is True
