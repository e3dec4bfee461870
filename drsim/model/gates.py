"""Probabilistic gates: recovery targets a drill must meet across many replays.

A gate is written as text in a drill's ``gates:`` list, in one of two forms::

    tier0 rto p95 <= 15m                 a percentile of a metric against a bound
    P(tier0 rto <= 15m) >= 0.99          the probability of meeting a bound

This module reads gates: the drill file's language, checked against the
topology when the drill is loaded. A sweep judges them
(:mod:`drsim.sweep.gates`) on the point estimate: a percentile gate compares
the empirical percentile (the ``ceil(q n)``-th smallest replicate) with its
bound, a probability gate the observed share of replicates with the required
probability. The 95% interval around each estimate is reported beside the
verdict — it says how sure the verdict is, not what it is — so a fixed seed
always gives the same verdict.

The subject is a tier, a service, a workflow (metric ``downtime``),
``rollback`` (metric ``time``: from the rollback decision until divergent
writes are reconciled), or a decision milestone — ``detected``,
``acknowledged``, ``declared`` (metric ``time``: from the fault until the
milestone), so a drill objective such as "declare within 60 minutes" reads
``declared time p90 <= 1h``. A tier's RTO is the slowest of its affected
services in a replay; its RPO the largest loss.

A gate has a **severity**: ``fail`` (the default) decides the run's verdict;
``warn`` is judged and reported the same way but a miss only warns. A gate
written as text is a ``fail`` gate; the mapping form gives another::

    - {gate: "declared time p90 <= 1h", severity: warn}
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .drill import GateEntry
from .topology import Topology
from .units import UnitError, format_duration, parse_duration

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
METRICS = ("rto", "rpo", "downtime", "time")
#: The decision milestones a gate may read, each timed from the fault (metric ``time``).
MILESTONES = ("detected", "acknowledged", "declared")
SEVERITIES = ("fail", "warn")

_PCT = re.compile(r"^\s*(\S+)\s+(rto|rpo|downtime|time)\s+p(\d{1,2}(?:\.\d+)?)\s*(<=|<|>=|>)\s*(.+?)\s*$")
_PROB = re.compile(r"^\s*P\(\s*(\S+)\s+(rto|rpo|downtime|time)\s*(<=|<)\s*(.+?)\s*\)\s*(>=|>)\s*([0-9.]+)\s*$")


class GateError(ValueError):
    """A gate that cannot be read or names something the topology lacks."""


@dataclass(frozen=True)
class Gate:
    """One recovery target of a drill, as read from its ``gates:`` list.

    A percentile gate (``kind == "percentile"``) bounds the ``percentile``-th
    percentile of the subject's metric by ``bound`` seconds with ``op``; a
    probability gate (``kind == "probability"``) requires the probability that
    the metric meets ``op bound`` to be ``prob_op probability``.
    """

    text: str
    subject: str
    metric: str
    kind: str  # "percentile" or "probability"
    op: str
    bound: float  # seconds
    percentile: float | None = None
    probability: float | None = None
    #: How the estimated probability is compared with ``probability`` (``>=`` or ``>``).
    prob_op: str = ">="
    #: ``fail``: a miss fails the run; ``warn``: a miss is reported and the run's verdict is unchanged.
    severity: str = "fail"

    @property
    def metric_key(self) -> str:
        """The key of the metric this gate reads, as in outcomes (e.g. ``tier:tier0:rto``)."""
        return metric_key(self.subject_kind, self.subject, self.metric)

    subject_kind: str = "tier"

    def describe(self) -> str:
        """The gate written back in its canonical form, durations as people read them."""
        if self.kind == "percentile":
            return f"{self.subject} {self.metric} p{self.percentile:g} {self.op} {format_duration(self.bound)}"
        return (
            f"P({self.subject} {self.metric} {self.op} {format_duration(self.bound)}) "
            f"{self.prob_op} {self.probability:g}"
        )


def metric_key(kind: str, subject: str, metric: str) -> str:
    """The outcomes key a gate on ``subject``'s ``metric`` reads (see :mod:`drsim.engine.outcomes`)."""
    if kind == "rollback":
        return "rollback:total:time"
    return f"{kind}:{subject}:{metric}"


