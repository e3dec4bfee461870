"""A printable document as a few kinds of blocks, and its Markdown and HTML forms.

The tabletop pack is written once as sections of blocks — headings,
paragraphs, bullet and checkbox lists, tables, ruled lines for handwriting,
and a chart — and rendered to Markdown, to one self-contained HTML file with
print CSS, or (by :mod:`drsim.report.pages`) to PDF pages. Every section says
whether it starts a new printed page and whether that page is landscape.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

PAPER_SIZES_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    """A paragraph; ``style`` is ``normal``, ``strong``, ``quote`` (read-out text) or ``note``."""

    text: str
    style: str = "normal"


@dataclass
class Bullets:
    items: list[str]
    checkbox: bool = False
    numbered: bool = False


@dataclass
class Table:
    """A table; ``emphasis`` rows stand out (bold, shaded, a bar at the left)."""

    head: list[str]
    rows: list[list[str]]
    weights: list[float] | None = None
    emphasis: set[int] = field(default_factory=set)
    header: bool = True
    #: Leading columns kept on one line in HTML (times, names).
    nowrap: int = 0


@dataclass
class Ruled:
    """Blank ruled lines to write on, under a label."""

    lines: int
    label: str = ""


@dataclass
class Chart:
    """A figure: drawn into a matplotlib figure, with a table standing in for it in Markdown."""

    draw: Callable  # draw(fig, rect=(left, bottom, width, height) in figure fractions)
    svg: Callable[[], str]
    alt: Table
    caption: str = ""


@dataclass
class Keep:
    """Blocks kept on one page when they fit on one (an inject card, a decision point)."""

    blocks: list


Block = Heading | Para | Bullets | Table | Ruled | Chart | Keep


@dataclass
class Section:
    key: str
    blocks: list[Block]
    new_page: bool = True
    landscape: bool = False
    one_page: bool = False  # set smaller if that is what it takes to fit on one page


@dataclass
class Document:
    title: str
    footer: str
    sections: list[Section]


# ------------------------------------------------------------------ Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    """Text with Markdown's inline markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown: headings, lists and tables."""
    out: list[str] = []
    for sec in doc.sections:
        for b in sec.blocks:
            out += _md_block(b)
    return "\n".join(out).rstrip() + "\n"


def _md_block(b: Block) -> list[str]:
    if isinstance(b, Heading):
        return ["#" * b.level + " " + md_escape(b.text), ""]
    if isinstance(b, Para):
        t = md_escape(b.text)
        if b.style == "strong":
            t = f"**{t}**"
        elif b.style == "quote":
            t = "> " + t
        elif b.style == "note":
            t = f"*{t}*"
        return [t, ""]
    if isinstance(b, Bullets):
        if b.numbered:
            return [f"{i}. {md_escape(x)}" for i, x in enumerate(b.items, 1)] + [""]
        mark = "- [ ] " if b.checkbox else "- "
        return [mark + md_escape(x) for x in b.items] + [""]
    if isinstance(b, Table):
        return [*md_table(b), ""]
    if isinstance(b, Ruled):
        out = [f"**{md_escape(b.label)}**", ""] if b.label else []
        for _ in range(b.lines):
            out += ["&nbsp;", "", "___", ""]
        return out
    if isinstance(b, Chart):
        lines = [f"*{md_escape(b.caption)}*", ""] if b.caption else []
        return lines + md_table(b.alt) + [""]
    if isinstance(b, Keep):
        return [line for inner in b.blocks for line in _md_block(inner)]
    raise TypeError(type(b))


def md_table(t: Table) -> list[str]:
    head = t.head if t.header else [""] * len(t.head)

    def cell(c: str, i: int) -> str:
        c = md_escape(c).replace("\n", " ")
        return f"**{c}**" if i in t.emphasis and c else c

    out = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cell(c, i) for c in row) + " |" for i, row in enumerate(t.rows)]
    return out


# ------------------------------------------------------------------ HTML

