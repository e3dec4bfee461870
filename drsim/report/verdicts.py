"""The checks a run was judged by, one record each: what CI reports (JUnit) and the journal store.

A run of a drill is judged against **checks**. One replay (``drsim drill``)
is checked against its **targets**: each affected service's RTO and RPO
against its tier's objectives, each workflow's downtime against what it can
absorb. A sweep (``drsim sweep``, ``drsim drill -n``) is checked against the
drill's **gates**, at every grid point. A :class:`Check` holds one verdict
with the figure measured, the threshold it was held to and by how much it was
missed, in numbers (for machines) and in words (for people).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model.units import format_duration
from ..results import DrillResult
from ..sweep import SweepResult
from ..sweep.gates import GateResult, format_percent
from .console import overrun


@dataclass(frozen=True)
class Check:
    """One verdict of a run: a replay's target or a sweep's gate at one grid point.

    ``measured`` and ``threshold`` are seconds (``unit == "s"``) or
    probabilities (``unit == "probability"``); ``measured`` is None when the
    outcome never ended (a service never restored, a percentile beyond every
    restore). ``over`` says by how much it was missed (``+2h07m``, ``-12.3 pts``,
    ``never``; empty when met). ``severity`` is ``fail`` or ``warn``; a missed
    ``warn`` check reads ``WARN`` and does not fail the run.
    """

    #: ``target`` (a replay) or ``gate`` (a sweep).
    kind: str
    #: What was checked, as people name it: ``ehr-db RTO``, or the gate as written.
    name: str
    #: The outcomes key it reads (``service:ehr-db:rto``, ``tier:tier0:rto``).
    metric: str
    passed: bool
    measured: float | None
    threshold: float
    unit: str
    #: The measured figure as people read it (for a gate, with its 95% interval).
    measured_text: str
    #: The threshold as people read it, with its comparison (``<= 15m00s``, ``>= 0.9``).
    threshold_text: str
    over: str = ""
    severity: str = "fail"
    #: The grid point's index and its values by dotted path (index 0 and none without a grid).
    point: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, or ``WARN`` for a missed ``warn`` check."""
        if self.passed:
            return "PASS"
        return "WARN" if self.severity == "warn" else "FAIL"

    @property
    def blocking(self) -> bool:
        """A missed ``fail`` check: the run fails."""
        return not self.passed and self.severity == "fail"

    def message(self) -> str:
        """One line: measured against the threshold, and by how much it was missed."""
        if self.over.startswith("+"):
            over = f", over by {self.over[1:]}"
        elif self.over.startswith("-"):
            over = f", short by {self.over[1:]}"
        else:
            over = f", {self.over}" if self.over else ""
        return f"measured {self.measured_text}, threshold {self.threshold_text}{over}"


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def target_check(name: str, metric: str, value: float, target: float, met: bool, held_as: str = "") -> Check:
    """One target of a replay: ``value`` seconds (infinite for never) against ``target`` seconds."""
    return Check(
        kind="target",
        name=name,
        metric=metric,
        passed=met,
        measured=_num(value),
        threshold=target,
        unit="s",
        measured_text="never" if math.isinf(value) else format_duration(value),
        threshold_text=f"<= {format_duration(target)}" + (f" ({held_as})" if held_as else ""),
        over="" if met else overrun(value, target, met),
    )


def replay_checks(result: DrillResult) -> list[Check]:
    """The targets of one replay: each affected service's RTO and RPO (its tier's), then each workflow's
    downtime (what it can absorb)."""
    out = []
    for s in result.services:
        if not s.affected:
            continue
        assert s.rto is not None, "an affected service has an achieved RTO"
        assert s.rpo is not None, "an affected service has an achieved RPO"
        rto = s.rto if s.restored else math.inf
        out.append(target_check(f"{s.name} RTO", f"service:{s.name}:rto", rto, s.rto_target, s.rto_met, s.tier))
        out.append(target_check(f"{s.name} RPO", f"service:{s.name}:rpo", s.rpo, s.rpo_target, s.rpo_met, s.tier))
    out += [
        target_check(f"{w.name} downtime", f"workflow:{w.name}:downtime", w.downtime, w.tolerance, w.met)
        for w in result.workflows
    ]
    return out


def gate_check(g: GateResult, point: int = 0, params: Mapping[str, Any] | None = None) -> Check:
    """A gate's verdict at one grid point as a :class:`Check`."""
    gate = g.gate
    if gate.kind == "probability":
        assert gate.probability is not None
        threshold, unit = gate.probability, "probability"
        threshold_text = f"{gate.prob_op} {format_percent(gate.probability)}"
    else:
        threshold, unit = gate.bound, "s"
        threshold_text = f"{gate.op} {format_duration(gate.bound)}"
    return Check(
        kind="gate",
        name=gate.text.strip(),
        metric=gate.metric_key,
        passed=g.passed,
        measured=_num(g.value),
        threshold=threshold,
        unit=unit,
        measured_text=g.measured(),
        threshold_text=threshold_text,
        over=g.miss(),
        severity=gate.severity,
        point=point,
        params=dict(params or {}),
    )


def sweep_checks(result: SweepResult) -> list[Check]:
    """The gates of a sweep, at every grid point in order (none when the drill has no gates)."""
    return [gate_check(g, pt.index, pt.params) for pt in result.points for g in pt.gates]


__all__ = ["Check", "gate_check", "replay_checks", "sweep_checks", "target_check"]
