"""Export file formats (CSV, XLSX, PDF), all streamed from the analytics source.

:func:`render_export` writes one file atomically (a ``.part`` file renamed when complete, so a
crash never leaves a half file that looks finished) and returns its size and SHA-256, which
the delivery ledger uses as the content hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from reporting_assets.exports.dsl import CompiledQuery
from reporting_assets.exports.formats.info import ChartData, DocumentInfo
from reporting_assets.exports.source import DEFAULT_BATCH_ROWS, AnalyticsSource

Format = Literal["csv", "pdf", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "pdf", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    rows: int
    size: int
    sha256: str


class _HashingWriter:
    """A binary file that also feeds everything written to SHA-256."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.digest.update(data)
        return self.raw.write(data)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def render_export(
    fmt: str,
    source: AnalyticsSource,
    query: CompiledQuery,
    path: Path,
    info: DocumentInfo,
    *,
    chart: ChartData | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ExportFile:
    """Write ``query``'s rows as ``fmt`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        digest = None
        if fmt == "csv":
            with part.open("wb") as raw:
                out = _HashingWriter(raw)
                rows = source.copy_csv(query, out)  # type: ignore[arg-type]
                digest = out.digest.hexdigest()  # hashed on the way: no second read of the file
        elif fmt == "xlsx":
            # The XLSX and PDF writers (xlsxwriter, reportlab) load with the first such export,
            # not with the code location: only export runs use them.
            from reporting_assets.exports.formats.xlsx_writer import write_xlsx

            rows = write_xlsx(part, query.columns, source.stream(query, batch_rows=batch_rows), info)
        elif fmt == "pdf":
            from reporting_assets.exports.formats.pdf_writer import write_pdf

            rows = write_pdf(part, query.columns, source.stream(query, batch_rows=batch_rows), info, chart)
        else:
            raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
        os.replace(part, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return ExportFile(path=path, rows=rows, size=path.stat().st_size, sha256=digest or file_sha256(path))


__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "ChartData",
    "DocumentInfo",
    "ExportFile",
    "Format",
    "render_export",
]
