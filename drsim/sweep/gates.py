"""Gate verdicts: a drill's gates judged on the replicates of one sweep point.

A gate (:mod:`drsim.model.gates`) is a claim about a distribution — "the 95th
percentile of tier-0 RTO is at most 15 minutes", "tier-0 RTO meets 15 minutes
with probability 0.99". A sweep has the distribution only as a sample, so a
verdict rests on the point estimate from that sample and is decided exactly
from counts of replicates at or below the bound:

* a percentile gate passes when the ``ceil(q n)``-th smallest replicate meets
  the bound (equivalently, when enough replicates fall on the right side of it);
* a probability gate passes when the observed share of replicates meeting the
  bound meets the required probability.

Beside each verdict stands the estimate's 95% interval (order statistics for a
percentile, Wilson score for a probability). It says how sure the verdict is,
not what it is, so a fixed seed always gives the same verdict.

A missed gate also says by how much (:meth:`GateResult.miss`): a percentile
beyond its bound by a duration (``+2h07m``), a probability short of the one
required by percentage points (``-12.3 pts``). A missed ``warn`` gate reads
``WARN`` and does not fail the sweep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..model.gates import OPS, Gate, GateError
from ..model.units import format_duration
from ..stats import Summary, rank, rank_interval, wilson


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
        """``PASS``, ``FAIL``, or ``WARN`` for a missed ``warn`` gate."""
        if self.passed:
            return "PASS"
        return "WARN" if self.gate.severity == "warn" else "FAIL"

    @property
    def blocking(self) -> bool:
        """A missed ``fail`` gate: the sweep fails."""
        return not self.passed and self.gate.severity == "fail"

    @property
    def warning(self) -> bool:
        """A missed ``warn`` gate: reported, the verdict unchanged."""
        return not self.passed and self.gate.severity == "warn"

    @property
    def shortfall(self) -> float:
        """By how much the gate was missed, 0 when met: seconds beyond the bound for a percentile
        gate (infinite when the percentile is never), the probability short of the one required
        for a probability gate."""
        if self.passed:
            return 0.0
        if self.gate.kind == "probability":
            assert self.gate.probability is not None
            return abs(self.gate.probability - self.value)
        if math.isinf(self.value):
            return math.inf
        return abs(self.value - self.gate.bound)

    def miss(self) -> str:
        """By how much the gate was missed, as people read it: ``+2h07m`` beyond a duration bound
        (``-`` for a lower bound not reached), ``-12.3 pts`` short of a probability, ``never``;
        empty when met."""
        if self.passed:
            return ""
        if self.gate.kind == "probability":
            return f"-{100 * self.shortfall:.3g} pts"
        if math.isinf(self.shortfall):
            return "never"
        sign = "+" if self.gate.op in ("<=", "<") else "-"
        return sign + format_duration_to_second(self.shortfall)

    def measured(self) -> str:
        """The estimate and its interval, as people read them."""
        if self.gate.kind == "probability":
            return f"{format_percent(self.value)} (95% CI {format_percent(self.lo)}-{format_percent(self.hi)})"
        return (
            f"{format_duration_to_second(self.value)} "
            f"(95% CI {format_duration_to_second(self.lo)}-{format_duration_to_second(self.hi)})"
        )

    def describe(self) -> str:
        """One line: the verdict, the gate as written, the estimate and the number of replicates."""
        note = "" if self.affected else " (not affected by this drill)"
        return f"{self.verdict}  {self.gate.text.strip()}: measured {self.measured()}, n={self.n:,}{note}"

    def to_dict(self) -> dict:
        """A JSON-ready record (seconds or a probability; ``None`` for never)."""

        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else round(float(x), 6)

        return {
            "gate": self.gate.text.strip(),
            "severity": self.gate.severity,
            "kind": self.gate.kind,
            "metric": self.gate.metric_key,
            "passed": self.passed,
            "verdict": self.verdict,
            "value": num(self.value),
            "ci_low": num(self.lo),
            "ci_high": num(self.hi),
            "never": math.isinf(self.value) and self.gate.kind == "percentile",
            "n": self.n,
            "affected": self.affected,
        }


def format_duration_to_second(x: float) -> str:
    """A duration to the second (an interval of a few seconds must stay visible); ``never`` for infinity."""
    if math.isinf(x):
        return "never"
    if x < 3600:
        return format_duration(x)
    s = round(x)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d{h:02d}h" if d else f"{h}h") + f"{m:02d}m{s:02d}s"


def format_percent(p: float) -> str:
    """A probability as a percentage, three significant digits or more (0.0019%, 98.1%, 99.97%).

    Digits are added until a probability short of 1 no longer reads ``100%`` and
    one above 0 no longer reads ``0%``.
    """
    for digits in range(3, 10):
        text = f"{100 * p:.{digits}g}"
        if (text != "100" or p == 1) and (text != "0" or p == 0):
            break
    return text + "%"


def evaluate_gate(gate: Gate, summary: Summary | None, n: int | None = None) -> GateResult:
    """Judge ``gate`` on a :class:`drsim.stats.Summary` of its metric.

    Parameters
    ----------
    gate
        The parsed gate.
    summary
        The summary of the metric the gate reads, over every replicate of the
        point. None means the drill does not affect the subject: every
        replicate has the value 0.
    n
        Replicates, needed only when ``summary`` is None.
    """
    if summary is None:
        if n is None:
            raise ValueError("an unaffected subject needs the number of replicates")
        summary = Summary.of(np.zeros(n), np.array([gate.bound]), exact=True)
        affected = False
    else:
        affected = True
    n = summary.n
    if gate.kind == "percentile":
        if gate.percentile is None:
            raise ValueError(f"percentile gate {gate.text!r} has no percentile")
        q = gate.percentile / 100.0
        k = rank(q, n)
        # the k-th smallest value against the bound, decided exactly from counts
        below = {"<=": summary.count("<=", gate.bound), "<": summary.count("<", gate.bound)}
        passed = {
            "<=": below["<="] >= k,
            "<": below["<"] >= k,
            ">=": below["<"] < k,
            ">": below["<="] < k,
        }[gate.op]
        lo_rank, hi_rank = rank_interval(q, n)
        value = summary.at_rank(k)
        return GateResult(gate, passed, value, summary.at_rank(lo_rank), summary.at_rank(hi_rank), n, affected)
    if gate.probability is None:
        raise ValueError(f"probability gate {gate.text!r} has no probability")
    hits = summary.count(gate.op, gate.bound)
    p = hits / n
    lo, hi = wilson(hits, n)
    return GateResult(gate, OPS[gate.prob_op](p, gate.probability), p, lo, hi, n, affected)


def evaluate_gates(gates: Sequence[Gate], metrics: Mapping[str, Summary], n: int) -> list[GateResult]:
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


__all__ = ["GateResult", "evaluate_gate", "evaluate_gates", "format_duration_to_second", "format_percent"]
