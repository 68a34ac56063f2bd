"""S3 (or any S3-compatible store: MinIO, moto, Ceph) for export files.

``S3Resource`` is a Dagster ``ConfigurableResource``; ``S3Settings`` the plain value the engine
uses. Uploads go through boto3's transfer manager (multipart above 16 MB, so a large export never
sits in memory), keys are tenant-scoped (``{prefix}{tenant}/{report}/{export}/{file}``), and the
download link is a presigned GET URL whose expiry is recorded on the export.

Errors become :class:`DeliveryAttemptError` (for the ledger) with messages that name the
bucket, the endpoint and what to fix; ``permanent`` when retrying cannot help (missing bucket,
access denied). Credentials never appear in messages or ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field, ValidationInfo, field_validator, model_validator

from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.env_settings import Environment, choice, http_url, is_env_var, seconds, whole
from reporting_assets.errors import SettingsError
from reporting_assets.exports.errors import StorageError
from reporting_assets.redaction import register_secret
from reporting_assets.resources import env_var_config

ENV_PREFIX = "REPORTING_S3_"
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{0,200}$")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 limit
MAX_CONNECT_TIMEOUT_SECONDS = 300.0
ADDRESSING_STYLES = ("auto", "path", "virtual")
_MULTIPART_THRESHOLD = 16 * 1024 * 1024

S3_VARIABLES: dict[str, tuple[str, Literal["str", "int", "value"]]] = {
    "endpoint_url": (f"{ENV_PREFIX}ENDPOINT_URL", "str"),
    "region_name": (f"{ENV_PREFIX}REGION_NAME", "str"),
    "bucket": (f"{ENV_PREFIX}BUCKET", "str"),
    "prefix": (f"{ENV_PREFIX}PREFIX", "str"),
    "access_key_id": (f"{ENV_PREFIX}ACCESS_KEY_ID", "str"),
    "secret_access_key": (f"{ENV_PREFIX}SECRET_ACCESS_KEY", "str"),
    "addressing_style": (f"{ENV_PREFIX}ADDRESSING_STYLE", "value"),
    "presign_expiry_seconds": (f"{ENV_PREFIX}PRESIGN_EXPIRY_SECONDS", "int"),
    "connect_timeout_seconds": (f"{ENV_PREFIX}CONNECT_TIMEOUT_SECONDS", "value"),
    "max_attempts": (f"{ENV_PREFIX}MAX_ATTEMPTS", "int"),
}
"""Setting (S3Settings / S3Resource field) -> the variable it is read from and how it reaches
the resource (see ``env_var_config``)."""

_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "endpoint_url": lambda name, value: http_url(name, value, "http://minio:9000"),
    "addressing_style": lambda name, value: choice(name, value, ADDRESSING_STYLES),
    "presign_expiry_seconds": lambda name, value: whole(name, value, 60, MAX_PRESIGN_SECONDS),
    "connect_timeout_seconds": lambda name, value: seconds(name, value, MAX_CONNECT_TIMEOUT_SECONDS),
    "max_attempts": lambda name, value: whole(name, value, 1, 10),
}
_KEY_PAIR = "set both, or neither to use boto3's own credentials (AWS_* variables, instance roles)."


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None = None
    region_name: str = "us-east-1"
    bucket: str = ""
    prefix: str = "exports/"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    addressing_style: str = "auto"
    presign_expiry_seconds: int = MAX_PRESIGN_SECONDS
    connect_timeout_seconds: float = 10.0
    max_attempts: int = 3

    def __post_init__(self) -> None:
        register_secret(self.secret_access_key)  # masked in every error message, even quoted by botocore

    def where(self) -> str:
        """The endpoint as error messages name it."""
        return self.endpoint_url or f"AWS S3 ({self.region_name})"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        style = self.addressing_style
        if style == "auto" and self.endpoint_url:
            style = "path"  # MinIO and most S3-compatible stores serve path-style requests
        config = Config(
            s3={"addressing_style": style},
            signature_version="s3v4",
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=max(self.connect_timeout_seconds, 30.0),
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region_name,
            aws_access_key_id=self.access_key_id or None,
            aws_secret_access_key=self.secret_access_key or None,
            config=config,
        )


class S3Resource(dg.ConfigurableResource):
    """Where S3 deliveries of exports go. ``endpoint_url`` empty = AWS; set it for MinIO or any
    S3-compatible store. Credentials: these fields (set with ``dg.EnvVar``) or boto3's own chain
    (``AWS_ACCESS_KEY_ID``, instance roles, ...)."""

    endpoint_url: str = Field(default="", description="S3 endpoint, e.g. http://minio:9000; empty = AWS.")
    region_name: str = Field(default="us-east-1", description="Region (signing; AWS bucket location).")
    bucket: str = Field(default="", description="Default bucket; a schedule's s3_config.bucket overrides it.")
    prefix: str = Field(
        default="exports/", description="Key prefix; keys are {prefix}{tenant}/{report}/{export}/{file}."
    )
    access_key_id: str | None = Field(
        default=None, description="Access key id; empty = boto3's credential chain."
    )
    secret_access_key: str | None = Field(
        default=None, repr=False, description="Secret key (set it with an EnvVar; never logged)."
    )
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="auto = path-style with a custom endpoint, boto3's default on AWS."
    )
    presign_expiry_seconds: int = Field(
        default=MAX_PRESIGN_SECONDS, description="Lifetime of download links, 60-604800 seconds."
    )
    connect_timeout_seconds: float = Field(
        default=10.0, description="Connect/read timeout base, above 0 and at most 300 seconds."
    )
    max_attempts: int = Field(default=3, description="boto3 retries per request, 1-10.")

    @field_validator(*_PARSERS, mode="before")
    @classmethod
    def _check_value(cls, value: object, info: ValidationInfo) -> object:
        """The rules ``s3_settings_from_env`` applies, so a launchpad value gets its message."""
        if is_env_var(value) or value == "":
            return value
        name = str(info.field_name)
        return _PARSERS[name](S3_VARIABLES[name][0], value)

    @model_validator(mode="after")
    def _check_keys(self) -> S3Resource:
        key_id, secret = S3_VARIABLES["access_key_id"][0], S3_VARIABLES["secret_access_key"][0]
        if self.access_key_id and not self.secret_access_key:
            raise SettingsError(f"{key_id} is set but {secret} is empty; {_KEY_PAIR}")
        if self.secret_access_key and not self.access_key_id:
            raise SettingsError(f"{secret} is set but {key_id} is empty; {_KEY_PAIR}")
        return self

    def settings(self) -> S3Settings:
        return S3Settings(
            endpoint_url=self.endpoint_url or None,
            region_name=self.region_name,
            bucket=self.bucket,
            prefix=self.prefix,
            access_key_id=self.access_key_id or None,
            secret_access_key=self.secret_access_key or None,
            addressing_style=self.addressing_style,
            presign_expiry_seconds=self.presign_expiry_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds,
            max_attempts=self.max_attempts,
        )


def s3_settings_from_env(environ: Mapping[str, str] | None = None) -> S3Settings:
    """S3Settings from the ``REPORTING_S3_*`` variables that are set (defaults otherwise).

    The one place these variables are parsed: the CLI uses the result, and the code location's
    S3Resource is built after this check. Raises :class:`SettingsError` naming the variable and
    the values it may take.
    """
    env = Environment(environ)
    env.require_together(S3_VARIABLES["access_key_id"][0], S3_VARIABLES["secret_access_key"][0], _KEY_PAIR)
    values: dict[str, Any] = {}
    for name, (variable, _kind) in S3_VARIABLES.items():
        text = env.get(variable)
        if text is not None:
            parse = _PARSERS.get(name)
            values[name] = parse(variable, text) if parse else text
    return S3Settings(**values)


def s3_resource_from_env(environ: Mapping[str, str] | None = None) -> S3Resource:
    """An S3Resource configured from the ``REPORTING_S3_*`` variables that are set, after
    ``s3_settings_from_env`` checked them (so a bad one fails the code location with the CLI's
    message). Text and integer settings are ``dg.EnvVar``s, resolved at run time and shown by
    name only; unset ones keep the defaults, because an EnvVar of an unset variable fails the
    whole code location."""
    fields = [(name, variable, kind) for name, (variable, kind) in S3_VARIABLES.items()]
    return S3Resource(**env_var_config(fields, s3_settings_from_env(environ), environ))


BUCKET_RULES = (
    "3-63 characters: lowercase letters, digits, '.' and '-', starting and ending with a letter or "
    "digit, no '..', not an IP address"
)
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def bucket_name_problem(bucket: str) -> str | None:
    """Which S3 bucket naming rule ``bucket`` breaks, or None."""
    if not 3 <= len(bucket) <= 63:
        return f"it has {len(bucket)} characters"
    bad = sorted({c for c in bucket if not ("a" <= c <= "z" or "0" <= c <= "9" or c in ".-")})
    if bad:
        return "it holds " + ", ".join(repr(c) for c in bad)
    if not BUCKET_NAME.match(bucket):
        return "it starts or ends with '.' or '-'"
    if ".." in bucket:
        return "it holds '..'"
    if _IP_ADDRESS.match(bucket):
        return "it is an IP address"
    return None


def check_bucket_name(bucket: str, what: str = "s3_config.bucket") -> str:
    """``bucket`` if it follows the S3 bucket naming rules, else a StorageError naming the rule."""
    problem = bucket_name_problem(bucket or "")
    if problem:
        raise StorageError(f"{what}: {bucket!r} is not a valid S3 bucket name: {problem} ({BUCKET_RULES})")
    return bucket


def probe_bucket(settings: S3Settings, bucket: str, timeout_seconds: float = 3.0) -> str | None:
    """Why ``bucket`` cannot be used at ``settings``' endpoint right now (missing, access denied,
    unreachable), or None. One quick request (HeadBucket, no retries), for a check when a
    schedule is saved; the bucket can still be created or fixed before the first run."""
    quick = replace(settings, connect_timeout_seconds=timeout_seconds, max_attempts=1)
    try:
        quick.client().head_bucket(Bucket=bucket)
    except Exception as exc:
        return str(classify(exc, quick, bucket, "checking the bucket"))
    return None


def check_prefix(prefix: str, what: str = "s3_config.prefix") -> str:
    if not PREFIX.match(prefix or "") or ".." in prefix or prefix.startswith("/"):
        raise StorageError(
            f"{what}: {prefix!r} is not a usable key prefix (up to 200 letters, digits and "
            f"! _ . * ' ( ) / -, no '..', not starting with '/')"
        )
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def object_key(prefix: str, tenant_id: str, report_id: str, export_id: str, filename: str) -> str:
    """The tenant-scoped key of an export file."""
    return f"{prefix}{tenant_id}/{report_id}/{export_id}/{filename}"


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def classify(exc: BaseException, settings: S3Settings, bucket: str, doing: str) -> DeliveryAttemptError:
    """A boto3/botocore error as a one-line DeliveryAttemptError."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    where = settings.where()
    code = _error_code(exc)
    if isinstance(exc, ClientError) and code in ("NoSuchBucket", "404", "NotFound"):
        return DeliveryAttemptError(
            f"S3 bucket {bucket!r} does not exist at {where} ({doing}); create it or fix the bucket "
            f"(schedule s3_config.bucket or {ENV_PREFIX}BUCKET)",
            permanent=True,
        )
    if isinstance(exc, ClientError) and code in (
        "AccessDenied",
        "403",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ):
        return DeliveryAttemptError(
            f"S3 refused access to bucket {bucket!r} at {where} ({doing}): {code}; check the credentials "
            f"({ENV_PREFIX}ACCESS_KEY_ID / {ENV_PREFIX}SECRET_ACCESS_KEY) and the bucket policy",
            permanent=True,
        )
    if isinstance(exc, NoCredentialsError):
        return DeliveryAttemptError(
            f"No S3 credentials for {where}: set {ENV_PREFIX}ACCESS_KEY_ID and {ENV_PREFIX}SECRET_ACCESS_KEY "
            f"(or AWS_* variables / an instance role)",
            permanent=True,
        )
    if isinstance(exc, EndpointConnectionError):
        return DeliveryAttemptError(f"cannot reach S3 endpoint {where} ({doing}): {exc}")
    if isinstance(exc, ClientError):
        return DeliveryAttemptError(f"S3 error at {where} for bucket {bucket!r} ({doing}): {code}: {exc}")
    if isinstance(exc, BotoCoreError | OSError):
        return DeliveryAttemptError(f"S3 error at {where} ({doing}): {exc}")
    return DeliveryAttemptError(f"S3 error at {where} ({doing}): {type(exc).__name__}: {exc}")


