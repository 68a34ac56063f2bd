"""PDF exports with reportlab's canvas: a header (title, description, tenant, generation time,
filters, row limit), an optional bar/line chart, then the rows as a paginated table whose
header row repeats on every page, a totals row, and "Page n of m" on every page.

Why this shape:

* **Exact "of m" without a second rendering pass.** Rows are first spooled to a temporary file
  (pickled batches; flat memory) while counting them and adding up totals. Every row is one
  line of fixed height (long text is cut with "…" to its column's width), so the page count is
  arithmetic, known before the first page is drawn.
* **The canvas, not platypus.** A platypus ``Table`` holds every cell object in memory and
  lays out the whole table; drawing lines directly is several times faster at 10,000 rows.
  (reportlab keeps finished pages, compressed, until ``save``; that part grows with the output
  size, which the row limit bounds.)
* **Deterministic bytes.** ``invariant=1`` leaves out creation dates and random ids, so the same
  rows and generation time give the same file, and the same content hash in the delivery
  ledger.
* **Unicode.** DejaVu Sans when the system has it (most Linux images, configurable), else Bitstream Vera,
  which ships inside reportlab; characters the font lacks print as "?" instead of empty boxes.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import reportlab
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from reporting_assets.exports.dsl import OutputColumn
from reporting_assets.exports.formats.cells import display
from reporting_assets.exports.formats.info import ChartData, DocumentInfo

FONT_ENV = "REPORTING_PDF_FONT"
"""Path of a TTF font to use instead of the default search (its bold variant: same name with -Bold)."""
_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/Library/Fonts/DejaVuSans.ttf", "/Library/Fonts/DejaVuSans-Bold.ttf"),
)
PAGE = landscape(A4)
MARGIN = 36.0
FOOTER_Y = 20.0
TABLE_BOTTOM = 40.0
ROW_H = 13.0
HEADER_H = 16.0
FONT_SIZE = 8.0
CHART_H = 170.0
MIN_COL = 30.0
PAD = 3.0
GREY = colors.Color(0.42, 0.45, 0.5)
HEADER_BG = colors.Color(0.87, 0.89, 0.93)
STRIPE_BG = colors.Color(0.96, 0.97, 0.98)


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    covered: frozenset[int]

    def safe(self, text: str) -> str:
        if text.isascii():
            return text
        return "".join(ch if ord(ch) in self.covered else "?" for ch in text)


@cache
def fonts() -> _Fonts:
    """Register the document fonts once per process (DejaVu Sans, else reportlab's Vera)."""
    override = os.environ.get(FONT_ENV, "").strip()
    pairs: list[tuple[str, str]] = []
    if override:
        pairs.append((override, override.replace(".ttf", "-Bold.ttf")))
    pairs.extend(_FONT_CANDIDATES)
    vera = Path(reportlab.__file__).parent / "fonts"
    pairs.append((str(vera / "Vera.ttf"), str(vera / "VeraBd.ttf")))
    for regular, bold in pairs:
        if not Path(regular).is_file():
            continue
        bold_path = bold if Path(bold).is_file() else regular
        name = Path(regular).stem
        font = TTFont(f"RA-{name}", regular)
        pdfmetrics.registerFont(font)
        pdfmetrics.registerFont(TTFont(f"RA-{name}-Bold", bold_path))
        return _Fonts(f"RA-{name}", f"RA-{name}-Bold", frozenset(font.face.charToGlyph))
    return _Fonts("Helvetica", "Helvetica-Bold", frozenset(range(32, 256)))  # pragma: no cover


# --- spooling ------------------------------------------------------------------------------


@dataclass
class _Spool:
    file: IO[bytes]
    rows: int
    sample: list[tuple]
    totals: list[Any]

    def batches(self) -> Iterator[list[tuple]]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)
            except EOFError:
                return


