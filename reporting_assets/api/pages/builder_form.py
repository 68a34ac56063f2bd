"""The report builder's form, both ways: the submitted fields become the report values the
engine takes (``query_config``, ``visualization_config``, ...), a saved report becomes the
form again, and each problem the engine reports (``filters[1].value: ...``) is placed next to
the control it is about.

The form is the query language made clickable: tick fields (a timestamp can be bucketed by
day, week or month and every column renamed), add aggregates, filters (an operator list per
field type; ``last`` is a relative range such as the last 7 days), the order and a row limit.
With an aggregate, the ticked fields are the groups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reporting_assets.api.pages.forms import Form
from reporting_assets.exports.catalog import TABLES, table_names
from reporting_assets.exports.dsl import DEFAULT_ROW_LIMIT
from reporting_assets.exports.models import Report

OPERATORS: dict[str, tuple[tuple[str, str], ...]] = {
    "text": (("eq", "is"), ("ne", "is not"), ("in", "is one of (a, b)"), ("like", "matches (% any text)")),
    "integer": (
        ("eq", "="),
        ("ne", "≠"),
        ("lt", "<"),
        ("lte", "≤"),
        ("gt", ">"),
        ("gte", "≥"),
        ("between", "between"),
        ("in", "is one of (1, 2)"),
    ),
    "timestamp": (
        ("last", "in the last"),
        ("between", "between"),
        ("gte", "on or after"),
        ("lt", "before"),
        ("eq", "exactly at"),
    ),
    "boolean": (("eq", "is"),),
}
OPERATORS["number"] = OPERATORS["integer"]
OPERATORS["date"] = OPERATORS["timestamp"][1:]
AGGREGATES = (
    ("count", "count of rows"),
    ("count_distinct", "distinct count of"),
    ("sum", "sum of"),
    ("avg", "average of"),
    ("min", "minimum of"),
    ("max", "maximum of"),
)
BUCKETS = ("", "day", "week", "month")
UNITS = ("hours", "days", "weeks", "months")
VISUALIZATIONS = (("table", "Table only"), ("bar", "Bar chart"), ("line", "Line chart"))
EXTRA_ROWS = 1
"""Empty rows the form offers for one more aggregate, filter or order (scripts add more)."""


@dataclass
class Column:
    field: str
    bucket: str = ""
    alias: str = ""


@dataclass
class Aggregate:
    fn: str = ""
    field: str = "*"
    alias: str = ""


@dataclass
class FilterRow:
    field: str = ""
    op: str = ""
    value: str = ""
    value2: str = ""
    amount: str = "7"
    unit: str = "days"


@dataclass
class OrderRow:
    field: str = ""
    direction: str = "asc"


@dataclass
class BuilderState:
    """What the form holds (text as typed, so a bad value is shown back as it was)."""

    name: str = ""
    description: str = ""
    table: str = "usage_events"
    columns: list[Column] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    filters: list[FilterRow] = field(default_factory=list)
    order: list[OrderRow] = field(default_factory=list)
    row_limit: str = str(DEFAULT_ROW_LIMIT)
    is_public: bool = False
    viz_type: str = "table"
    viz_x: str = ""
    viz_y: str = ""
    viz_title: str = ""

    def ticked(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)

    def with_blank_rows(self) -> BuilderState:
        """The state with an empty row to fill in for aggregates, filters and order."""
        return BuilderState(
            **{
                **self.__dict__,
                "aggregates": [*self.aggregates, *[Aggregate() for _ in range(EXTRA_ROWS)]],
                "filters": [*self.filters, *[FilterRow() for _ in range(EXTRA_ROWS)]],
                "order": [*self.order, *[OrderRow() for _ in range(EXTRA_ROWS)]],
            }
        )


def parse_form(form: Form) -> BuilderState:
    """The builder state from the submitted fields (unknown names are ignored)."""
    table = form.text("table")
    if table not in TABLES:
        table = "usage_events"  # the form offers only catalog tables
    ticked = form.all("col")
    columns = [
        Column(name, form.text(f"bucket.{table}.{name}"), form.text(f"as.{table}.{name}"))
        for name in TABLES[table].field_names
        if f"{table}.{name}" in ticked
    ]
    aggregates = [
        Aggregate(r.get("fn", ""), r.get("field", "") or "*", r.get("as", ""))
        for r in form.rows("agg")
        if r.get("fn")
    ]
    filters = [
        FilterRow(
            r.get("field", ""),
            r.get("op", ""),
            r.get("value", ""),
            r.get("value2", ""),
            r.get("amount", ""),
            r.get("unit", "days"),
        )
        for r in form.rows("filter")
        if r.get("field")
    ]
    order = [
        OrderRow(r.get("field", ""), r.get("dir", "asc") or "asc")
        for r in form.rows("order")
        if r.get("field")
    ]
    return BuilderState(
        name=form.text("name"),
        description=form.text("description"),
        table=table,
        columns=columns,
        aggregates=aggregates,
        filters=filters,
        order=order,
        row_limit=form.text("row_limit"),
        is_public=form.checked("is_public"),
        viz_type=form.raw("viz.type", "table"),
        viz_x=form.text("viz.x"),
        viz_y=form.text("viz.y"),
        viz_title=form.text("viz.title"),
    )


def _typed(text: str, type_: str) -> Any:
    """A filter value as the engine wants it for a field of ``type_``; text that does not
    parse is passed on as it is, so the engine's message names it."""
    text = text.strip()
    if type_ == "integer" and re.fullmatch(r"[+-]?\d{1,19}", text):
        return int(text)
    if type_ == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if type_ == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


