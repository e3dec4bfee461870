"""Go/no-go: each gate of a cutover plan judged on a rehearsal's evidence or on the simulation.

A gate holds when its quantity meets its bound (``at_least``: value >= bound;
``at_most``: value <= bound). An evidence gate takes its value from the
evidence file, by the gate's ``measure``; one the file does not measure is
NO-GO ("no evidence"): a board does not go on a criterion nobody checked. A
``simulated`` gate takes its value from the cutover run
(:data:`drsim.model.cutover.SIMULATED_MEASURES`). The cutover goes only if
every gate holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.cutover import CutoverPlan, Evidence, Gate, MeasureNote
from .cutover import CutoverRun

#: Resolution (seconds) of the decision-time grid on which the point of no return at confidence q is found.
RESOLUTION = 60.0


@dataclass(frozen=True)
class GateVerdict:
    """One gate judged: its value (None: no evidence), where the value came from, and go or no-go."""

    gate: Gate
    value: float | None
    source: str  # "evidence", "simulation" or "no evidence"
    go: bool
    #: The evidence's unit, time and source for the value, when the file gives them.
    note: MeasureNote | None = None


def simulated_value(measure: str, run: CutoverRun) -> float:
    """The value of one of :data:`~drsim.model.cutover.SIMULATED_MEASURES` in ``run``."""
    if measure == "p_completes_inside_freeze":
        return run.completes_inside_window()
    if measure == "safe_rollback_hours":
        t, _ = run.latest_safe_rollback(run.plan.rollback.confidence, RESOLUTION)
        return 0.0 if t is None else t / 3600.0
    if measure == "reentry_person_hours":
        return float(sum(np.mean(e.reentry_hours) for e in run.reconciliation))
    raise KeyError(measure)


def holds(gate: Gate, value: float) -> bool:
    """Whether ``value`` meets ``gate``'s bound."""
    if gate.at_least is not None:
        return value >= gate.at_least
    assert gate.at_most is not None
    return value <= gate.at_most


def judge_gates(plan: CutoverPlan, run: CutoverRun, evidence: Evidence) -> list[GateVerdict]:
    """Every gate of ``plan`` judged, in the plan's order."""
    out = []
    for g in plan.gates:
        if g.simulated:
            v = simulated_value(g.measure, run)
            out.append(GateVerdict(g, v, "simulation", holds(g, v)))
        elif g.measure in evidence.measured:
            v = evidence.measured[g.measure]
            out.append(GateVerdict(g, v, "evidence", holds(g, v), evidence.notes.get(g.measure)))
        else:
            out.append(GateVerdict(g, None, "no evidence", False))
    return out
