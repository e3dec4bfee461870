"""A sweep's summary for people and for CI: rich tables, Markdown and JSON.

A sweep answers, per grid point, how the estate did over many nights: each
tier's RTO and RPO percentiles with the probability of meeting the target (and
its 95% interval), each workflow's downtime, per service what followed the
restore (usable time, drift exposure, degraded time, failback), the
decision-latency breakdown and the verdict of each of the drill's gates. The same numbers are
written three ways: tables for a terminal (:func:`render_sweep`), Markdown for
a CI job summary or a pull request (:func:`render_gates_markdown`) and JSON for
a machine (:func:`sweep_json`).
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from ..model.units import format_duration
from ..stats import PERCENTILES
from ..sweep import PointResult, SweepResult
from ..sweep.gates import format_percent
from .calibration import calibration_markdown, render_calibration
from .document import md_escape

#: The decision-latency steps, as the table names them.
LATENCY_STEPS = {
    "detect": "fault -> detected",
    "acknowledge": "detected -> acknowledged",
    "declare": "acknowledged -> declared",
    "restore": "declared -> all restored",
    "total": "fault -> all restored",
}


def probability_with_interval(p: float, lo: float, hi: float) -> str:
    """A probability and its 95% interval as percentages: ``98.1% [97.2-98.8%]``."""
    return f"{format_percent(p)} [{format_percent(lo)[:-1]}-{format_percent(hi)}]"


def sweep_json(result: SweepResult) -> str:
    """Every metric of every grid point and each gate's verdict as indented JSON (seconds; null = never)."""
    return json.dumps(result.to_dict(), indent=2)


def render_sweep(result: SweepResult, console: Console) -> None:
    """Print a sweep's summary tables and gate verdicts with rich."""
    mode = "exact percentiles" if result.exact else "percentiles from 0.05%-resolution histograms"
    console.print(
        f"[bold]{result.drill}[/bold] on {result.topology}: {result.n:,} replicates per point, "
        f"seed {result.seed}, {result.engine} engine ({mode})"
    )
    for pt in result.points:
        if result.grid_keys:
            label = ", ".join(f"{k}={v}" for k, v in pt.params.items())
            if console.is_terminal:
                console.rule(label)
            else:  # a rule spans the console, which off a terminal is as wide as the widest table
                console.print(f"── {label} ──", highlight=False)
        console.print(_tier_table(pt))
        wf = _workflow_table(pt)
        if wf is not None:
            console.print(wf)
        after = _after_table(pt)
        if after is not None:
            console.print(after)
        console.print(_latency_table(pt))
        _render_gates(pt, console)
    render_calibration(result.calibrated, console)


def _tier_table(pt: PointResult) -> Table:
    """Each tier's achieved RTO and RPO: target, percentiles and P(meet)."""
    pcols = [f"P{p}" for p in PERCENTILES]
    tiers = Table(title="Tiers: achieved RTO and RPO", title_justify="left")
    for c in ("tier", "metric", "target", *pcols, "P(meet) [95% CI]"):
        tiers.add_column(c, justify="left" if c in ("tier", "metric") else "right", no_wrap=True)
    for key, s in pt.metrics.items():
        kind, _, rest = key.partition(":")
        if kind != "tier":
            continue
        subject, measure = rest.rsplit(":", 1)
        qs = s.quantiles([p / 100 for p in PERCENTILES])
        tiers.add_row(
            subject,
            measure.upper(),
            format_duration(pt.targets[key]),
            *map(format_duration, qs),
            probability_with_interval(*pt.p_meet(key)),
        )
    return tiers


def _workflow_table(pt: PointResult) -> Table | None:
    """Each workflow's downtime against what it can absorb (None if the drill touches none)."""
    wf = [(k, s) for k, s in pt.metrics.items() if k.startswith("workflow:")]
    if not wf:
        return None
    pcols = [f"P{p}" for p in PERCENTILES]
    t = Table(title="Workflows: downtime", title_justify="left")
    for c in ("workflow", "tolerance", *pcols, "P(within) [95% CI]"):
        t.add_column(c, justify="left" if c == "workflow" else "right", no_wrap=c != "workflow")
    for key, s in wf:
        qs = s.quantiles([p / 100 for p in PERCENTILES])
        t.add_row(
            key.split(":")[1],
            format_duration(pt.targets[key]),
            *map(format_duration, qs),
            probability_with_interval(*pt.p_meet(key)),
        )
    return t


#: What the rows of the after-recovery table say, by (kind, measure) of the metric.
AFTER_MEASURES = {
    ("service", "usable"): "usable (fault -> people back in service)",
    ("drift", "window"): "drift: divergent-write window",
    ("drift", "writes"): "drift: divergent writes",
    ("drift", "reconcile"): "drift: detected -> reconciled",
    ("degraded", "time"): "degraded (a group member down)",
    ("failback", "time"): "failback: primary back -> done",
    ("failback", "downtime"): "failback: switch-back outage",
    ("failback", "exposure"): "failback: writes exposed",
}


