"""A grid sweep side by side: one row per grid point, one column per metric.

A grid asks how a few outcomes move as a few settings change, so its answer is
one table: the grid's settings on the left (labelled in words: "dba head-count,
night shift"), then per chosen metric its P90 and the probability of meeting
its target, and the verdict of the drill's gates at that point. By default the
metrics are those whose P(meet) varies most across the grid
(:meth:`drsim.sweep.SweepResult.by_variation`); ``drsim sweep --show METRIC``
chooses others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..model.units import format_duration
from ..sweep import PointResult, SweepResult
from . import labels
from .sweep_summary import VERDICT_STYLE

#: How many metrics a grid table shows when none are chosen.
DEFAULT_COLUMNS = 4


def default_metrics(result: SweepResult, k: int = DEFAULT_COLUMNS) -> list[str]:
    """The ``k`` metrics whose P(meet) varies most across the grid."""
    return result.by_variation()[:k]


def cell(pt: PointResult, key: str) -> str:
    """One metric at one grid point: its P90 and P(meet target), ``2h14m · 0.31`` (``-`` where there is none)."""
    s = pt.metrics.get(key)
    if s is None:
        return "-"
    p90 = s.quantile(0.9)
    value = format_duration(p90) if math.isfinite(p90) else "never"
    if key in pt.targets:
        value += f" · {pt.p_meet(key)[0]:.2f}"
    return value


def gates_cell(pt: PointResult) -> str:
    """The gates at one grid point: ``PASS``, ``WARN`` or ``FAIL 2 of 5`` (fail gates missed of all gates)."""
    if not pt.gates:
        return "-"
    missed = sum(g.blocking for g in pt.gates)
    verdict = "FAIL" if missed else "WARN" if pt.warned else "PASS"
    style = VERDICT_STYLE[verdict]
    return f"[{style}]{verdict}[/{style}]" + (f" {missed} of {len(pt.gates)}" if missed else "")


def grid_table(result: SweepResult, metrics: Sequence[str]) -> Table:
    """The side-by-side table of a grid sweep for ``metrics``."""
    table = Table(
        title=f"P90 · P(meet target) per grid point, {result.n:,} replicates each",
        title_justify="left",
    )
    for key in result.grid_keys:
        table.add_column(escape(labels.grid_key(key)), justify="right")
    for key in metrics:
        target = result.points[0].targets.get(key)
        head = labels.metric(key) + ("" if target is None else f"\n(target {labels.duration(target)})")
        table.add_column(escape(head), justify="right", no_wrap=True)
    has_gates = result.has_gates
    if has_gates:
        table.add_column("gates", no_wrap=True)
    for pt in result.points:
        row = [escape(labels.grid_value(pt.params[k])) for k in result.grid_keys]
        row += [cell(pt, key) for key in metrics]
        if has_gates:
            row.append(gates_cell(pt))
        table.add_row(*row)
    return table


def render_grid(result: SweepResult, console: Console, metrics: Sequence[str] | None = None) -> None:
    """Print a grid sweep as one side-by-side table (``metrics``: default :func:`default_metrics`)."""
    mode = "exact percentiles" if result.exact else "percentiles from 0.05%-resolution histograms"
    console.print(
        f"[bold]{escape(result.drill)}[/bold] on {escape(result.topology)}: {len(result.points)} grid points, "
        f"{result.n:,} replicates each, seed {result.seed}, {result.engine} engine ({mode})"
    )
    chosen = list(metrics) if metrics else default_metrics(result)
    console.print(grid_table(result, chosen), highlight=False)
    if not metrics:
        console.print(
            "Columns: the metrics whose P(meet) varies most across the grid; choose others with --show METRIC.",
            highlight=False,
        )
    if result.has_gates:
        passing = sum(pt.passed for pt in result.points)
        console.print(
            f"Gates: every fail gate passes at {passing} of {len(result.points)} grid points "
            "(--format markdown lists each verdict).",
            highlight=False,
        )


__all__ = ["DEFAULT_COLUMNS", "cell", "default_metrics", "gates_cell", "grid_table", "render_grid"]
