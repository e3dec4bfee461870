"""Simulating a cutover plan: the point of no return, completion, rollback and reconciliation.

A cutover plan (:mod:`drsim.model.cutover`) is compiled into tasks
(:mod:`drsim.plan.cutover`) and replayed ``n`` times by one of the two engines
(the vectorized kernel by default, the SimPy engine on request; both give the
same times on the same draws). Time 0 is the start of the freeze.

* **Point of no return** = the start of the first irreversible step (infinite
  for a plan without one: it can always be rolled back).
* **Completion** = the end of every wave (infinite where a step failed every
  attempt with no escalation: the cutover is stuck).
* **Rollback decided at t** (before the point of no return): the plan's
  ``rollback.decision``, then the ``undo`` of every step begun before ``t`` — the
  step in progress is abandoned and undone too — one after another, latest
  first, each by its role at the pace of the shift then on duty. It is done at
  ``t +`` that time; at or past the point of no return there is no rollback (NaN).
* **Divergent writes**: a step that ``diverts`` entities sends their new records
  to the new system from its end; a rollback must carry those written from
  then until the step is undone (or, with nothing to undo, until the rollback is done).
* **Reconciliation**: an entity's records arrive from the freeze start until the
  cutover completes (a stuck one: until the freeze ends), at its volume shaped by its hour-of-day profile. By rule
  they are preserved, discarded, or replayed at ``replay_rate`` (replay duration
  = records / rate); re-entry costs records x share x effort person-hours of
  its role, done in those hours over the role's head-count on duty when the
  cutover completes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..engine import des, vectorized
from ..engine.draws import Draws
from ..engine.finish import FinishTimes
from ..engine.queues import Arrivals
from ..model.cutover import CutoverPlan
from ..model.topology import Topology
from ..plan import Plan
from ..plan.cutover import DECISION_AT, CutoverTasks, RollbackTasks, compile_cutover, compile_rollback
from ..plan.roster import shift_on_duty

#: Percentiles reported for each quantity.
PERCENTILES = (50, 90, 99)

#: Which engine replays the plan.
Engine = Literal["vectorized", "des"]


def _runner(engine: Engine) -> Callable[[Plan, Draws], FinishTimes]:
    if engine == "des":
        return des.run_many
    return lambda plan, draws: vectorized.finish_times(plan, draws, parallel=False, starts=True)


@dataclass(frozen=True)
class StepTimes:
    """One step over the replicates: when it begins and ends (``inf``: never)."""

    wave: str
    step: str
    irreversible: bool
    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class Reconciliation:
    """One entity's reconciliation over the replicates."""

    entity: str
    rule: str
    records: np.ndarray
    replay: np.ndarray
    reentry_role: str | None
    reentry_hours: np.ndarray
    #: Hours the re-entry takes the people of its role on duty when the cutover completes
    #: (person-hours / head-count; infinite where nobody is on duty then).
    reentry_elapsed: np.ndarray


@dataclass(frozen=True)
class RollbackOutcome:
    """Rollbacks decided at given instants, over the replicates.

    ``time`` is from the decision until the old system serves again (NaN where the decision came
    at or past the point of no return); ``diverged`` the records of each diverted entity written
    to the new system that the rollback must carry back (0 where there is no rollback).
    """

    time: np.ndarray
    diverged: dict[str, np.ndarray]


