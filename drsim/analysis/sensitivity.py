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
  interactions (total index)? Computed with SALib's Saltelli scheme.
* **Advice** (:func:`advise`): concrete changes to the estate — add a
  responder to a role on the shift that is on duty, move a service to the next
  better DR strategy, halve a backup interval, double an interface buffer —
  ranked by their effect on the metric, each with a 95% interval.

Every evaluation uses the same seed, so the same random numbers (common
random numbers, :mod:`drsim.engine.draws`): a what-if changes only what it changes,
and the differences are paired. Scaling a group's draws by ``k`` is exactly
the scaled distribution on the same random numbers (every duration
distribution is a scale family), so nothing is recompiled for sensitivity;
advice recompiles the changed estate, whose unchanged elements keep their
draws by name.

A **metric** is written ``STAT_MEASURE:SUBJECT``: ``p90_rto:tier0``,
``p99_rto:tier0``, ``mean_rto:ehr-db``, ``p_meet_rto:tier0`` (the probability
of meeting the target), ``p90_downtime:medication-administration``,
``p90_time:rollback``. The subject is a tier, a service, a workflow or
``rollback``. ``p_meet`` reads the subject's target unless a bound follows
``@``: ``p_meet_rto:tier0@3h`` is the probability that tier 0 is back within
three hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.draws import Draws
from ..errors import InputError, Problem
from ..model import Drill, Topology
from ..plan import Plan
from .compare import CHUNK, bootstrap_weights, mean_interval, paired_quantile_differences, quantile, simulate

_METRIC = re.compile(r"^\s*(p_meet|mean|p(\d{1,2}(?:\.\d+)?))_(rto|rpo|downtime|time):([^@\s]+)(?:@(\S+))?\s*$")
STRATEGY_LADDER = ("none", "backup-restore", "pilot-light", "warm-standby", "active-active")


# ------------------------------------------------------------------ metrics


