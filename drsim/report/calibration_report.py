"""The calibration report: what ``drsim calibrate`` fitted, how well, and how sure it is.

A reviewer deciding whether to trust a calibrated RTO reads, for every element:
the distribution chosen and the candidates it beat (AIC, lower is better, with
each one's distance from the best: under 2 is no real evidence either way),
the goodness of fit (the Kolmogorov–Smirnov distance between the fitted CDF and
the Kaplan–Meier estimate of the records, with its parametric-bootstrap
p-value), the P50/P90/P95 with their 95% bootstrap intervals, and the records
behind it (how many, how many censored, from which files and dates). The
sources are listed with their SHA-256, so the report pins exactly what was
fitted. In HTML and PDF each element also gets a chart of the fitted CDF over
the Kaplan–Meier steps of its records.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..calibrate.fit import kaplan_meier
from ..calibrate.run import Calibration, ElementFit
from ..model.units import format_duration
from ..version import __version__
from .document import Chart, Document, Heading, Para, Section, Table
from .pages import RC
from .plots import COLOURS, time_unit


def _span(e: ElementFit) -> str:
    span = e.observations.date_range()
    return f"{span[0].date()} to {span[1].date()}" if span else "no timestamps"


def candidates_table(e: ElementFit) -> Table:
    """The families tried for one element, best first: AIC, its distance from the best, the fitted value."""
    best = min(c.aic for c in e.fit.candidates)
    rows = []
    for c in sorted(e.fit.candidates, key=lambda c: c.aic):
        chosen = "chosen" if c.family == e.fit.family else ""
        rows.append([c.family, f"{c.aic:.1f}", f"{c.aic - best:.1f}", f"{c.loglik:.1f}", chosen])
    return Table(["family", "AIC", "ΔAIC", "log-likelihood", ""], rows, emphasis={0})


def percentiles_table(e: ElementFit) -> Table:
    """P50, P90 and P95 of the fit with their 95% bootstrap intervals."""
    f = e.fit
    rows = [
        [f"P{p}", format_duration(i.estimate), format_duration(i.low), format_duration(i.high)]
        for p, i in f.percentiles.items()
    ]
    return Table(["percentile", "fitted", "95% interval from", "to"], rows)


def fit_against_records(e: ElementFit) -> Table:
    """The fitted CDF against the records' Kaplan–Meier CDF at the fitted deciles: what the chart shows, in rows."""
    obs = e.observations
    times, cdf = kaplan_meier(obs.seconds, obs.censored)
    frozen = next(c for c in e.fit.candidates if c.family == e.fit.family).frozen()
    rows = []
    for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.95):
        t = float(frozen.ppf(q))
        i = int(np.searchsorted(times, t, side="right"))
        rows.append([format_duration(t), f"{q:.2f}", f"{cdf[i - 1] if i else 0.0:.2f}"])
    return Table(["duration", "fitted share finished", "records' share finished (Kaplan–Meier)"], rows)


def draw_fit(fig, rect, e: ElementFit) -> None:
    """The fitted CDF of one element over the Kaplan–Meier estimate of its records, in ``rect`` of ``fig``."""
    left, bottom, width, height = rect
    ax = fig.add_axes((left + 0.1 * width, bottom + 0.15 * height, 0.86 * width, 0.75 * height))
    obs = e.observations
    times, cdf = kaplan_meier(obs.seconds, obs.censored)
    unit, scale = time_unit(obs.seconds)
    ax.step(np.concatenate([[0.0], times]) / scale, np.concatenate([[0.0], cdf]), where="post", color=COLOURS[0],
            label=f"records (Kaplan–Meier; {e.fit.n} records, {e.fit.censored} censored)")  # fmt: skip
    best = next(c for c in e.fit.candidates if c.family == e.fit.family)
    top = max(float(np.max(obs.seconds)) * 1.1, max(i.high for i in e.fit.percentiles.values()) * 1.05)
    grid = np.linspace(0.0, top, 300)
    ax.plot(grid / scale, best.frozen().cdf(grid), color=COLOURS[5], linestyle="--", linewidth=2,
            label=f"fitted {e.fit.text}")  # fmt: skip
    for p, i in e.fit.percentiles.items():
        ax.axvspan(i.low / scale, i.high / scale, color="0.85", zorder=0)
        ax.text(i.estimate / scale, 0.02, f"P{p}", fontsize=7, ha="center")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"duration ({unit}); grey: 95% intervals of P50, P90, P95")
    ax.set_ylabel("share finished")
    ax.legend(loc="upper left", fontsize=7, frameon=False)


