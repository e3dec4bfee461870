"""Probabilistic gates: recovery targets a drill must meet across many replays.

A gate is written as text in a drill's ``gates:`` list, in one of two forms::

    tier0 rto p95 <= 15m                 a percentile of a metric against a bound
    P(tier0 rto <= 15m) >= 0.99          the probability of meeting a bound

Gates are judged on a sweep (:func:`evaluate_gates`), on the point estimate:
a percentile gate compares the empirical percentile (the ``ceil(q n)``-th
smallest replicate) with its bound, a probability gate the observed share of
replicates with the required probability. The 95% interval around each
estimate is reported beside the verdict — it says how sure the verdict is,
not what it is — so a fixed seed always gives the same verdict.

The subject is a tier, a service, a workflow (metric ``downtime``), or
``rollback`` (metric ``time``). A tier's RTO is the slowest of its affected
services in a replay; its RPO the largest loss.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

from .units import UnitError, format_duration, parse_duration

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
METRICS = ("rto", "rpo", "downtime", "time")

_PCT = re.compile(r"^\s*(\S+)\s+(rto|rpo|downtime|time)\s+p(\d{1,2}(?:\.\d+)?)\s*(<=|<|>=|>)\s*(.+?)\s*$")
_PROB = re.compile(r"^\s*P\(\s*(\S+)\s+(rto|rpo|downtime|time)\s*(<=|<)\s*(.+?)\s*\)\s*(>=|>)\s*([0-9.]+)\s*$")


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
    #: How the estimated probability is compared with ``probability`` (``>=`` or ``>``).
    prob_op: str = ">="

    @property
    def metric_key(self) -> str:
        """The key of the metric this gate reads, as in outcomes (e.g. ``tier:tier0:rto``)."""
        return metric_key(self.subject_kind, self.subject, self.metric)

    subject_kind: str = "tier"

    def describe(self) -> str:
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
                f"cannot read gate {text!r}; expected e.g. 'tier0 rto p95 <= 15m' or 'P(tier0 rto <= 15m) >= 0.99'"
            )
        subject, metric, op, bound, pop, prob = m.groups()
        p = float(prob)
        if not 0 < p <= 1:
            raise GateError(f"probability {prob} must lie in (0, 1]")
        gate = dict(kind="probability", op=op, probability=p, prob_op=pop)
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


# ------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class GateResult:
    """A gate judged on a sweep: the verdict, the estimate it rests on and its 95% interval.

    ``value`` is the measured percentile (seconds) or the estimated probability;
    ``lo``/``hi`` bound it with 95% confidence (order-statistic interval for a
    percentile, Wilson score interval for a probability). ``affected`` is False
    when the drill leaves the subject untouched (its RTO, RPO or downtime is 0).
    """

    gate: Gate
    passed: bool
    value: float
    lo: float
    hi: float
    n: int
    affected: bool = True

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def measured(self) -> str:
        """The estimate and its interval, as people read them."""
        if self.gate.kind == "probability":
            return f"{_pct(self.value)} (95% CI {_pct(self.lo)}-{_pct(self.hi)})"
        return f"{_dur(self.value)} (95% CI {_dur(self.lo)}-{_dur(self.hi)})"

    def describe(self) -> str:
        note = "" if self.affected else " (not affected by this drill)"
        return f"{self.verdict}  {self.gate.text.strip()}: measured {self.measured()}, n={self.n:,}{note}"

    def to_dict(self) -> dict:
        def num(x):
            return None if not math.isfinite(x) else round(float(x), 6)

        return {
            "gate": self.gate.text.strip(),
            "kind": self.gate.kind,
            "metric": self.gate.metric_key,
            "passed": self.passed,
            "value": num(self.value),
            "ci_low": num(self.lo),
            "ci_high": num(self.hi),
            "never": math.isinf(self.value) and self.gate.kind == "percentile",
            "n": self.n,
            "affected": self.affected,
        }


def _dur(x: float) -> str:
    """A duration to the second (an interval of a few seconds must stay visible)."""
    if math.isinf(x):
        return "never"
    if x < 3600:
        return format_duration(x)
    s = round(x)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d{h:02d}h" if d else f"{h}h") + f"{m:02d}m{s:02d}s"


def _pct(p: float) -> str:
    """A probability as a percentage, three significant digits or more (0.0019%, 98.1%, 99.97%)."""
    for digits in range(3, 10):
        text = f"{100 * p:.{digits}g}"
        if (text != "100" or p == 1) and (text != "0" or p == 0):
            break
    return text + "%"


def evaluate_gate(gate: Gate, summary, n: int | None = None) -> GateResult:
    """Judge ``gate`` on a :class:`drsim.stats.Summary` of its metric.

    ``summary`` None means the drill does not affect the subject: every
    replicate has the value 0 (``n`` replicates).
    """
    from .. import stats

    if summary is None:
        if n is None:
            raise ValueError("an unaffected subject needs the number of replicates")
        import numpy as np

        summary = stats.Summary.of(np.zeros(n), np.array([gate.bound]), exact=True)
        affected = False
    else:
        affected = True
    n = summary.n
    if gate.kind == "percentile":
        q = gate.percentile / 100.0
        k = stats.rank(q, n)
        # the k-th smallest value against the bound, decided exactly from counts
        below = {"<=": summary.count("<=", gate.bound), "<": summary.count("<", gate.bound)}
        passed = {
            "<=": below["<="] >= k,
            "<": below["<"] >= k,
            ">=": below["<"] < k,
            ">": below["<="] < k,
        }[gate.op]
        lo_rank, hi_rank = stats.rank_interval(q, n)
        value = summary.at_rank(k)
        return GateResult(gate, passed, value, summary.at_rank(lo_rank), summary.at_rank(hi_rank), n, affected)
    hits = summary.count(gate.op, gate.bound)
    p = hits / n
    lo, hi = stats.wilson(hits, n)
    return GateResult(gate, OPS[gate.prob_op](p, gate.probability), p, lo, hi, n, affected)


def evaluate_gates(gates: list[Gate], metrics: dict, n: int) -> list[GateResult]:
    """Judge every gate on the metric summaries of one sweep point (``n`` replicates each).

    A gate on a tier, service or workflow the drill leaves untouched reads 0;
    a rollback gate on a drill with no rollback is an error (:class:`GateError`).
    """
    out = []
    for g in gates:
        key = g.metric_key
        if key not in metrics and g.subject_kind == "rollback":
            raise GateError(f"gate {g.text!r}: this drill has no rollback (it needs a cutover-failure fault)")
        out.append(evaluate_gate(g, metrics.get(key), n))
    return out
