"""The API's front door over a real uvicorn: health, OpenAPI and docs, tokens (every way a token
can be wrong), the rate limit, the body cap and the JSON error shape."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reporting_assets.api.app import create_app
from reporting_assets.api.server import serve_in_thread
from reporting_assets.api.settings import ApiSettings
from reporting_assets.exports.settings import ExportSettings
from reporting_assets_tests.api.support import SECRET, Served, make_token
from reporting_assets_tests.helpers import run_cli

ERROR_STATUSES = {"401", "403", "404", "409", "422", "429"}


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


def test_health_needs_no_token_and_reports_database_smtp_s3_and_exports(
    api: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api.client() as client:
        without_smtp = client.get("/health").json()["smtp"]
        monkeypatch.setenv("REPORTING_SMTP_HOST", "smtp.example.com")
        response = client.get("/health")
    assert without_smtp == {"configured": False}
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True, "migrations_current": True}
    assert body["smtp"] == {"configured": True}
    assert body["s3"] == {"configured": True, "default_bucket": "api-exports"}
    assert body["exports"]["pending"] == 0 and body["exports"]["failed"] == 0


def test_openapi_documents_every_error_status_on_every_route_and_docs_are_served(api: Served) -> None:
    with api.client() as client:
        spec = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = spec["paths"]
    for path in (
        "/api/reports",
        "/api/reports/{report_id}",
        "/api/reports/{report_id}/preview",
        "/api/reports/schedules",
        "/api/reports/schedules/{schedule_id}",
        "/api/reports/schedules/{schedule_id}/run",
        "/api/reports/schedules/{schedule_id}/toggle",
        "/api/reports/exports",
        "/api/reports/exports/{export_id}",
        "/api/reports/exports/{export_id}/download",
        "/api/reports/exports/{export_id}/retry",
        "/api/reports/validate-query",
        "/api/reports/tables",
    ):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            missing = ERROR_STATUSES - set(operation["responses"])
            assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"


def test_no_token_and_a_malformed_header_are_401_saying_how_to_get_one(api: Served) -> None:
    with api.client() as client:
        missing = client.get("/api/reports")
        basic = client.get("/api/reports", headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"})
        garbage = client.get("/api/reports", headers={"Authorization": "Bearer not-a-jwt"})
    assert missing.status_code == basic.status_code == garbage.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "reporting-assets api token" in error_of(missing)["message"]
    assert error_of(basic)["message"] == "The Authorization header must be 'Bearer <token>'"
    assert "is not a JWT" in error_of(garbage)["message"]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_every_kind_of_bad_token_is_refused_with_its_reason(api: Served, rsa_keys: tuple[str, str]) -> None:
    private = rsa_keys[0]
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"sub": "alice@acme.example", "tenant": "acme", "role": "user", "exp": now + 3600}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    cases = {
        "expired": (make_token(exp=dt.timedelta(seconds=-31)), "The token has expired"),
        "not yet valid": (make_token(nbf=now + 120), "The token is not valid yet"),
        "alg none": (unsigned, "signed with 'none'"),
        "RS256 token on an HS256 API": (
            jwt.encode(claims, private, algorithm="RS256"),
            "signed with 'RS256'",
        ),
        "HS512": (jwt.encode(claims, SECRET, algorithm="HS512"), "signed with 'HS512'"),
        "wrong key": (make_token(key="another-secret-" + "x" * 40), "signature does not match"),
        "no tenant": (make_token(tenant=None), "no 'tenant' claim"),
        "no exp": (make_token(exp=None), "no 'exp' claim"),
        "bad role": (make_token(role="root"), "role 'root' is not one of admin, user"),
        "bad tenant": (make_token(tenant="../etc"), "claims are not usable"),
        "tampered": (make_token()[:-4] + "AAAA", "signature does not match"),
    }
    with api.client() as client:
        for name, (token, expected) in cases.items():
            response = client.get("/api/reports", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, name
            error = error_of(response)
            assert error["code"] == "unauthorized", name
            assert expected in error["message"], (name, error["message"])
        # within the 30 s leeway: still accepted
        fresh = make_token(exp=dt.timedelta(seconds=-10))
        assert client.get("/api/reports", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


@pytest.fixture
def rs256_api(database_url: str, rsa_keys: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    settings = ApiSettings(algorithm="RS256", key=rsa_keys[1], rate_limit_per_minute=3)
    app = create_app(
        settings=settings,
        database_url=database_url,
        exports=ExportSettings(storage_dir=tmp_path),
        s3=None,
        instance=None,
    )
    with serve_in_thread(app) as url:
        yield url


def test_rs256_public_key_accepts_its_tokens_refuses_hs_confusion_and_rate_limits(
    rs256_api: str, rsa_keys: tuple[str, str]
) -> None:
    private, public = rsa_keys
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"sub": "carol@acme.example", "tenant": "acme", "role": "user", "exp": now + 600}
    good = jwt.encode(claims, private, algorithm="RS256")
    # the classic confusion: an HS256 token whose HMAC key is the (public) RSA key's PEM text
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with httpx.Client(base_url=rs256_api, timeout=30) as client:
        refused = client.get("/api/reports/tables", headers={"Authorization": f"Bearer {confused}"})
        assert refused.status_code == 401
        assert "accepts only RS256" in error_of(refused)["message"]
        statuses = [
            client.get("/api/reports/tables", headers={"Authorization": f"Bearer {good}"}).status_code
            for _ in range(4)
        ]
        limited = client.get("/api/reports/tables", headers={"Authorization": f"Bearer {good}"})
        other = jwt.encode({**claims, "sub": "dave@acme.example"}, private, algorithm="RS256")
        other_subject = client.get("/api/reports/tables", headers={"Authorization": f"Bearer {other}"})
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert error_of(limited)["code"] == "rate_limited"
    assert "at most 3 per minute" in error_of(limited)["message"]
    assert other_subject.status_code == 200  # the budget is per subject


def test_a_50_mb_body_is_refused_before_it_is_read(api: Served) -> None:
    big = b'{"name": "x", "query_config": {"table": "' + b"a" * (50 * 1024 * 1024) + b'"}}'
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    with api.client() as client:
        sized = client.post("/api/reports", content=big, headers=headers)

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(big), 1024 * 1024):
                yield big[start : start + 1024 * 1024]

        chunked = client.post("/api/reports", content=chunks(), headers=headers)
    for response in (sized, chunked):
        assert response.status_code == 413
        error = error_of(response)
        assert error["code"] == "body_too_large"
        assert "larger than 1,048,576 bytes" in error["message"]


def test_unknown_paths_and_methods_answer_in_the_json_error_shape(api: Served) -> None:
    with api.client() as client:
        unknown = client.get("/api/nothing-here", headers={"Authorization": f"Bearer {make_token()}"})
        method = client.patch("/api/reports/tables", headers={"Authorization": f"Bearer {make_token()}"})
    assert unknown.status_code == 404 and "see /docs" in error_of(unknown)["message"]
    assert method.status_code == 405 and error_of(method)["code"] == "method_not_allowed"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env)


def test_api_token_issues_a_token_the_api_accepts_and_the_server_refuses_to_start_without_a_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTING_JWT")}
    no_key = _cli("api", "--port", "1", env=env)
    assert no_key.returncode == 2
    assert "REPORTING_JWT_SECRET is not set" in no_key.stderr and "--dev" in no_key.stderr
    assert "Traceback" not in no_key.stderr
    no_secret = _cli("api", "token", "--tenant", "acme", "--user", "u@acme.example", env=env)
    assert no_secret.returncode == 2 and "signs with REPORTING_JWT_SECRET" in no_secret.stderr
    public_dev = _cli("api", "--dev", "--host", "0.0.0.0", env=env)
    assert public_dev.returncode == 2 and "--dev serves only on 127.0.0.1" in public_dev.stderr

    env["REPORTING_JWT_SECRET"] = SECRET
    issued = _cli(
        "api",
        "token",
        "--tenant",
        "acme",
        "--user",
        "u@acme.example",
        "--role",
        "admin",
        "--ttl",
        "2h",
        env=env,
    )
    assert issued.returncode == 0, issued.stderr
    claims = jwt.decode(issued.stdout.strip(), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["tenant"], claims["role"]) == ("u@acme.example", "acme", "admin")
    assert claims["exp"] - claims["iat"] == 7200
    bad_ttl = _cli("api", "token", "--tenant", "acme", "--user", "u", "--ttl", "forever", env=env)
    assert bad_ttl.returncode == 2 and "--ttl 'forever' is not a duration" in bad_ttl.stderr
    short = _cli(
        "api", "token", "--tenant", "acme", "--user", "u", env={**env, "REPORTING_JWT_SECRET": "short"}
    )
    assert short.returncode == 2 and "use at least 32 random characters" in short.stderr
