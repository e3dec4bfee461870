"""Advice: which changes to the estate buy the most recovery on one drill, for the money.

A planner with a budget asks "what should we fix first?". :func:`advise` weighs concrete
changes to the estate (:mod:`drsim.analysis.changes`: one more responder on the shift on duty,
a service one rung up the DR-strategy ladder, a backup interval halved, an interface buffer
doubled) by replaying the drill on each changed estate, and reads a metric
(:mod:`drsim.analysis.metrics`) with a 95% interval on its effect.

With a **budget**, each change has a cost (:mod:`drsim.model.costs`: ``one_off + years x
per_year``), and changes are also bought together: a beam search (:mod:`drsim.analysis.search`)
grows combinations within the budget, and every single change and combination is ranked by the
recovery it buys per unit of cost. A change whose cost the estate does not state is still
replayed and listed, but never bought within a budget.

Every changed estate — one change or several — replays the drill on the same seed, so the same
random numbers (:mod:`drsim.engine.draws`): unchanged elements keep their draws by name, a
change moves only what it changes, and every effect is a paired difference from the estate as
it is, with the interval of paired replicates (a paired bootstrap for percentiles), not noise.
A change "improves" the metric when its whole interval lies on the good side of zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..api import prepare
from ..engine import vectorized
from ..engine.draws import Draws
from ..engine.outcomes import evaluate
from ..errors import InputError, Problem
from ..frames import COUNT, SECONDS, interval_columns
from ..model import Drill, Topology
from ..model.costs import format_amount
from ..model.loader import bundled_names, load_topology
from ..plan import Plan, compile_plan
from ..stats import bootstrap_weights
from .changes import STRATEGY_LADDER, Change, apply_all, candidate_changes, combined_cost
from .compare import simulate
from .metrics import Metric, metric_values, parse_metric
from .search import beam_search

__all__ = ["STRATEGY_LADDER", "AdviceResult", "Change", "advise", "candidate_changes"]


@dataclass
class AdviceResult:
    """Candidate changes (and, with a budget, combinations of them) ranked best first.

    Each row is one change or combination: ``change`` (descriptions joined by `` + ``),
    ``changes`` (how many), its cost (``cost_one_off``, ``cost_per_year``, ``cost`` over
    ``years``; NaN when unknown), the metric after it (``value``), its ``effect`` with the 95%
    interval (``effect_lo``, ``effect_hi``), ``improves`` (the interval excludes zero on the good
    side), ``gain`` (the improvement: the effect, signed so that larger is better) and
    ``gain_per_cost`` (gain per unit of currency; NaN without a cost). Without a budget, rows are
    single changes by gain; with one, changes and combinations within the budget by gain per
    cost, then single changes beyond the budget, then those without a stated cost.
    """

    drill: str
    topology: str
    metric: Metric
    n: int
    seed: int
    base: float
    rows: list[dict[str, Any]]
    budget: float | None = None
    years: float = 5.0
    currency: str | None = None
    evaluated: int = 0

    def to_frame(self):
        """One row per change or combination, best first, in the columns of :mod:`drsim.frames`.

        ``change``, ``label``, ``change_kind``, ``change_subject``, ``changes``, then what the
        metric measures (``metric``, ``kind``, ``subject``, ``measure``, ``unit``, ``n``,
        ``statistic``; ``target_s`` for a probability), its value after the change in the
        statistic's column (``p90_s``, ``mean_s`` or ``p_meet``), the effect with its 95%
        interval (``d_p90_s``, ``d_p90_lo_s``, ``d_p90_hi_s``), ``improves``, the gain (the
        effect signed so that larger is better: ``gain_s`` with ``gain_lo_s``/``gain_hi_s``, or
        ``gain`` for a probability), and the cost: ``currency``, ``cost_one_off``,
        ``cost_per_year``, ``cost`` (over ``years``), ``priced_by``, ``within_budget``,
        ``gain_per_cost``.
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        col = self.metric.column
        lo, hi = interval_columns(col)
        sfx = next((s for s in (SECONDS, COUNT) if col.endswith(s)), "")  # p_meet: a probability, no unit
        renamed = {
            "kind": "change_kind",
            "subject": "change_subject",
            "value": col,
            "effect": f"d_{col}",
            "effect_lo": f"d_{lo}",
            "effect_hi": f"d_{hi}",
            "gain": f"gain{sfx}",
            "gain_lo": f"gain_lo{sfx}",
            "gain_hi": f"gain_hi{sfx}",
        }
        df = pd.DataFrame(self.rows, columns=list(self.rows[0]) if self.rows else ROW_COLUMNS).rename(columns=renamed)
        at = list(df.columns).index("changes") + 1
        for i, (name, value) in enumerate(self.metric.identity(self.n).items()):
            df.insert(at + i, name, value)
        df.insert(list(df.columns).index("cost_one_off"), "currency", self.currency)
        return df

    def top(self, k: int = 10) -> list[dict]:
        return self.rows[:k]

    def within_budget(self) -> list[dict]:
        """Rows whose cost is known and within the budget (every costed row without a budget)."""
        return [r for r in self.rows if r["within_budget"]]

    def combinations(self) -> list[dict]:
        """Rows of two or more changes bought together, best value first."""
        return [r for r in self.rows if r["changes"] > 1]

    def best(self) -> dict | None:
        """What buys the most within the budget: the row with the largest gain among those that
        improve the metric (ties: the cheaper); None if nothing within the budget improves it."""
        rows = [r for r in self.within_budget() if r["improves"]]
        return max(rows, key=lambda r: (r["gain"], -r["cost"])) if rows else None

    def money(self, amount: float) -> str:
        """An amount in the estate's currency: ``USD 250k``."""
        return format_amount(amount, self.currency)

    def plot(self, k: int = 10, ax=None):
        """The ``k`` best changes' effects with their 95% intervals; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        rows = [(r["change"], r["effect"], r["effect_lo"], r["effect_hi"]) for r in self.top(k)]
        return plots.differences(
            rows,
            what=self.metric.describe(),
            baseline=f"{self.topology} as it is",
            probability=self.metric.probability,
            title=f"{self.drill}: what buys the most (n = {self.n})",
            ax=ax,
        )

    def plot_frontier(self, ax=None):
        """Cost against improvement of every costed change and combination, with the frontier of
        the best improvement for the money and the budget; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        rows = [r for r in self.rows if math.isfinite(r["cost"])]
        return plots.frontier(
            [(r["cost"], r["gain"], r["gain_lo"], r["gain_hi"], r["label"], r["changes"]) for r in rows],
            budget=self.budget,
            cost_label=f"cost over {self.years:g} years ({self.currency or 'currency units'}: one-off + years x per year)",
            what=self.metric.describe(),
            probability=self.metric.probability,
            title=f"{self.drill} on {self.topology}: what the money buys (n = {self.n})",
            ax=ax,
        )


