"""Laying a document out on printed pages with matplotlib: PDF and PNG.

matplotlib is already a dependency and ships its own fonts (DejaVu Sans), so
the same pages come out on every machine without a browser or a system
typesetting library. The layout is simple and predictable: text is measured
with the font that draws it and wrapped at word boundaries; tables wrap their
cells, repeat their header on every page they run onto and never split a row;
headings are kept with what follows them; each section may start a new page,
portrait or landscape. Text is embedded as TrueType (``pdf.fonttype`` 42), so a
PDF reader can search, select and extract it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .document import PAPER_SIZES_MM, Bullets, Chart, Document, Heading, Keep, Para, Ruled, Table, to_html, to_markdown

MM = 1 / 25.4  # inches per millimetre
PT = 1 / 72  # inches per point
FONT = "DejaVu Sans"

RC: dict[Any, Any] = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "svg.fonttype": "none",
    "hatch.linewidth": 0.6,
}

SIZES = {"body": 9.5, "table": 8.3, "h1": 18.0, "h2": 13.0, "h3": 10.5, "footer": 7.5, "quote": 10.5}
LEADING = 1.32


@lru_cache(maxsize=100_000)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of ``text`` set in the document font at ``size`` points."""
    # imported on use: matplotlib loads only when a chart or page is drawn
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    w, _, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return w * PT


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` inches (words longer than a line are split)."""
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split(" ")
        cur = ""
        for w in words:
            trial = w if not cur else f"{cur} {w}"
            if text_width(trial, size, bold) <= width:
                cur = trial
                continue
            if cur:
                lines.append(cur)
            cur = ""
            while text_width(w, size, bold) > width and len(w) > 1:
                k = len(w)
                while k > 1 and text_width(w[:k], size, bold) > width:
                    k -= 1
                lines.append(w[:k])
                w = w[k:]
            cur = w
        lines.append(cur)
    return lines


# ------------------------------------------------------------------ page model


@dataclass
class Page:
    width: float
    height: float
    section: str = ""  # the key of the section the page belongs to
    ops: list[tuple] = field(default_factory=list)


class Layout:
    """A document laid out on pages: positions in inches from the top-left corner."""

    def __init__(self, paper: str, margin_mm: float = 14.0):
        if paper not in PAPER_SIZES_MM:
            raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES_MM)}, not {paper!r}")
        w, h = PAPER_SIZES_MM[paper]
        self.portrait = (w * MM, h * MM)
        self.margin = margin_mm * MM
        self.bottom_margin = (margin_mm + 4) * MM
        self.pages: list[Page] = []
        self.y = 0.0
        self.section = ""
        self.sizes = dict(SIZES)

    # -- geometry
    @property
    def page(self) -> Page:
        return self.pages[-1]

    @property
    def left(self) -> float:
        return self.margin

    @property
    def width(self) -> float:
        return self.page.width - 2 * self.margin

    @property
    def room(self) -> float:
        return self.page.height - self.bottom_margin - self.y

    def new_page(self, landscape: bool = False) -> None:
        w, h = self.portrait
        self.pages.append(Page(h, w, self.section) if landscape else Page(w, h, self.section))
        self.y = self.margin

    def ensure(self, height: float) -> None:
        if self.room < height and self.y > self.margin + 1e-9:
            self.new_page(self.page.width > self.page.height)

    def text(self, x, y, s, size, bold=False, color="#000000", ha="left"):
        self.page.ops.append(("text", x, y, s, size, bold, color, ha))

    def rect(self, x, y, w, h, fc="none", ec="none", lw=0.0):
        self.page.ops.append(("rect", x, y, w, h, fc, ec, lw))

    def line(self, x0, y0, x1, y1, lw=0.5, color="#000000"):
        self.page.ops.append(("line", x0, y0, x1, y1, lw, color))

    # -- blocks
    def lines_block(self, lines, size, bold=False, indent=0.0, color="#000000", first_prefix=None):
        lh = size * LEADING * PT
        for i, ln in enumerate(lines):
            self.ensure(lh)
            self.y += lh
            if i == 0 and first_prefix:
                self.text(self.left + indent - first_prefix[1], self.y - 0.25 * lh, first_prefix[0], size, bold)
            self.text(self.left + indent, self.y - 0.25 * lh, ln, size, bold, color)

    def heading(self, b: Heading) -> None:
        size = self.sizes.get(f"h{b.level}", self.sizes["h3"])
        lines = wrap(b.text, self.width, size, True)
        lh = size * LEADING * PT
        space_before = {1: 0.0, 2: 0.16, 3: 0.1}.get(b.level, 0.08)
        # keep the heading with at least three lines of what follows
        self.ensure(space_before + lh * len(lines) + 3 * self.sizes["body"] * LEADING * PT)
        if self.y > self.margin + 1e-9:
            self.y += space_before
        self.lines_block(lines, size, bold=True)
        if b.level == 1:
            self.y += 0.04
            self.line(self.left, self.y, self.left + self.width, self.y, lw=1.5)
            self.y += 0.1
        else:
            self.y += 0.03

    def para(self, b: Para) -> None:
        size = self.sizes["quote"] if b.style == "quote" else self.sizes["body"] - (1 if b.style == "note" else 0)
        bold = b.style == "strong"
        color = "#333333" if b.style == "note" else "#000000"
        if b.style == "quote":
            pad = 0.08
            lines = wrap(b.text, self.width - 3 * pad, size)
            lh = size * LEADING * PT
            h = lh * len(lines) + 2 * pad
            self.ensure(min(h, self.room + 1))
            top = self.y
            if h <= self.room:
                self.rect(self.left, top, self.width, h, fc="#eeeeee")
                self.rect(self.left, top, 0.04, h, fc="#000000")
            self.y += pad
            self.lines_block(lines, size, indent=2 * pad)
            self.y += pad + 0.06
            return
        self.lines_block(wrap(b.text, self.width, size, bold), size, bold, color=color)
        self.y += 0.06

    def bullets(self, b: Bullets) -> None:
        size = self.sizes["body"]
        indent = 0.22
        for i, item in enumerate(b.items, 1):
            lines = wrap(item, self.width - indent, size)
            lh = size * LEADING * PT
            self.ensure(lh * min(len(lines), 2))
            if b.checkbox:
                box = size * 0.75 * PT
                top = self.y + 0.3 * lh
                if self.room >= lh:
                    self.rect(self.left + 0.04, top - 0.05 * lh, box, box, ec="#000000", lw=0.7)
                self.lines_block(lines, size, indent=indent)
            else:
                mark = f"{i}." if b.numbered else "•"
                self.lines_block(lines, size, indent=indent, first_prefix=(mark, indent - 0.04))
            self.y += 0.03
        self.y += 0.05

    def ruled(self, b: Ruled) -> None:
        gap = 0.32
        label_h = self.sizes["body"] * LEADING * PT if b.label else 0.0
        # keep the lines together with their label when they fit on a page
        whole = label_h + gap * b.lines
        usable = self.page.height - self.bottom_margin - self.margin
        self.ensure(whole if whole <= usable else label_h + 2 * gap)
        if b.label:
            self.lines_block([b.label], self.sizes["body"], bold=True)
        for _ in range(b.lines):
            self.ensure(gap)
            self.y += gap
            self.line(self.left, self.y, self.left + self.width, self.y, lw=0.5, color="#555555")
        self.y += 0.12

    def table(self, t: Table) -> None:
        size = self.sizes["table"]
        pad = 0.035
        lh = size * LEADING * PT
        ncol = len(t.head)
        widths = _column_widths(t, self.width, size, pad)
        head_lines = [wrap(h, widths[j] - 2 * pad, size, True) for j, h in enumerate(t.head)]
        head_h = max(len(x) for x in head_lines) * lh + 2 * pad

        def draw_head():
            if not t.header:
                return
            top = self.y
            for j in range(ncol):
                x = self.left + sum(widths[:j]) + pad
                for k, ln in enumerate(head_lines[j]):
                    self.text(x, top + pad + (k + 0.75) * lh, ln, size, True)
            self.y += head_h
            self.line(self.left, self.y, self.left + self.width, self.y, lw=0.9)

        first_row_h = (
            max(len(wrap(c, widths[j] - 2 * pad, size)) for j, c in enumerate(t.rows[0])) * lh + 2 * pad
            if t.rows
            else 0
        )
        self.ensure((head_h if t.header else 0) + first_row_h)
        draw_head()
        for i, row in enumerate(t.rows):
            bold = i in t.emphasis
            cells = [wrap(c, widths[j] - 2 * pad, size, bold) for j, c in enumerate(row)]
            h = max(len(c) for c in cells) * lh + 2 * pad
            if h > self.room:
                self.new_page(self.page.width > self.page.height)
                draw_head()
            top = self.y
            if bold:
                self.rect(self.left, top, self.width, h, fc="#dcdcdc")
                self.rect(self.left, top, 0.04, h, fc="#000000")
            elif i % 2 == 1:
                self.rect(self.left, top, self.width, h, fc="#f2f2f2")
            for j, lines in enumerate(cells):
                x = self.left + sum(widths[:j]) + pad + (0.03 if bold and j == 0 else 0)
                for k, ln in enumerate(lines):
                    self.text(x, top + pad + (k + 0.75) * lh, ln, size, bold)
            self.y += h
            self.line(self.left, self.y, self.left + self.width, self.y, lw=0.3, color="#999999")
        self.y += 0.12

    def chart(self, c: Chart) -> None:
        cap_h = 0.0
        if c.caption:
            cap_lines = wrap(c.caption, self.width, self.sizes["footer"])
            cap_h = len(cap_lines) * self.sizes["footer"] * LEADING * PT + 0.05
        h = self.room - cap_h
        self.page.ops.append(("chart", c.draw, self.left, self.y, self.width, h))
        self.y += h
        if c.caption:
            self.lines_block(cap_lines, self.sizes["footer"], color="#333333")

    def block(self, b) -> None:
        if isinstance(b, Heading):
            self.heading(b)
        elif isinstance(b, Para):
            self.para(b)
        elif isinstance(b, Bullets):
            self.bullets(b)
        elif isinstance(b, Table):
            self.table(b)
        elif isinstance(b, Ruled):
            self.ruled(b)
        elif isinstance(b, Chart):
            self.chart(b)
        elif isinstance(b, Keep):
            self.keep(b)
        else:  # pragma: no cover - the block kinds are closed
            raise TypeError(type(b))

    def keep(self, b: Keep) -> None:
        """Lay the blocks out on a fresh page first; if they fit on one, start a page when they would not fit here."""
        trial = Layout.__new__(Layout)
        trial.__dict__.update(self.__dict__)
        trial.pages = [Page(self.page.width, self.page.height)]
        trial.y = self.margin
        for inner in b.blocks:
            trial.block(inner)
        if len(trial.pages) == 1:
            self.ensure(trial.y - self.margin + 0.2)  # + the space a heading takes below other text
        for inner in b.blocks:
            self.block(inner)


def _column_widths(t: Table, avail: float, size: float, pad: float) -> list[float]:
    """Column widths in inches: natural widths where they fit, the wordy columns capped to share the rest.

    The cap is found by bisection so that every column gets ``min(natural, max(cap, longest word))``
    and the widths add up to the space available.
    """
    ncol = len(t.head)
    rows = [t.head, *t.rows] if t.header else t.rows
    natural = [max((text_width(r[j], size, True) for r in rows), default=0.0) + 2 * pad + 0.02 for j in range(ncol)]
    floor = [
        min(
            natural[j],
            max((text_width(w, size, True) for r in rows for w in r[j].split()), default=0.0) + 2 * pad + 0.02,
        )
        for j in range(ncol)
    ]
    if sum(natural) <= avail:
        extra = avail - sum(natural)
        share = t.weights or natural
        return [w + extra * k / sum(share) for w, k in zip(natural, share)]
    if sum(floor) >= avail:
        return [w * avail / sum(floor) for w in floor]

    def total(cap: float) -> float:
        return sum(min(n, max(cap, f)) for n, f in zip(natural, floor))

    lo, hi = 0.0, max(natural)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < avail else (lo, mid)
    return [min(n, max(lo, f)) for n, f in zip(natural, floor)]


#: Type scales tried, largest first, for a section that should fit on one page.
FIT_SCALES = (1.0, 0.93, 0.86, 0.8, 0.75)


def layout(doc: Document, paper: str = "a4") -> list[Page]:
    """Pages of ``doc`` on ``paper`` (``a4`` or ``letter``).

    A section marked ``one_page`` is set in smaller type, down to three
    quarters of the normal size, if that is what it takes to fit on one page.
    """
    lay = Layout(paper)
    for sec in doc.sections:
        lay.section = sec.key
        scale = 1.0
        if sec.one_page:
            for scale in FIT_SCALES:
                trial = Layout(paper)
                trial.section = sec.key
                trial.sizes = {k: v * scale for k, v in SIZES.items()}
                trial.new_page(sec.landscape)
                for b in sec.blocks:
                    trial.block(b)
                if len(trial.pages) == 1:
                    break
        lay.sizes = {k: v * scale for k, v in SIZES.items()}
        if not lay.pages or sec.new_page:
            lay.new_page(sec.landscape)
        for b in sec.blocks:
            lay.block(b)
    return lay.pages


# ------------------------------------------------------------------ rendering


def _figure(doc: Document, page: Page, number: int, total: int, margin: float):
    # imported on use: matplotlib loads only when a chart or page is drawn
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(page.width, page.height))
    W, H = page.width, page.height
    for op in page.ops:
        kind = op[0]
        if kind == "text":
            _, x, y, s, size, bold, color, ha = op
            fig.text(
                x / W,
                1 - y / H,
                s,
                fontsize=size,
                fontweight="bold" if bold else "normal",
                color=color,
                ha=ha,
                va="baseline",
            )
        elif kind == "rect":
            _, x, y, w, h, fc, ec, lw = op
            fig.add_artist(
                Rectangle(
                    (x / W, 1 - (y + h) / H),
                    w / W,
                    h / H,
                    transform=fig.transFigure,
                    facecolor=fc,
                    edgecolor=ec,
                    linewidth=lw,
                    zorder=-1,
                )
            )
        elif kind == "line":
            _, x0, y0, x1, y1, lw, color = op
            fig.add_artist(
                Line2D([x0 / W, x1 / W], [1 - y0 / H, 1 - y1 / H], transform=fig.transFigure, linewidth=lw, color=color)
            )
        elif kind == "chart":
            _, draw, x, y, w, h = op
            draw(fig, (x / W, 1 - (y + h) / H, w / W, h / H))
    foot_y = 1 - (H - margin * 0.55) / H
    fig.text(margin / W, foot_y, doc.footer, fontsize=SIZES["footer"], color="#444444", va="baseline")
    fig.text(
        1 - margin / W,
        foot_y,
        f"page {number} of {total}",
        fontsize=SIZES["footer"],
        color="#444444",
        ha="right",
        va="baseline",
    )
    return fig


def render_pdf(doc: Document, paper: str = "a4") -> tuple[bytes, int]:
    """The document as PDF bytes (one PDF page per laid-out page), and its page count."""
    # imported on use: matplotlib loads only when a chart or page is drawn
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    pages = layout(doc, paper)
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        meta = {"Title": doc.title, "Creator": "drsim", "Producer": "drsim (matplotlib)", "CreationDate": None}
        with PdfPages(buf, metadata=meta) as pdf:
            lay_margin = Layout(paper).margin
            for i, page in enumerate(pages, 1):
                pdf.savefig(_figure(doc, page, i, len(pages), lay_margin))
    return buf.getvalue(), len(pages)


def first_page_of(pages: list[Page], section: str) -> int:
    """The number (from 1) of the first page of ``section``."""
    return next(i for i, p in enumerate(pages, 1) if p.section == section)


def render_png(doc: Document, pages: list[Page], number: int, paper: str = "a4", dpi: int = 150) -> bytes:
    """Page ``number`` (from 1) of the laid-out ``pages`` of ``doc`` as a PNG image."""
    # imported on use: matplotlib loads only when a chart or page is drawn
    import matplotlib

    if not 1 <= number <= len(pages):
        raise ValueError(f"page {number} does not exist; the document has {len(pages)} pages")
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig = _figure(doc, pages[number - 1], number, len(pages), Layout(paper).margin)
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    # every colour on the page is a grey: an 8-bit greyscale PNG holds it exactly, in a third of the bytes
    from PIL import Image  # imported on use: Pillow (matplotlib's own dependency) loads only for a PNG

    out = io.BytesIO()
    Image.open(io.BytesIO(buf.getvalue())).convert("L").save(out, format="png", optimize=True)
    return out.getvalue()


def render_document(doc: Document, fmt: str, paper: str = "a4") -> str | bytes:
    """``doc`` as ``md`` or ``html`` text, or as ``pdf`` bytes (laid out on ``paper``)."""
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc, paper)
    if fmt == "pdf":
        return render_pdf(doc, paper)[0]
    raise ValueError(f"expected md, html or pdf, found {fmt!r}")
