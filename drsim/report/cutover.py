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
from ..analysis.cutover_gates import RESOLUTION, GateVerdict
from ..model.calibrated import CalibratedElement, listing
from ..model.cutover import Gate
from ..model.units import format_duration
from ..stats import quantile

#: Spacing (seconds) of the decision times on the rollback-completion curve.
CURVE_STEP = 900.0


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


def _gate(run: CutoverRun, g: Gate) -> dict:
    """A gate as data; for one before a wave, when it is reached and what a NO-GO there leads to."""
    out: dict = {
        "name": g.name,
        "threshold": g.describe(),
        "at_least": g.at_least,
        "at_most": g.at_most,
        "before": g.before,
        "decided_by": g.decided_by,
        "simulated": g.simulated,
    }
    if g.before is not None:
        out["reached"] = _summary(run.gate_reached[g.name])
        out["p_rollback_inside_freeze_if_no_go"] = run.rollback_from_gate(g.name)
    return out


def _gates(run: CutoverRun, verdicts: Sequence[GateVerdict] | None) -> list[dict]:
    if verdicts is None:
        return [_gate(run, g) for g in run.plan.gates]
    return [
        {
            **_gate(run, v.gate),
            "value": v.value,
            "source": v.source,
            "note": v.note.model_dump() if v.note is not None else None,
            "verdict": "GO" if v.go else "NO-GO",
        }
        for v in verdicts
    ]


def cutover_data(
    run: CutoverRun,
    decision_times: Sequence[float],
    verdicts: Sequence[GateVerdict] | None = None,
    calibrated: Sequence[CalibratedElement] = (),
) -> dict:
    """The figures of ``run`` as JSON-ready data, rollbacks launched at each of ``decision_times``,
    and the gates — judged (``verdict``, ``value``, ``source``) when ``verdicts`` are given; with
    ``calibrated`` elements (the estate run with a calibration overlay), a ``calibrated`` list."""
    roles: dict[str, float] = {}
    entities = {}
    for e in run.reconciliation:
        entities[e.entity] = {
            "rule": e.rule,
            "records": _summary(e.records),
            "replay_duration": _summary(e.replay) if e.rule == "replay" else None,
            "reentry_role": e.reentry_role,
            "reentry_person_hours": _summary(e.reentry_hours) if e.reentry_role else None,
            "reentry_hours": _summary(e.reentry_elapsed) if e.reentry_role else None,
        }
        if e.reentry_role:
            roles[e.reentry_role] = roles.get(e.reentry_role, 0.0) + float(np.mean(e.reentry_hours))
    q = run.plan.rollback.confidence
    safe, p_safe = run.latest_safe_rollback(q, RESOLUTION)
    diverted = sorted({e for s in run.tasks.steps for e in s.diverts})
    at_safe = run.rollback(safe).diverged if safe is not None else {}
    return {
        "plan": run.plan.name,
        "engine": run.engine,
        **({"calibrated": [e.to_dict() for e in calibrated]} if calibrated else {}),
        "seed": run.seed,
        "replicates": run.n,
        "freeze": {"start": run.plan.freeze.start.isoformat(), "length": run.window},
        "point_of_no_return": _summary(run.point_of_no_return),
        "completion": _summary(run.completion),
        "p_completes_inside_freeze": run.completes_inside_window(),
        "p_stuck": float(np.mean(np.isinf(run.completion))),
        "safe_rollback": {
            "confidence": q,
            "resolution": RESOLUTION,
            "latest_decision": safe,
            "p_done_inside_freeze": p_safe,
            "diverged_records": {e: float(np.mean(at_safe[e])) for e in diverted} if safe is not None else None,
        },
        "rollback_curve": [{"decided_at": t, "p_done_inside_freeze": p} for t, p in run.rollback_curve(CURVE_STEP)],
        "rollback": [
            {
                "decided_at": t,
                "p_still_reversible": run.reversible_at(t),
                "p_done_inside_freeze": run.rollback_inside_window(t),
                "duration": _summary(run.rollback_time(t)),
                "diverged_records": {e: float(np.mean(run.rollback(t).diverged[e])) for e in diverted},
            }
            for t in decision_times
        ],
        "reconciliation": entities,
        "reentry_person_hours_by_role": roles,
        "judged": verdicts is not None,
        "go": all(v.go for v in verdicts) if verdicts is not None else None,
        "gates": _gates(run, verdicts),
        "triggers": [
            {"name": t.name, "threshold": t.describe(), "decided_by": t.decided_by} for t in run.plan.triggers
        ],
    }


def duration_text(v: float | None) -> str:
    if v is None:
        return "-"
    return "never" if math.isinf(v) else format_duration(v)