@dataclass(frozen=True)
class Built:
    """The engine's report values and, per path of the query language, the form control it came
    from (for placing errors)."""

    values: dict[str, Any]
    controls: dict[str, str]


def to_values(state: BuilderState) -> Built:
    spec = TABLES.get(state.table)
    types = {f.name: f.type for f in spec.fields} if spec else {}
    controls: dict[str, str] = {"table": "table", "name": "name", "description": "description"}
    select: list[Any] = []
    for column in state.columns:
        controls[f"fields[{len(select)}]"] = f"col-{state.table}-{column.field}"
        item: dict[str, Any] = {"field": column.field}
        if column.bucket:
            item["bucket"] = column.bucket
        if column.alias:
            item["as"] = column.alias
        select.append(item if len(item) > 1 else column.field)
    for i, agg in enumerate(state.aggregates):
        controls[f"fields[{len(select)}]"] = f"agg-{i}"
        item = {"aggregate": agg.fn}
        if agg.field and agg.field != "*":
            item["field"] = agg.field
        if agg.alias:
            item["as"] = agg.alias
        select.append(item)
    filters = []
    for i, f in enumerate(state.filters):
        controls[f"filters[{i}]"] = f"filter-{i}"
        type_ = types.get(f.field, "text")
        value: Any
        if f.op == "last":
            amount = f.amount.strip()
            value = {"amount": int(amount) if amount.isdigit() else amount, "unit": f.unit}
        elif f.op == "between":
            value = [_typed(f.value, type_), _typed(f.value2, type_)]
        elif f.op == "in":
            value = [_typed(v, type_) for v in f.value.split(",") if v.strip()]
        else:
            value = _typed(f.value, type_)
        filters.append({"field": f.field, "op": f.op or "eq", "value": value})
    group_by: list[Any] = []
    if state.aggregates:
        for i, column in enumerate(state.columns):
            controls[f"group_by[{i}]"] = f"col-{state.table}-{column.field}"
            group_by.append(
                {"field": column.field, "bucket": column.bucket} if column.bucket else column.field
            )
    order = []
    for i, row in enumerate(state.order):
        controls[f"order_by[{i}]"] = f"order-{i}"
        order.append({"field": row.field, "direction": row.direction})
    query: dict[str, Any] = {"table": state.table, "fields": select or "*"}
    if filters:
        query["filters"] = filters
    if group_by:
        query["group_by"] = group_by
    if order:
        query["order_by"] = order
    limit_text = state.row_limit.replace(",", "").strip()
    values: dict[str, Any] = {
        "name": state.name,
        "description": state.description or None,
        "query_config": query,
        "row_limit": int(limit_text) if limit_text.isdigit() else (limit_text or DEFAULT_ROW_LIMIT),
        "is_public": state.is_public,
        "visualization_config": None,
    }
    controls["row_limit"] = "row_limit"
    if state.viz_type in ("bar", "line"):
        viz: dict[str, Any] = {"type": state.viz_type, "x": state.viz_x or None, "y": state.viz_y or None}
        if state.viz_title:
            viz["title"] = state.viz_title
        values["visualization_config"] = viz
    controls.update({"visualization_config.x": "viz-x", "visualization_config.y": "viz-y"})
    controls["visualization_config"] = "viz-type"
    return Built(values, controls)