#: Up to this many replicates a changed estate is replayed in one batch, reusing draws (see :class:`Replayer`).
BATCH = 65536


class Replayer:
    """Replays changed estates of one drill on the same ``n`` replicates of ``seed``, cheaply.

    The draws of a random element depend only on its name and distribution
    (:mod:`drsim.engine.draws`), so an element a change leaves alone is drawn once and reused by
    every changed estate; each replay then runs the vectorized engine directly, the same
    replicates as :func:`drsim.analysis.compare.simulate` (the first ``n`` of the seed).
    """

    def __init__(self, n: int, seed: int):
        self.n, self.seed = int(n), int(seed)
        self._draws: dict[tuple[str, Any], np.ndarray] = {}

    def metric(self, plan: Plan, key: str) -> np.ndarray:
        """Per-replicate values of metric ``key`` for ``plan``."""
        if self.n > BATCH:
            return metric_values(simulate(plan, self.n, self.seed), key, self.n)
        values = {}
        for name, dist in plan.elements().items():
            k = (name, dist)
            if k not in self._draws:
                self._draws[k] = Draws.sample({name: dist}, self.seed, self.n).values[name]
            values[name] = self._draws[k]
        d = Draws(self.seed, 0, self.n, values)
        return metric_values(evaluate(plan, d, vectorized.finish_times(plan, d)), key, self.n)


def _library(library: Sequence[str | Path | Topology] | None) -> list[Topology]:
    """The topologies a better strategy's runbook and cost come from (default: the bundled variants)."""
    if library is None:
        names = [s for s in STRATEGY_LADDER if s in bundled_names("topologies")]
        library = names
    return [t if isinstance(t, Topology) else load_topology(t) for t in library]


