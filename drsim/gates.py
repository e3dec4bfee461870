"""Probabilistic gates: recovery targets a drill must meet across many replays.

A gate is written as text in a drill's ``gates:`` list, in one of two forms::

    tier0 rto p95 <= 15m                 a percentile of a metric against a bound
    P(tier0 rto <= 15m) >= 0.99          the probability of meeting a bound

The subject is a tier, a service, a workflow (metric ``downtime``), or
``rollback`` (metric ``time``). A tier's RTO is the slowest of its affected
services in a replay; its RPO the largest loss.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .units import UnitError, format_duration, parse_duration

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
METRICS = ("rto", "rpo", "downtime", "time")

_PCT = re.compile(r"^\s*(\S+)\s+(rto|rpo|downtime|time)\s+p(\d{1,2}(?:\.\d+)?)\s*(<=|<|>=|>)\s*(.+?)\s*$")
_PROB = re.compile(
    r"^\s*P\(\s*(\S+)\s+(rto|rpo|downtime|time)\s*(<=|<)\s*(.+?)\s*\)\s*(>=|>)\s*([0-9.]+)\s*$"
)


class GateError(ValueError):
    """A gate that cannot be read or names something the topology lacks."""


@dataclass(frozen=True)
class Gate:
    """One parsed gate."""

    text: str
    subject: str
    metric: str
    kind: str  # "percentile" or "probability"
    op: str
    bound: float  # seconds
    percentile: float | None = None
    probability: float | None = None

    @property
    def metric_key(self) -> str:
        """The key of the metric this gate reads, as in outcomes (e.g. ``tier:tier0:rto``)."""
        return metric_key(self.subject_kind, self.subject, self.metric)

    subject_kind: str = "tier"

    def describe(self) -> str:
        if self.kind == "percentile":
            return f"{self.subject} {self.metric} p{self.percentile:g} {self.op} {format_duration(self.bound)}"
        return f"P({self.subject} {self.metric} {self.op} {format_duration(self.bound)}) >= {self.probability:g}"


def metric_key(kind: str, subject: str, metric: str) -> str:
    """The outcomes key a gate on ``subject``'s ``metric`` reads (see :mod:`drsim.outcomes`)."""
    if kind == "rollback":
        return "rollback:total:time"
    return f"{kind}:{subject}:{metric}"


def parse_gate(text: str, topology) -> Gate:
    """Parse one gate, checking its subject against the topology."""
    if not isinstance(text, str):
        raise GateError(f"expected a gate such as 'tier0 rto p95 <= 15m', found {text!r}")
    m = _PCT.match(text)
    if m:
        subject, metric, pct, op, bound = m.groups()
        pct = float(pct)
        if not 0 < pct < 100:
            raise GateError(f"percentile p{pct:g} must lie between p1 and p99")
        gate = dict(kind="percentile", op=op, percentile=pct)
    else:
        m = _PROB.match(text)
        if not m:
            raise GateError(
                f"cannot read gate {text!r}; expected e.g. 'tier0 rto p95 <= 15m' or "
                "'P(tier0 rto <= 15m) >= 0.99'"
            )
        subject, metric, op, bound, pop, prob = m.groups()
        p = float(prob)
        if not 0 < p <= 1:
            raise GateError(f"probability {prob} must lie in (0, 1]")
        gate = dict(kind="probability", op=op, probability=p)
    try:
        seconds = parse_duration(bound)
    except UnitError as exc:
        raise GateError(f"gate {text!r}: {exc}") from None
    if subject == "rollback":
        kind = "rollback"
        if metric != "time":
            raise GateError("the rollback gate reads 'rollback time', e.g. 'rollback time p90 <= 2h'")
    elif subject in topology.tiers:
        kind = "tier"
    elif subject in topology.services:
        kind = "service"
    elif subject in topology.workflows:
        kind = "workflow"
        if metric != "downtime":
            raise GateError(f"workflow {subject!r} is gated on 'downtime', not {metric!r}")
    else:
        raise GateError(f"gate {text!r}: {subject!r} is not a tier, service, workflow or 'rollback'")
    if kind in ("tier", "service") and metric not in ("rto", "rpo"):
        raise GateError(f"{kind} {subject!r} is gated on 'rto' or 'rpo', not {metric!r}")
    return Gate(text=text, subject=subject, metric=metric, bound=seconds, subject_kind=kind, **gate)