@dataclass
class CutoverRun:
    """``n`` replays of a cutover plan (seconds from the freeze start), and the figures read from them."""

    plan: CutoverPlan
    topology: Topology
    seed: int
    n: int
    engine: Engine
    tasks: CutoverTasks
    steps: list[StepTimes]
    point_of_no_return: np.ndarray
    completion: np.ndarray
    reconciliation: list[Reconciliation]
    #: For each gate before a wave: when it is reached (its judging starts, or the wave's first step
    #: starts when judging takes no time), per replicate.
    gate_reached: dict[str, np.ndarray] = field(default_factory=dict)
    _rollbacks: dict[float, RollbackOutcome] = field(default_factory=dict, repr=False)
    _compiled: dict[tuple[int, ...], RollbackTasks] = field(default_factory=dict, repr=False)
    _kernel: dict[tuple[int, ...], vectorized.KernelPlan] = field(default_factory=dict, repr=False)
    _draws: Draws | None = field(default=None, repr=False)

    @property
    def window(self) -> float:
        """Length of the freeze (seconds): the cutover, or a rollback, must end inside it."""
        return self.plan.freeze.length

    def rollback_at(self, at: np.ndarray) -> RollbackOutcome:
        """Rollbacks decided at ``at`` (seconds from the freeze start, one per replicate), through the engine."""
        at = np.broadcast_to(np.asarray(at, dtype=float), (self.n,))
        time = np.full(self.n, np.nan)
        diverged = {e: np.zeros(self.n) for s in self.tasks.steps for e in s.diverts}
        possible = at < self.point_of_no_return
        if not np.any(possible):
            return RollbackOutcome(time, diverged)
        begun = np.array([s.start < at for s in self.steps], dtype=bool).reshape(len(self.steps), self.n)
        full = self._rollback_plan(tuple(range(len(self.steps))))
        if self._draws is None:
            self._draws = Draws.sample(full.plan.elements(), self.seed, self.n)
        rows = np.flatnonzero(possible)
        # the set of begun steps of each replicate as one integer: bit k set when step k was begun
        code = np.zeros(len(rows), dtype=object if len(self.steps) > 62 else np.int64)
        for k in range(len(self.steps)):
            code = code + begun[k, rows].astype(code.dtype) * (1 << k)
        for c in sorted(set(code.tolist())):
            key = tuple(k for k in range(len(self.steps)) if (c >> k) & 1)
            rb = self._rollback_plan(key)
            idx = rows[code == c]
            values = {k: v[idx] for k, v in self._draws.values.items() if k in rb.plan.elements()}
            values[f"task:{DECISION_AT}"] = at[idx]
            ft = self._run(key, rb.plan, Draws(self.seed, 0, len(idx), values))
            done = ft.finish_of(rb.done)
            time[idx] = done - at[idx]
            for k, s in enumerate(self.tasks.steps):
                if not s.diverts or k not in key:
                    continue
                since = self.steps[k].end[idx]
                until = ft.finish_of(rb.undo[k]) if k in rb.undo else done
                for e in s.diverts:
                    arrivals = Arrivals.profiled(
                        self.plan.entities[e].volume, self.plan.profile_of(e, self.topology), self.plan.freeze.start
                    )
                    diverged[e][idx] += np.where(since < at[idx], arrivals.between(since, until), 0.0)
        return RollbackOutcome(time, diverged)

    def _run(self, key: tuple[int, ...], plan: Plan, draws: Draws) -> FinishTimes:
        if self.engine == "des":
            return des.run_many(plan, draws)
        if key not in self._kernel:
            self._kernel[key] = vectorized.prepare(plan)
        return vectorized.finish_times(plan, draws, kp=self._kernel[key], parallel=False, starts=True)

    def _rollback_plan(self, begun: tuple[int, ...]) -> RollbackTasks:
        if begun not in self._compiled:
            self._compiled[begun] = compile_rollback(self.plan, self.topology, self.tasks.steps, begun)
        return self._compiled[begun]

    def rollback(self, t: float) -> RollbackOutcome:
        """Rollbacks decided at ``t`` in every replicate (computed once per ``t``)."""
        if t not in self._rollbacks:
            self._rollbacks[t] = self.rollback_at(np.full(self.n, float(t)))
        return self._rollbacks[t]

    def rollback_time(self, t: float) -> np.ndarray:
        """Time from a decision at ``t`` until the old system is back (NaN where ``t`` is past the point of no return)."""
        return self.rollback(t).time

    def reversible_at(self, t: float) -> float:
        """Probability that a rollback can still be launched at ``t``."""
        return float(np.mean(t < self.point_of_no_return))

    def rollback_inside_window(self, t: float) -> float:
        """Probability that a rollback decided at ``t`` is possible and finishes inside the freeze."""
        done = t + self.rollback_time(t)
        return float(np.mean(np.nan_to_num(done, nan=np.inf) <= self.window))

    def rollback_from_gate(self, gate: str) -> float:
        """Probability that a rollback decided when wave gate ``gate`` is reached (it says NO-GO) is
        possible and ends inside the freeze (0 where the gate is never reached)."""
        at = self.gate_reached[gate]
        reached = np.isfinite(at)
        out = self.rollback_at(np.where(reached, at, np.inf))
        done = np.where(reached, at + np.nan_to_num(out.time, nan=np.inf), np.inf)
        return float(np.mean(done <= self.window))

    def rollback_curve(self, step: float = 900.0) -> list[tuple[float, float]]:
        """``(t, P(rollback decided at t done inside the freeze))`` every ``step`` seconds of the freeze."""
        grid = np.arange(0.0, self.window + step / 2, step)
        return [(float(t), self.rollback_inside_window(float(t))) for t in grid]

    def latest_safe_rollback(
        self, q: float, resolution: float = 60.0, scan: float = 900.0
    ) -> tuple[float | None, float]:
        """The point of no return at confidence ``q``: the latest decision time ``t`` (a multiple of
        ``resolution`` seconds from the freeze start) such that a rollback decided at any instant of the
        ``scan`` grid up to ``t``, and at ``t``, ends inside the freeze with probability >= ``q`` — and that
        probability. ``(None, P(t=0))`` when not even a rollback decided at the freeze start is safe enough.

        The ``scan`` grid finds the first decision time that is not safe; between it and the one before,
        the chance is bisected to ``resolution`` (a later decision undoes at least as many steps, so the
        chance falls, except where a faster shift comes on duty in between).
        """
        p0 = self.rollback_inside_window(0.0)
        if p0 < q:
            return None, p0
        fine = np.arange(0.0, self.window + resolution / 2, resolution)
        per = max(1, round(scan / resolution))
        lo = 0
        while lo + per < len(fine) and self.rollback_inside_window(float(fine[lo + per])) >= q:
            lo += per
        hi = min(lo + per, len(fine))  # P(fine[lo]) >= q; fine[hi] (if any) is not safe
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.rollback_inside_window(float(fine[mid])) >= q:
                lo = mid
            else:
                hi = mid
        return float(fine[lo]), self.rollback_inside_window(float(fine[lo]))

    def completes_inside_window(self) -> float:
        """Probability that the cutover completes inside the freeze."""
        return float(np.mean(self.completion <= self.window))


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
        elapsed = hours / headcount(topology, r.role, plan.freeze.start, until) if r is not None else zero
        out.append(Reconciliation(name, e.rule, records, replay, r.role if r else None, hours, elapsed))
    return out