def _row(label: str, s: dict) -> str:
    return f"  {label:<28} {duration_text(s['p50']):>9} {duration_text(s['p90']):>9} {duration_text(s['p99']):>9}"


def calibrated_of(data: dict) -> list[CalibratedElement]:
    """The calibrated elements :func:`cutover_data` listed in ``data`` (none without a calibration)."""
    return [CalibratedElement(**e) for e in data.get("calibrated", [])]


def cutover_table(data: dict) -> list[str]:
    """The lines of the text report of :func:`cutover_data`'s ``data``."""
    hdr = f"  {'':<28} {'P50':>9} {'P90':>9} {'P99':>9}"
    lines = [
        f"cutover {data['plan']}: freeze from {data['freeze']['start']} for {duration_text(data['freeze']['length'])}"
        f" ({data['replicates']} replicates, seed {data['seed']})",
        "",
        hdr,
        _row("first irreversible step", data["point_of_no_return"]),
        _row("cutover complete", data["completion"]),
        f"  P(cutover completes inside the freeze) = {data['p_completes_inside_freeze']:.3f}"
        + (f"; stuck (a step failed every attempt, no escalation) {data['p_stuck']:.3f}" if data["p_stuck"] else ""),
        safe_line(data["safe_rollback"]),
        *diverged_lines(data["safe_rollback"]["diverged_records"]),
        "",
        "rollback, by the time it is decided (from the freeze start):",
        f"  {'decided at':<12} {'P(reversible)':>14} {'P(done in freeze)':>18} {'P50':>9} {'P90':>9}",
    ]
    for r in data["rollback"]:
        d = r["duration"]
        lines.append(
            f"  {duration_text(r['decided_at']):<12} {r['p_still_reversible']:>14.3f} {r['p_done_inside_freeze']:>18.3f}"
            f" {duration_text(d['p50']):>9} {duration_text(d['p90']):>9}"
        )
    if data["reconciliation"]:
        lines += ["", "reconciliation of records written during the freeze (mean):"]
        lines.append(f"  {'entity':<14} {'rule':<9} {'records':>9} {'replay':>9} {'re-entry':>14}")
        for name, e in data["reconciliation"].items():
            replay = duration_text(e["replay_duration"]["mean"]) if e["replay_duration"] else "-"
            reentry = (
                f"{e['reentry_person_hours']['mean']:.1f} h {e['reentry_role']}" if e["reentry_person_hours"] else "-"
            )
            lines.append(f"  {name:<14} {e['rule']:<9} {e['records']['mean']:>9.0f} {replay:>9} {reentry:>14}")
    if data["gates"]:
        if data["judged"]:
            lines += ["", f"go/no-go gates: {'GO' if data['go'] else 'NO-GO'}"]
        else:
            lines += ["", "go/no-go gates (not judged: give the rehearsal's measurements with --evidence FILE):"]
        for g in data["gates"]:
            by = f", decided by {g['decided_by']}" if g["decided_by"] else ""
            head = f"  {g['verdict']:<5} " if data["judged"] else "  "
            lines.append(
                f"{head}{g['name']}: {g['threshold']}; {measured_text(g)} (before {g['before'] or 'the freeze'}{by})"
            )
    if data.get("calibrated"):
        lines += ["", *listing(calibrated_of(data))]
    return lines


def diverged_lines(d: dict | None) -> list[str]:
    """Divergent writes a rollback decided at the point of no return must carry back, in words."""
    if not d:
        return []
    parts = ", ".join(f"{v:.0f} {k}" for k, v in d.items())
    return [f"  decided then, the rollback carries back writes made on the new system (mean): {parts}"]


def safe_line(s: dict) -> str:
    """The point of no return at confidence q, in words."""
    q = f"{s['confidence']:g}"
    if s["latest_decision"] is None:
        return (
            f"  point of no return at q = {q}: none: even a rollback decided at the freeze start ends inside"
            f" it with probability {s['p_done_inside_freeze']:.3f} only"
        )
    return (
        f"  point of no return at q = {q}: a rollback decided by {duration_text(s['latest_decision'])} after the freeze"
        f" starts ends inside it with probability {s['p_done_inside_freeze']:.3f}"
        f" (to within {duration_text(s['resolution'])})"
    )


def measured_text(g: dict) -> str:
    if "source" not in g:
        return "simulated" if g["simulated"] else "measured in a rehearsal"
    if g["value"] is None:
        return "no evidence"
    if g["source"] == "simulation":  # an estimate: four significant figures
        return f"simulation: {g['value']:.4g}"
    note = g.get("note") or {}
    unit = f" {note['unit']}" if note.get("unit") else ""
    about = ", ".join(x for x in (note.get("when"), note.get("source")) if x)
    return f"{g['source']}: {g['value']:g}{unit}" + (f" ({about})" if about else "")
