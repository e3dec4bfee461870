"""Planner-facing charts: distributions of recovery, comparisons, sensitivity.

Every function draws on a matplotlib Axes (a new figure if none is given) and
returns it, labels its axes with units, and tells series apart by line style,
marker shape or hatching as well as by colour, so a chart printed in
greyscale reads the same. The colours are the Okabe–Ito palette (safe for
colour-blind readers); heatmaps use *viridis*, whose lightness rises
monotonically, and print their values in the cells.

* :func:`cdf` — empirical CDF of an achieved RTO/RPO per estate, target marked;
* :func:`rto_rpo` — each replicate's recovery time against data loss, with the
  tier's policy box (both targets met inside it);
* :func:`differences` — a forest plot of differences from a baseline with 95% intervals;
* :func:`frontier` — cost against improvement of changes and combinations, with the frontier
  of the most improvement for the money and the budget;
* :func:`gantt` — one replay as bars on staff and service swimlanes;
* :func:`tornado` — one-at-a-time sensitivity swings;
* :func:`sobol` — first-order and total Sobol indices;
* :func:`heatmap` — a statistic (e.g. P(meet target)) over a two-parameter grid;
  :func:`grid_heatmap` draws one from a sweep's grid (:func:`drsim.sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..io import atomic_write
from ..model.units import format_duration
from . import labels

COLOURS = ("#000000", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 3)), (0, (3, 1, 1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("///", "\\\\\\", "xxx", "...", "---", "+++", "ooo", "|||")

#: Values below this many seconds are drawn at it on logarithmic axes (zero has no place there).
LOG_FLOOR = 1.0


def _ax(ax, figsize=(7, 4.5)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # imported on use: matplotlib loads only when a chart is drawn

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def style(i: int) -> dict:
    """Colour, line style and marker of the ``i``-th series."""
    return {
        "color": COLOURS[i % len(COLOURS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def time_unit(seconds: np.ndarray | Sequence[float]) -> tuple[str, float]:
    """A readable unit (name, seconds per unit) for durations like ``seconds``."""
    a = np.asarray(seconds, dtype=float)
    a = a[np.isfinite(a)]
    top = float(np.quantile(a, 0.99)) if a.size else 0.0
    if top >= 3 * 86400:
        return "days", 86400.0
    if top >= 3 * 3600:
        return "hours", 3600.0
    if top >= 180:
        return "minutes", 60.0
    return "seconds", 1.0


def _fmt_duration(seconds: float) -> str:
    return format_duration(float(seconds)) if math.isfinite(seconds) else "never"


# ------------------------------------------------------------------ distributions


def cdf(
    series: dict[str, np.ndarray],
    target: float | None = None,
    what: str = "achieved RTO",
    title: str | None = None,
    ax=None,
    log: bool | None = None,
):
    """Empirical CDF of each series (seconds), a vertical line at ``target``.

    A replicate that never recovers (``inf``) counts in the denominator, so a
    curve that stops below 1 shows how often recovery never came.
    """
    ax = _ax(ax)
    allv = np.concatenate([np.asarray(v, dtype=float) for v in series.values()]) if series else np.zeros(1)
    finite = allv[np.isfinite(allv)]
    positive = finite[finite > 0]
    if log is None:
        log = positive.size > 0 and positive.max() / max(positive.min(), LOG_FLOOR) > 100
    if log:
        name, unit = "minutes", 60.0
    else:
        name, unit = time_unit(finite if finite.size else [0.0])
    for i, (label, v) in enumerate(series.items()):
        v = np.asarray(v, dtype=float)
        n = len(v)
        xs = np.sort(v[np.isfinite(v)])
        if log:
            xs = np.maximum(xs, LOG_FLOOR)
        ys = np.arange(1, len(xs) + 1) / n
        st = style(i)
        never = n - len(xs)
        lab = label + (f" ({never / n:.0%} never)" if never else "")
        if len(xs) == 0:
            ax.plot([], [], label=lab, color=st["color"], linestyle=st["linestyle"], marker=st["marker"])
            continue
        xs = np.concatenate([[xs[0]], xs]) / unit
        ys = np.concatenate([[0.0], ys])
        ax.step(
            xs,
            ys,
            where="post",
            label=lab,
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            markevery=max(1, len(xs) // 6),
            markersize=5,
            linewidth=1.6,
        )
    if target is not None and math.isfinite(target):
        t = max(target, LOG_FLOOR) if log else target
        ax.axvline(t / unit, color="0.3", linestyle=(0, (2, 2)), linewidth=1.2, label=f"target {_fmt_duration(target)}")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"{what} ({name}{', log scale' if log else ''})")
    ax.set_ylabel("fraction of replicates at or below x")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="major", color="0.85", linewidth=0.6)
    ax.legend(loc="lower right", fontsize="small", frameon=True)
    if title:
        ax.set_title(title)
    return ax


def rto_rpo(
    points: dict[str, tuple[np.ndarray, np.ndarray]],
    rto_target: float | None = None,
    rpo_target: float | None = None,
    title: str | None = None,
    ax=None,
    max_points: int = 1500,
):
    """Recovery time (x) against data loss (y) per replicate, log-log in minutes, with the policy box.

    Zero loss or zero time is drawn at one second. The large marker is each
    estate's median replicate (median RTO, median RPO). At most ``max_points``
    replicates per estate are drawn (evenly spaced ones), the medians use all.
    """
    from matplotlib.patches import Rectangle  # imported on use: matplotlib loads only when a chart is drawn

    ax = _ax(ax)
    floor = LOG_FLOOR / 60.0
    top_x = top_y = 1.0
    for i, (label, (rto, rpo)) in enumerate(points.items()):
        rto = np.asarray(rto, dtype=float)
        rpo = np.asarray(rpo, dtype=float)
        ok = np.isfinite(rto) & np.isfinite(rpo)
        idx = np.flatnonzero(ok)
        if len(idx) > max_points:
            idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
        x = np.maximum(rto[idx] / 60.0, floor)
        y = np.maximum(rpo[idx] / 60.0, floor)
        st = style(i)
        ax.scatter(
            x, y, s=9, marker=st["marker"], facecolors="none", edgecolors=st["color"], alpha=0.35, linewidths=0.7
        )
        if ok.any():
            mx = max(float(np.median(rto[ok])) / 60.0, floor)
            my = max(float(np.median(rpo[ok])) / 60.0, floor)
            ax.scatter(
                [mx],
                [my],
                s=110,
                marker=st["marker"],
                color=st["color"],
                edgecolors="white",
                linewidths=1.2,
                zorder=5,
                label=f"{label} (median)",
            )
            top_x = max(top_x, float(np.max(x)))
            top_y = max(top_y, float(np.max(y)))
    if rto_target is not None and rpo_target is not None:
        w, h = rto_target / 60.0, rpo_target / 60.0
        ax.add_patch(
            Rectangle(
                (floor, floor),
                max(w - floor, 0),
                max(h - floor, 0),
                fill=False,
                hatch="..",
                edgecolor="0.25",
                linewidth=1.4,
                zorder=1,
                label=f"policy: RTO ≤ {_fmt_duration(rto_target)}, RPO ≤ {_fmt_duration(rpo_target)}",
            )
        )
        top_x, top_y = max(top_x, w), max(top_y, h)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor * 0.8, top_x * 1.5)
    ax.set_ylim(floor * 0.8, top_y * 1.5)
    ax.set_xlabel("achieved RTO (minutes, log scale)")
    ax.set_ylabel("achieved RPO (minutes, log scale; 0 drawn at 1 s)")
    ax.grid(True, which="major", color="0.85", linewidth=0.6)
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def differences(
    rows: Sequence[tuple[str, float, float, float]],
    what: str,
    baseline: str,
    probability: bool = False,
    title: str | None = None,
    ax=None,
):
    """Forest plot: each row's difference ``(label, value, lo, hi)`` from ``baseline`` with its 95% interval."""
    ax = _ax(ax, figsize=(7, 0.6 * max(len(rows), 2) + 1.5))
    vals = np.array([[r[1], r[2], r[3]] for r in rows], dtype=float).reshape(-1, 3)
    if probability:
        name, unit = "percentage points", 0.01
    else:
        name, unit = time_unit(np.abs(vals[np.isfinite(vals)]) if np.isfinite(vals).any() else [0.0])
    for i, (_label, v, lo, hi) in enumerate(rows):
        st = style(i + 1)
        y = len(rows) - 1 - i
        if math.isfinite(lo) and math.isfinite(hi):
            ax.hlines(y, lo / unit, hi / unit, color=st["color"], linewidth=2.0, linestyle=st["linestyle"])
        ax.plot([v / unit], [y], marker=st["marker"], color=st["color"], markersize=8, linestyle="none")
    ax.axvline(0, color="0.3", linewidth=1.0, linestyle=(0, (2, 2)))
    ax.set_yticks(range(len(rows)), [r[0] for r in rows][::-1])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"difference in {what} from {baseline} ({name}; bar = 95% interval)")
    ax.set_ylabel("estate")
    ax.grid(True, axis="x", color="0.85", linewidth=0.6)
    if title:
        ax.set_title(title)
    return ax


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points ``(cost, gain)`` nothing beats for the money: no other point costs
    as little or less and gains more. Cheapest first."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def frontier(
    options: Sequence[tuple[float, float, float, float, str, int]],
    budget: float | None,
    cost_label: str,
    what: str,
    probability: bool = False,
    title: str | None = None,
    ax=None,
):
    """Cost-benefit chart: each option ``(cost, gain, gain_lo, gain_hi, label, changes)`` at its cost
    and improvement with its 95% interval (marker shape = how many changes), the frontier of the
    best improvement for the money as a step line, its points numbered (legend: what they are), and
    the budget as a vertical line."""
    opts = [o for o in options if math.isfinite(o[0]) and math.isfinite(o[1])]
    gains = np.array([o[1] for o in opts] or [0.0])
    if probability:
        unit_name, unit = "percentage points", 0.01
    else:
        unit_name, unit = time_unit(np.abs(gains))
    scale = 1e6 if max((o[0] for o in opts), default=0) >= 2e6 else 1e3
    suffix = "M" if scale == 1e6 else "k"
    sizes = sorted({o[5] for o in opts})
    ax = _ax(ax, figsize=(8, 5.5 + 0.13 * len(pareto_front([(o[0], o[1]) for o in opts]))))
    for k, size in enumerate(sizes):
        st = style(k)
        mine = [o for o in opts if o[5] == size]
        x = [o[0] / scale for o in mine]
        y = [o[1] / unit for o in mine]
        lo = [max(0.0, (o[1] - o[2]) / unit) if math.isfinite(o[2]) else 0.0 for o in mine]
        hi = [max(0.0, (o[3] - o[1]) / unit) if math.isfinite(o[3]) else 0.0 for o in mine]
        label = ("one change" if size == 1 else f"{size} changes together") + " (bar = 95% interval)"
        ax.errorbar(
            x,
            y,
            yerr=[lo, hi],
            fmt=st["marker"],
            color=st["color"],
            markersize=6,
            capsize=2,
            elinewidth=0.8,
            alpha=0.8,
            label=label,
        )
    front = pareto_front([(o[0], o[1]) for o in opts])
    front = [i for i in front if opts[i][1] > 0]
    if front:
        xs = [opts[i][0] / scale for i in front]
        ys = [opts[i][1] / unit for i in front]
        ax.step(
            [0.0, *xs],
            [0.0, *ys],
            where="post",
            color="0.35",
            linewidth=1.2,
            linestyle="--",
            label="most improvement for the money",
        )
        for n, i in enumerate(front, 1):
            ax.annotate(
                str(n), (opts[i][0] / scale, opts[i][1] / unit), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
        notes = "\n".join(f"{n}. {opts[i][4]}" for n, i in enumerate(front, 1))
        ax.text(0.0, -0.16, "On the frontier:\n" + notes, transform=ax.transAxes, va="top", ha="left", fontsize=7)
    if budget is not None:
        ax.axvline(
            budget / scale, color="0.2", linewidth=1.0, linestyle=":", label=f"budget ({budget / scale:g}{suffix})"
        )
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.set_xlabel(f"{cost_label}, thousands ({suffix})" if scale == 1e3 else f"{cost_label}, millions ({suffix})")
    ax.set_ylabel(f"improvement in {what} ({unit_name})")
    ax.grid(True, color="0.9", linewidth=0.6)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------ one replay


def _bars(result):
    """Bars ``(lane, start, end, kind, label)`` and markers ``(lane, t, kind, label)`` of a replay."""
    open_: dict[tuple, float] = {}
    bars, marks = [], []
    for e in result.timeline:
        person = "#" in e.actor
        lane = e.actor if person else (f"automation: {e.service}" if e.service else None)
        if e.phase == "start":
            open_[(e.actor, e.kind, e.service, e.event)] = float(e.time)
        elif e.phase == "finish" and e.kind not in ("restored", "milestone"):
            base = e.event.rsplit(" - ", 1)[0]
            key = (e.actor, e.kind, e.service, base)
            if key in open_ and lane is not None:
                bars.append((lane, open_.pop(key), float(e.time), e.kind, base))
        elif e.kind in ("ack", "detect", "fault"):
            marks.append((lane or "monitoring", float(e.time), e.kind, e.event))
    return bars, marks


def gantt(result, ax=None, title: str | None = None):
    """One replay (a :class:`~drsim.results.DrillResult`) as a Gantt chart with staff swimlanes.

    One lane per person who worked (grouped by role), one per service with
    automated steps, and one per affected service showing its outage from the
    moment it went down to its restoration. Decisions, runbook steps and
    validation are told apart by hatching; acknowledgements are markers.
    """
    from matplotlib.patches import Patch  # imported on use: matplotlib loads only when a chart is drawn

    bars, marks = _bars(result)
    outages = []
    for s in result.services:
        if s.affected and s.rto is not None:
            down = _down_at(result, s.name)
            end = down + s.rto if math.isfinite(s.rto) else None
            outages.append((f"outage: {s.name}", down, end, s))
    people = sorted({b[0] for b in bars if "#" in b[0]} | {m[0] for m in marks if "#" in m[0]})
    auto = sorted({b[0] for b in bars if b[0].startswith("automation")})
    lanes = people + auto + [o[0] for o in outages]
    ax = _ax(ax, figsize=(11, 0.32 * max(len(lanes), 4) + 1.8))
    horizon = max([b[2] for b in bars] + [o[2] for o in outages if o[2] is not None] + [m[1] for m in marks] + [60.0])
    name, unit = time_unit([horizon])
    row = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    kinds = {
        "triage": ("0.55", "xxx"),
        "declare": ("0.25", "xxx"),
        "communicate": ("0.85", "..."),
        "step": ("0.70", "///"),
        "validate": ("0.90", "\\\\\\"),
        "break-glass": ("0.45", "+++"),
        "reconcile": ("0.6", "---"),
    }
    for lane, s, e, kind, _label in bars:
        face, hatch = kinds.get(kind, ("0.75", ""))
        ax.barh(
            row[lane],
            (e - s) / unit,
            left=s / unit,
            height=0.6,
            color=face,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.5,
        )
    for lane, s, e, svc in outages:
        end = e if e is not None else horizon
        late = svc.rto is not None and not svc.rto_met
        ax.barh(
            row[lane],
            (end - s) / unit,
            left=s / unit,
            height=0.45,
            color="white" if not late else "0.92",
            hatch="////" if late else "",
            edgecolor="black",
            linewidth=0.8,
        )
        txt = f"RTO {_fmt_duration(svc.rto)} (target {_fmt_duration(svc.rto_target)})"
        ax.text(end / unit, row[lane], " " + txt, va="center", ha="left", fontsize=6.5)
    for lane, t, kind, _label in marks:
        if lane in row:
            ax.plot(
                [t / unit],
                [row[lane]],
                marker="v" if kind == "ack" else "^",
                color="black",
                markersize=5,
                linestyle="none",
            )
    for key, label in (("detected", "detected"), ("declared", "declared")):
        t = result.milestones.get(key)
        if t is not None and math.isfinite(t):
            ax.axvline(t / unit, color="0.3", linestyle=(0, (3, 2)) if key == "detected" else "-.", linewidth=1.0)
            ax.text(t / unit, len(lanes) - 0.4, f" {label}", fontsize=7, va="bottom")
    ax.set_yticks([row[lane] for lane in lanes], lanes, fontsize=7)
    ax.set_ylim(-0.8, len(lanes) + 0.2)
    ax.set_xlim(0, horizon / unit * 1.25)
    ax.set_xlabel(f"time since the drill started ({name})")
    ax.set_ylabel("person, automation or service")
    legend = [
        Patch(facecolor=kinds[k][0], hatch=kinds[k][1], edgecolor="black", label=k)
        for k in ("triage", "declare", "step", "validate", "communicate", "break-glass")
    ]
    legend += [
        Patch(facecolor="white", edgecolor="black", label="outage (target met)"),
        Patch(facecolor="0.92", hatch="////", edgecolor="black", label="outage (target missed)"),
    ]
    ax.legend(handles=legend, loc="upper right", fontsize="x-small", ncol=2)
    ax.grid(True, axis="x", color="0.9", linewidth=0.6)
    ax.set_title(title or f"{result.drill} on {result.topology}: one replay (seed {result.seed})")
    return ax


def _down_at(result, service: str) -> float:
    for e in result.timeline:
        if e.kind == "fault":
            return float(e.time)
    return 0.0


# ------------------------------------------------------------------ sensitivity


def tornado(
    rows: Sequence[tuple[str, float, float]],
    base: float,
    what: str,
    low_label: str = "low",
    high_label: str = "high",
    probability: bool = False,
    title: str | None = None,
    ax=None,
):
    """One-at-a-time swings: for each ``(parameter, value at low, value at high)`` a bar each side of ``base``.

    Rows are drawn in the order given, the first at the top (sort by swing first); each parameter is
    labelled in words (:func:`drsim.report.labels.parameter`).
    """
    ax = _ax(ax, figsize=(8, 0.42 * max(len(rows), 3) + 1.6))
    vals = np.array([[r[1], r[2]] for r in rows] + [[base, base]], dtype=float)
    if probability:
        name, unit = "probability", 1.0
    else:
        name, unit = time_unit(vals[np.isfinite(vals)] if np.isfinite(vals).any() else [0.0])
    y = np.arange(len(rows))[::-1]
    lows = np.array([r[1] for r in rows], dtype=float)
    highs = np.array([r[2] for r in rows], dtype=float)
    ax.barh(
        y,
        (lows - base) / unit,
        left=base / unit,
        height=0.38,
        align="edge",
        color="0.8",
        hatch="///",
        edgecolor="black",
        linewidth=0.6,
        label=low_label,
    )
    ax.barh(
        y - 0.38,
        (highs - base) / unit,
        left=base / unit,
        height=0.38,
        align="edge",
        color="0.35",
        hatch="\\\\\\",
        edgecolor="black",
        linewidth=0.6,
        label=high_label,
    )
    ax.axvline(base / unit, color="black", linewidth=1.0)
    ax.set_yticks(y, [labels.parameter(r[0]) for r in rows], fontsize=8)
    ax.set_xlabel(f"{what} ({name}); line = as modelled")
    ax.set_ylabel("parameter (its durations scaled)")
    ax.grid(True, axis="x", color="0.85", linewidth=0.6)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def sobol(
    names: Sequence[str],
    first: Sequence[float],
    total: Sequence[float],
    title: str | None = None,
    ax=None,
    first_conf=None,
    total_conf=None,
):
    """First-order and total Sobol indices per parameter, as hatched paired bars, each parameter labelled in
    words (:func:`drsim.report.labels.parameter`)."""
    ax = _ax(ax, figsize=(8, 0.42 * max(len(names), 3) + 1.6))
    y = np.arange(len(names))[::-1]
    ax.barh(
        y,
        total,
        height=0.38,
        align="edge",
        color="0.35",
        hatch="\\\\\\",
        edgecolor="black",
        linewidth=0.6,
        label="total (with interactions)",
        xerr=total_conf,
        error_kw={"elinewidth": 0.8},
    )
    ax.barh(
        y - 0.38,
        first,
        height=0.38,
        align="edge",
        color="0.85",
        hatch="///",
        edgecolor="black",
        linewidth=0.6,
        label="first order (alone)",
        xerr=first_conf,
        error_kw={"elinewidth": 0.8},
    )
    ax.set_yticks(y, [labels.parameter(name) for name in names], fontsize=8)
    ax.set_xlabel("Sobol index (share of the metric's variance, dimensionless)")
    ax.set_ylabel("parameter")
    ax.set_xlim(left=min(0.0, float(np.nanmin(np.concatenate([np.asarray(first, float), [0.0]])))))
    ax.grid(True, axis="x", color="0.85", linewidth=0.6)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def heatmap(
    values: np.ndarray,
    xs: Sequence,
    ys: Sequence,
    xlabel: str,
    ylabel: str,
    what: str,
    probability: bool = True,
    title: str | None = None,
    ax=None,
):
    """``values[i, j]`` at ``(xs[j], ys[i])`` as coloured cells with the value printed in each."""
    ax = _ax(ax, figsize=(1.0 * len(xs) + 3, 0.7 * len(ys) + 2))
    v = np.asarray(values, dtype=float)
    kw = {"vmin": 0.0, "vmax": 1.0} if probability else {}
    im = ax.imshow(v, origin="lower", cmap="viridis", aspect="auto", **kw)
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            val = v[i, j]
            txt = f"{val:.2f}" if probability else _fmt_duration(val)
            shade = im.norm(val) if math.isfinite(val) else 0.0
            ax.text(j, i, txt, ha="center", va="center", fontsize=8, color="white" if shade < 0.5 else "black")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    cb = ax.figure.colorbar(im, ax=ax)
    cb.set_label(what)
    if title:
        ax.set_title(title)
    return ax


def grid_heatmap(
    frame,
    x: str,
    y: str,
    metric: str,
    stat: str = "p_meet",
    title: str | None = None,
    ax=None,
    xlabel: str | None = None,
    ylabel: str | None = None,
):
    """A heatmap of one statistic over a two-key grid, from a tidy frame such as
    :meth:`drsim.sweep.SweepResult.to_frame` (columns ``x``, ``y``, ``metric`` and ``stat``).

    The axes and the colour bar say what they are in words (:mod:`drsim.report.labels`:
    "dba head-count, night shift (people)", "P(tier0 RTO ≤ 15m)") unless labels are given;
    the ticks are the grid's values as written, in the grid's order.
    """
    df = frame[frame["metric"] == metric]
    xs, ys = list(dict.fromkeys(df[x])), list(dict.fromkeys(df[y]))
    table = df.pivot_table(index=y, columns=x, values=stat, aggfunc="first").reindex(index=ys, columns=xs)
    probability = stat.startswith("p_meet")
    target = df["target_s"].iloc[0] if "target_s" in df and len(df) else None
    if stat == "p_meet":
        what = labels.meets(metric, target)
    else:
        what = f"{stat.removesuffix('_s').upper()} {labels.metric(metric)}" + ("" if probability else " (duration)")
    return heatmap(
        table.to_numpy(dtype=float),
        [labels.grid_value(v) for v in xs],
        [labels.grid_value(v) for v in ys],
        xlabel=xlabel or labels.grid_axis(x),
        ylabel=ylabel or labels.grid_axis(y),
        what=what,
        probability=probability,
        title=title,
        ax=ax,
    )


def save(fig_or_ax, path, force: bool = False):
    """Write a figure (or an Axes' figure) to ``path`` atomically; the format follows the suffix."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise InputError(str(path), [Problem("a plot is written as .png, .svg or .pdf; choose one of those suffixes")])
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if hasattr(fig_or_ax, "get_figure") and not hasattr(fig_or_ax, "savefig"):
        fig = fig_or_ax.get_figure()
    return atomic_write(
        p,
        lambda tmp: fig.savefig(tmp, format=fmt, dpi=200, metadata=None if fmt != "png" else {"Software": "drsim"}),
        force=force,
    )