def _spool(columns: Sequence[OutputColumn], batches: Iterable[Sequence[tuple]], file: IO[bytes]) -> _Spool:
    summable = [i for i, c in enumerate(columns) if c.summable]
    totals: list[Any] = [0 if columns[i].type == "integer" else 0.0 for i in range(len(columns))]
    sample: list[tuple] = []
    rows = 0
    for batch in batches:
        batch = list(batch)
        pickle.dump(batch, file, protocol=pickle.HIGHEST_PROTOCOL)
        rows += len(batch)
        if len(sample) < 200:
            sample.extend(batch[: 200 - len(sample)])
        for i in summable:
            totals[i] += sum(v for row in batch if (v := row[i]) is not None)
    return _Spool(file, rows, sample, [totals[i] if i in summable else None for i in range(len(columns))])


# --- layout --------------------------------------------------------------------------------


def _fit(text: str, width: float, font: str, size: float) -> str:
    """``text`` cut with "…" so it fits ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    # start from a generous character estimate, then shorten
    cut = min(len(text), max(1, int(width / (size * 0.3))))
    text = text[:cut]
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[: max(0, len(text) - max(1, len(text) // 8))]
    return text + "…"


def _wrap(text: str, width: float, font: str, size: float, max_lines: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = _fit(word, width, font, size)
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(" ".join(lines[max_lines - 1 :]), width, font, size)]
    return lines


def _column_widths(
    columns: Sequence[OutputColumn], sample: Sequence[tuple], f: _Fonts, avail: float
) -> list[float]:
    natural = []
    for i, col in enumerate(columns):
        texts = sorted(pdfmetrics.stringWidth(f.safe(display(r[i])), f.regular, FONT_SIZE) for r in sample)
        p90 = texts[int(len(texts) * 0.9)] if texts else 0.0
        header = pdfmetrics.stringWidth(col.label, f.bold, FONT_SIZE)
        natural.append(max(header, p90, MIN_COL - 2 * PAD) + 2 * PAD)
    total = sum(natural)
    scale = avail / total if total else 1.0
    widths = [max(MIN_COL, w * scale) for w in natural]
    over = sum(widths) - avail
    if over > 0.01:  # minimums pushed it over: take it from the wide columns
        wide = [i for i, w in enumerate(widths) if w > MIN_COL]
        room = sum(widths[i] - MIN_COL for i in wide)
        for i in wide:
            widths[i] -= over * (widths[i] - MIN_COL) / room if room else 0
    return widths


@dataclass(frozen=True)
class _Layout:
    first_capacity: int
    capacity: int

    def pages(self, units: int) -> int:
        if units <= self.first_capacity:
            return 1
        return 1 + math.ceil((units - self.first_capacity) / self.capacity)


def _capacity(top: float) -> int:
    return max(0, int((top - HEADER_H - TABLE_BOTTOM) // ROW_H))


# --- drawing -------------------------------------------------------------------------------


class _Doc:
    def __init__(self, path: Path, info: DocumentInfo, columns: Sequence[OutputColumn], f: _Fonts) -> None:
        self.c = canvas.Canvas(str(path), pagesize=PAGE, invariant=1, pageCompression=1)
        self.c.setTitle(f.safe(info.title))
        self.c.setAuthor("reporting_assets")
        self.c.setSubject(f"Report export for tenant {info.tenant_id}")
        self.info = info
        self.columns = columns
        self.f = f
        self.width = PAGE[0] - 2 * MARGIN
        self.page = 0
        self.pages = 1
        self.widths: list[float] = []
        self.numeric = [c.type in ("integer", "number") for c in columns]
        zone = ZoneInfo(info.timezone) if info.timezone else dt.UTC
        local = info.generated_at.astimezone(zone)
        utc = info.generated_at.astimezone(dt.UTC)
        self.generated = f"{local:%Y-%m-%d %H:%M %Z}" + (
            "" if local.utcoffset() == dt.timedelta(0) else f" ({utc:%H:%M} UTC)"
        )

    def header_block(self, rows: int, chart: ChartData | None) -> float:
        """Draw the first page's header (and chart); return where the table starts."""
        c, f = self.c, self.f
        y = PAGE[1] - MARGIN - 14
        c.setFont(f.bold, 16)
        c.drawString(MARGIN, y, _fit(f.safe(self.info.title), self.width, f.bold, 16))
        y -= 16
        c.setFont(f.regular, 9)
        if self.info.description:
            for line in _wrap(f.safe(self.info.description), self.width, f.regular, 9, 3):
                c.drawString(MARGIN, y, line)
                y -= 12
        limited = (
            f"{rows:,} rows (row limit {self.info.row_limit:,} reached: more rows may match)"
            if rows >= self.info.row_limit
            else f"{rows:,} rows (row limit {self.info.row_limit:,})"
        )
        c.setFillColor(GREY)
        meta = f"Tenant: {self.info.tenant_id}    Generated: {self.generated}    {limited}"
        c.drawString(MARGIN, y, _fit(f.safe(meta), self.width, f.regular, 9))
        y -= 12
        filters = "Filters: " + "; ".join(self.info.filters)
        for line in _wrap(f.safe(filters), self.width, f.regular, 9, 6):
            c.drawString(MARGIN, y, line)
            y -= 12
        c.setFillColor(colors.black)
        y -= 4
        if chart is not None and chart.points:
            y = self.chart(chart, y)
        return y

    def chart(self, chart: ChartData, top: float) -> float:
        f = self.f
        drawing = Drawing(self.width, CHART_H)
        plot = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
        plot.x, plot.y = 46, 34
        plot.width, plot.height = self.width - 60, CHART_H - 58
        plot.data = [[p[1] for p in chart.points]]
        labels = [f.safe(p[0]) for p in chart.points]
        step = max(1, math.ceil(len(labels) / 16))
        plot.categoryAxis.categoryNames = [lab if i % step == 0 else "" for i, lab in enumerate(labels)]
        plot.categoryAxis.labels.fontName = f.regular
        plot.categoryAxis.labels.fontSize = 7
        plot.categoryAxis.labels.angle = 30 if max((len(x) for x in labels), default=0) > 6 else 0
        plot.categoryAxis.labels.boxAnchor = "ne" if plot.categoryAxis.labels.angle else "n"
        plot.valueAxis.labels.fontName = f.regular
        plot.valueAxis.labels.fontSize = 7
        plot.valueAxis.valueMin = 0
        if isinstance(plot, VerticalBarChart):
            plot.bars[0].fillColor = colors.Color(0.25, 0.45, 0.7)
            plot.bars[0].strokeColor = None
        else:
            plot.lines[0].strokeColor = colors.Color(0.25, 0.45, 0.7)
            plot.lines[0].strokeWidth = 1.5
        drawing.add(plot)
        title = f"{chart.title} ({chart.y_label} by {chart.x_label})"
        drawing.add(
            String(0, CHART_H - 12, _fit(f.safe(title), self.width, f.bold, 9), fontName=f.bold, fontSize=9)
        )
        renderPDF.draw(drawing, self.c, MARGIN, top - CHART_H)
        return top - CHART_H - 6

    def running_header(self) -> float:
        c, f = self.c, self.f
        c.setFont(f.regular, 8)
        c.setFillColor(GREY)
        c.drawString(MARGIN, PAGE[1] - MARGIN + 4, _fit(f.safe(self.info.title), self.width, f.regular, 8))
        c.setFillColor(colors.black)
        return PAGE[1] - MARGIN - 4

    def table_header(self, top: float) -> float:
        c, f = self.c, self.f
        c.setFillColor(HEADER_BG)
        c.rect(MARGIN, top - HEADER_H, self.width, HEADER_H, stroke=0, fill=1)
        c.setFillColor(colors.black)
        c.setFont(f.bold, FONT_SIZE)
        x = MARGIN
        for i, col in enumerate(self.columns):
            text = _fit(col.label, self.widths[i] - 2 * PAD, f.bold, FONT_SIZE)
            if self.numeric[i]:
                c.drawRightString(x + self.widths[i] - PAD, top - HEADER_H + 5, text)
            else:
                c.drawString(x + PAD, top - HEADER_H + 5, text)
            x += self.widths[i]
        c.setFont(f.regular, FONT_SIZE)
        return top - HEADER_H

    def row(self, y: float, values: Sequence[Any], index: int, *, bold: bool = False) -> None:
        c, f = self.c, self.f
        if index % 2 == 1 and not bold:
            c.setFillColor(STRIPE_BG)
            c.rect(MARGIN, y - ROW_H, self.width, ROW_H, stroke=0, fill=1)
            c.setFillColor(colors.black)
        font = f.bold if bold else f.regular
        if bold:
            c.setFont(font, FONT_SIZE)
            c.line(MARGIN, y, MARGIN + self.width, y)
        x = MARGIN
        base = y - ROW_H + 4
        for i, value in enumerate(values):
            w = self.widths[i]
            if value is not None and value != "":
                text = value if isinstance(value, str) and bold else f.safe(display(value))
                text = _fit(text, w - 2 * PAD, font, FONT_SIZE)
                if self.numeric[i]:
                    c.drawRightString(x + w - PAD, base, text)
                else:
                    c.drawString(x + PAD, base, text)
            x += w
        if bold:
            c.setFont(f.regular, FONT_SIZE)

    def footer(self) -> None:
        c, f = self.c, self.f
        c.setFont(f.regular, 8)
        c.setFillColor(GREY)
        left = f"{self.info.title} · generated {self.generated}"
        c.drawString(MARGIN, FOOTER_Y, _fit(f.safe(left), self.width * 0.7, f.regular, 8))
        c.drawRightString(PAGE[0] - MARGIN, FOOTER_Y, f"Page {self.page} of {self.pages}")
        c.setFillColor(colors.black)

    def next_page(self) -> float:
        self.footer()
        self.c.showPage()
        self.page += 1
        top = self.running_header()
        return self.table_header(top)


