"""Source systems: the pipeline registry's (``reporting-assets pipelines add --source-system``).

There is no fixed list of CRMs (HubSpot, Genius, Arrivy, ...): the sources are the source
systems of the registered pipelines (the sample ones and the sync job are each their own), and a
pipeline that reported without being registered is its own, named by its type. Known sources are
the registry's plus every pipeline type in the lineage tables. ``--crm hubspot`` style names are
matched leniently (case, ``-`` or spaces, a missing ``_sync`` suffix, a unique prefix), and
anything else is an error that lists the known names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reporting_assets.automation.errors import UnknownSourceError
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query

ALL = "all"
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def known_sources(conn: Connection | None, defined: Iterable[str]) -> list[str]:
    """Defined source asset names plus every pipeline type in the lineage tables (sorted).

    With no connection (the reporting database is away) only the defined ones are known.
    """
    names = {name for name in defined if SOURCE_NAME.match(name)}
    if conn is not None:
        names.update(row["source"] for row in conn.execute(query("automation_known_sources")))
    return sorted(names)


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def split_requested(requested: str | Sequence[str]) -> list[str]:
    """``"order, shipping"`` or ``["order", "shipping"]`` as a list of non-empty names."""
    items = [requested] if isinstance(requested, str) else list(requested)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def match_source(name: str, known: Sequence[str]) -> str:
    """The known source ``name`` means: exact, ``<name>_sync``, or a unique prefix."""
    wanted = _normalize(name)
    for candidate in (wanted, f"{wanted}_sync"):
        if candidate in known:
            return candidate
    prefixed = [k for k in known if k.startswith(wanted)] if wanted else []
    if len(prefixed) == 1:
        return prefixed[0]
    listing = ", ".join(known) if known else "none yet (no pipeline has reported)"
    if len(prefixed) > 1:
        raise UnknownSourceError(
            f"Source {name!r} is ambiguous: it could be {', '.join(prefixed)}. Name one of them, "
            f"or use 'all'."
        )
    raise UnknownSourceError(
        f"Unknown source {name!r}. Known sources: {listing}; or 'all'. A source is the source system "
        f"of a registered pipeline (`reporting-assets pipelines list`), or the type of a pipeline "
        f"that has reported through the run-report contract."
    )


def resolve_sources(requested: str | Sequence[str], known: Sequence[str]) -> list[str]:
    """The sources a request selects, in the order of ``known``; ``all`` = every one. A request
    that names no source (``''``, ``' , '``) is refused: it is a mistake, not a way to say all."""
    names = split_requested(requested)
    if not names:
        listing = ", ".join(known) if known else "none yet (no pipeline has reported)"
        raise UnknownSourceError(
            f"No source named (got {requested!r}). Name a source system: {listing}; or 'all' for every one."
        )
    if any(_normalize(n) == ALL for n in names):
        if len(names) > 1:
            raise UnknownSourceError(f"'all' cannot be combined with other sources (got {', '.join(names)}).")
        return list(known)
    chosen = {match_source(name, known) for name in names}
    return [k for k in known if k in chosen]
