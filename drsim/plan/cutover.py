"""A cutover plan compiled into the tasks both engines run: the cutover itself, and a rollback.

**The cutover** (:func:`compile_cutover`). Each runbook step of a wave is a
task of its role, done by the people of that role on duty from the freeze
start (the topology's roster: the night shift's headcount and pace, later
shifts as they come on), so two waves running at once wait for each other's
people. A step that can fail is tried again (:class:`~drsim.plan.tasks.Attempts`);
when every attempt has failed its escalation runs (``failure.otherwise``), or
the wave is stuck and the cutover never completes. Work that always takes no
time needs nobody (it never waits for a person). A gate before a wave that
``takes`` time is a task of its ``decided_by`` role after the waves the wave
waits for; the wave starts once every such gate has been judged. Staff are
booked for the freeze, so nobody is paged.

**A rollback** (:func:`compile_rollback`). Decided at an instant ``t`` (the
role-free task ``at``, whose duration the caller sets per replicate), it takes
the plan's ``rollback.decision``, then undoes every step begun before ``t``,
one after another in reverse plan order, each by the step's role at the pace of
the shift then on duty. Which steps were begun differs between replicates, so a
rollback plan is compiled for each set of begun steps (never a zero-length
undo for a step not begun: every task of a rollback plan is real work).

Both are ordinary :class:`~drsim.plan.compiled.Plan` objects with no faults:
the plan's drill carries only the cutover's name and its clock start (the
engines read tasks, people and roster, never a drill's faults).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..model import Drill, Topology
from ..model.cutover import CutoverPlan
from ..model.distributions import Distribution, Fixed, Uniform
from .builder import PlanBuilder
from .compiled import Plan
from .roster import handovers_of, pace_changes, shift_changes
from .tasks import ANY, Attempts

#: Key of a rollback plan's decision instant: a role-free task whose duration is the decision time.
DECISION_AT = "rollback:at"


@dataclass(frozen=True)
class CompiledStep:
    """A cutover step as compiled: its task (whose start is when the step begins) and the task ending it.

    Attributes
    ----------
    wave, name
        The wave and the step.
    task
        The step's own task: it begins when this task starts.
    done
        The task whose finish ends the step: the step itself, its succeeded gate, or the first of that
        and its escalation's last step.
    irreversible, undo, role, diverts
        As in the plan (``undo`` None: nothing to undo).
    """

    wave: str
    name: str
    task: int
    done: int
    irreversible: bool
    undo: Distribution | None
    role: str | None
    diverts: tuple[str, ...]


@dataclass(frozen=True)
class CutoverTasks:
    """The cutover compiled: the engine plan, each step's tasks, each gate's task and the completion."""

    plan: Plan
    steps: tuple[CompiledStep, ...]
    #: Each gate's judging task, by gate name (gates that take time only).
    gates: dict[str, int]
    #: The last task of each wave, by wave name.
    waves: dict[str, int]
    #: The milestone "every wave done": the cutover is complete.
    complete: int


@dataclass(frozen=True)
class RollbackTasks:
    """A rollback of some begun steps compiled: its decision instant, decision, each undo and its end."""

    plan: Plan
    at: int
    decided: int
    #: The undo task of each begun step with an undo, by the step's position in :attr:`CutoverTasks.steps`.
    undo: dict[int, int]
    done: int


def _instant(d: Distribution | None) -> bool:
    """Whether ``d`` always takes no time."""
    return d is not None and d.is_fixed and float(d.ppf(np.zeros(1))[0]) == 0.0


def _worker(role: str | None, d: Distribution, retry: Distribution | None = None) -> str | None:
    """The role a piece of work occupies: none for work that always takes no time (nobody waits for a
    person to do nothing, and the engines need not order such instants among staffed work)."""
    return None if _instant(d) and (retry is None or _instant(retry)) else role


def _no_faults(plan: CutoverPlan) -> Drill:
    """The drill of a cutover's engine plan: only its name and its clock start (it has no faults)."""
    return Drill.model_construct(name=plan.name, start=plan.freeze.start)


def _finish(builder: PlanBuilder, topo: Topology, plan: CutoverPlan) -> Plan:
    start = plan.freeze.start
    staffed = {t.role for t in builder.tasks if t.role is not None}
    paces = pace_changes(topo, start, staffed)
    return Plan(
        topology=topo,
        drill=builder.drill,
        tasks=builder.tasks,
        capacity=builder.capacity,
        shift_of=builder.shift_of,
        outages={},
        rpo_items=[],
        rpo_elements={},
        fault_tasks=[],
        milestones={},
        rollback=None,
        handovers=handovers_of(topo, start, staffed),
        paces=paces,
        shift_changes=shift_changes(topo, start, staffed, paces),
    )