_CSS = """
@page { size: %(size)s; margin: 14mm 14mm 16mm 14mm; }
@page landscape { size: %(size)s landscape; margin: 10mm; }
html { color: #000; background: #fff; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt; line-height: 1.35;
       margin: 0; }
section { padding-top: 2mm; max-width: 182mm; margin: 0 auto; }
section.newpage { break-before: page; page-break-before: always; }
section.landscape { page: landscape; max-width: 277mm; }
section:first-child { break-before: auto; page-break-before: auto; }
section#cover { font-size: 8.4pt; }
section#cover h1 { font-size: 16pt; } section#cover h2 { font-size: 11.5pt; margin-top: 3.5mm; }
section#cover table { font-size: 7.5pt; }
h1 { font-size: 18pt; margin: 0 0 3mm; border-bottom: 1.5pt solid #000; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2mm; }
p.strong { font-weight: bold; }
p.note { color: #333; font-style: italic; font-size: 8.5pt; }
p.quote { border-left: 3pt solid #000; padding: 1.5mm 3mm; background: #eee; font-size: 10.5pt; }
table { border-collapse: collapse; width: 100%%; margin: 0 0 3mm; font-size: 8.5pt; }
thead { display: table-header-group; }
th { text-align: left; border-bottom: 1pt solid #000; padding: 1.2mm 1.5mm; }
td { vertical-align: top; border-bottom: 0.4pt solid #999; padding: 0.9mm 1.5mm; }
td.nowrap { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
tbody tr:nth-child(even) td { background: #f2f2f2; }
tr.emphasis td { font-weight: bold; background: #dcdcdc; }
tr.emphasis td:first-child { border-left: 3pt solid #000; }
ul.checkbox { list-style: none; padding-left: 1mm; }
ul.checkbox li::before { content: "\\2610  "; }
.ruled .line { border-bottom: 0.6pt solid #555; height: 8mm; }
.ruled .label { font-weight: bold; margin-top: 3mm; }
div.keep { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%%; height: auto; max-height: 160mm; }
figcaption { font-size: 8pt; color: #333; }
footer { font-size: 7.5pt; color: #444; border-top: 0.5pt solid #999; margin-top: 6mm; padding-top: 1mm; }
@media screen { body { padding: 8mm; } section.newpage:not(:first-child) { border-top: 2pt dashed #bbb; margin-top: 8mm; } }
"""


def to_html(doc: Document, paper: str = "a4") -> str:
    """The document as one self-contained HTML file: inline CSS, the chart as inline SVG."""
    size = "A4" if paper == "a4" else "letter"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(doc.title)}</title>",
        f"<style>{_CSS % {'size': size}}</style>",
        "</head>",
        "<body>",
    ]
    for sec in doc.sections:
        cls = ["newpage"] if sec.new_page else []
        if sec.landscape:
            cls.append("landscape")
        parts.append(f'<section id="{html.escape(sec.key)}" class="{" ".join(cls)}">')
        parts += [_html_block(b) for b in sec.blocks]
        parts.append("</section>")
    parts += [f"<footer>{html.escape(doc.footer)}</footer>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _html_block(b: Block) -> str:
    e = html.escape
    if isinstance(b, Heading):
        return f"<h{b.level}>{e(b.text)}</h{b.level}>"
    if isinstance(b, Para):
        return f'<p class="{b.style}">{e(b.text)}</p>'
    if isinstance(b, Bullets):
        tag = "ol" if b.numbered else "ul"
        cls = ' class="checkbox"' if b.checkbox else ""
        return f"<{tag}{cls}>" + "".join(f"<li>{e(x)}</li>" for x in b.items) + f"</{tag}>"
    if isinstance(b, Table):
        return html_table(b)
    if isinstance(b, Ruled):
        label = f'<div class="label">{e(b.label)}</div>' if b.label else ""
        return f'<div class="ruled">{label}' + '<div class="line"></div>' * b.lines + "</div>"
    if isinstance(b, Chart):
        cap = f"<figcaption>{e(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure>{b.svg()}{cap}</figure>"
    if isinstance(b, Keep):
        return '<div class="keep">' + "\n".join(_html_block(x) for x in b.blocks) + "</div>"
    raise TypeError(type(b))


def html_table(t: Table) -> str:
    e = html.escape
    out = ["<table>"]
    if t.weights:
        total = sum(t.weights)
        out.append(
            "<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in t.weights) + "</colgroup>"
        )
    if t.header:
        out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in t.head) + "</tr></thead>")
    out.append("<tbody>")
    for i, row in enumerate(t.rows):
        cls = ' class="emphasis"' if i in t.emphasis else ""
        out.append(
            f"<tr{cls}>"
            + "".join(
                f'<td class="nowrap">{e(c)}</td>' if j < t.nowrap else f"<td>{e(c)}</td>" for j, c in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)
