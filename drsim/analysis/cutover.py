"""Simulating a cutover plan: the point of no return, completion, rollback and reconciliation.

A cutover plan (:mod:`drsim.model.cutover`) is replayed ``n`` times at once.
Each step's duration is drawn from its own named stream
(``cutover.<wave>.<step>.duration``, see :mod:`drsim.engine.draws`), so one
changed step leaves every other draw alone. Steps of a wave run one after
another; a wave starts when the waves it waits for have finished. Time 0 is
the start of the freeze.

* **Point of no return** = the start of the first irreversible step (infinite
  for a plan without one: it can always be rolled back).
* **Completion** = the end of the last step of every wave.
* **Rollback launched at t** (a trigger fires at ``t``, before the point of no
  return): the time to decide (the plan's ``rollback.decision``), then the
  ``undo`` of every step begun before ``t`` — the step in progress is abandoned
  and undone too — one after another in reverse order. It is done at ``t +``
  that time; where ``t`` is at or past the point of no return there is no
  rollback (NaN).
* **Reconciliation**: an entity's records arrive from the freeze start until the
  cutover completes, at its volume shaped by its hour-of-day profile. By rule
  they are preserved, discarded, or replayed at ``replay_rate`` (replay duration
  = records / rate); re-entry costs records x share x effort person-hours of
  its role.

This first version is a vectorized computation over arrays: steps need no
staff capacity and never fail, so nobody waits for a busy role. Running the plan
through the two engines (staff contention, step failures, escalation, a
replicate-by-replicate agreement test) is the next step; the draws already use
the engines' named streams so that the two will agree on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.draws import element_uniforms
from ..engine.queues import Arrivals
from ..model.cutover import CutoverPlan
from ..model.topology import Topology

#: Percentiles reported for each quantity.
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class StepTimes:
    """One step over the replicates: when it starts and ends, and how long its undo takes (0: none)."""

    wave: str
    step: str
    irreversible: bool
    start: np.ndarray
    end: np.ndarray
    undo: np.ndarray


@dataclass(frozen=True)
class Reconciliation:
    """One entity's reconciliation over the replicates."""

    entity: str
    rule: str
    records: np.ndarray
    replay: np.ndarray
    reentry_role: str | None
    reentry_hours: np.ndarray


@dataclass(frozen=True)
class CutoverRun:
    """``n`` replays of a cutover plan (seconds from the freeze start), and the figures read from them."""

    plan: CutoverPlan
    seed: int
    n: int
    steps: list[StepTimes]
    decision: np.ndarray
    point_of_no_return: np.ndarray
    completion: np.ndarray
    reconciliation: list[Reconciliation]

    @property
    def window(self) -> float:
        """Length of the freeze (seconds): the cutover, or a rollback, must end inside it."""
        return self.plan.freeze.length

    def rollback_time(self, t: float) -> np.ndarray:
        """Time from a trigger at ``t`` until the old system is back (NaN where ``t`` is past the point of no return)."""
        undo = np.zeros(self.n)
        for s in self.steps:
            undo += np.where(s.start < t, s.undo, 0.0)
        return np.where(t < self.point_of_no_return, self.decision + undo, np.nan)

    def reversible_at(self, t: float) -> float:
        """Probability that a rollback can still be launched at ``t``."""
        return float(np.mean(t < self.point_of_no_return))

    def rollback_inside_window(self, t: float) -> float:
        """Probability that a rollback launched at ``t`` is possible and finishes inside the freeze."""
        done = t + self.rollback_time(t)
        return float(np.mean(np.nan_to_num(done, nan=np.inf) <= self.window))

    def latest_safe_rollback(self, q: float, resolution: float = 60.0) -> tuple[float | None, float]:
        """The point of no return at confidence ``q``: the latest decision time ``t`` on a grid of
        ``resolution`` seconds from the freeze start whose rollback ends inside the freeze with
        probability >= ``q`` — and that probability. ``(None, P(t=0))`` when not even a rollback
        decided at the freeze start is safe enough.

        In every replicate a later decision undoes at least as many steps and is no more reversible,
        so P(rollback done inside the freeze | decided at t) never rises with t: the grid is bisected.
        """
        grid = np.arange(0.0, self.window + resolution / 2, resolution)
        p0 = self.rollback_inside_window(0.0)
        if p0 < q:
            return None, p0
        lo, hi = 0, len(grid)  # P(grid[lo]) >= q; P(grid[i]) < q for every i >= hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.rollback_inside_window(float(grid[mid])) >= q:
                lo = mid
            else:
                hi = mid
        return float(grid[lo]), self.rollback_inside_window(float(grid[lo]))

    def completes_inside_window(self) -> float:
        """Probability that the cutover completes inside the freeze."""
        return float(np.mean(self.completion <= self.window))


def _draw(dist, seed: int, name: str, n: int) -> np.ndarray:
    return np.asarray(dist.ppf(element_uniforms(seed, name, n)), dtype=float)


def step_times(plan: CutoverPlan, seed: int, n: int) -> list[StepTimes]:
    """Start and end of every step, waves after the waves they wait for, steps one after another."""
    ends: list[np.ndarray] = []
    out: list[StepTimes] = []
    for i, w in enumerate(plan.waves):
        t = np.zeros(n)
        for j in plan.predecessors(i):
            t = np.maximum(t, ends[j])
        for s in w.steps:
            key = f"cutover.{w.name}.{s.name}"
            d = _draw(s.duration, seed, f"{key}.duration", n)
            undo = _draw(s.undo, seed, f"{key}.undo", n) if s.undo is not None else np.zeros(n)
            out.append(StepTimes(w.name, s.name, s.irreversible, t, t + d, undo))
            t = t + d
        ends.append(t)
    return out


def reconcile(plan: CutoverPlan, topology: Topology, until: np.ndarray) -> list[Reconciliation]:
    """Each entity's records from the freeze start to ``until``, and the work its rule implies."""
    out = []
    zero = np.zeros_like(until)
    for name, e in plan.entities.items():
        arrivals = Arrivals.profiled(e.volume, plan.profile_of(name, topology), plan.freeze.start)
        records = arrivals.between(zero, until)
        replay = records / e.replay_rate if e.replay_rate else zero
        r = e.reentry
        hours = records * r.share * r.effort / 3600.0 if r is not None else zero
        out.append(Reconciliation(name, e.rule, records, replay, r.role if r else None, hours))
    return out


def simulate_cutover(plan: CutoverPlan, topology: Topology, n: int = 10_000, seed: int = 0) -> CutoverRun:
    """Replay ``plan`` ``n`` times on ``topology`` (whose profiles entities may name)."""
    steps = step_times(plan, seed, n)
    irreversible = [s.start for s in steps if s.irreversible]
    ponr = np.minimum.reduce(irreversible) if irreversible else np.full(n, np.inf)
    completion = np.maximum.reduce([s.end for s in steps])
    decision = _draw(plan.rollback.decision, seed, "cutover.rollback.decision", n)
    return CutoverRun(plan, seed, n, steps, decision, ponr, completion, reconcile(plan, topology, completion))


def default_decision_times(run: CutoverRun) -> list[float]:
    """Rollback decision times to report when none are asked for: each whole hour of the freeze
    up to the median point of no return (or the freeze's end)."""
    med = float(np.median(run.point_of_no_return))
    last = min(med, run.window) if math.isfinite(med) else run.window
    return [h * 3600.0 for h in range(int(last // 3600) + 1)]