_PATH = re.compile(r"^(?:query_config\.)?([A-Za-z_][\w.\[\]]*): ")


def place_errors(messages: Sequence[str], controls: Mapping[str, str]) -> dict[str, list[str]]:
    """Each message under the control its path names (the longest known prefix), or under
    ``form`` when it names none."""
    placed: dict[str, list[str]] = {}
    for message in messages:
        match = _PATH.match(message)
        target = "form"
        if match:
            path = match.group(1)
            best = max(
                (p for p in controls if path == p or path.startswith((p + ".", p + "["))),
                key=len,
                default=None,
            )
            if best is not None:
                target = controls[best]
        placed.setdefault(target, []).append(message)
    return placed


def from_report(report: Report) -> BuilderState:
    """The form of a saved report (its query in the builder's terms)."""
    q = report.query_config
    state = BuilderState(
        name=report.name,
        description=report.description or "",
        table=q.get("table", "usage_events"),
        row_limit=str(report.row_limit),
        is_public=report.is_public,
    )
    fields = q.get("fields", ["*"])
    spec = TABLES.get(state.table)
    if fields == ["*"] or fields == "*":
        state.columns = [Column(n) for n in (spec.field_names if spec else ())]
    for item in fields if isinstance(fields, list) else []:
        if item == "*":
            continue
        if isinstance(item, str):
            state.columns.append(Column(item))
        elif "aggregate" in item:
            state.aggregates.append(Aggregate(item["aggregate"], item.get("field", "*"), item.get("as", "")))
        else:
            state.columns.append(Column(item["field"], item.get("bucket") or "", item.get("as", "")))
    for flt in q.get("filters", []):
        row = FilterRow(flt["field"], flt["op"])
        value = flt.get("value")
        if flt["op"] == "last" and isinstance(value, dict):
            row.amount, row.unit = str(value.get("amount", "")), str(value.get("unit", "days"))
        elif isinstance(value, list) and flt["op"] == "between" and len(value) == 2:
            row.value, row.value2 = _text(value[0]), _text(value[1])
        elif isinstance(value, list):
            row.value = ", ".join(_text(v) for v in value)
        else:
            row.value = _text(value)
        state.filters.append(row)
    state.order = [OrderRow(o["field"], o.get("direction", "asc")) for o in q.get("order_by", [])]
    viz = report.visualization_config or {}
    state.viz_type = viz.get("type", "table")
    state.viz_x, state.viz_y, state.viz_title = viz.get("x") or "", viz.get("y") or "", viz.get("title") or ""
    return state


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def catalog() -> list[dict[str, Any]]:
    """The tables, their fields and each type's operators, for the form and its script."""
    return [
        {
            "name": name,
            "description": TABLES[name].description,
            "fields": [
                {"name": f.name, "type": f.type, "description": f.description} for f in TABLES[name].fields
            ],
        }
        for name in table_names()
    ]
