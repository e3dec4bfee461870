"""Backtesting: does the model predict the drills the team actually ran?

A calibrated model is one whose predictive distributions are honest: what
really happened should look like a draw from what was simulated. For each
observed value ``y`` of a metric (:mod:`drsim.calibrate.observed`) and the
metric's simulated sample ``x_1..x_n`` this module computes:

* the **PIT** (probability integral transform), the percentile the simulation
  gives the observation: ``(#{x_i < y} + U (#{x_i = y} + 1)) / (n + 1)`` with
  ``U`` uniform on (0, 1) from a fixed seed. If ``y`` is one more draw from the
  model this is *exactly* uniform on (0, 1), ties (a service never down, an RPO
  of 0) included;
* whether ``y`` falls in the central **80% and 90% intervals** (P10..P90, P5..P95);
* the **CRPS** (continuous ranked probability score, in the metric's unit: how
  far the whole predictive distribution is from what happened; lower is better)
  of the sample's empirical distribution, exactly:
  ``mean |x_i - y| - (1 / 2n^2) sum_ij |x_i - x_j|``, the double sum from the
  sorted sample as ``2 sum_i (2i - n - 1) x_(i)``, so O(n log n).

Across all observations:

* **coverage** of each interval, with its Wilson 95% interval and an exact
  binomial test against the nominal rate;
* a **uniformity test** of the PIT values: Kolmogorov–Smirnov against U(0, 1)
  (``scipy.stats.kstest``), and a z-test of their mean against 1/2 (a PIT has
  variance 1/12);
* the **verdict**: observations later than simulated (PIT mean above 1/2) mean
  the model is *too optimistic* — real recoveries take longer than it says;
  earlier, *too pessimistic*; a centred mean with a rejected KS test is a
  spread that is wrong (*too confident* when the observations crowd the tails,
  *too uncertain* when they crowd the middle); no test rejecting at 5% is
  *well calibrated* — consistent with the model, as far as this many
  observations can tell.

The tests treat observations as independent. Several metrics of one drill are
not (a tier's RTO is its worst service's), so a verdict from many metrics of a
few drills is bolder than it should be; scoring one metric per drill is the
honest test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats as sps

from ..errors import InputError, Problem
from ..model import Drill, Topology
from ..model.calibrated import CalibratedElement, listing
from ..model.units import format_duration
from ..stats import quantile, wilson
from ..sweep import build_spec, execute
from ..sweep.overlay import Overlay
from .observed import Observation, check_unique, load_observations, value_of
from .records import AT_LEAST

#: The central intervals scored, as coverage probabilities.
LEVELS = (0.8, 0.9)
#: Significance level of the verdict's tests.
ALPHA = 0.05
#: Replicates simulated by default.
DEFAULT_N = 20_000


# ------------------------------------------------------------------ scores of one observation


def pit(sample: np.ndarray, y: float, u: float) -> float:
    """The randomized PIT of ``y`` in ``sample`` (sorted ascending): its rank among n + 1 values, over n + 1.

    ``u`` in (0, 1) places ``y`` among the values equal to it; drawn uniformly,
    the result is uniform on (0, 1) whenever ``y`` is exchangeable with the sample.
    """
    below = int(np.searchsorted(sample, y, side="left"))
    equal = int(np.searchsorted(sample, y, side="right")) - below
    return (below + u * (equal + 1)) / (len(sample) + 1)


def censored_pit(sample: np.ndarray, c: float, u: float) -> float:
    """The randomized PIT of an observation known only to be at least ``c`` (``>=2h``), in ``sample``
    (sorted ascending): uniform between the simulated probability of being below ``c`` and 1.

    Under the model, the PIT of a value known to be at least ``c`` is uniform on
    (F(c), 1); drawing it there with ``u`` keeps the PIT of every observation
    uniform on (0, 1) when the drill's stopping time does not depend on the outcome.
    """
    below = int(np.searchsorted(sample, c, side="left")) / (len(sample) + 1)
    return below + u * (1.0 - below)


def crps(sample: np.ndarray, y: float) -> float:
    """The CRPS of the empirical distribution of ``sample`` (sorted ascending) at the observation ``y``.

    Exactly ``mean |x_i - y| - sum_ij |x_i - x_j| / (2 n^2)``, in O(n) for a
    sorted sample; ``inf`` if the sample or ``y`` holds ``inf`` (never) and they disagree.
    """
    x = np.asarray(sample, dtype=float)
    n = len(x)
    if math.isinf(y) and np.isinf(x).all():
        return 0.0
    if math.isinf(y) or np.isinf(x).any():
        return math.inf
    spread = float(np.dot(2 * np.arange(1, n + 1) - n - 1, x))  # = sum_ij |x_i - x_j| / 2
    return float(np.abs(x - y).mean()) - spread / (n * n)


@dataclass(frozen=True)
class Scored:
    """One observation against its simulated distribution."""

    observation: Observation
    #: The observed value, in the metric's unit (seconds for times).
    value: float
    unit: str
    pit: float
    #: The simulated P5, P10, P50, P90, P95.
    p5: float
    p10: float
    p50: float
    p90: float
    p95: float
    #: NaN for a censored observation: a score of the whole distribution needs the value itself.
    crps: float
    #: Whether only a lower bound was observed (``value`` is then that bound).
    censored: bool = False

    def inside(self, level: float) -> bool:
        """Whether the observation lies in the central ``level`` interval (0.8: P10..P90; 0.9: P5..P95).

        Whether a censored observation is inside is not known; its randomized PIT
        says (inside when the PIT is between the interval's tail probabilities, so
        one above the interval's top is always outside), which keeps the count
        binomial under the model.
        """
        if self.censored:
            tail = (1 - level) / 2
            return tail < self.pit < 1 - tail
        lo, hi = (self.p10, self.p90) if level == 0.8 else (self.p5, self.p95)
        return lo <= self.value <= hi


def score(obs: Observation, value: float, unit: str, sample: np.ndarray, u: float) -> Scored:
    """``obs`` (read as ``value``) against the sorted simulated ``sample``; ``u`` places it among ties."""
    p5, p10, p50, p90, p95 = (quantile(sample, p) for p in (0.05, 0.10, 0.50, 0.90, 0.95))
    if obs.censored:
        return Scored(obs, value, unit, censored_pit(sample, value, u), p5, p10, p50, p90, p95, math.nan, True)
    return Scored(obs, value, unit, pit(sample, value, u), p5, p10, p50, p90, p95, crps(sample, value))


# ------------------------------------------------------------------ across observations


@dataclass(frozen=True)
class Coverage:
    """How many observations a central interval held, against its nominal rate."""

    level: float
    inside: int
    n: int
    lo: float
    hi: float
    #: Exact two-sided binomial test of ``inside`` of ``n`` against ``level``.
    p_value: float

    @property
    def rate(self) -> float:
        return self.inside / self.n if self.n else math.nan


def coverage(scored: Sequence[Scored], level: float) -> Coverage:
    """The coverage of the central ``level`` interval, its Wilson 95% interval and binomial test."""
    k = sum(s.inside(level) for s in scored)
    n = len(scored)
    lo, hi = wilson(k, n)
    p = float(sps.binomtest(k, n, level).pvalue) if n else math.nan
    return Coverage(level, k, n, lo, hi, p)


@dataclass(frozen=True)
class Uniformity:
    """Whether the PIT values look uniform: their mean, spread and two tests."""

    n: int
    mean: float
    variance: float
    #: z-test of the mean against 1/2 (variance 1/12 under the model), two-sided.
    mean_p: float
    ks_statistic: float
    ks_p: float
    #: How many PIT values fell in each tenth of (0, 1): flat under the model.
    histogram: tuple[int, ...] = ()


def uniformity(pits: Sequence[float]) -> Uniformity:
    """The mean z-test and the Kolmogorov–Smirnov test of ``pits`` against U(0, 1)."""
    u = np.asarray(pits, dtype=float)
    m = len(u)
    mean = float(u.mean())
    z = (mean - 0.5) * math.sqrt(12 * m)
    ks = sps.kstest(u, "uniform")
    counts = np.bincount(np.minimum((u * 10).astype(int), 9), minlength=10)
    return Uniformity(
        m,
        mean,
        float(u.var()),
        float(2 * sps.norm.sf(abs(z))),
        float(ks.statistic),
        float(ks.pvalue),
        tuple(int(c) for c in counts),
    )


def verdict(u: Uniformity, alpha: float = ALPHA) -> tuple[str, str]:
    """A short verdict (``well calibrated``, ``too optimistic``, ...) and the sentence that explains it."""
    tests = (
        f"{u.n} observations; PIT mean {u.mean:.2f}, z-test p = {u.mean_p:.3g}; "
        f"Kolmogorov–Smirnov against uniform D = {u.ks_statistic:.3f}, p = {u.ks_p:.3g}"
    )
    if u.mean_p < alpha:
        if u.mean > 0.5:
            return "too optimistic", f"the model is too optimistic: real drills took longer than simulated ({tests})"
        return "too pessimistic", f"the model is too pessimistic: real drills were faster than simulated ({tests})"
    if u.ks_p < alpha:
        if u.variance > 1 / 12:
            return "too confident", (
                f"the model is too confident: observations fall in its tails more often than it says ({tests})"
            )
        return "too uncertain", f"the model is too uncertain: its spread is wider than real drills show ({tests})"
    return "well calibrated", (
        f"the model is well calibrated: the observations are consistent with it at the {alpha:.0%} level ({tests})"
    )


@dataclass(frozen=True)
class Backtest:
    """Every observation scored against one simulated drill, and what they say together."""

    drill: str
    topology: str
    n: int
    seed: int
    scored: tuple[Scored, ...]
    coverage: tuple[Coverage, ...]
    uniformity: Uniformity
    verdict: str
    explanation: str
    #: Mean CRPS per metric key, in the metric's unit.
    crps: dict[str, float] = field(default_factory=dict)
    #: Mean CRPS over every observation of a time (seconds).
    crps_time: float = math.nan
    #: The elements a calibration overlay set in the simulated model, with what each was fitted from.
    calibrated: tuple[CalibratedElement, ...] = ()

    def to_json_data(self) -> dict:
        """A JSON-ready record (seconds; ``null`` = never)."""

        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else x

        return {
            "drill": self.drill,
            "topology": self.topology,
            "n": self.n,
            "seed": self.seed,
            **({"calibrated": [e.to_dict() for e in self.calibrated]} if self.calibrated else {}),
            "observations": [
                {
                    "drill": s.observation.drill,
                    "date": s.observation.date,
                    "metric": s.observation.metric,
                    "observed": num(s.value),
                    "censored": s.censored,
                    "unit": s.unit,
                    "pit": s.pit,
                    "p5": num(s.p5),
                    "p10": num(s.p10),
                    "p50": num(s.p50),
                    "p90": num(s.p90),
                    "p95": num(s.p95),
                    "in_80": s.inside(0.8),
                    "in_90": s.inside(0.9),
                    "crps": num(s.crps),
                }
                for s in self.scored
            ],
            "coverage": [
                {"level": c.level, "inside": c.inside, "n": c.n, "rate": c.rate, "lo": c.lo, "hi": c.hi, "p": c.p_value}
                for c in self.coverage
            ],
            "crps": {k: num(v) for k, v in self.crps.items()},
            "crps_time": num(self.crps_time),
            "pit": {
                "mean": self.uniformity.mean,
                "mean_p": self.uniformity.mean_p,
                "ks_statistic": self.uniformity.ks_statistic,
                "ks_p": self.uniformity.ks_p,
                "histogram": list(self.uniformity.histogram),
            },
            "verdict": self.verdict,
            "explanation": self.explanation,
        }


def assess(scored: Sequence[Scored], drill: str = "", topology: str = "", n: int = 0, seed: int = 0) -> Backtest:
    """What the scored observations say together: coverage, mean CRPS, the PIT tests and the verdict."""
    u = uniformity([s.pit for s in scored])
    short, sentence = verdict(u)
    by_metric: dict[str, list[float]] = {}
    for s in scored:
        if not s.censored:
            by_metric.setdefault(s.observation.metric, []).append(s.crps)
    times = [s.crps for s in scored if s.unit == "s" and not s.censored]
    return Backtest(
        drill,
        topology,
        n,
        seed,
        tuple(scored),
        tuple(coverage(scored, level) for level in LEVELS),
        u,
        short,
        sentence,
        {k: float(np.mean(v)) for k, v in by_metric.items()},
        float(np.mean(times)) if times else math.nan,
    )


def check_metrics(observations: Sequence[Observation], produced: Sequence[str]) -> None:
    """Refuse an observation of a metric the drill does not produce, at its file, line and field,
    naming the metrics it does."""
    known = set(produced)
    for obs in observations:
        if obs.metric not in known:
            raise obs.problem(f"this drill produces no metric {obs.metric!r}; it produces {', '.join(sorted(known))}")


def score_all(
    observations: Sequence[Observation], samples: dict[str, np.ndarray], units: dict[str, str], seed: int = 0
) -> list[Scored]:
    """Score every observation against the simulated sample of its metric (``units``: each metric's unit).

    ``seed`` fixes the uniform draws that place observations among tied simulated values.
    """
    check_metrics(observations, list(samples))
    rng = np.random.default_rng([seed, 0xB7])
    sorted_samples = {k: np.sort(np.asarray(v, dtype=float)) for k, v in samples.items()}
    out = []
    for obs in observations:
        value = value_of(obs, units[obs.metric])
        out.append(score(obs, value, units[obs.metric], sorted_samples[obs.metric], float(rng.random())))
    return out


def backtest(
    observed: Sequence[str | Path] | Sequence[Observation],
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    n: int = DEFAULT_N,
    seed: int = 0,
    executor: str = "local",
    calibration: Sequence[str | Path | Overlay] = (),
) -> Backtest:
    """Score observed drills against ``n`` simulated replicates of ``drill``.

    ``observed`` is files of observed drills (:mod:`drsim.calibrate.observed`) or
    observations already read from them; ``drill`` and ``topology`` are names,
    paths or loaded models; ``calibration`` overlays are applied to them first
    (:mod:`drsim.sweep.overlay`) and listed in the result. Unreadable
    files and observations of metrics the drill does not produce are refused
    before anything is simulated.
    """
    files = [o for o in observed if not isinstance(o, Observation)]
    observations = (load_observations(files) if files else []) + [o for o in observed if isinstance(o, Observation)]
    check_unique(observations)
    if not observations:
        raise InputError("backtest", [Problem("no observations given")])
    spec = build_spec(drill, topology, n=n, seed=seed, keep_replicates=True, calibration=tuple(calibration))
    check_metrics(observations, spec.points[0].metrics)
    result = execute(spec, executor=executor)
    point = result.points[0]
    frame = result.to_frame()
    units = dict(zip(frame.metric, frame.unit))
    samples = {k: s.values for k, s in point.metrics.items() if s.values is not None}
    scored = score_all(observations, samples, units, seed)
    return dataclasses.replace(
        assess(scored, result.drill, result.topology, result.n, seed), calibrated=result.calibrated
    )


def describe(bt: Backtest) -> list[str]:
    """The backtest as people read it: one row per observation, then coverage, CRPS and the verdict."""
    drills = len({(s.observation.drill, s.observation.date) for s in bt.scored})
    lines = [
        f"backtest of {bt.drill} on {bt.topology}: {bt.n:,} simulated replicates (seed {bt.seed}), "
        f"{len(bt.scored)} observations from {drills} drills",
        "",
    ]
    rows = [("drill", "metric", "observed", "P10", "P50", "P90", "PIT", "80%", "90%", "CRPS")]
    for s in bt.scored:
        name = s.observation.drill + (f" ({s.observation.date})" if s.observation.date else "")
        rows.append(
            (
                name,
                s.observation.metric,
                (AT_LEAST if s.censored else "") + show(s.value, s.unit),
                show(s.p10, s.unit),
                show(s.p50, s.unit),
                show(s.p90, s.unit),
                f"{s.pit:.2f}",
                "in" if s.inside(0.8) else "OUT",
                "in" if s.inside(0.9) else "OUT",
                "-" if s.censored else show(s.crps, s.unit),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.extend(
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows
    )
    lines.append("")
    lines.extend(
        f"coverage of the central {c.level:.0%} interval: {c.inside}/{c.n} = {c.rate:.0%} "
        f"(95% interval {c.lo:.0%}-{c.hi:.0%}; exact binomial test against {c.level:.0%}: p = {c.p_value:.3g})"
        for c in bt.coverage
    )
    censored = sum(s.censored for s in bt.scored)
    if censored:
        lines.append(
            f"{censored} censored observation(s) (>=: had not happened when the drill stopped): scored by their "
            "randomized PIT between the simulated P(< bound) and 1; no CRPS"
        )
    if not math.isnan(bt.crps_time):
        lines.append(f"mean CRPS of the times: {format_duration(bt.crps_time)} (lower is better)")
    for metric, value in bt.crps.items():
        unit = next(s.unit for s in bt.scored if s.observation.metric == metric)
        lines.append(f"  {metric}: mean CRPS {show(value, unit)}")
    hist = " ".join(str(c) for c in bt.uniformity.histogram)
    lines.append(f"PIT histogram by tenths (flat if calibrated; later than simulated piles up right): {hist}")
    lines.append(f"verdict: {bt.explanation}")
    lines.extend(
        f"note: the central {c.level:.0%} interval held {c.inside} of {c.n}, "
        f"{'fewer' if c.rate < c.level else 'more'} than {c.level:.0%} of them (binomial test p = {c.p_value:.3g})"
        for c in bt.coverage
        if c.p_value < ALPHA
    )
    if bt.calibrated:
        lines += ["", *listing(bt.calibrated)]
    return lines


def show(value: float, unit: str) -> str:
    """A value as people read it: a duration for times, a number with its unit otherwise."""
    return format_duration(value) if unit == "s" else ("never" if math.isinf(value) else f"{value:,.4g} {unit}")


__all__ = [
    "ALPHA",
    "DEFAULT_N",
    "LEVELS",
    "Backtest",
    "Coverage",
    "Scored",
    "Uniformity",
    "assess",
    "backtest",
    "censored_pit",
    "check_metrics",
    "coverage",
    "crps",
    "describe",
    "pit",
    "score",
    "score_all",
    "show",
    "uniformity",
    "verdict",
]
