"""Comparing estates side by side on the same drills, with honest uncertainty.

A planner asks "how much better is the warm standby than backup and restore
on a night-time loss of the data centre?". :func:`compare` replays every drill
``n`` times against every topology and reports, per metric, its percentiles,
the probability of meeting its target, and the *difference* from the first
(baseline) topology with a 95% confidence interval.

**Common random numbers.** Every random element of a drill draws from a stream
keyed by the element's *name* (:mod:`drsim.engine.draws`). Two topologies that share
a service, a runbook step or a role get identical draws for it in every
replicate with the same seed: replicate ``r`` of the warm standby and replicate
``r`` of the pilot light see the same night — the same slow acknowledgement,
the same long triage — and differ only where the estates differ. So the
differences are paired, and much less noisy than two independent runs.

**Intervals** (all 95%):

* a mean difference is the mean of the per-replicate differences, with the
  paired normal interval ``mean ± 1.96 sd / sqrt(n)`` (central limit theorem
  on the differences; CRN makes their spread small);
* a difference in the probability of meeting a target is the same, on the
  per-replicate differences of the 0/1 "met" indicators;
* a difference between *percentiles* is not a mean of per-replicate
  differences (the P90 of a difference is not the difference of P90s), so the
  interval comes from a paired bootstrap: replicates are resampled jointly, so
  each resample keeps the pairing that CRN created, and the percentile
  interval of the resampled differences is reported. An order-statistic
  interval is exact for one percentile but knows nothing of the pairing: the
  two estates' intervals would overlap even when every replicate says one is
  faster;
* a single percentile gets the distribution-free order-statistic interval,
  and a single probability the Wilson score interval.

Percentiles use the inverted empirical CDF (the ``ceil(q n)``-th smallest
value), as :mod:`drsim.stats` does, so "P90 <= 15m" holds exactly when at
least 90% of replicates are within 15 minutes. A value of ``inf`` means never
restored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..api import prepare
from ..engine.outcomes import targets
from ..errors import InputError, Problem
from ..frames import (
    COMPARISON_KEYS,
    DIFFERENCES,
    DURATION_STATISTICS,
    columns,
    identity,
    sample_statistics,
    split_key,
)
from ..model import Drill, Topology
from ..model.calibrated import CalibratedElement, calibration_column
from ..model.loader import bundled_names, load_topology
from ..plan import Plan
from ..stats import PERCENTILES, bootstrap_weights, mean_interval, paired_quantile_differences
from ..sweep import sweep
from ..sweep.overlay import Overlay, apply_overlays, calibrated_elements, load_overlays

#: Kinds of metric a comparison reports (queues fold into their consumer's RPO).
KINDS = ("service", "tier", "workflow", "latency", "rollback")


# ------------------------------------------------------------------ running replicates


def simulate(plan: Plan, n: int, seed: int) -> dict[str, np.ndarray]:
    """Every metric of ``n`` replicates of ``plan`` (seconds), per replicate.

    A thin layer over :func:`drsim.sweep.sweep` (vectorized engine, every
    replicate kept): replicate ``r`` is the same replicate in every topology,
    every call and every sweep with this seed — number ``r`` of the chunked
    streams of :mod:`drsim.engine.draws`, replicate 0 being ``drsim drill --seed``.
    """
    if n < 1:
        raise InputError("compare", [Problem(f"the number of replicates must be at least 1, found {n}")])
    res = sweep(plan.drill, plan.topology, n=n, seed=seed, keep_replicates=True)
    metrics: dict[str, np.ndarray] = {}
    for key, summary in res.points[0].metrics.items():
        assert summary.values is not None, "a sweep that keeps its replicates keeps every value"
        metrics[key] = summary.values
    return metrics


# ------------------------------------------------------------------ metric keys


def _filler(key: str, n: int) -> np.ndarray:
    """The value of a metric an estate does not report: zero outage for services and tiers
    it does not lose, nothing (``nan``) for latencies of events that never happen."""
    kind = key.split(":", 1)[0]
    return np.zeros(n) if kind in ("service", "tier", "workflow") else np.full(n, np.nan)


# ------------------------------------------------------------------ the comparison


@dataclass
class Run:
    """The replicates of one drill against one topology."""

    drill: str
    topology: str
    plan: Plan
    metrics: dict[str, np.ndarray]
    targets: dict[str, float]


@dataclass
class ComparisonResult:
    """Every drill replayed ``n`` times against every topology, on common random numbers.

    ``topologies`` are labels, the baseline first; ``runs[(drill, label)]``
    holds each pair's per-replicate metrics.
    """

    topologies: list[str]
    drills: list[str]
    n: int
    seed: int
    runs: dict[tuple[str, str], Run] = field(repr=False)
    _frame: object = field(default=None, repr=False)
    #: The elements a calibration overlay set in every estate compared, with what each was fitted from.
    calibrated: tuple[CalibratedElement, ...] = ()

    @property
    def baseline(self) -> str:
        return self.topologies[0]

    def keys(self, drill: str) -> list[str]:
        """The metric keys reported for ``drill`` (union over topologies)."""
        keys: set[str] = set()
        for t in self.topologies:
            keys |= {k for k in self.runs[(drill, t)].metrics if k.split(":", 1)[0] in KINDS}
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted(keys, key=lambda k: (order[k.split(":", 1)[0]], k))

    def values(self, drill: str, topology: str, key: str) -> np.ndarray:
        """Per-replicate values of ``key`` (seconds); zeros if the estate does not lose that subject."""
        run = self.runs[(drill, topology)]
        if key in run.metrics:
            return run.metrics[key]
        return _filler(key, self.n)

    def target(self, drill: str, topology: str, key: str) -> float | None:
        t = self.runs[(drill, topology)].targets.get(key)
        if t is None:
            # a subject the estate did not lose still has its target in the topology
            t = _topology_target(self.runs[(drill, topology)].plan.topology, key)
        return t

    def _drill(self, drill: str | None) -> str:
        if drill is None:
            return self.drills[0]
        if drill not in self.drills:
            raise KeyError(f"drill {drill!r} is not in this comparison ({', '.join(self.drills)})")
        return drill

    # ---- tables
    def to_frame(self):
        """Tidy pandas DataFrame: one row per drill x estate x metric, in the columns of :mod:`drsim.frames`.

        Columns: ``drill, estate, baseline, affected``, then ``metric, kind,
        subject, measure, unit, n, never, target_s``, the percentiles
        ``p50_s, p90_s, p95_s, p99_s`` each with its 95% interval
        (``p90_lo_s``, ``p90_hi_s``), ``mean_s``, ``p_meet`` with
        ``p_meet_lo``/``p_meet_hi``, and the differences from the baseline
        estate with their 95% intervals: ``d_p50_s`` ... ``d_p99_hi_s``,
        ``d_mean_s``, ``d_mean_lo_s``, ``d_mean_hi_s``, ``d_p_meet``,
        ``d_p_meet_lo``, ``d_p_meet_hi``. With a calibration, a last column
        ``calibrated`` lists every calibrated element, its value and what it
        was fitted from (the same on every row).
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        if self._frame is not None:
            return self._frame.copy()
        rows = []
        for drill in self.drills:
            weights = bootstrap_weights(self.n, self.seed, drill)
            for key in self.keys(drill):
                base = self.values(drill, self.baseline, key)
                base_t = self.target(drill, self.baseline, key)
                for estate in self.topologies:
                    x = self.values(drill, estate, key)
                    t = self.target(drill, estate, key)
                    row: dict[str, object] = {
                        "drill": drill,
                        "estate": estate,
                        "baseline": self.baseline,
                        "affected": key in self.runs[(drill, estate)].metrics,
                        **identity(key, self.n),
                        **sample_statistics(x, t),
                    }
                    row.update(_differences(base, x, base_t, t, weights))
                    rows.append(row)
        self._frame = pd.DataFrame(rows, columns=[*columns(COMPARISON_KEYS, DURATION_STATISTICS), *DIFFERENCES])
        if self.calibrated:
            self._frame["calibrated"] = calibration_column(self.calibrated)
        return self._frame.copy()

    def costs(self):
        """What each estate's DR arrangements cost, as its topology states them (``services.S.recovery.cost``).

        One row per estate, the baseline first: ``estate``, ``currency``,
        ``one_off`` (setting the arrangements up) and ``per_year`` (running
        them), summed over its services, ``costed`` (how many services state a
        cost) and ``services`` (how many have a DR arrangement other than
        ``none``). An estate that states no cost has zeros and ``costed`` 0.
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        rows = []
        for estate in self.topologies:
            topo = self.runs[(self.drills[0], estate)].plan.topology
            costs = [s.recovery.cost for s in topo.services.values() if s.recovery.cost is not None]
            rows.append(
                {
                    "estate": estate,
                    "currency": topo.currency(),
                    "one_off": sum(c.one_off for c in costs),
                    "per_year": sum(c.per_year for c in costs),
                    "costed": len(costs),
                    "services": sum(s.recovery.strategy != "none" for s in topo.services.values()),
                }
            )
        return pd.DataFrame(rows)

    def summary(self, drill: str | None = None, keys: Sequence[str] | None = None):
        """A short table for one drill: the tier RTO/RPO rows (or ``keys``) of :meth:`to_frame`."""
        drill = self._drill(drill)
        df = self.to_frame()
        df = df[df["drill"] == drill]
        if keys is None:
            keys = [k for k in self.keys(drill) if k.startswith("tier:")]
        df = df[df["metric"].isin(list(keys))]
        order = {k: i for i, k in enumerate(keys)}
        estate_order = {t: i for i, t in enumerate(self.topologies)}
        return df.sort_values(
            by=["metric", "estate"], key=lambda s: s.map(order) if s.name == "metric" else s.map(estate_order)
        ).reset_index(drop=True)

    # ---- plots
    def tier_of(self, drill: str | None = None, tier: str | None = None) -> str:
        """``tier``, checked to be a tier of the baseline; by default the baseline's most critical tier."""
        topo = self.runs[(self._drill(drill), self.baseline)].plan.topology
        if tier is None:
            return topo.most_critical_tier()
        if tier not in topo.tiers:
            raise InputError(
                "tier", [Problem(f"{tier!r} is not a tier of {self.baseline!r} (its tiers: {', '.join(topo.tiers)})")]
            )
        return tier

    def plot_cdf(self, drill: str | None = None, tier: str | None = None, metric: str = "rto", ax=None):
        """Empirical CDF of a tier's achieved RTO (or RPO) per topology, target marked; returns the Axes.

        ``tier`` defaults to the baseline's most critical tier.
        """
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        drill = self._drill(drill)
        tier = self.tier_of(drill, tier)
        key = f"tier:{tier}:{metric}"
        series = {t: self.values(drill, t, key) for t in self.topologies}
        return plots.cdf(
            series,
            target=self.target(drill, self.baseline, key),
            what=f"achieved {tier} {metric.upper()}",
            title=f"{drill}: {tier} {metric.upper()} by estate (n = {self.n})",
            ax=ax,
        )

    def plot_rto_rpo(self, drill: str | None = None, tier: str | None = None, ax=None, max_points: int = 1500):
        """Each replicate's tier RTO against RPO per topology, with the tier's policy box; returns the Axes.

        ``tier`` defaults to the baseline's most critical tier.
        """
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        drill = self._drill(drill)
        tier = self.tier_of(drill, tier)
        points = {
            t: (self.values(drill, t, f"tier:{tier}:rto"), self.values(drill, t, f"tier:{tier}:rpo"))
            for t in self.topologies
        }
        return plots.rto_rpo(
            points,
            rto_target=self.target(drill, self.baseline, f"tier:{tier}:rto"),
            rpo_target=self.target(drill, self.baseline, f"tier:{tier}:rpo"),
            title=f"{drill}: {tier} recovery time against data loss (n = {self.n})",
            ax=ax,
            max_points=max_points,
        )

    def plot_differences(self, drill: str | None = None, key: str | None = None, stat: str = "p90", ax=None):
        """Each estate's difference from the baseline in one statistic, with its 95% interval.

        ``stat`` is ``p50``, ``p90``, ``p95``, ``p99``, ``mean`` or ``p_meet``
        (the ``d_`` columns of :meth:`to_frame`); ``key`` defaults to the RTO of
        the baseline's most critical tier.
        """
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        stat = stat.removesuffix("_s")
        sfx = "" if stat == "p_meet" else "_s"
        drill = self._drill(drill)
        key = key or f"tier:{self.tier_of(drill)}:rto"
        df = self.to_frame()
        df = df[(df["drill"] == drill) & (df["metric"] == key)].set_index("estate").loc[self.topologies]
        rows = [
            (t, df.loc[t, f"d_{stat}{sfx}"], df.loc[t, f"d_{stat}_lo{sfx}"], df.loc[t, f"d_{stat}_hi{sfx}"])
            for t in self.topologies[1:]
        ]
        _, subject, metric = split_key(key)
        return plots.differences(
            rows,
            what=f"{stat.upper()} {subject} {metric.upper()}"
            if stat != "p_meet"
            else f"P(meet {subject} {metric.upper()})",
            baseline=self.baseline,
            probability=stat == "p_meet",
            title=f"{drill}: difference from {self.baseline}",
            ax=ax,
        )

    def plot(self, drill: str | None = None, tier: str | None = None):
        """A two-panel figure for one drill: CDF of the tier's RTO, and RTO against RPO (default: the most
        critical tier of the baseline)."""
        import matplotlib.pyplot as plt  # imported on use: matplotlib loads only when a chart is drawn

        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
        self.plot_cdf(drill, tier, ax=a)
        self.plot_rto_rpo(drill, tier, ax=b)
        return fig


