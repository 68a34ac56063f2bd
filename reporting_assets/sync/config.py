"""The sync's TOML config: field mappings, the target's dropdown labels, batches, the sample
target's simulated behaviour and log verbosity, in named environment profiles.

Validated when a session starts, before any API call: a value mapped to a dropdown label the
target does not have (``'Cancelled'`` vs ``'CANCELLED'``) is an error that names the fix.
``[defaults]`` holds the settings every environment shares; ``[environments.<name>]`` overrides
any part of it (tables merge key by key).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from reporting_assets.logging_ids import LoggingConfigError, get_logger, parse_levels
from reporting_assets.sync.errors import SyncConfigError

log = get_logger(__name__)

CONFIG_ENV = "REPORTING_SYNC_CONFIG"
DEFAULT_CONFIG_PATH: Traversable = resources.files("reporting_assets") / "config" / "sync.toml"
"""The default shipped as package data (the repo's ``config/`` points here)."""
DEFAULT_CONFIG_SOURCE = (
    f"the default config/sync.toml shipped with reporting_assets (to change it, copy it and set "
    f"{CONFIG_ENV} to the copy)"
)
SOURCE_COLUMNS = ("order_id", "product", "quantity", "delivery_date", "status")
"""Columns of ``reporting.sync_order_list`` a field mapping may read."""
REQUIRED_FIELDS = ("order_id", "product")
"""``product`` names the item; ``order_id`` is the key items are matched by (no duplicates)."""

ColumnId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
EnvironmentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSettings(_Model):
    """How the sample target behaves: latency, timeouts and failures you can dial in."""

    latency_ms: float = Field(default=2.0, ge=0, le=60_000, description="mean latency of one API call")
    jitter_ms: float = Field(default=0.0, ge=0, le=60_000, description="+/- uniform jitter on the latency")
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="share of calls that time out")
    item_failure_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of items a batch call rejects (partial batch failure)"
    )
    fail_customers: list[str] = Field(
        default=[], description="customer keys for which every call fails (503), e.g. an outage"
    )
    seed: int = Field(default=1, description="seed of the simulated failures (same seed, same failures)")


class DropdownSettings(_Model):
    """A target column that only accepts its own labels."""

    labels: Annotated[list[Label], Field(min_length=1)]
    values: dict[str, Label] = Field(default={}, description="order list value -> target label")


class SubitemSettings(_Model):
    name_column: ColumnId = "name"
    quantity_column: ColumnId = "numbers_quantity"


class LoggingSettings(_Model):
    level: str = "INFO"
    components: dict[str, str] = {}

    def levels(self) -> dict[str, str]:
        return {"reporting_assets": self.level, **self.components}


class SyncProfile(_Model):
    """One environment's settings, defaults merged in."""

    environment: EnvironmentName
    board: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "Customer Orders"
    batch_size: int = Field(default=25, ge=1, le=500)
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    on_dropdown_mismatch: Literal["skip_records", "abort"] = "skip_records"
    fields: dict[str, ColumnId]
    dropdowns: dict[str, DropdownSettings] = {}
    subitems: SubitemSettings = SubitemSettings()
    target: TargetSettings = TargetSettings()
    logging: LoggingSettings = LoggingSettings()

    @property
    def key_column(self) -> str:
        return self.fields["order_id"]

    def dropdown_label(self, column: str, value: str) -> str | None:
        """The target label for an order list value, or None when the target has no such label."""
        dropdown = self.dropdowns.get(column)
        if dropdown is None:
            return value
        label = dropdown.values.get(value, value)
        return label if label in dropdown.labels else None

    def dropdown_fix(self, column: str, value: str, source: str) -> str:
        """What to change in the config so ``value`` maps to a label the target has."""
        dropdown = self.dropdowns[column]
        close = _close_label(value, dropdown.labels)
        labels = ", ".join(repr(x) for x in dropdown.labels)
        if close:
            return (
                f"value {value!r} of column '{column}' is not a label of the target's dropdown "
                f'(did you mean {close!r}?). Fix: add "{value}" = "{close}" under '
                f"[defaults.dropdowns.{column}.values] in {source}"
            )
        return (
            f"value {value!r} of column '{column}' is not a label of the target's dropdown "
            f"(labels: {labels}). Fix: map it under [defaults.dropdowns.{column}.values] in {source}, "
            f"or add the label to the target's board and to 'labels'"
        )


def _close_label(value: str, labels: list[str]) -> str | None:
    folded = {label.casefold(): label for label in labels}
    if value.casefold() in folded:
        return folded[value.casefold()]
    close = difflib.get_close_matches(value.upper(), [x.upper() for x in labels], n=1, cutoff=0.75)
    if close:
        return next(x for x in labels if x.upper() == close[0])
    return None


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _problem(err: Any) -> str:
    """One validation error; an unknown key names the keys its table allows and the closest one."""
    loc = tuple(err["loc"])
    if err["type"] != "extra_forbidden":
        return f"'{_field_path(loc)}': {err['msg']} (got {err.get('input')!r})"
    model: Any = SyncProfile
    for part in loc[:-1]:
        if get_origin(model) is dict:  # a table of named entries, e.g. [dropdowns.<column>]
            model = get_args(model)[1]
            continue
        field = model.model_fields.get(str(part)) if _is_model(model) else None
        model = field.annotation if field else None
    if not _is_model(model):
        model = None
    allowed = [k for k in model.model_fields if k != "environment"] if model else []
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    hint = f" (did you mean '{_field_path((*loc[:-1], close[0]))}'?)" if close else ""
    table = f"[{_field_path(loc[:-1])}]" if len(loc) > 1 else "[defaults] and [environments.<name>]"
    known = f"; keys of {table}: {', '.join(allowed)}" if allowed else ""
    return f"unknown key '{_field_path(loc)}'{hint}{known}"


