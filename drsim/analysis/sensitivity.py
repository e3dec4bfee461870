"""What drives the tail of recovery, and which change buys the most.

Three questions a planner asks of one drill on one estate:

* **One at a time** (:func:`one_at_a_time`): if acknowledging a page took half
  as long, or twice as long — or the decision, or a service's runbook — how
  far would the metric move? Each *parameter* is a group of random durations
  (every page of one role, every step of one service's runbook, detection,
  the decision...) whose draws are scaled by a factor, low and high. The
  result is a tornado chart, biggest swing first.
* **Global** (:func:`sobol`): with every parameter uncertain at once (each
  scale factor log-uniform between low and high), what share of the metric's
  variance does each explain alone (first-order Sobol index) and with its
  interactions (total index)? Computed with SALib's Saltelli scheme, with as
  many samples as it takes for every index's 95% interval to be at most
  ``width`` wide (doubling from :data:`FIRST_SAMPLES` up to a cap); short of
  that, the result says how many samples would do.
* **Grid** (:func:`grid`): the metric over a grid of two parameters' scale
  factors — how fast must the decision and the runbook both be?

The third question, which concrete change to the estate buys the most, is
answered by :mod:`drsim.analysis.advise`.

Every evaluation uses the same seed, so the same random numbers (common
random numbers, :mod:`drsim.engine.draws`): a what-if changes only what it changes,
and the differences are paired. Scaling a group's draws by ``k`` is exactly
the scaled distribution on the same random numbers (every duration
distribution is a scale family), so nothing is recompiled for sensitivity;
advice recompiles the changed estate, whose unchanged elements keep their
draws by name.

The metric is written ``STAT_MEASURE:SUBJECT``, e.g. ``p90_rto:tier0``
(:mod:`drsim.analysis.metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..api import prepare
from ..engine import vectorized
from ..engine.draws import Draws
from ..engine.outcomes import evaluate
from ..errors import InputError, Problem
from ..extras import require
from ..frames import COUNT, SECONDS, interval_columns
from ..model import Drill, Topology
from ..plan import Plan
from ..stats import bootstrap_weights
from .metrics import Metric, metric_values, parse_metric

#: Replicates of one what-if run together (one chunk of the streams of :mod:`drsim.engine.draws`).
CHUNK = 65536
#: Sobol base samples tried first when sizing them automatically; then doubled.
FIRST_SAMPLES = 256
#: The widest 95% interval of a Sobol index accepted by default.
SOBOL_WIDTH = 0.1
#: The most Sobol base samples tried by default.
MAX_SAMPLES = 4096


# ------------------------------------------------------------------ parameters


def parameter_groups(plan: Plan) -> dict[str, list[str]]:
    """The uncertain parameters of a drill: named groups of its random elements.

    ``acknowledge:ROLE`` (every page of that role), ``break-glass:ROLE``,
    ``runbook:SERVICE`` (its failover, restore or zone-failover steps and
    validation), ``restart:SERVICE`` (coming back in place), ``detection``,
    ``triage``, ``decision``, ``communicate``, ``rollback``, ``fault-duration``
    (how long the site or service stays down), ``replication-lag:SERVICE``,
    ``backup-age:SERVICE`` (scaling it is scaling the backup interval) and
    ``dwell`` (how long corruption went unnoticed).
    """
    groups: dict[str, list[str]] = {}
    for name in plan.elements():
        groups.setdefault(_group_of(name), []).append(name)
    return dict(sorted(groups.items()))


def _group_of(element: str) -> str:
    if element.startswith("task:"):
        key = element[5:]
        head = key.split(":", 1)[0]
        if head == "page":
            return "acknowledge:" + key.split(":", 1)[1].split("#", 1)[0]
        if head == "detect":
            return "detection"
        if head in ("triage", "communicate"):
            return head
        if head == "declare":
            return "decision"
        if head == "break-glass":
            return key
        if head == "fault-end":
            return "fault-duration"
        if head == "rollback":
            return "rollback"
        if head == "svc":
            parts = key.split(":")
            return f"restart:{parts[1]}" if parts[2] == "restart" else f"runbook:{parts[1]}"
        return key
    if element.startswith("data:"):
        _, svc, what = element.split(":", 2)
        return f"{what}:{svc}"
    if element.startswith("fault:") and element.endswith(":dwell"):
        return "dwell"
    return element


# ------------------------------------------------------------------ batched what-ifs


def scaled_replicates(
    plan: Plan, key: str, groups: dict[str, list[str]], names: Sequence[str], factors: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """``(rows, n)`` values of metric ``key`` with group ``names[j]``'s draws scaled by ``factors[i, j]``.

    Every row uses the same ``n`` replicates (the first ``n`` of ``seed``), so
    rows differ only by the scaling. Rows are run together in batches.
    """
    if n > CHUNK:
        raise InputError("sensitivity", [Problem(f"at most {CHUNK} replicates per what-if, found {n}")])
    base = Draws.sample(plan.elements(), seed, n)
    kp = vectorized.prepare(plan)
    factors = np.atleast_2d(np.asarray(factors, dtype=float))
    rows = factors.shape[0]
    out = np.empty((rows, n))
    per = max(1, CHUNK // n)
    scaled_elements = {e: j for j, g in enumerate(names) for e in groups[g]}
    for s in range(0, rows, per):
        f = factors[s : s + per]
        r = f.shape[0]
        values = {}
        for e, v in base.values.items():
            tiled = np.tile(v, r)
            if e in scaled_elements:
                tiled = tiled * np.repeat(f[:, scaled_elements[e]], n)
            values[e] = tiled
        d = Draws(base.seed, 0, r * n, values)
        fin = vectorized.finish_times(plan, d, kp=kp)
        out[s : s + r] = metric_values(evaluate(plan, d, fin), key, r * n).reshape(r, n)
    return out


# ------------------------------------------------------------------ one at a time


@dataclass
class SensitivityResult:
    """One-at-a-time swings (and, if computed, Sobol indices) of a metric."""

    drill: str
    topology: str
    metric: Metric
    n: int
    seed: int
    low: float
    high: float
    base: float
    oat: list[dict] = field(default_factory=list)
    sobol: list[dict] | None = None
    samples: int | None = None
    widest: float | None = None
    width: float = SOBOL_WIDTH
    samples_needed: int | None = None

    @property
    def sure_enough(self) -> bool:
        """Whether every Sobol index's 95% interval is at most ``width`` wide."""
        return self.widest is not None and self.widest <= self.width

    def sobol_note(self) -> str:
        """How sure the Sobol indices are: the samples used and the widest 95% interval, and, when
        that is wider than ``width``, the samples that would bring it within it."""
        if self.sobol is None or self.widest is None:
            return ""
        said = f"Sobol indices from {self.samples} samples; widest 95% interval {self.widest:.3f}"
        if self.sure_enough:
            return f"{said} (at most {self.width:g})"
        return (
            f"{said}, wider than {self.width:g}: about {self.samples_needed} samples would narrow every interval "
            f"to {self.width:g} (intervals shrink as 1/sqrt(samples)); run with --samples {self.samples_needed}"
        )

    def to_frame(self):
        """Tidy, in the columns of :mod:`drsim.frames`: one row per parameter x scale factor (low, high).

        ``parameter``, ``elements`` (random durations in the group), ``scale`` (the factor its
        durations are scaled by), what the metric measures (``metric``, ``kind``, ``subject``,
        ``measure``, ``unit``, ``n``, ``statistic``; ``target_s`` for a probability), its value
        at that scale in the statistic's column (``p90_s``, ``mean_s`` or ``p_meet``), the
        effect from the metric as modelled with its 95% interval (``d_p90_s``, ``d_p90_lo_s``,
        ``d_p90_hi_s``), the parameter's ``swing`` (high minus low: ``swing_s``), and the Sobol
        indices if computed (``S1``, ``S1_conf``, ``ST``, ``ST_conf``; NaN for a parameter left
        out of them).
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        col = self.metric.column
        lo, hi = interval_columns(col)
        swing = "swing" + next((s for s in (SECONDS, COUNT) if col.endswith(s)), "")
        sobol = {r["parameter"]: r for r in self.sobol or []}
        indices = [k for k in (self.sobol or [{}])[0] if k != "parameter"]
        rows = []
        for r in self.oat:
            for side, scale in (("low", self.low), ("high", self.high)):
                row = {"parameter": r["parameter"], "elements": r["elements"], "scale": scale}
                row.update(self.metric.identity(self.n))
                row[col] = r[f"value_{side}"]
                row[f"d_{col}"], row[f"d_{lo}"], row[f"d_{hi}"] = (r[f"effect_{side}{p}"] for p in ("", "_lo", "_hi"))
                row[swing] = r["swing"]
                row.update({k: sobol.get(r["parameter"], {}).get(k, math.nan) for k in indices})
                rows.append(row)
        return pd.DataFrame(rows)

    def ranked(self, k: int | None = None) -> list[dict]:
        rows = sorted(
            self.oat, key=lambda r: (-abs(r["swing"]) if math.isfinite(r["swing"]) else -math.inf, r["parameter"])
        )
        return rows[:k] if k else rows

    def plot_tornado(self, k: int = 12, ax=None):
        """Tornado chart of the ``k`` largest swings; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        rows = [(r["parameter"], r["value_low"], r["value_high"]) for r in self.ranked(k)]
        return plots.tornado(
            rows,
            self.base,
            what=self.metric.describe(),
            low_label=f"durations x{self.low:g}",
            high_label=f"durations x{self.high:g}",
            probability=self.metric.probability,
            title=f"{self.drill} on {self.topology}: what moves {self.metric.describe()} (n = {self.n})",
            ax=ax,
        )

    def plot_sobol(self, ax=None):
        """First-order and total Sobol indices; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        if not self.sobol:
            raise ValueError("no Sobol indices: run with method='sobol'")
        rows = sorted(self.sobol, key=lambda r: -r["ST"])
        return plots.sobol(
            [r["parameter"] for r in rows],
            [r["S1"] for r in rows],
            [r["ST"] for r in rows],
            first_conf=[r["S1_conf"] for r in rows],
            total_conf=[r["ST_conf"] for r in rows],
            title=f"{self.drill} on {self.topology}: share of variance in {self.metric.describe()}",
            ax=ax,
        )


def _plan(drill, topology) -> Plan:
    """The plan of ``drill`` on ``topology``, compiling them unless ``drill`` already is one."""
    return drill if isinstance(drill, Plan) else prepare(drill, topology)


def one_at_a_time(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    metric: str | None = None,
    n: int = 2000,
    seed: int = 0,
    low: float = 0.5,
    high: float = 2.0,
    groups: Sequence[str] | None = None,
) -> SensitivityResult:
    """Scale each parameter's durations by ``low`` and by ``high``, one at a time.

    Each effect (value at low or high minus the value as modelled) comes with a
    95% interval from the paired replicates.
    """
    if not (0 < low < 1 < high):
        raise InputError("sensitivity", [Problem(f"need 0 < low < 1 < high, found low={low}, high={high}")])
    plan = _plan(drill, topology)
    m = parse_metric(metric, plan)
    allg = parameter_groups(plan)
    names = list(groups) if groups is not None else list(allg)
    unknown = [g for g in names if g not in allg]
    if unknown:
        raise InputError("sensitivity", [Problem(f"unknown parameter {unknown[0]!r}; known: {', '.join(allg)}")])
    k = len(names)
    factors = np.ones((2 * k + 1, k))
    for j in range(k):
        factors[1 + 2 * j, j] = low
        factors[2 + 2 * j, j] = high
    xs = scaled_replicates(plan, m.key, allg, names, factors, n, seed)
    weights = bootstrap_weights(n, seed, f"sensitivity:{plan.drill.name}")
    base = m.value(xs[0])
    rows = []
    for j, g in enumerate(names):
        lo_v, hi_v = m.value(xs[1 + 2 * j]), m.value(xs[2 + 2 * j])
        e_lo = m.effect(xs[0], xs[1 + 2 * j], weights)
        e_hi = m.effect(xs[0], xs[2 + 2 * j], weights)
        with np.errstate(invalid="ignore"):
            swing = hi_v - lo_v
        rows.append(
            {
                "parameter": g,
                "elements": len(allg[g]),
                "value_low": lo_v,
                "value_high": hi_v,
                "swing": swing,
                "effect_low": e_lo[0],
                "effect_low_lo": e_lo[1],
                "effect_low_hi": e_lo[2],
                "effect_high": e_hi[0],
                "effect_high_lo": e_hi[1],
                "effect_high_hi": e_hi[2],
            }
        )
    return SensitivityResult(plan.drill.name, plan.topology.name, m, int(n), int(seed), low, high, base, rows)


def sobol(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    metric: str | None = None,
    n: int = 256,
    seed: int = 0,
    low: float = 0.5,
    high: float = 2.0,
    samples: int | None = None,
    max_parameters: int = 8,
    groups: Sequence[str] | None = None,
    width: float = SOBOL_WIDTH,
    max_samples: int = MAX_SAMPLES,
) -> SensitivityResult:
    """Global sensitivity: Sobol first-order and total indices over the parameters' scale factors.

    Each parameter's factor is log-uniform on ``[low, high]``. To keep the
    number of model runs manageable (``samples * (d + 2)`` what-ifs of ``n``
    replicates each), the ``max_parameters`` parameters with the largest
    one-at-a-time swings (computed first, on the same replicates) take part
    unless ``groups`` names them; the others stay as modelled.

    ``samples`` (base samples of the Sobol sequence, a power of two) fixes the
    sample size; by default it is sized: from :data:`FIRST_SAMPLES`, doubled
    until the widest 95% interval of any index (``S1`` or ``ST``, twice SALib's
    ``_conf`` half-width) is at most ``width``, or ``max_samples`` is reached.
    Each doubling keeps the what-ifs already run (a longer Sobol sequence
    begins with the shorter one). The result records the samples, the widest
    interval and, if it is still wider than ``width``, the samples needed
    (``samples_needed``; :meth:`SensitivityResult.sobol_note`).
    """
    require("sensitivity", "Sobol indices")  # before any work: SALib comes with drsim[sensitivity]
    # imported on use, for start-up time and as an optional dependency: SALib takes over half a second to import
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if not width > 0:
        raise InputError("sensitivity", [Problem(f"the interval width must be positive, found {width}")])
    plan = _plan(drill, topology)
    res = one_at_a_time(plan, None, metric, n=n, seed=seed, low=low, high=high)
    allg = parameter_groups(plan)
    if groups is None:
        moving = [r for r in res.ranked() if math.isfinite(r["swing"]) and r["swing"] != 0]
        names = [r["parameter"] for r in moving[:max_parameters]]
    else:
        names = list(groups)
    if len(names) < 2:
        raise InputError(
            "sensitivity",
            [
                Problem(
                    f"{res.metric.describe()} moves with fewer than two parameters here; Sobol indices need two or more"
                )
            ],
        )
    problem = {"num_vars": len(names), "names": names, "bounds": [[math.log2(low), math.log2(high)]] * len(names)}
    size = samples if samples is not None else min(FIRST_SAMPLES, max_samples)
    cap = samples if samples is not None else max(max_samples, size)
    x_done = np.empty((0, len(names)))
    y = np.empty(0)
    while True:
        x = sobol_sample.sample(problem, size, calc_second_order=False, seed=int(seed) % (2**32))
        if not np.array_equal(x[: len(x_done)], x_done):  # not a continuation: run every what-if again
            x_done, y = x_done[:0], y[:0]
        xs = scaled_replicates(plan, res.metric.key, allg, names, np.exp2(x[len(x_done) :]), n, seed)
        y = np.concatenate([y, res.metric.values(xs)])
        x_done = x
        if not np.all(np.isfinite(y)):
            raise InputError(
                "sensitivity",
                [
                    Problem(
                        f"{res.metric.describe()} is infinite in some what-ifs (never restored); "
                        "Sobol indices need finite values"
                    )
                ],
            )
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=int(seed) % (2**32))
        widest = 2 * float(np.nanmax(np.concatenate([si["S1_conf"], si["ST_conf"]])))
        if widest <= width or size >= cap:
            break
        size = min(2 * size, cap)
    res.sobol = [
        {
            "parameter": g,
            "S1": float(si["S1"][j]),
            "S1_conf": float(si["S1_conf"][j]),
            "ST": float(si["ST"][j]),
            "ST_conf": float(si["ST_conf"][j]),
        }
        for j, g in enumerate(names)
    ]
    res.samples, res.widest, res.width = int(size), widest, float(width)
    if widest > width:
        res.samples_needed = 2 ** math.ceil(math.log2(size * (widest / width) ** 2))
    return res


# ------------------------------------------------------------------ grid


@dataclass
class GridResult:
    """A metric over a grid of two parameters' scale factors (``values[i, j]`` at ``ys[i]``, ``xs[j]``)."""

    drill: str
    topology: str
    metric: Metric
    x: str
    y: str
    xs: list[float]
    ys: list[float]
    values: np.ndarray
    n: int
    seed: int

    def to_frame(self):
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        return pd.DataFrame(
            [
                {self.x: xv, self.y: yv, "metric": self.metric.text, "value": self.values[i, j]}
                for i, yv in enumerate(self.ys)
                for j, xv in enumerate(self.xs)
            ]
        )

    def plot_heatmap(self, ax=None):
        """The grid as a heatmap with values in the cells; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        return plots.heatmap(
            self.values,
            [f"x{v:g}" for v in self.xs],
            [f"x{v:g}" for v in self.ys],
            xlabel=plots.scaled_axis(self.x),
            ylabel=plots.scaled_axis(self.y),
            what=self.metric.describe() + ("" if self.metric.probability else " (duration)"),
            probability=self.metric.probability,
            title=f"{self.drill} on {self.topology} (n = {self.n})",
            ax=ax,
        )


#: The scale factors a grid axis takes when none are given.
GRID_FACTORS = (0.25, 0.5, 1.0, 2.0)


def critical_runbook(plan: Plan, groups: dict[str, list[str]]) -> str | None:
    """``runbook:SERVICE`` for the first service (in the estate's order) of the most critical tier that
    has uncertain runbook durations in the drill, trying the next tier when that one has none."""
    topo = plan.topology
    for tier in sorted(topo.tiers, key=topo.tier_rank):
        for name, svc in topo.services.items():
            if svc.tier == tier and f"runbook:{name}" in groups:
                return f"runbook:{name}"
    return None


def grid(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    x: tuple[str, Sequence[float]] | None = None,
    y: tuple[str, Sequence[float]] | None = None,
    metric: str | None = None,
    n: int = 1000,
    seed: int = 0,
) -> GridResult:
    """A metric over a grid of two parameters' scale factors.

    By default, from the estate itself: the P90 RTO of its most critical tier
    (:func:`~drsim.analysis.metrics.default_metric`, as every analysis), as the
    decision to fail over (``x``) and the runbook of that tier's first service
    with uncertain runbook durations (``y``, see :func:`critical_runbook`) are
    scaled by 0.25, 0.5, 1 and 2. Where the drill has no decision, ``x`` is its
    first other parameter.
    """
    plan = _plan(drill, topology)
    m = parse_metric(metric, plan)
    allg = parameter_groups(plan)
    if y is None:
        y = (critical_runbook(plan, allg) or next(iter(allg), "decision"), GRID_FACTORS)
    if x is None:
        x = (
            "decision" if "decision" in allg and y[0] != "decision" else next((g for g in allg if g != y[0]), ""),
            GRID_FACTORS,
        )
    for g in (x[0], y[0]):
        if g not in allg:
            raise InputError("grid", [Problem(f"unknown parameter {g!r}; known: {', '.join(allg)}")])
    xs, ys = [float(v) for v in x[1]], [float(v) for v in y[1]]
    factors = np.array([[xv, yv] for yv in ys for xv in xs])
    vals = scaled_replicates(plan, m.key, allg, [x[0], y[0]], factors, n, seed)
    z = m.values(vals).reshape(len(ys), len(xs))
    return GridResult(plan.drill.name, plan.topology.name, m, x[0], y[0], xs, ys, z, int(n), int(seed))