def compile_cutover(plan: CutoverPlan, topo: Topology) -> CutoverTasks:
    """The tasks of ``plan`` on ``topo`` (a checked plan: see :func:`drsim.model.cutover.check_cutover`)."""
    b = PlanBuilder(topo, _no_faults(plan), set())
    wave_end: dict[str, int] = {}
    gates: dict[str, int] = {}
    steps: list[CompiledStep] = []
    for i, w in enumerate(plan.waves):
        preds = [wave_end[plan.waves[j].name] for j in plan.predecessors(i)]
        judged = []
        for g in plan.gates:
            if g.before == w.name and g.takes is not None and not _instant(g.takes):
                gates[g.name] = b.add(
                    f"gate:{g.name}", "validate", f"go/no-go: {g.name}", g.takes, preds, role=g.decided_by
                )
                judged.append(gates[g.name])
        prev = [*preds, *judged]
        for s in w.steps:
            key = f"cutover:{w.name}:{s.name}"
            attempts = Attempts.of(s.failure.probability, s.failure.retry) if s.failure is not None else None
            role = _worker(s.role, s.duration, attempts.retry if attempts is not None else None)
            task = b.add(key, "step", f"{w.name}: {s.name}", s.duration, prev, role=role, attempts=attempts)
            done = task
            if s.failure is not None:
                done = _escalation(b, key, f"{w.name}: {s.name}", task, s.failure.otherwise)
            steps.append(CompiledStep(w.name, s.name, task, done, s.irreversible, s.undo, s.role, tuple(s.diverts)))
            prev = [done]
        wave_end[w.name] = b.add(f"wave:{w.name}", "milestone", f"wave {w.name} done", Fixed(0.0), prev)
    complete = b.add("cutover:complete", "milestone", "cutover complete", Fixed(0.0), list(wave_end.values()))
    return CutoverTasks(_finish(b, topo, plan), tuple(steps), gates, wave_end, complete)


def _escalation(b: PlanBuilder, key: str, label: str, task: int, otherwise) -> int:
    """The task ending a step that can fail: its succeeded gate, or the first of that and its escalation."""
    succeeded = b.add(f"{key}:succeeded", "milestone", f"{label} succeeded", Fixed(0.0), [task], gate_of=task)
    if not otherwise:
        return succeeded
    prev = b.add(
        f"{key}:exhausted",
        "milestone",
        f"{label} FAILED - escalated",
        Fixed(0.0),
        [task],
        gate_of=task,
        gate_exhausted=True,
    )
    for alt in otherwise:
        prev = b.add(
            f"{key}:otherwise:{alt.name}",
            "step",
            f"{label}: {alt.name}",
            alt.duration,
            [prev],
            role=_worker(alt.role, alt.duration),
        )
    return b.add(f"{key}:done", "milestone", f"{label} done", Fixed(0.0), [succeeded, prev], join=ANY)


def compile_rollback(
    plan: CutoverPlan, topo: Topology, steps: tuple[CompiledStep, ...], begun: Iterable[int]
) -> RollbackTasks:
    """A rollback decided at an instant (set by the caller) that undoes the steps at positions ``begun``.

    The decision instant is the task :data:`DECISION_AT` (role-free; its element's values are the decision
    times), then the plan's ``rollback.decision``, then the undo of each begun step that has one, latest
    step first.
    """
    b = PlanBuilder(topo, _no_faults(plan), set())
    at = b.add(DECISION_AT, "trigger", "rollback decided", Uniform(0.0, plan.freeze.length))
    decided = b.add("rollback:decision", "declare", "rollback decided", plan.rollback.decision, [at])
    prev, undo = decided, {}
    for k in sorted(set(begun), reverse=True):
        s = steps[k]
        if s.undo is None:
            continue
        prev = undo[k] = b.add(
            f"rollback:undo:{s.wave}:{s.name}",
            "step",
            f"undo {s.wave}: {s.name}",
            s.undo,
            [prev],
            role=_worker(s.role, s.undo),
        )
    done = b.add("rollback:done", "milestone", "rollback done: the old system serves again", Fixed(0.0), [prev])
    return RollbackTasks(_finish(b, topo, plan), at, decided, undo, done)