def fit_svg(e: ElementFit, size: tuple[float, float] = (7.0, 3.4)) -> str:
    """The fit chart as an SVG element with real text, ready to inline in HTML."""
    # imported on use: matplotlib loads only when a chart is drawn
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC | {"svg.hashsalt": "drsim"}):
        fig = Figure(figsize=size)
        draw_fit(fig, (0.0, 0.0, 1.0, 1.0), e)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


def element_section(e: ElementFit) -> Section:
    """One element: the value written, the records, the candidates, the goodness of fit, the percentiles."""
    f = e.fit
    files = ", ".join(Path(p).name for p in e.observations.files)
    gof = (
        f"Goodness of fit: Kolmogorov–Smirnov distance D = {f.ks_statistic:.3f} between the fitted CDF and the "
        f"Kaplan–Meier estimate of the records; parametric-bootstrap p = {f.ks_pvalue:.2f}"
        + (" (a small p says the family does not describe these records well)." if f.ks_pvalue < 0.05 else ".")
    )
    return Section(
        e.target.path,
        [
            Heading(e.target.path),
            Para(f"Set to {f.text}", "strong"),
            Para(
                f"{f.n} records ({f.censored} censored: still running when last seen) from {files}, "
                f"{_span(e)}; measure {e.target.entry.measure}."
            ),
            candidates_table(e),
            Para(gof),
            percentiles_table(e),
            Para(f"95% percentile-bootstrap intervals from {f.bootstrap} resamples, seed {f.seed}.", "note"),
            Chart(
                draw=lambda fig, rect: draw_fit(fig, rect, e),
                svg=lambda: fit_svg(e),
                alt=fit_against_records(e),
                caption=f"{e.target.path}: the fitted CDF (dashed) over the records' Kaplan–Meier estimate.",
            ),
        ],
        new_page=False,
    )


def calibration_document(result: Calibration) -> Document:
    """The calibration report of ``result`` as a printable document."""
    sources = Table(
        ["file", "format", "records", "first", "last", "SHA-256"],
        [
            [
                Path(s.path).name,
                s.kind,
                str(s.records),
                s.first.isoformat() if s.first else "-",
                s.last.isoformat() if s.last else "-",
                s.sha256[:16] + "…",
            ]
            for s in result.sources
        ],
    )
    summary = Table(
        ["element", "fitted", "records", "censored", "KS p", "P50 [95% interval]", "P95 [95% interval]"],
        [
            [
                e.target.path,
                e.fit.text,
                str(e.fit.n),
                str(e.fit.censored),
                f"{e.fit.ks_pvalue:.2f}",
                _interval(e, 50),
                _interval(e, 95),
            ]
            for e in result.elements
        ],
    )
    head: list = [
        Heading("Calibration report", 1),
        Para(
            f"{len(result.elements)} element(s) fitted by maximum likelihood (censored records through the survival "
            f"function) from {len(result.sources)} source file(s), mapped by {Path(result.mapping).name}; "
            f"the family of each chosen by AIC. Written {result.written}."
        ),
        Heading("Sources"),
        sources,
        Heading("Summary"),
        summary,
    ]
    return Document(
        "Calibration report",
        f"drsim calibrate - calibration report - {result.written} - drsim {__version__}",
        [Section("summary", head, new_page=False), *(element_section(e) for e in result.elements)],
    )


def _interval(e: ElementFit, p: int) -> str:
    i = e.fit.percentiles.get(p)
    if i is None:
        return "-"
    return f"{format_duration(i.estimate)} [{format_duration(i.low)}–{format_duration(i.high)}]"


__all__ = [
    "calibration_document",
    "candidates_table",
    "draw_fit",
    "element_section",
    "fit_against_records",
    "fit_svg",
    "percentiles_table",
]