def known_subjects(topo: Topology) -> str:
    """What a metric or gate may be about in ``topo``: ``(its tiers: t0, t1; services: ...; workflows: ...)``."""
    parts = [f"its tiers: {', '.join(topo.tiers)}", f"services: {', '.join(topo.services)}"]
    if topo.workflows:
        parts.append(f"workflows: {', '.join(topo.workflows)}")
    return " (" + "; ".join(parts) + ")"


def parse_gate(entry: str | GateEntry, topology: Topology) -> Gate:
    """Parse one gate, checking its subject against the topology.

    Parameters
    ----------
    entry
        The gate as written in the drill's ``gates:`` list: its text (a ``fail``
        gate), or a :class:`~drsim.model.drill.GateEntry` with its severity.
    topology
        The estate whose tiers, services and workflows a gate may name.

    Raises
    ------
    GateError
        The text is not a gate, or names a subject or metric the topology lacks.
    """
    severity = "fail"
    if isinstance(entry, GateEntry):
        severity = entry.severity
        entry = entry.gate
    text = entry
    if not isinstance(text, str):
        raise GateError(f"expected a gate such as 'tier0 rto p95 <= 15m', found {text!r}")
    percentile: float | None = None
    probability: float | None = None
    prob_op = ">="
    m = _PCT.match(text)
    if m:
        subject, metric, pct, op, bound = m.groups()
        percentile = float(pct)
        if not 0 < percentile < 100:
            raise GateError(f"percentile p{percentile:g} must lie between p1 and p99")
        gate_kind = "percentile"
    else:
        m = _PROB.match(text)
        if not m:
            raise GateError(
                f"cannot read gate {text!r}; expected e.g. 'tier0 rto p95 <= 15m' or 'P(tier0 rto <= 15m) >= 0.99'"
            )
        subject, metric, op, bound, prob_op, prob = m.groups()
        probability = float(prob)
        if not 0 < probability <= 1:
            raise GateError(f"probability {prob} must lie in (0, 1]")
        gate_kind = "probability"
    try:
        seconds = parse_duration(bound)
    except UnitError as exc:
        raise GateError(f"gate {text!r}: {exc}") from None
    if subject == "rollback":
        kind = "rollback"
        if metric != "time":
            raise GateError("the rollback gate reads 'rollback time', e.g. 'rollback time p90 <= 2h'")
    elif subject in MILESTONES:
        kind = "milestone"
        if metric != "time":
            raise GateError(
                f"the {subject} milestone is gated on its time from the fault, e.g. '{subject} time p90 <= 1h'"
            )
    elif subject in topology.tiers:
        kind = "tier"
    elif subject in topology.services:
        kind = "service"
    elif subject in topology.workflows:
        kind = "workflow"
        if metric != "downtime":
            raise GateError(f"workflow {subject!r} is gated on 'downtime', not {metric!r}")
    else:
        raise GateError(
            f"gate {text!r}: {subject!r} is not a tier, service, workflow, 'rollback' or a decision milestone "
            f"({', '.join(MILESTONES)}){known_subjects(topology)}"
        )
    if kind in ("tier", "service") and metric not in ("rto", "rpo"):
        raise GateError(f"{kind} {subject!r} is gated on 'rto' or 'rpo', not {metric!r}")
    return Gate(
        text=text,
        subject=subject,
        metric=metric,
        kind=gate_kind,
        op=op,
        bound=seconds,
        percentile=percentile,
        probability=probability,
        prob_op=prob_op,
        severity=severity,
        subject_kind=kind,
    )