def _differences(
    base: np.ndarray, x: np.ndarray, base_t: float | None, t: float | None, weights: np.ndarray
) -> dict[str, float]:
    """The ``d_`` columns: an estate's differences from the baseline on the same replicates, with 95% intervals.

    Means and P(meet) take the paired normal interval of the per-replicate
    differences; percentiles the paired bootstrap (``weights``). Undefined
    (NaN) where either estate has an undefined value.
    """
    row: dict[str, float] = {}
    defined = not (np.any(np.isnan(x)) or np.any(np.isnan(base)))
    qs = [p / 100 for p in PERCENTILES]
    diffs = paired_quantile_differences(base, x, qs, weights) if defined else [(math.nan,) * 3 for _ in qs]
    for p, (dv, lo, hi) in zip(PERCENTILES, diffs):
        row[f"d_p{p}_s"], row[f"d_p{p}_lo_s"], row[f"d_p{p}_hi_s"] = dv, lo, hi
    with np.errstate(invalid="ignore"):
        row["d_mean_s"], row["d_mean_lo_s"], row["d_mean_hi_s"] = (
            mean_interval(x - base) if not np.any(np.isnan(x)) else (math.nan,) * 3
        )
    if t is not None and base_t is not None and defined:
        met = (x <= t).astype(float) - (base <= base_t).astype(float)
        row["d_p_meet"], row["d_p_meet_lo"], row["d_p_meet_hi"] = mean_interval(met)
    else:
        row["d_p_meet"] = row["d_p_meet_lo"] = row["d_p_meet_hi"] = math.nan
    return row