def headcount(topology: Topology, role: str, start: dt.datetime, at: np.ndarray) -> np.ndarray:
    """People of ``role`` on duty ``at`` seconds after clock time ``start`` (the topology's roster), per replicate."""
    minutes = np.floor(np.nan_to_num(at, posinf=0.0) / 60.0).astype(np.int64)
    out = np.zeros(len(minutes))
    for m in np.unique(minutes):
        sh = shift_on_duty(topology.staff[role], start + dt.timedelta(minutes=int(m)))
        out[minutes == m] = sh.headcount if sh is not None else 0
    return out


def simulate_cutover(
    plan: CutoverPlan, topology: Topology, n: int = 10_000, seed: int = 0, engine: Engine = "vectorized"
) -> CutoverRun:
    """Replay ``plan`` ``n`` times on ``topology`` (its staff, rosters and profiles) with ``engine``."""
    tasks = compile_cutover(plan, topology)
    draws = Draws.sample(tasks.plan.elements(), seed, n)
    ft = _runner(engine)(tasks.plan, draws)
    steps = [StepTimes(s.wave, s.name, s.irreversible, ft.start_of(s.task), ft.finish_of(s.done)) for s in tasks.steps]
    irreversible = [s.start for s in steps if s.irreversible]
    ponr = np.minimum.reduce(irreversible) if irreversible else np.full(n, np.inf)
    completion = ft.finish_of(tasks.complete)
    # a stuck cutover (never complete) is reconciled as far as the end of the freeze
    until = np.where(np.isfinite(completion), completion, plan.freeze.length)
    first: dict[str, np.ndarray] = {}
    for st in steps:
        first.setdefault(st.wave, st.start)
    reached = {
        g.name: ft.start_of(tasks.gates[g.name]) if g.name in tasks.gates else first[g.before]
        for g in plan.gates
        if g.before is not None
    }
    recon = reconcile(plan, topology, until)
    return CutoverRun(plan, topology, seed, n, engine, tasks, steps, ponr, completion, recon, reached)


def default_decision_times(run: CutoverRun) -> list[float]:
    """Rollback decision times to report when none are asked for: each whole hour of the freeze
    up to the median point of no return (or the freeze's end)."""
    med = float(np.median(run.point_of_no_return))
    last = min(med, run.window) if math.isfinite(med) else run.window
    return [h * 3600.0 for h in range(int(last // 3600) + 1)]