def after_rows(pt: PointResult) -> list[list[str]]:
    """Per service: usable time, drift exposure, degraded time and failback, percentiles and mean."""
    rows = []
    for key, s in pt.metrics.items():
        kind, rest = key.split(":", 1)
        subject, _, measure = rest.rpartition(":")
        label = AFTER_MEASURES.get((kind, measure))
        if label is None:
            continue

        def fmt(v: float, measure: str = measure) -> str:
            return f"{v:,.0f}" if measure == "writes" else format_duration(v)

        qs = s.quantiles([p / 100 for p in PERCENTILES])
        rows.append([subject, label, *map(fmt, qs), fmt(s.mean)])
    return rows


def _after_table(pt: PointResult) -> Table | None:
    """Usable time, drift exposure, degraded time and failback per service (None if there is none)."""
    rows = after_rows(pt)
    if not rows:
        return None
    t = Table(title="After the restore: usable, drift, degraded, failback", title_justify="left")
    for c in ("service", "measure", *(f"P{p}" for p in PERCENTILES), "mean"):
        t.add_column(c, justify="left" if c in ("service", "measure") else "right", no_wrap=c != "measure")
    for row in rows:
        t.add_row(*row)
    return t


def _latency_table(pt: PointResult) -> Table:
    """The decision-latency steps (and the rollback): percentiles and mean."""
    pcols = [f"P{p}" for p in PERCENTILES]
    lat = [(k, s) for k, s in pt.metrics.items() if k.startswith(("latency:", "rollback:"))]
    # the decision milestones from the fault (what "declare within the hour" reads); detected is the first row
    lat += [(k, s) for k, s in pt.metrics.items() if k.startswith("milestone:") and k != "milestone:detected:time"]
    t = Table(title="Decision latency (and rollback)", title_justify="left")
    for c in ("step", *pcols, "mean"):
        t.add_column(c, justify="left" if c == "step" else "right")
    for key, s in lat:
        qs = s.quantiles([p / 100 for p in PERCENTILES])
        kind, step = key.split(":")[:2]
        name = {"rollback": "rollback", "milestone": f"fault -> {step}"}.get(kind) or LATENCY_STEPS.get(step, step)
        t.add_row(name, *map(format_duration, qs), format_duration(s.mean))
    return t


VERDICT_STYLE = {"PASS": "green", "FAIL": "red", "WARN": "yellow"}


def gates_table(pt: PointResult) -> Table:
    """Each gate's verdict on the point estimate, the estimate with its 95% interval, and by how much
    it was missed (``over``: ``+2h07m`` beyond a duration bound, ``-12.3 pts`` short of a probability,
    ``—`` when met)."""
    t = Table(title="Gates (verdict on the point estimate; 95% interval shown)", title_justify="left")
    t.add_column("")
    t.add_column("gate", no_wrap=True)
    t.add_column("measured", no_wrap=True)
    t.add_column("over", justify="right", no_wrap=True)
    t.add_column("n", justify="right")
    for g in pt.gates:
        note = "" if g.affected else " (not affected by this drill)"
        severity = " (warn)" if g.gate.severity == "warn" else ""
        style = VERDICT_STYLE[g.verdict]
        t.add_row(
            f"[{style}]{g.verdict}[/{style}]",
            g.gate.text.strip() + severity,
            g.measured() + note,
            g.miss() or "—",
            f"{g.n:,}",
        )
    return t


def _render_gates(pt: PointResult, console: Console) -> None:
    if not pt.gates:
        console.print("Gates: none in this drill (exit status 0).")
        return
    console.print(gates_table(pt), highlight=False)


def render_gates_markdown(result: SweepResult) -> str:
    """The gates and tier summary of a sweep as Markdown."""
    lines = [f"# {md_escape(result.drill)}: {result.n:,} replicates (seed {result.seed})", ""]
    for pt in result.points:
        if result.grid_keys:
            lines += ["## " + md_escape(", ".join(f"{k}={v}" for k, v in pt.params.items())), ""]
        lines += ["| tier | metric | target | " + " | ".join(f"P{p}" for p in PERCENTILES) + " | P(meet) |"]
        lines += ["|" + "---|" * (4 + len(PERCENTILES))]
        for key, s in pt.metrics.items():
            if not key.startswith("tier:"):
                continue
            _, tier, measure = key.split(":")
            qs = s.quantiles([p / 100 for p in PERCENTILES])
            cells = [
                md_escape(tier),
                measure.upper(),
                format_duration(pt.targets[key]),
                *map(format_duration, qs),
                probability_with_interval(*pt.p_meet(key)),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        after = after_rows(pt)
        if after:
            lines += ["| service | measure | " + " | ".join(f"P{p}" for p in PERCENTILES) + " | mean |"]
            lines += ["|" + "---|" * (3 + len(PERCENTILES))]
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in after]
            lines.append("")
        for g in pt.gates:
            # a code span shows its text as is, markup and HTML included; only a backtick could end it
            over = f" ({md_escape(g.miss())})" if g.miss() else ""
            lines.append(
                f"- **{g.verdict}** `{g.gate.text.strip().replace('`', chr(39))}`: {md_escape(g.measured())}{over}"
            )
        if not pt.gates:
            lines.append("- no gates in this drill")
        lines.append("")
    if result.calibrated:
        lines.append(calibration_markdown(result.calibrated))
    return "\n".join(lines)