def write_pdf(
    path: Path,
    columns: Sequence[OutputColumn],
    batches: Iterable[Sequence[tuple]],
    info: DocumentInfo,
    chart: ChartData | None = None,
) -> int:
    """Write the report to ``path``; return the number of rows."""
    f = fonts()
    with tempfile.TemporaryFile(prefix="report-export-", suffix=".spool") as spool_file:
        spool = _spool(columns, batches, spool_file)
        doc = _Doc(path, info, columns, f)
        doc.widths = _column_widths(columns, spool.sample, f, doc.width)
        has_totals = spool.rows > 0 and any(t is not None for t in spool.totals)
        units = spool.rows + (1 if has_totals else 0)
        # measure the first page's header without drawing it: draw it on a throwaway canvas
        probe = _Doc(Path(os.devnull), info, columns, f)
        first_top = probe.header_block(spool.rows, chart)
        layout = _Layout(
            first_capacity=_capacity(first_top),
            capacity=_capacity(PAGE[1] - MARGIN - 4),
        )
        doc.pages = layout.pages(units)
        doc.page = 1
        top = doc.header_block(spool.rows, chart)
        if spool.rows == 0:
            doc.c.setFont(f.regular, 10)
            doc.c.drawString(MARGIN, top - 20, "No rows match this report's filters.")
            doc.footer()
            doc.c.save()
            return 0
        y = doc.next_page() if layout.first_capacity == 0 else doc.table_header(top)
        on_page = 0
        capacity = layout.first_capacity or layout.capacity
        index = 0
        for batch in spool.batches():
            for values in batch:
                if on_page >= capacity:
                    y = doc.next_page()
                    on_page, capacity = 0, layout.capacity
                doc.row(y, values, index)
                y -= ROW_H
                on_page += 1
                index += 1
        if has_totals:
            if on_page >= capacity:
                y = doc.next_page()
            totals: list[Any] = list(spool.totals)
            label_at = next((i for i, t in enumerate(totals) if t is None), None)
            if label_at is not None:
                totals[label_at] = f"Total ({spool.rows:,} rows)"
            doc.row(y, totals, 0, bold=True)
        doc.footer()
        assert doc.page == doc.pages, f"layout predicted {doc.pages} pages, drew {doc.page}"
        doc.c.save()
        return spool.rows