@dataclass(frozen=True)
class SyncConfig:
    """The parsed file: defaults and the named environment profiles."""

    path: Traversable
    default_environment: str
    defaults: Mapping[str, Any]
    environments: Mapping[str, Mapping[str, Any]]

    @property
    def source(self) -> str:
        """The file as users know it: the shipped default, or the user's file as given."""
        return DEFAULT_CONFIG_SOURCE if self.path == DEFAULT_CONFIG_PATH else str(self.path)

    def profile(self, environment: str | None = None) -> SyncProfile:
        """The validated settings of one environment (default: ``default_environment``)."""
        name = environment or self.default_environment
        if name not in self.environments:
            close = difflib.get_close_matches(name, list(self.environments), n=2, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise SyncConfigError(
                f"Environment {name!r} is not defined in {self.source}.{hint} Defined: "
                f"{', '.join(sorted(self.environments)) or 'none'}; add [environments.{name}] or pass "
                f"--environment with one of them."
            )
        raw = _merge(self.defaults, self.environments[name])
        where = f"{self.source}, environment {name!r}"
        try:
            profile = SyncProfile.model_validate({**raw, "environment": name})
        except ValidationError as exc:
            problems = "; ".join(_problem(err) for err in exc.errors()[:5])
            raise SyncConfigError(f"{where}: {problems}. See docs/sync.md#config.") from exc
        _check_profile(profile, where, self.source)
        log.debug("sc-001", "Loaded sync profile %s from %s", name, self.source)
        return profile


def _check_profile(profile: SyncProfile, where: str, source: str) -> None:
    unknown = sorted(set(profile.fields) - set(SOURCE_COLUMNS))
    if unknown:
        raise SyncConfigError(
            f"{where}: [fields] maps unknown order list column(s) {', '.join(map(repr, unknown))}; "
            f"columns are {', '.join(SOURCE_COLUMNS)}."
        )
    missing = [f for f in REQUIRED_FIELDS if f not in profile.fields]
    if missing:
        raise SyncConfigError(
            f"{where}: [fields] must map {', '.join(map(repr, missing))} (the item name and the key "
            f'that prevents duplicate items), e.g. order_id = "text_order_id".'
        )
    targets = list(profile.fields.values())
    duplicated = sorted({t for t in targets if targets.count(t) > 1})
    if duplicated:
        raise SyncConfigError(f"{where}: [fields] maps two columns to {', '.join(map(repr, duplicated))}.")
    for column, dropdown in profile.dropdowns.items():
        if column not in profile.fields:
            raise SyncConfigError(
                f"{where}: [dropdowns.{column}] is not a mapped field; map it in [fields] first."
            )
        if len(set(dropdown.labels)) != len(dropdown.labels):
            raise SyncConfigError(f"{where}: [dropdowns.{column}] lists a label twice.")
        for value, label in dropdown.values.items():
            if label in dropdown.labels:
                continue
            close = _close_label(label, dropdown.labels)
            fix = (
                f'did you mean {close!r}? Fix: set "{value}" = "{close}"'
                if close
                else f"use one of {', '.join(map(repr, dropdown.labels))}"
            )
            raise SyncConfigError(
                f"{where}: [dropdowns.{column}.values] maps {value!r} to {label!r}, which is not a "
                f"label of the target's dropdown (labels are case-sensitive: "
                f"{', '.join(map(repr, dropdown.labels))}); {fix} in {source}."
            )
    try:
        parse_levels(profile.logging.levels(), f"{where}: [logging]")
    except LoggingConfigError as exc:
        raise SyncConfigError(str(exc)) from exc


def config_path(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Traversable:
    """The file to read: the argument, else ``REPORTING_SYNC_CONFIG``, else the shipped default."""
    env = os.environ if environ is None else environ
    if path:
        return Path(path)
    if env.get(CONFIG_ENV, "").strip():
        return Path(env[CONFIG_ENV].strip())
    return DEFAULT_CONFIG_PATH


def load_config(path: str | Path | None = None) -> SyncConfig:
    """Read and check the file's shape (profiles are validated by :meth:`SyncConfig.profile`)."""
    file = config_path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SyncConfigError(
            f"Sync config {file} does not exist. Fix the path, or unset {CONFIG_ENV} to use "
            f"the default config/sync.toml shipped with reporting_assets (the README's "
            f"'Project home' section shows how to start a copy)."
        ) from None
    except OSError as exc:
        raise SyncConfigError(f"Sync config {file} cannot be read: {exc.strerror or exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SyncConfigError(f"Sync config {file} is not valid TOML: {exc}.") from exc
    unknown = sorted(set(data) - {"default_environment", "defaults", "environments"})
    if unknown:
        raise SyncConfigError(
            f"{file}: unknown top-level key(s) {', '.join(map(repr, unknown))}; expected "
            f"default_environment, [defaults] and [environments.<name>]."
        )
    environments = data.get("environments", {})
    defaults = data.get("defaults", {})
    if not isinstance(environments, dict) or not environments or not isinstance(defaults, dict):
        raise SyncConfigError(f"{file}: needs [defaults] and at least one [environments.<name>] table.")
    bad = [name for name in environments if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", name)]
    if bad:
        raise SyncConfigError(
            f"{file}: environment names are lower-case letters, digits, '-' and '_': "
            f"{', '.join(map(repr, bad))}."
        )
    default = data.get("default_environment", next(iter(environments)))
    if default not in environments:
        raise SyncConfigError(
            f"{file}: default_environment {default!r} is not one of {', '.join(sorted(environments))}."
        )
    return SyncConfig(file, default, defaults, environments)