def _topology_target(topo: Topology, key: str) -> float | None:
    kind, subject, metric = split_key(key)
    if kind == "tier" and subject in topo.tiers:
        return getattr(topo.tiers[subject], metric, None)
    if kind == "service" and subject in topo.services:
        return getattr(topo.tiers[topo.services[subject].tier], metric, None)
    if kind == "workflow" and subject in topo.workflows and metric == "downtime":
        return topo.workflows[subject].tolerance
    return None


def _load_topology(t) -> Topology:
    return t if isinstance(t, Topology) else load_topology(t)


def _labels(topos: list[Topology], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(topos):
            raise InputError("compare", [Problem(f"{len(labels)} labels for {len(topos)} topologies")])
        if len(set(labels)) != len(labels):
            raise InputError("compare", [Problem("topology labels must be unique")])
        return labels
    out: list[str] = []
    for t in topos:
        name, k = t.name, 2
        while name in out:
            name = f"{t.name} ({k})"
            k += 1
        out.append(name)
    return out


def compare(
    topologies: Sequence[str | Path | Topology],
    drills: str | Path | Drill | Sequence[str | Path | Drill] | None = None,
    n: int = 2000,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    calibration: Sequence[str | Path | Overlay] = (),
) -> ComparisonResult:
    """Replay each drill ``n`` times against each topology on common random numbers.

    ``topologies`` are bundled names (``"warm-standby"``), file paths or loaded
    models; the first is the baseline every difference is taken from.
    ``drills`` is one drill or several (names, paths or models); ``None``
    means every bundled drill. Each drill is checked against each topology.
    ``calibration`` overlays (:mod:`drsim.sweep.overlay`) are written into every
    topology and drill first, and the result lists the elements they calibrate.
    """
    if len(topologies) < 1:
        raise InputError("compare", [Problem("give at least one topology")])
    topos = [_load_topology(t) for t in topologies]
    overlays = load_overlays(calibration)
    names = _labels(topos, labels)
    if drills is None:
        drills = bundled_names("drills")
    elif isinstance(drills, str | Path | Drill):
        drills = [drills]
    runs: dict[tuple[str, str], Run] = {}
    drill_names: list[str] = []
    for d in drills:
        dname = None
        for label, topo in zip(names, topos):
            if overlays:
                calibrated_topo, calibrated_drill = apply_overlays(d, topo, overlays)
                plan = prepare(calibrated_drill, calibrated_topo)
            else:
                plan = prepare(d, topo)
            dm = plan.drill
            dname = dm.name
            runs[(dm.name, label)] = Run(dm.name, label, plan, simulate(plan, n, seed), targets(plan))
        assert dname is not None, "at least one topology"
        if dname in drill_names:
            raise InputError("compare", [Problem(f"drill {dname!r} is given twice")])
        drill_names.append(dname)
    return ComparisonResult(
        names, drill_names, int(n), int(seed), runs, calibrated=calibrated_elements(overlays) if overlays else ()
    )
