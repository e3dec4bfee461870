"""The representative replay: which one night of a drill to show people, and that night replayed.

A tabletop exercise walks a room through *one* replay of a drill. Which one is
a choice with consequences: replicate 0 of a seed is what ``drsim drill``
shows, but "show us a bad night" means the replay at a high percentile of a
sweep. :func:`choose_replay` makes that choice and replays the chosen
replicate event by event:

* without a percentile, replicate 0 of the seed;
* with one, ``n`` replicates are drawn with the seed and run through the
  vectorized engine; the replicate whose most critical tier's RTO
  (:func:`ranking_metric`) is the empirical percentile of the sweep
  (:func:`representative`) is replayed by the discrete-event engine, which
  gives it a timeline. Both engines agree replicate by replicate, so the
  replay has exactly the value it was chosen for.

The :class:`Selection` records how the replay was chosen, so a pack can say
which night it shows and anyone can replay it again. Errors name the
parameter at fault (``percentile``, ``n``); the command line words them as
its options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..api import prepare, replay_result
from ..engine import des, vectorized
from ..engine.draws import Draws
from ..engine.outcomes import evaluate
from ..errors import InputError, Problem
from ..model import Drill, Topology
from ..plan import Plan
from ..results import DrillResult

#: Replicates in the sweep a percentile is taken of, unless told otherwise.
DEFAULT_SWEEP = 2000


@dataclass(frozen=True)
class Selection:
    """How the replay shown was chosen.

    ``percentile`` is None for a plain seeded replay (replicate 0); otherwise
    the replicate ``replicate`` of ``n`` drawn with ``seed`` is the one whose
    ``metric`` (an outcome key) equals the empirical ``percentile``-th
    percentile of the sweep, ``value``; ``median`` is the sweep's median of it.
    """

    seed: int
    replicate: int = 0
    n: int = 1
    percentile: float | None = None
    metric: str | None = None
    value: float | None = None
    median: float | None = None


@dataclass(frozen=True)
class ChosenReplay:
    """One replicate of a drill replayed event by event: its plan, scored result, raw replay and how it was chosen."""

    plan: Plan
    result: DrillResult
    replay: des.Replay
    selection: Selection


def ranking_metric(plan: Plan, metrics: dict[str, np.ndarray]) -> str:
    """The metric a percentile is taken of: the RTO of the most critical tier the drill affects.

    Tiers rank by RTO target, then RPO target. Without an affected tier, the
    time from fault to every service restored, then the rollback time.
    """
    topo = plan.topology
    for tier in sorted(topo.tiers, key=lambda t: (topo.tiers[t].rto, topo.tiers[t].rpo, t)):
        if f"tier:{tier}:rto" in metrics:
            return f"tier:{tier}:rto"
    for key in ("latency:total", "rollback:total:time"):
        if key in metrics:
            return key
    raise InputError(
        f"drill {plan.drill.name!r}", [Problem("the drill restores nothing; there is no RTO to rank replays by")]
    )


def representative(values: np.ndarray, percentile: float) -> int:
    """The replicate whose value is the empirical ``percentile``-th percentile of ``values``.

    The empirical percentile is an order statistic (the inverse of the sample's
    distribution function), so some replicate has exactly that value; among
    ties the lowest replicate number is taken.
    """
    values = np.asarray(values, dtype=float)
    q = np.quantile(values, percentile / 100.0, method="inverted_cdf")
    return int(np.flatnonzero(values == q)[0])


def choose_replay(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    *,
    seed: int = 0,
    percentile: float | None = None,
    n: int = DEFAULT_SWEEP,
) -> ChosenReplay:
    """Choose the replay to show and replay it event by event.

    Without ``percentile`` this is replicate 0 of ``seed`` (what ``drsim drill``
    shows). With it, ``n`` replicates are drawn with ``seed`` and run through
    the vectorized engine; the replicate whose most critical tier's RTO is the
    empirical ``percentile``-th percentile is then replayed event by event.
    """
    plan = drill if isinstance(drill, Plan) else prepare(drill, topology)
    if percentile is None:
        draws = Draws.sample(plan.elements(), seed, 1)
        rep = des.replay(plan, draws, 0)
        return ChosenReplay(plan, replay_result(plan, draws, 0, rep), rep, Selection(int(seed)))
    if not 0 < percentile <= 100:
        raise InputError("percentile", [Problem(f"expected a percentile in (0, 100], found {percentile:g}")])
    if n < 1:
        raise InputError("n", [Problem(f"expected at least one replicate, found {n}")])
    draws = Draws.sample(plan.elements(), seed, n)
    finish = vectorized.run_many(plan, draws)
    metrics = evaluate(plan, draws, finish)
    key = ranking_metric(plan, metrics)
    r = representative(metrics[key], percentile)
    rep = des.replay(plan, draws, r)
    result = replay_result(plan, draws, r, rep)
    median = float(np.quantile(metrics[key], 0.5, method="inverted_cdf"))
    sel = Selection(int(seed), r, int(n), float(percentile), key, float(metrics[key][r]), median)
    return ChosenReplay(plan, result, rep, sel)