def upload_file(
    client: Any,
    settings: S3Settings,
    path: Path,
    bucket: str,
    key: str,
    *,
    content_type: str,
    metadata: Mapping[str, str],
) -> None:
    """Upload ``path`` (multipart when large); raise DeliveryAttemptError on failure."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=_MULTIPART_THRESHOLD, multipart_chunksize=_MULTIPART_THRESHOLD
    )
    try:
        client.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={"ContentType": content_type, "Metadata": dict(metadata)},
            Config=config,
        )
    except Exception as exc:
        from boto3.exceptions import S3UploadFailedError

        # boto3 wraps the ClientError in S3UploadFailedError (raised while handling it)
        inner = exc.__cause__ or exc.__context__ if isinstance(exc, S3UploadFailedError) else None
        cause = inner if inner is not None and not _error_code(exc) else exc
        raise classify(cause, settings, bucket, f"uploading {key}") from exc


def presign(client: Any, bucket: str, key: str, expires_in: int, filename: str) -> str:
    """A GET URL for the object, valid ``expires_in`` seconds, downloading as ``filename``."""
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )
    )


def delete_object(client: Any, settings: S3Settings, bucket: str, key: str) -> None:
    """Remove an object (already gone counts as removed)."""
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if _error_code(exc) in ("NoSuchKey", "404"):
            return
        raise StorageError(str(classify(exc, settings, bucket, f"deleting {key}"))) from exc
