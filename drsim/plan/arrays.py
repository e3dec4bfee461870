"""The plan as flat arrays: the form a compiled kernel reads.

A numba kernel cannot walk lists of :class:`~drsim.plan.tasks.Task` objects, so
the schedule-relevant fields are laid out as integer and float arrays indexed
by task (or by role, or by roster change). Predecessor and successor lists
are stored compressed (CSR): the predecessors of task ``i`` are
``pred_idx[pred_ptr[i]:pred_ptr[i + 1]]``.

Nothing here is new information: every array is a view of the task fields
listed in the engines' contract of :class:`~drsim.plan.tasks.Task`, the
capacities at the start and the roster's handovers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .roster import Handover, PaceChange, ShiftChange
from .tasks import ALL, Task


def compressed(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``lists`` in compressed sparse row form: (row pointers, concatenated entries)."""
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([i for x in lists for i in x], dtype=np.int64)
    return ptr, idx


@dataclass
class PlanArrays:
    """The plan as flat integer/float arrays, for compiled kernels.

    Attributes
    ----------
    n
        Number of tasks.
    pred_ptr, pred_idx
        Each task's predecessors, compressed.
    succ_ptr, succ_idx
        Each task's successors (the tasks waiting for it), compressed.
    need
        Finished predecessors a task needs to become ready: all of them, 1 for an any-join, 0 with none.
    role
        Each task's role as an index into the sorted role names (-1: needs nobody).
    capacity
        Each role's headcount at the drill start, by sorted role name.
    elapsed_from, elapsed_to, elapsed_coef, priority, skip_if, cancel_if
        The task fields of the same name.
    roster_time, roster_role, roster_delta
        Roster changes, ascending by time: the role and its change of capacity (+ arrive, - leave).
    adds_role, adds_count
        The role (index, -1: none) a task's finish adds people to, and how many (a call-in).
    people
        People of its role each task needs at once (1 for a role-free task).
    offset
        Each task's fixed extra seconds (a data transfer), which a shift's pace does not scale.
    pace_ptr, pace_time, pace_ratio
        By role (compressed), ascending times from which the role's work takes ``ratio`` times its
        compiled duration (the pace then over the starting pace); before the first, 1.
    change_time, change_role, change_headcount, change_cost, change_ratio
        Shift changes that hand running tasks over, ascending by time: the role, the incoming
        headcount, the seconds a handover takes and the pace ratio from then on.
    role_ptr, role_idx
        Each role's staffed tasks, in task order, compressed.
    """

    n: int
    pred_ptr: np.ndarray
    pred_idx: np.ndarray
    succ_ptr: np.ndarray
    succ_idx: np.ndarray
    need: np.ndarray
    role: np.ndarray
    capacity: np.ndarray
    elapsed_from: np.ndarray
    elapsed_to: np.ndarray
    elapsed_coef: np.ndarray
    priority: np.ndarray
    skip_if: np.ndarray
    cancel_if: np.ndarray
    roster_time: np.ndarray
    roster_role: np.ndarray
    roster_delta: np.ndarray
    adds_role: np.ndarray
    adds_count: np.ndarray
    people: np.ndarray
    offset: np.ndarray
    pace_ptr: np.ndarray
    pace_time: np.ndarray
    pace_ratio: np.ndarray
    change_time: np.ndarray
    change_role: np.ndarray
    change_headcount: np.ndarray
    change_cost: np.ndarray
    change_ratio: np.ndarray
    role_ptr: np.ndarray
    role_idx: np.ndarray

    @classmethod
    def of(
        cls,
        tasks: Sequence[Task],
        capacity: dict[str, int],
        handovers: Sequence[Handover],
        paces: Sequence[PaceChange] = (),
        changes: Sequence[ShiftChange] = (),
    ) -> PlanArrays:
        """The arrays of ``tasks`` staffed by ``capacity`` (role -> headcount) changing by ``handovers``,
        at a pace changing by ``paces`` (by role, then time), handed over at ``changes`` (by time)."""
        roles = sorted(capacity)
        rix = {r: i for i, r in enumerate(roles)}
        n = len(tasks)
        preds = [t.preds for t in tasks]
        succs: list[list[int]] = [[] for _ in range(n)]
        for t in tasks:
            for p in t.preds:
                succs[p].append(t.index)
        pp, pi = compressed(preds)
        sp, si = compressed(succs)
        pace_ptr, _ = compressed([[k for k, p in enumerate(paces) if p.role == r] for r in roles])
        role_ptr, role_idx = compressed([[t.index for t in tasks if t.role == r] for r in roles])
        need = np.array([0 if not t.preds else (len(t.preds) if t.join == ALL else 1) for t in tasks], dtype=np.int64)
        return cls(
            n=n,
            pred_ptr=pp,
            pred_idx=pi,
            succ_ptr=sp,
            succ_idx=si,
            need=need,
            role=np.array([rix[t.role] if t.role else -1 for t in tasks], dtype=np.int64),
            capacity=np.array([capacity[r] for r in roles], dtype=np.int64),
            elapsed_from=np.array([t.elapsed_from for t in tasks], dtype=np.int64),
            elapsed_to=np.array([t.elapsed_to for t in tasks], dtype=np.int64),
            elapsed_coef=np.array([t.elapsed_coef for t in tasks], dtype=float),
            priority=np.array([t.priority for t in tasks], dtype=np.int64),
            skip_if=np.array([t.skip_if for t in tasks], dtype=np.int64),
            cancel_if=np.array([t.cancel_if for t in tasks], dtype=np.int64),
            roster_time=np.array([h.time for h in handovers], dtype=np.float64),
            roster_role=np.array([rix[h.role] for h in handovers], dtype=np.int64),
            roster_delta=np.array([h.headcount - h.previous for h in handovers], dtype=np.int64),
            adds_role=np.array([rix[t.adds_role] if t.adds_role else -1 for t in tasks], dtype=np.int64),
            adds_count=np.array([t.adds_count for t in tasks], dtype=np.int64),
            people=np.array([t.people for t in tasks], dtype=np.int64),
            offset=np.array([t.offset for t in tasks], dtype=np.float64),
            pace_ptr=pace_ptr,
            pace_time=np.array([p.time for p in sorted(paces, key=lambda p: (roles.index(p.role), p.time))]),
            pace_ratio=np.array([p.ratio for p in sorted(paces, key=lambda p: (roles.index(p.role), p.time))]),
            change_time=np.array([c.time for c in changes], dtype=np.float64),
            change_role=np.array([rix[c.role] for c in changes], dtype=np.int64),
            change_headcount=np.array([c.headcount for c in changes], dtype=np.int64),
            change_cost=np.array([c.cost for c in changes], dtype=np.float64),
            change_ratio=np.array([c.ratio for c in changes], dtype=np.float64),
            role_ptr=role_ptr,
            role_idx=role_idx,
        )
