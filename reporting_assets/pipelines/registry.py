"""The pipeline registry (``reporting.pipelines``): which pipelines get reports, and how.

Sensors, the report step, summaries and automation reports read it with one query
(:func:`load_registry`), so registering a pipeline (``reporting-assets pipelines add``) is all
it takes; nothing in the package lists pipelines by name.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import dagster as dg
import psycopg

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.errors import PipelineError
from reporting_assets.execution_reports.render import PipelineLabels
from reporting_assets.execution_reports.source_event import EXTERNAL_PREFIX, is_external_run_id
from reporting_assets.links import base_url_problem
from reporting_assets.text_rules import refuse_control_characters

PIPELINE_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
ASSET_KEY = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$")
ID_PLACEHOLDER = "{id}"


@dataclass(frozen=True)
class Pipeline:
    """One registered pipeline."""

    pipeline_type: str
    display_name: str
    asset_key: str
    source_system: str
    run_link_template: str | None = None
    expected_daily: bool = True
    new_label: str = "New Records"
    updated_label: str = "Updated Records"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey.from_user_string(self.asset_key)

    def run_link(self, external_id: str) -> str | None:
        """The external run's page (the template with ``{id}`` filled in, URL-quoted), or None."""
        if not self.run_link_template:
            return None
        return self.run_link_template.replace(ID_PLACEHOLDER, urllib.parse.quote(external_id, safe=""))


