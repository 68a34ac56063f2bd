"""What an export document says about itself (PDF header, XLSX "About" sheet)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentInfo:
    """What documents say about themselves (PDF header, XLSX "About" sheet)."""

    title: str
    description: str | None
    tenant_id: str
    generated_at: dt.datetime
    timezone: str
    filters: Sequence[str]
    row_limit: int