def advise(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    metric: str | None = None,
    n: int = 2000,
    seed: int = 0,
    library: Sequence[str | Path | Topology] | None = None,
    budget: float | None = None,
    years: float = 5.0,
    beam: int = 3,
    max_changes: int = 3,
) -> AdviceResult:
    """Rank :func:`~drsim.analysis.changes.candidate_changes` by their effect on ``metric``, on
    common random numbers; with a ``budget`` (in the estate's currency, over ``years``), also
    combinations of up to ``max_changes`` changes found by a beam search of width ``beam``,
    everything ranked by improvement per unit of cost.

    ``library`` lists topologies to borrow a service's runbook (and its cost) under a better DR
    strategy from (default: the bundled strategy variants).
    """
    if budget is not None and not (budget >= 0 and math.isfinite(budget)):
        raise InputError("budget", [Problem(f"expected an amount of 0 or more, found {budget}")])
    if not (years >= 0 and math.isfinite(years)):
        raise InputError("years", [Problem(f"expected a number of years of 0 or more, found {years}")])
    topo = topology if isinstance(topology, Topology) else load_topology(topology)
    plan = prepare(drill, topo)
    d = plan.drill
    m = parse_metric(metric, plan)
    candidates = candidate_changes(plan, _library(library))
    replay = Replayer(n, seed)
    base_x = replay.metric(plan, m.key)
    base = m.value(base_x)
    weights = bootstrap_weights(n, seed, f"advise:{d.name}")
    replicates: dict[tuple[int, ...], np.ndarray | None] = {}

    def values(members: tuple[int, ...]) -> np.ndarray | None:
        """Per-replicate metric values with these candidates made (None: the estate refuses them)."""
        if members not in replicates:
            t2 = apply_all([candidates[i] for i in members], topo)
            try:
                p2 = compile_plan(t2, d) if t2 is not None else None
            except InputError:
                p2 = None
            replicates[members] = replay.metric(p2, m.key) if p2 is not None else None
        return replicates[members]

    def gain(members: tuple[int, ...]) -> float:
        x = values(members)
        if x is None:
            return -math.inf
        with np.errstate(invalid="ignore"):
            g = (m.value(x) - base) if m.higher_is_better else (base - m.value(x))
        return 0.0 if math.isnan(g) else float(g)

    def total(members: tuple[int, ...]) -> float:
        cost = combined_cost([candidates[i] for i in members])
        return cost.total(years) if cost is not None else math.nan

    chosen: list[tuple[int, ...]] = [(i,) for i in range(len(candidates)) if values((i,)) is not None]
    if budget is not None:
        costs = [None if math.isnan(total((i,))) else total((i,)) for i in range(len(candidates))]
        found = beam_search(costs, gain, budget, beam=beam, max_changes=max_changes)
        chosen += [o.members for o in found if len(o.members) > 1]
    rows = [
        row
        for mem in chosen
        if (row := _row(m, [candidates[i] for i in mem], values(mem), base_x, weights, years, budget)) is not None
    ]
    rows.sort(key=_order if budget is not None else _by_gain)
    return AdviceResult(
        d.name, topo.name, m, int(n), int(seed), base, rows, budget, float(years), topo.currency(), len(replicates) + 1
    )


#: The keys of a row of the ranking (:func:`_row`), in order.
ROW_COLUMNS = [
    "change",
    "label",
    "kind",
    "subject",
    "changes",
    "cost_one_off",
    "cost_per_year",
    "cost",
    "priced_by",
    "within_budget",
    "value",
    "effect",
    "effect_lo",
    "effect_hi",
    "gain",
    "gain_lo",
    "gain_hi",
    "gain_per_cost",
    "improves",
]


def _row(
    m: Metric,
    changes: list[Change],
    x: np.ndarray | None,
    base_x: np.ndarray,
    weights: np.ndarray,
    years: float,
    budget: float | None,
) -> dict[str, Any] | None:
    """One row of the ranking: a change or combination, its cost, the metric after it and its effect."""
    if x is None:
        return None
    eff, lo, hi = m.effect(base_x, x, weights)
    sign = 1.0 if m.higher_is_better else -1.0
    gain, gain_lo, gain_hi = sign * eff, min(sign * lo, sign * hi), max(sign * lo, sign * hi)
    cost = combined_cost(changes)
    total = cost.total(years) if cost is not None else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        per = (
            gain / total if math.isfinite(total) and total > 0 else (math.inf if gain > 0 and total == 0 else math.nan)
        )
    return {
        "change": " + ".join(ch.description for ch in changes),
        "label": " + ".join(ch.label for ch in changes),
        "kind": changes[0].kind if len(changes) == 1 else "combination",
        "subject": " + ".join(ch.subject for ch in changes),
        "changes": len(changes),
        "cost_one_off": cost.one_off if cost is not None else math.nan,
        "cost_per_year": cost.per_year if cost is not None else math.nan,
        "cost": total,
        "priced_by": "; ".join(ch.priced_by for ch in changes),
        "within_budget": bool(math.isfinite(total) and (budget is None or total <= budget)),
        "value": m.value(x),
        "effect": eff,
        "effect_lo": lo,
        "effect_hi": hi,
        "gain": gain,
        "gain_lo": gain_lo,
        "gain_hi": gain_hi,
        "gain_per_cost": per,
        "improves": bool(math.isfinite(lo) and math.isfinite(hi) and (lo > 0 if m.higher_is_better else hi < 0)),
    }


def _finite(v: float) -> float:
    return v if math.isfinite(v) else (-math.inf if v < 0 or math.isnan(v) else math.inf)


def _by_gain(r: dict) -> tuple:
    """Without a budget: the largest improvement first."""
    return (-_finite(r["gain"]), r["change"])


def _order(r: dict) -> tuple:
    """With a budget: what improves the metric within it by improvement per cost, then what costs
    more than the budget, then what buys nothing, then what has no stated cost."""
    if not math.isfinite(r["cost"]):
        group = 3
    elif not r["within_budget"]:
        group = 1
    else:
        group = 0 if r["gain"] > 0 else 2
    per = r["gain_per_cost"] if not math.isnan(r["gain_per_cost"]) else -math.inf
    return (group, -per if group == 0 else 0.0, -_finite(r["gain"]), r["changes"], r["change"])