@dataclass(frozen=True)
class Registry:
    """The registry as read once: lookups by pipeline type and by asset key."""

    pipelines: tuple[Pipeline, ...]
    by_type: dict[str, Pipeline] = field(init=False, repr=False)
    by_key: dict[dg.AssetKey, Pipeline] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_type", {p.pipeline_type: p for p in self.pipelines})
        object.__setattr__(self, "by_key", {p.key: p for p in self.pipelines})

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        return [p.key for p in self.pipelines]

    @cached_property
    def labels(self) -> dict[str, PipelineLabels]:
        """How each pipeline is named in reports and summaries (built once: each report looks
        its pipeline up)."""
        return {
            p.pipeline_type: PipelineLabels(p.display_name, p.new_label, p.updated_label)
            for p in self.pipelines
        }

    @property
    def expected_daily(self) -> list[str]:
        return sorted(p.pipeline_type for p in self.pipelines if p.expected_daily)

    def sources(self) -> dict[str, list[dg.AssetKey]]:
        """Source system -> the asset keys of its pipelines (what automation reports group by)."""
        found: dict[str, list[dg.AssetKey]] = {}
        for p in self.pipelines:
            found.setdefault(p.source_system, []).append(p.key)
        return found

    def run_links(
        self, run_url: Callable[[str], str], asset_url: Callable[[str], str] | None = None
    ) -> Callable[[str], str]:
        """Links for execution ids (summary timelines): a Dagster run's page; for a run reported
        from outside Dagster its external page (the pipeline's template), else its asset's page."""

        def link(run_id: str) -> str:
            if not is_external_run_id(run_id):
                return run_url(run_id)
            pipeline_type, _, external_id = run_id.removeprefix(EXTERNAL_PREFIX).partition(":")
            pipeline = self.by_type.get(pipeline_type)
            hashed = external_id.startswith("sha256:")  # an id too long to keep (source_event.py)
            external = pipeline.run_link(external_id) if pipeline and not hashed else None
            if external:
                return external
            if pipeline is not None and asset_url is not None:
                return asset_url(pipeline.asset_key)
            return run_url(run_id)

        return link

    def require(self, pipeline_type: str) -> Pipeline:
        """The registered pipeline, or an error saying how to register it (with close names)."""
        found = self.by_type.get(pipeline_type)
        if found is not None:
            return found
        close = difflib.get_close_matches(pipeline_type, list(self.by_type), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise PipelineError(
            f"Pipeline {pipeline_type!r} is not registered.{hint} Register it with "
            f"`reporting-assets pipelines add {pipeline_type} --name 'Display Name'` "
            f"(see `reporting-assets pipelines add --help`), then report again."
        )


def load_registry(conn: Connection) -> Registry:
    """Every registered pipeline, in one query."""
    try:
        rows = conn.execute(query("pipelines_list")).fetchall()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        raise PipelineError(
            "The reporting database has no pipeline registry yet: run `reporting-assets db migrate`."
        ) from None
    return Registry(tuple(Pipeline(**row) for row in rows))


def link_template_problem(template: str) -> str | None:
    """Why ``template`` cannot link to an external run, or None."""
    what = "The run link template"
    if ID_PLACEHOLDER not in template:
        return (
            f"{what} {template!r} has no {ID_PLACEHOLDER} where the external execution id goes, "
            f"e.g. https://kestra.example.com/executions/{ID_PLACEHOLDER}"
        )
    sample = template.replace(ID_PLACEHOLDER, "x")
    parts = urllib.parse.urlsplit(sample) if "://" in sample else None
    base = f"{parts.scheme}://{parts.netloc}" if parts else sample
    problem = base_url_problem(base, what)
    if problem is None and any(c.isspace() for c in sample):
        problem = f"{what} {template!r} holds spaces."
    return problem


def validate_pipeline(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` with its values checked, or an error naming the value and the rule."""
    if not PIPELINE_TYPE.match(pipeline.pipeline_type):
        raise PipelineError(
            f"Pipeline type {pipeline.pipeline_type!r} is not valid: 1-100 characters of lowercase "
            f"letters, digits and '_', starting with a letter (e.g. crm_sync)."
        )
    if not PIPELINE_TYPE.match(pipeline.source_system):
        raise PipelineError(
            f"Source system {pipeline.source_system!r} is not valid: lowercase letters, digits and '_', "
            f"starting with a letter (e.g. hubspot)."
        )
    if not ASSET_KEY.match(pipeline.asset_key):
        raise PipelineError(
            f"Asset key {pipeline.asset_key!r} is not valid: path parts of letters, digits and '_' "
            f"separated by '/' (e.g. crm/hubspot_sync)."
        )
    for value, what, limit in (
        (pipeline.display_name, "pipeline display name", 255),
        (pipeline.new_label, "new-records label", 100),
        (pipeline.updated_label, "updated-records label", 100),
    ):
        refuse_control_characters(value, what, PipelineError)
        if not value.strip() or len(value) > limit:
            raise PipelineError(f"The {what} must be 1-{limit} characters, got {value!r}.")
    if pipeline.run_link_template is not None:
        problem = link_template_problem(pipeline.run_link_template)
        if problem:
            raise PipelineError(problem)
    return pipeline


def refuse_reserved_key(pipeline: Pipeline, other_assets: Iterable[dg.AssetKey]) -> None:
    """An error when ``pipeline``'s asset key is one of ``other_assets`` (assets that are not
    pipelines, such as the report step's)."""
    if pipeline.key in set(other_assets):
        raise PipelineError(
            f"Asset key {pipeline.asset_key!r} is already an asset of this code location that is not "
            f"a pipeline (its reports would feed themselves). Give the pipeline its own key with "
            f"--asset-key, e.g. --asset-key {pipeline.pipeline_type}."
        )


def add_pipeline(
    conn: Connection, pipeline: Pipeline, other_assets: Iterable[dg.AssetKey] = (), *, replace: bool = False
) -> str:
    """Register ``pipeline``; ``other_assets`` are asset keys that are not pipelines (the report
    assets of this code location...), which a pipeline's key must not collide with.

    Returns "registered", "unchanged" or "updated". An existing type is only changed with
    ``replace``; another pipeline's asset key is refused.
    """
    validate_pipeline(pipeline)
    refuse_reserved_key(pipeline, other_assets)
    registry = load_registry(conn)
    owner = registry.by_key.get(pipeline.key)
    if owner is not None and owner.pipeline_type != pipeline.pipeline_type:
        raise PipelineError(
            f"Asset key {pipeline.asset_key!r} already belongs to pipeline {owner.pipeline_type!r}; "
            f"each pipeline has its own asset. Choose another --asset-key."
        )
    existing = registry.by_type.get(pipeline.pipeline_type)
    if existing == pipeline:
        return "unchanged"
    if existing is not None and not replace:
        raise PipelineError(
            f"Pipeline {pipeline.pipeline_type!r} is already registered with other settings "
            f"({_describe(existing)}); nothing was changed. Add --replace to change it."
        )
    try:
        conn.execute(query("pipelines_upsert"), dataclasses.asdict(pipeline))
    except psycopg.errors.UniqueViolation as exc:
        conn.rollback()
        raise PipelineError(
            f"Asset key {pipeline.asset_key!r} was registered for another pipeline at the same time; "
            f"run `reporting-assets pipelines list` and choose another --asset-key."
        ) from exc
    conn.commit()
    return "updated" if existing is not None else "registered"


def remove_pipeline(conn: Connection, pipeline_type: str) -> Pipeline:
    """Unregister a pipeline (its stored reports stay); an error naming close names if unknown."""
    pipeline = load_registry(conn).require(pipeline_type)
    conn.execute("DELETE FROM reporting.pipelines WHERE pipeline_type = %s", (pipeline_type,))
    conn.commit()
    return pipeline


def _describe(p: Pipeline) -> str:
    link = p.run_link_template or "no run link"
    daily = "expected daily" if p.expected_daily else "not expected daily"
    return f"{p.display_name!r}, asset {p.asset_key}, source {p.source_system}, {link}, {daily}"


def describe(pipelines: Sequence[Pipeline]) -> list[str]:
    """One line per pipeline, for ``pipelines list``."""
    return [f"{p.pipeline_type:<24} {_describe(p)}" for p in pipelines]
