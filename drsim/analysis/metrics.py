"""Metrics: one statistic of one outcome over many replicates, named the way a planner says it.

A **metric** is written ``STAT_MEASURE:SUBJECT``: ``p90_rto:tier0``,
``p99_rto:tier0``, ``mean_rto:ehr-db``, ``p_meet_rto:tier0`` (the probability
of meeting the target), ``p90_downtime:medication-administration``,
``p90_time:rollback``, ``p90_time:declared``. The subject is a tier, a
service, a workflow, ``rollback`` or a decision milestone (``detected``,
``acknowledged``, ``declared``: its time from the fault). ``p_meet`` reads the subject's target unless a bound follows
``@``: ``p_meet_rto:tier0@3h`` is the probability that tier 0 is back within
three hours. Without a metric, analyses read the P90 RTO of the estate's most
critical tier (:func:`default_metric`), whatever its tiers are called.

A :class:`Metric` reads its value from the per-replicate outcomes of a drill
(:func:`drsim.engine.outcomes.evaluate`), and the effect of a change on it from
two paired sets of replicates (common random numbers), with a 95% interval.
Errors name the ``metric`` being read; the command line words them as its
``--metric`` option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..engine.outcomes import targets
from ..errors import InputError, Problem
from ..frames import identity, split_key, statistic_column, unit_of
from ..model.gates import MILESTONES, known_subjects
from ..model.units import UnitError, format_duration, parse_duration
from ..plan import Plan
from ..stats import mean_interval, paired_quantile_differences, quantile

#: ``STAT_MEASURE:SUBJECT[@BOUND]``: the statistic, the measure, the subject and an optional bound.
METRIC_PATTERN = re.compile(r"^\s*(p_meet|mean|p(\d{1,2}(?:\.\d+)?))_(rto|rpo|downtime|time):([^@\s]+)(?:@(\S+))?\s*$")
#: What :func:`parse_metric`'s errors are about (the CLI's ``--metric``).
SOURCE = "metric"


@dataclass(frozen=True)
class Metric:
    """A statistic of one outcome over the replicates, e.g. the P90 of tier-0 RTO.

    Attributes
    ----------
    text : str
        The metric as written, e.g. ``p90_rto:tier0``.
    stat : str
        ``"percentile"``, ``"p_meet"`` (the probability of meeting a bound) or ``"mean"``.
    key : str
        The outcome it is a statistic of, e.g. ``tier:tier0:rto``.
    q : float or None
        A percentile's level (0.9 for P90).
    target : float or None
        The bound ``p_meet`` counts against (seconds): the subject's target, or the one after ``@``.
    """

    text: str
    stat: str
    key: str
    q: float | None = None
    target: float | None = None

    @property
    def higher_is_better(self) -> bool:
        """A larger value is better (a probability of meeting a target); else smaller is."""
        return self.stat == "p_meet"

    @property
    def probability(self) -> bool:
        """The metric is a probability, not a duration."""
        return self.stat == "p_meet"

    @property
    def level(self) -> float:
        """A percentile metric's quantile level (0.9 for P90)."""
        assert self.q is not None, f"{self.text} is not a percentile"
        return self.q

    @property
    def bound(self) -> float:
        """The bound a ``p_meet`` metric counts against, in seconds."""
        assert self.target is not None, f"{self.text} has no bound"
        return self.target

    @property
    def column(self) -> str:
        """The column its value has in a result frame (:mod:`drsim.frames`): ``p90_s``, ``mean_s``, ``p_meet``."""
        return statistic_column(self.stat, self.q, unit_of(*split_key(self.key)[::2]))

    def identity(self, n: int) -> dict[str, object]:
        """The columns a result frame gives the metric: what it measures (``metric`` is the outcomes key),
        ``statistic`` (the metric as written) and, for a probability, the bound as ``target_s``."""
        out = {**identity(self.key, n), "statistic": self.text}
        if self.stat == "p_meet":
            out["target_s"] = self.bound
        return out

    def value(self, x: np.ndarray) -> float:
        """The statistic of per-replicate values ``x`` (seconds, or a probability)."""
        x = np.asarray(x, dtype=float)
        if self.stat == "percentile":
            return quantile(x, self.level)
        if self.stat == "p_meet":
            return float(np.mean(x <= self.bound))
        return float(np.mean(x))

    def values(self, xs: np.ndarray) -> np.ndarray:
        """The statistic of each row of ``xs`` (one row per what-if)."""
        return np.array([self.value(r) for r in xs])

    def effect(self, base: np.ndarray, new: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
        """``value(new) - value(base)`` on paired replicates, with a 95% interval.

        Percentiles: paired bootstrap; probabilities and means: the paired normal
        interval on the per-replicate differences (see :mod:`drsim.stats`).
        """
        if self.stat == "percentile":
            return paired_quantile_differences(base, new, [self.level], weights)[0]
        if self.stat == "p_meet":
            return mean_interval((new <= self.bound).astype(float) - (base <= self.bound).astype(float))
        with np.errstate(invalid="ignore"):
            return mean_interval(np.asarray(new, float) - np.asarray(base, float))

    def describe(self) -> str:
        """The metric in words for a title: ``P90 tier0 RTO``, ``P(tier0 RTO <= 3h)``, ``mean ehr-db RPO``."""
        _, subject, measure = self.key.split(":")
        what = f"{subject} {measure.upper() if measure in ('rto', 'rpo') else measure}"
        if self.stat == "percentile":
            return f"P{self.level * 100:g} {what}"
        if self.stat == "p_meet":
            return f"P({what} <= {format_duration(self.bound)})"
        return f"mean {what}"


def default_metric(plan: Plan) -> str:
    """The metric analyses read when none is given: the P90 RTO of the estate's most critical tier."""
    return f"p90_rto:{plan.topology.most_critical_tier()}"


def parse_metric(text: str | None, plan: Plan) -> Metric:
    """Read a metric such as ``p90_rto:tier0`` against the drill's plan (None: :func:`default_metric`)."""
    if text is None:
        text = default_metric(plan)
    m = METRIC_PATTERN.match(text or "")
    if not m:
        raise InputError(
            SOURCE,
            [
                Problem(
                    f"cannot read metric {text!r}; expected STAT_MEASURE:SUBJECT such as p90_rto:tier0, "
                    "p_meet_rto:tier0, mean_rpo:ehr-db or p90_downtime:medication-administration"
                )
            ],
        )
    stat, pct, measure, subject, bound = m.groups()
    topo = plan.topology
    if subject == "rollback":
        if measure != "time":
            raise InputError(SOURCE, [Problem("the rollback is measured by its time, e.g. p90_time:rollback")])
        key = "rollback:total:time"
    elif subject in MILESTONES:
        if measure != "time":
            raise InputError(
                SOURCE, [Problem(f"a decision milestone is measured by its time, e.g. p90_time:{subject}")]
            )
        key = f"milestone:{subject}:time"
    elif subject in topo.tiers:
        key = f"tier:{subject}:{measure}"
    elif subject in topo.services:
        key = f"service:{subject}:{measure}"
    elif subject in topo.workflows:
        key = f"workflow:{subject}:{measure}"
        if measure != "downtime":
            raise InputError(
                SOURCE, [Problem(f"workflow {subject!r} is measured by downtime, e.g. p90_downtime:{subject}")]
            )
    else:
        raise InputError(
            SOURCE,
            [
                Problem(
                    f"{subject!r} is not a tier, service or workflow of {topo.name!r}, nor 'rollback' or a "
                    f"decision milestone ({', '.join(MILESTONES)}){known_subjects(topo)}"
                )
            ],
        )
    if key.split(":")[0] in ("tier", "service") and measure not in ("rto", "rpo"):
        raise InputError(SOURCE, [Problem(f"{subject!r} is measured by rto or rpo, not {measure!r}")])
    target = targets(plan).get(key)
    if bound is not None:
        if stat != "p_meet":
            raise InputError(
                SOURCE, [Problem(f"a bound after '@' goes with p_meet, e.g. p_meet_{measure}:{subject}@{bound}")]
            )
        try:
            target = parse_duration(bound)
        except UnitError as exc:
            raise InputError(SOURCE, [Problem(f"bound {bound!r}: {exc}")]) from None
    if stat == "p_meet" and target is None:
        raise InputError(SOURCE, [Problem(f"{key} has no target, so P(meet) is undefined; use a percentile")])
    q = None
    if stat not in ("p_meet", "mean"):
        q = float(pct) / 100
        if not 0 < q < 1:
            raise InputError(SOURCE, [Problem(f"percentile {stat} must lie between p1 and p99")])
        stat = "percentile"
    return Metric(text=text.strip(), stat=stat, key=key, q=q, target=target)


def metric_values(metrics: dict[str, np.ndarray], key: str, n: int) -> np.ndarray:
    """The per-replicate values of ``key``; zero if the drill does not touch that subject."""
    if key in metrics:
        return metrics[key]
    return np.zeros(n)
