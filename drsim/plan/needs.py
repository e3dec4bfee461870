"""Needs: a task waiting for what it needs, not only for the step before it.

A runbook step (and a validation, a drill's fault step, a rollback step) can
name what it needs: a service — that service *restored*, when the drill takes
it down (no wait when it stays up) — or ``service/step name`` — that step of
that service's runbook *done*, when the drill runs it. A validation with no
``needs`` of its own needs every service its service depends on. Detection can
need the services it runs on (monitoring): a fault is then detected only its
detection delay after they are restored.

The recovery and response phases record each need as a :class:`PendingNeed`,
because the restored milestones it waits for are compiled later; the
milestones phase links them (:func:`link_needs`), appending predecessors the
same way console access is linked. A predecessor may then have a higher index
than its task: both engines run any graph. What they cannot run is a task that
waits, through all-joins only, for itself — a step of A needing B restored
while B depends on A — so linking ends by looking for such a deadlock
(:func:`can_finish`) and reports it, naming the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Problem
from .tasks import ANY, Task


@dataclass(frozen=True)
class PendingNeed:
    """What one task needs, to be linked once the restored milestones exist.

    Attributes
    ----------
    task
        The task that waits.
    needs
        Service names and ``service/step name`` references.
    path
        Where the needs were given (a problem names it).
    struck_at
        Detection only: the time the fault strikes; a service counts only if the drill takes it
        down at or before then (None: any service the drill takes down counts).
    """

    task: int
    needs: tuple[str, ...]
    path: tuple[str | int, ...]
    struck_at: float | None = None
    #: The needs were not written but implied (a validation waiting for its service's dependencies).
    implied: bool = False


def link_needs(
    tasks: list[Task],
    pending: list[PendingNeed],
    restored: dict[str, tuple[int, float]],
    steps: dict[tuple[str, str], int],
) -> list[Problem]:
    """Append to each pending task the tasks it needs; return the deadlocks that makes, as problems.

    ``restored`` maps each service down in the drill to its restored milestone and the time it
    went down; ``steps`` maps ``(service, step name)`` to the task of that step in this drill.
    """
    for need in pending:
        task = tasks[need.task]
        for name in need.needs:
            service, _, step = name.partition("/")
            if step:
                pred = steps.get((service, step))
            elif service in restored and (need.struck_at is None or restored[service][1] <= need.struck_at):
                pred = restored[service][0]
            else:
                pred = None
            if pred is not None and pred != task.index and pred not in task.preds:
                task.preds = sorted([*task.preds, pred])
    can = can_finish(tasks)
    problems = []
    reported: set[frozenset[int]] = set()
    # one problem per cycle, named at the first need written out (an implied one only if none is)
    for need in sorted(pending, key=lambda n: n.implied):
        if can[need.task]:
            continue
        chain = waiting_chain(tasks, can, need.task)
        if frozenset(chain) in reported:
            continue
        reported.add(frozenset(chain))
        problems.append(
            Problem(
                "a step would wait for itself and never finish: "
                + " waits for ".join(repr(tasks[i].label) for i in chain)
                + "; remove one of these needs",
                need.path,
            )
        )
    return problems


def can_finish(tasks: list[Task]) -> list[bool]:
    """Whether each task can ever become ready, by the plan's structure alone.

    A task can when all its predecessors can finish (an any-join: one of them): the least
    fixed point from the tasks with no predecessor. A task that cannot waits, through
    all-joins, for itself (or for a task that does).
    """
    can = [False] * len(tasks)
    changed = True
    while changed:
        changed = False
        for t in tasks:
            if can[t.index]:
                continue
            ok = any(can[p] for p in t.preds) if t.join == ANY else all(can[p] for p in t.preds)
            if ok:
                can[t.index] = changed = True
    return can


def waiting_chain(tasks: list[Task], can: list[bool], start: int) -> list[int]:
    """The cycle ``start`` (a task that cannot finish) is stuck behind: each task waits for the next."""
    chain = [start]
    seen = {start}
    while True:
        nxt = next(p for p in tasks[chain[-1]].preds if not can[p])
        if nxt in seen:
            return [*chain[chain.index(nxt) :], nxt]
        chain.append(nxt)
        seen.add(nxt)