@dataclass(frozen=True)
class Metric:
    """A statistic of one outcome over the replicates, e.g. the P90 of tier-0 RTO."""

    text: str
    stat: str  # "percentile", "p_meet" or "mean"
    key: str  # outcomes key, e.g. tier:tier0:rto
    q: float | None = None
    target: float | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.stat == "p_meet"

    @property
    def probability(self) -> bool:
        return self.stat == "p_meet"

    def value(self, x: np.ndarray) -> float:
        """The statistic of per-replicate values ``x`` (seconds, or a probability)."""
        x = np.asarray(x, dtype=float)
        if self.stat == "percentile":
            return quantile(x, self.q)
        if self.stat == "p_meet":
            return float(np.mean(x <= self.target))
        return float(np.mean(x))

    def values(self, xs: np.ndarray) -> np.ndarray:
        """The statistic of each row of ``xs`` (one row per what-if)."""
        return np.array([self.value(r) for r in xs])

    def effect(self, base: np.ndarray, new: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
        """``value(new) - value(base)`` on paired replicates, with a 95% interval.

        Percentiles: paired bootstrap; probabilities and means: the paired normal
        interval on the per-replicate differences (see :mod:`drsim.analysis.compare`).
        """
        if self.stat == "percentile":
            return paired_quantile_differences(base, new, [self.q], weights)[0]
        if self.stat == "p_meet":
            return mean_interval((new <= self.target).astype(float) - (base <= self.target).astype(float))
        with np.errstate(invalid="ignore"):
            return mean_interval(np.asarray(new, float) - np.asarray(base, float))

    def describe(self) -> str:
        _, subject, measure = self.key.split(":")
        what = f"{subject} {measure.upper() if measure in ('rto', 'rpo') else measure}"
        if self.stat == "percentile":
            return f"P{self.q * 100:g} {what}"
        if self.stat == "p_meet":
            from ..model.units import format_duration

            return f"P({what} <= {format_duration(self.target)})"
        return f"mean {what}"


def parse_metric(text: str, plan: Plan) -> Metric:
    """Read a metric such as ``p90_rto:tier0`` against the drill's plan."""
    from ..engine.outcomes import targets

    m = _METRIC.match(text or "")
    if not m:
        raise InputError(
            "--metric",
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
            raise InputError("--metric", [Problem("the rollback is measured by its time, e.g. p90_time:rollback")])
        key = "rollback:total:time"
    elif subject in topo.tiers:
        key = f"tier:{subject}:{measure}"
    elif subject in topo.services:
        key = f"service:{subject}:{measure}"
    elif subject in topo.workflows:
        key = f"workflow:{subject}:{measure}"
        if measure != "downtime":
            raise InputError(
                "--metric", [Problem(f"workflow {subject!r} is measured by downtime, e.g. p90_downtime:{subject}")]
            )
    else:
        raise InputError(
            "--metric", [Problem(f"{subject!r} is not a tier, service or workflow of {topo.name!r}, nor 'rollback'")]
        )
    if key.split(":")[0] in ("tier", "service") and measure not in ("rto", "rpo"):
        raise InputError("--metric", [Problem(f"{subject!r} is measured by rto or rpo, not {measure!r}")])
    target = targets(plan).get(key)
    if bound is not None:
        from ..model.units import UnitError, parse_duration

        if stat != "p_meet":
            raise InputError(
                "--metric", [Problem(f"a bound after '@' goes with p_meet, e.g. p_meet_{measure}:{subject}@{bound}")]
            )
        try:
            target = parse_duration(bound)
        except UnitError as exc:
            raise InputError("--metric", [Problem(f"bound {bound!r}: {exc}")]) from None
    if stat == "p_meet" and target is None:
        raise InputError("--metric", [Problem(f"{key} has no target, so P(meet) is undefined; use a percentile")])
    q = None
    if stat not in ("p_meet", "mean"):
        q = float(pct) / 100
        if not 0 < q < 1:
            raise InputError("--metric", [Problem(f"percentile {stat} must lie between p1 and p99")])
        stat = "percentile"
    return Metric(text=text.strip(), stat=stat, key=key, q=q, target=target)


def metric_values(metrics: dict[str, np.ndarray], key: str, n: int) -> np.ndarray:
    """The per-replicate values of ``key``; zero if the drill does not touch that subject."""
    if key in metrics:
        return metrics[key]
    return np.zeros(n)


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


def _scaled_replicates(
    plan: Plan, key: str, groups: dict[str, list[str]], names: Sequence[str], factors: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """``(rows, n)`` values of metric ``key`` with group ``names[j]``'s draws scaled by ``factors[i, j]``.

    Every row uses the same ``n`` replicates (the first ``n`` of ``seed``), so
    rows differ only by the scaling. Rows are run together in batches.
    """
    from ..engine import vectorized
    from ..engine.outcomes import evaluate

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

    def to_frame(self):
        """One row per parameter: value at low and high, swing, effect of each with 95% interval,
        and the Sobol indices if computed (``S1``, ``S1_conf``, ``ST``, ``ST_conf``)."""
        import pandas as pd

        df = pd.DataFrame(self.oat)
        if self.sobol is not None and len(df):
            s = pd.DataFrame(self.sobol)
            df = df.merge(s, on="parameter", how="left")
        df.insert(0, "metric", self.metric.text)
        return df

    def ranked(self, k: int | None = None) -> list[dict]:
        rows = sorted(
            self.oat, key=lambda r: (-abs(r["swing"]) if math.isfinite(r["swing"]) else -math.inf, r["parameter"])
        )
        return rows[:k] if k else rows

    def plot_tornado(self, k: int = 12, ax=None):
        """Tornado chart of the ``k`` largest swings; returns the Axes."""
        from ..report import plots

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
        from ..report import plots

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
    from ..api import prepare

    return drill if isinstance(drill, Plan) else prepare(drill, topology)


def one_at_a_time(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    metric: str = "p90_rto:tier0",
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
    xs = _scaled_replicates(plan, m.key, allg, names, factors, n, seed)
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
    metric: str = "p90_rto:tier0",
    n: int = 256,
    seed: int = 0,
    low: float = 0.5,
    high: float = 2.0,
    samples: int = 64,
    max_parameters: int = 8,
    groups: Sequence[str] | None = None,
) -> SensitivityResult:
    """Global sensitivity: Sobol first-order and total indices over the parameters' scale factors.

    Each parameter's factor is log-uniform on ``[low, high]``. To keep the
    number of model runs manageable (``samples * (d + 2)`` what-ifs of ``n``
    replicates each), the ``max_parameters`` parameters with the largest
    one-at-a-time swings (computed first, on the same replicates) take part
    unless ``groups`` names them; the others stay as modelled. ``samples``
    should be a power of two (Sobol sequence).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

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
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=int(seed) % (2**32))
    xs = _scaled_replicates(plan, res.metric.key, allg, names, np.exp2(x), n, seed)
    y = res.metric.values(xs)
    if not np.all(np.isfinite(y)):
        raise InputError(
            "sensitivity",
            [
                Problem(
                    f"{res.metric.describe()} is infinite in some what-ifs (never restored); Sobol indices need finite values"
                )
            ],
        )
    si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=int(seed) % (2**32))
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
        import pandas as pd

        return pd.DataFrame(
            [
                {self.x: xv, self.y: yv, "metric": self.metric.text, "value": self.values[i, j]}
                for i, yv in enumerate(self.ys)
                for j, xv in enumerate(self.xs)
            ]
        )

    def plot_heatmap(self, ax=None):
        """The grid as a heatmap with values in the cells; returns the Axes."""
        from ..report import plots

        return plots.heatmap(
            self.values,
            [f"x{v:g}" for v in self.xs],
            [f"x{v:g}" for v in self.ys],
            xlabel=f"{self.x}: durations scaled by (factor)",
            ylabel=f"{self.y}: durations scaled by (factor)",
            what=self.metric.describe() + ("" if self.metric.probability else " (duration)"),
            probability=self.metric.probability,
            title=f"{self.drill} on {self.topology} (n = {self.n})",
            ax=ax,
        )


def grid(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    x: tuple[str, Sequence[float]] = ("decision", (0.25, 0.5, 1.0, 2.0)),
    y: tuple[str, Sequence[float]] = ("runbook:ehr-db", (0.25, 0.5, 1.0, 2.0)),
    metric: str = "p_meet_rto:tier0@3h",
    n: int = 1000,
    seed: int = 0,
) -> GridResult:
    """A metric over a grid of two parameters' scale factors.

    By default: the probability that tier 0 is back within three hours, as the
    decision to fail over and the EHR database's runbook get faster or slower.
    """
    plan = _plan(drill, topology)
    m = parse_metric(metric, plan)
    allg = parameter_groups(plan)
    for g in (x[0], y[0]):
        if g not in allg:
            raise InputError("grid", [Problem(f"unknown parameter {g!r}; known: {', '.join(allg)}")])
    xs, ys = [float(v) for v in x[1]], [float(v) for v in y[1]]
    factors = np.array([[xv, yv] for yv in ys for xv in xs])
    vals = _scaled_replicates(plan, m.key, allg, [x[0], y[0]], factors, n, seed)
    z = m.values(vals).reshape(len(ys), len(xs))
    return GridResult(plan.drill.name, plan.topology.name, m, x[0], y[0], xs, ys, z, int(n), int(seed))


# ------------------------------------------------------------------ advice


@dataclass(frozen=True)
class Change:
    """A concrete change to the estate a planner could buy."""

    kind: str  # responder | strategy | backup | buffer
    subject: str
    description: str
    topology: Topology = field(repr=False, compare=False)


def _replace(model, **update):
    return model.model_copy(update=update)


def candidate_changes(plan: Plan, library: Sequence[Topology] = ()) -> list[Change]:
    """The changes :func:`advise` weighs for this drill on this estate.

    * one more person, on the shift on duty, in each role the drill needs;
    * each affected service moved to the next better DR strategy (backup-restore
      -> pilot light -> warm standby -> active-active), its runbook and data
      protection taken from a ``library`` topology that runs the same service
      under that strategy (by default the bundled strategy variants); a move to
      active-active is always possible: health-checked automatic failover and
      sub-second replication;
    * each affected service's backup interval halved;
    * each backed-up interface buffer doubled.
    """
    from ..model.checks import check_topology
    from ..model.distributions import parse_distribution
    from ..model.topology import Replication, Step
    from ..plan import shift_on_duty

    topo = plan.topology
    out: list[Change] = []
    used_roles = sorted(
        {t.role for t in plan.tasks if t.role}
        | {t.key.split(":")[1].split("#")[0] for t in plan.tasks if t.kind == "page"}
    )
    for role in used_roles:
        r = topo.staff[role]
        sh = shift_on_duty(r, plan.drill.start)
        if sh is None:
            continue
        shifts = [_replace(s, headcount=s.headcount + 1) if s is sh else s for s in r.shifts]
        t2 = _replace(topo, staff={**topo.staff, role: _replace(r, shifts=shifts)})
        article = "an" if role[:1] in "aeiou" else "a"
        out.append(
            Change(
                "responder",
                role,
                f"add {article} {role} to the {sh.name} shift ({sh.headcount} -> {sh.headcount + 1})",
                t2,
            )
        )

    for name in sorted(plan.outages):
        o = plan.outages[name]
        if not o.direct:
            continue
        svc = topo.services[name]
        cur = svc.recovery.strategy
        if cur not in STRATEGY_LADDER or cur == "active-active":
            continue
        nxt = STRATEGY_LADDER[STRATEGY_LADDER.index(cur) + 1]
        new = None
        for t in library:
            s2 = t.services.get(name)
            if (
                s2 is not None
                and s2.recovery.strategy == nxt
                and s2.region == svc.region
                and s2.recovery.standby_region is not None
            ):
                new = _replace(svc, recovery=s2.recovery, data=s2.data, local_ha=s2.local_ha or svc.local_ha)
                break
        if new is None and nxt == "active-active" and svc.recovery.standby_region is not None:
            data = svc.data
            if data is not None and data.replication is not None and data.replication.mode == "async":
                data = _replace(
                    data, replication=Replication(mode="async", lag=parse_distribution("lognormal(p50=500ms, p95=2s)"))
                )
            rec = _replace(
                svc.recovery,
                strategy="active-active",
                steps=[
                    Step(
                        name="health checks fail and traffic shifts to the live copy",
                        duration=parse_distribution("uniform(1m30s, 2m30s)"),
                    )
                ],
                validate_=None,
            )
            new = _replace(svc, recovery=rec, data=data)
        if new is None:
            continue
        t2 = _replace(topo, services={**topo.services, name: new})
        if check_topology(t2):
            continue
        out.append(Change("strategy", name, f"move {name} from {cur} to {nxt}", t2))

    for name in sorted(plan.outages):
        d = topo.services[name].data
        if d is None or d.backup_interval is None:
            continue
        item = plan.rpo_items[plan.outages[name].rpo] if plan.outages[name].rpo >= 0 else None
        if item is None or item.kind not in ("backup", "corruption"):
            continue
        from ..model.units import format_duration

        svc = _replace(topo.services[name], data=_replace(d, backup_interval=d.backup_interval / 2))
        t2 = _replace(topo, services={**topo.services, name: svc})
        out.append(
            Change(
                "backup",
                name,
                f"back up {name} every {format_duration(d.backup_interval / 2)} instead of {format_duration(d.backup_interval)}",
                t2,
            )
        )

    for qname, q in sorted(topo.queues.items()):
        if q.consumer not in plan.outages:
            continue
        t2 = _replace(topo, queues={**topo.queues, qname: _replace(q, buffer=q.buffer * 2)})
        out.append(
            Change("buffer", qname, f"double the {qname} buffer ({q.buffer:,} -> {q.buffer * 2:,} messages)", t2)
        )
    return out


@dataclass
class AdviceResult:
    """Candidate changes ranked by how much they improve the metric."""

    drill: str
    topology: str
    metric: Metric
    n: int
    seed: int
    base: float
    rows: list[dict]

    def to_frame(self):
        """One row per change, best first: value after the change, effect and its 95% interval."""
        import pandas as pd

        df = pd.DataFrame(self.rows)
        df.insert(0, "metric", self.metric.text)
        return df

    def top(self, k: int = 10) -> list[dict]:
        return self.rows[:k]

    def plot(self, k: int = 10, ax=None):
        """The ``k`` best changes' effects with their 95% intervals; returns the Axes."""
        from ..report import plots

        rows = [(r["change"], r["effect"], r["effect_lo"], r["effect_hi"]) for r in self.top(k)]
        return plots.differences(
            rows,
            what=self.metric.describe(),
            baseline=f"{self.topology} as it is",
            probability=self.metric.probability,
            title=f"{self.drill}: what buys the most (n = {self.n})",
            ax=ax,
        )


def advise(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    metric: str = "p90_rto:tier0",
    n: int = 2000,
    seed: int = 0,
    library: Sequence[str | Path | Topology] | None = None,
) -> AdviceResult:
    """Rank :func:`candidate_changes` by their effect on ``metric``, on common random numbers.

    ``library`` lists topologies to borrow a service's runbook under a better
    DR strategy from (default: the bundled strategy variants). Changes that do
    not move the metric are listed last.
    """
    from ..model.loader import bundled_names, load_drill, load_topology
    from ..plan.compile import compile_plan

    topo = topology if isinstance(topology, Topology) else load_topology(topology)
    d = drill if isinstance(drill, Drill) else load_drill(drill, topo)
    plan = compile_plan(topo, d)
    m = parse_metric(metric, plan)
    if library is None:
        names = [s for s in STRATEGY_LADDER if s in bundled_names("topologies")]
        library = [load_topology(s) for s in names]
    lib = [t if isinstance(t, Topology) else load_topology(t) for t in library]
    base_x = metric_values(simulate(plan, n, seed), m.key, n)
    base = m.value(base_x)
    weights = bootstrap_weights(n, seed, f"advise:{d.name}")
    rows = []
    for ch in candidate_changes(plan, lib):
        try:
            p2 = compile_plan(ch.topology, d)
        except InputError:
            continue
        x = metric_values(simulate(p2, n, seed), m.key, n)
        eff, lo, hi = m.effect(base_x, x, weights)
        gain = eff if m.higher_is_better else -eff
        rows.append(
            {
                "change": ch.description,
                "kind": ch.kind,
                "subject": ch.subject,
                "value": m.value(x),
                "effect": eff,
                "effect_lo": lo,
                "effect_hi": hi,
                "improves": bool(
                    math.isfinite(lo) and math.isfinite(hi) and (lo > 0 if m.higher_is_better else hi < 0)
                ),
                "_gain": gain,
            }
        )
    rows.sort(key=lambda r: (-(r["_gain"] if math.isfinite(r["_gain"]) else -math.inf), r["change"]))
    for r in rows:
        del r["_gain"]
    return AdviceResult(d.name, topo.name, m, int(n), int(seed), base, rows)
