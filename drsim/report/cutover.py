"""A cutover run for a change board: point of no return, completion, rollback by decision time, reconciliation.

:func:`cutover_data` is the run as plain data (what ``--format json`` prints);
:func:`cutover_table` the same figures as text. Durations in the data are in
seconds; percentiles are the inverted empirical CDF (:func:`drsim.stats.quantile`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..analysis.cutover import PERCENTILES, CutoverRun
from ..model.units import format_duration
from ..stats import quantile


def _summary(x: np.ndarray) -> dict[str, float | None]:
    """Mean, its standard error and percentiles of ``x`` (NaN values left out; None if none is left)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return {"mean": None, "se": None, **{f"p{p}": None for p in PERCENTILES}}
    finite = bool(np.all(np.isfinite(x)))
    mean = float(np.mean(x)) if finite else math.inf
    se = float(np.std(x, ddof=1) / math.sqrt(len(x))) if finite and len(x) > 1 else None
    return {"mean": mean, "se": se, **{f"p{p}": quantile(x, p / 100) for p in PERCENTILES}}


def cutover_data(run: CutoverRun, decision_times: Sequence[float]) -> dict:
    """The figures of ``run`` as JSON-ready data, rollbacks launched at each of ``decision_times``."""
    roles: dict[str, float] = {}
    entities = {}
    for e in run.reconciliation:
        entities[e.entity] = {
            "rule": e.rule,
            "records": _summary(e.records),
            "replay_duration": _summary(e.replay) if e.rule == "replay" else None,
            "reentry_role": e.reentry_role,
            "reentry_person_hours": _summary(e.reentry_hours) if e.reentry_role else None,
        }
        if e.reentry_role:
            roles[e.reentry_role] = roles.get(e.reentry_role, 0.0) + float(np.mean(e.reentry_hours))
    return {
        "plan": run.plan.name,
        "seed": run.seed,
        "replicates": run.n,
        "freeze": {"start": run.plan.freeze.start.isoformat(), "length": run.window},
        "point_of_no_return": _summary(run.point_of_no_return),
        "completion": _summary(run.completion),
        "p_completes_inside_freeze": run.completes_inside_window(),
        "rollback": [
            {
                "decided_at": t,
                "p_still_reversible": run.reversible_at(t),
                "p_done_inside_freeze": run.rollback_inside_window(t),
                "duration": _summary(run.rollback_time(t)),
            }
            for t in decision_times
        ],
        "reconciliation": entities,
        "reentry_person_hours_by_role": roles,
        "gates": [
            {"name": g.name, "threshold": g.describe(), "before": g.before, "decided_by": g.decided_by}
            for g in run.plan.gates
        ],
        "triggers": [
            {"name": t.name, "threshold": t.describe(), "decided_by": t.decided_by} for t in run.plan.triggers
        ],
    }


def _d(v: float | None) -> str:
    if v is None:
        return "-"
    return "never" if math.isinf(v) else format_duration(v)


def _row(label: str, s: dict) -> str:
    return f"  {label:<28} {_d(s['p50']):>9} {_d(s['p90']):>9} {_d(s['p99']):>9}"


def cutover_table(data: dict) -> list[str]:
    """The lines of the text report of :func:`cutover_data`'s ``data``."""
    hdr = f"  {'':<28} {'P50':>9} {'P90':>9} {'P99':>9}"
    lines = [
        f"cutover {data['plan']}: freeze from {data['freeze']['start']} for {_d(data['freeze']['length'])}"
        f" ({data['replicates']} replicates, seed {data['seed']})",
        "",
        hdr,
        _row("point of no return", data["point_of_no_return"]),
        _row("cutover complete", data["completion"]),
        f"  P(cutover completes inside the freeze) = {data['p_completes_inside_freeze']:.3f}",
        "",
        "rollback, by the time it is decided (from the freeze start):",
        f"  {'decided at':<12} {'P(reversible)':>14} {'P(done in freeze)':>18} {'P50':>9} {'P90':>9}",
    ]
    for r in data["rollback"]:
        d = r["duration"]
        lines.append(
            f"  {_d(r['decided_at']):<12} {r['p_still_reversible']:>14.3f} {r['p_done_inside_freeze']:>18.3f}"
            f" {_d(d['p50']):>9} {_d(d['p90']):>9}"
        )
    if data["reconciliation"]:
        lines += ["", "reconciliation of records written during the freeze (mean):"]
        lines.append(f"  {'entity':<14} {'rule':<9} {'records':>9} {'replay':>9} {'re-entry':>14}")
        for name, e in data["reconciliation"].items():
            replay = _d(e["replay_duration"]["mean"]) if e["replay_duration"] else "-"
            reentry = (
                f"{e['reentry_person_hours']['mean']:.1f} h {e['reentry_role']}" if e["reentry_person_hours"] else "-"
            )
            lines.append(f"  {name:<14} {e['rule']:<9} {e['records']['mean']:>9.0f} {replay:>9} {reentry:>14}")
    if data["gates"]:
        lines += ["", "go/no-go gates (judged on evidence; not yet read by this command):"]
        for g in data["gates"]:
            by = f", decided by {g['decided_by']}" if g["decided_by"] else ""
            lines.append(f"  {g['name']}: {g['threshold']} (before {g['before'] or 'the freeze'}{by})")
    return lines
