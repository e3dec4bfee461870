"""The vectorized engine: many replicates of a plan at once, through a compiled kernel.

It consumes the same :class:`~drsim.draws.Draws` as the SimPy engine and gives
the same task times; :mod:`drsim.engine.kernel` holds the event loop itself.

For sweeps the plan is prepared once (:func:`prepare`) and each batch of draws
is run with :func:`finish_times`, which builds no ``(replicates, tasks)``
duration matrix: the kernel reads the draws of random tasks directly and keeps
only the finish times the caller needs (those the outcomes read), one
contiguous array per task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..draws import Draws
from ..plan import Plan, PlanArrays
from .kernel import simulate


@dataclass(frozen=True)
class KernelPlan:
    """A plan turned into the flat arrays the kernel reads, built once per plan."""

    arrays: PlanArrays
    #: For each task, its row in the duration matrix ``R`` (-1: the task's duration is ``const``).
    col: np.ndarray
    const: np.ndarray
    #: For each row of ``R``: (task index, random element or None, offset, RPO item blocking it or -1).
    rows: tuple[tuple[int, str | None, float, int], ...]
    qoff: np.ndarray


def prepare(plan: Plan) -> KernelPlan:
    """The kernel's view of ``plan``: durations by row or constant, staff queues, DAG arrays."""
    a = plan.arrays()
    n = len(plan.tasks)
    col = np.full(n, -1, dtype=np.int64)
    const = np.zeros(n, dtype=np.float64)
    rows = []
    for t in plan.tasks:
        blocked = -1
        if t.blocked_by_rpo >= 0 and plan.rpo_items[t.blocked_by_rpo].kind == "corruption":
            blocked = t.blocked_by_rpo
        if t.element is not None or blocked >= 0:
            col[t.index] = len(rows)
            rows.append((t.index, t.element, float(t.offset), blocked))
        else:
            # the same arithmetic as drsim.draws.task_durations: value, then the offset added
            v = float(t.duration.ppf(np.zeros(1))[0])
            const[t.index] = v + t.offset if t.offset else v
    counts = np.bincount(a.role[a.role >= 0], minlength=len(a.capacity))
    qoff = np.zeros(len(a.capacity), dtype=np.int64)
    qoff[1:] = np.cumsum(counts)[:-1]
    return KernelPlan(a, col, const, tuple(rows), qoff)


def duration_rows(plan: Plan, kp: KernelPlan, draws: Draws) -> np.ndarray:
    """The ``(rows, replicates)`` matrix of sampled durations of the random tasks."""
    from ..outcomes import rpo_base

    R = np.empty((max(len(kp.rows), 1), draws.n), dtype=np.float64)
    blocked_cache: dict[int, np.ndarray] = {}
    for j, (ti, element, offset, blocked) in enumerate(kp.rows):
        if element is not None:
            R[j] = draws[element]
        else:
            R[j] = plan.tasks[ti].duration.ppf(np.zeros(1))[0]
        if offset:
            R[j] += offset
        if blocked >= 0:
            if blocked not in blocked_cache:
                blocked_cache[blocked] = np.isinf(rpo_base(plan, plan.rpo_items[blocked], draws))
            R[j][blocked_cache[blocked]] = np.inf
    return R


class FinishColumns:
    """Finish times of some tasks of a plan, one contiguous array per task.

    Indexed like the full ``(replicates, tasks)`` matrix — ``finish[:, task]`` —
    so the outcomes read it unchanged; asking for a task that was not kept is an error.
    """

    def __init__(self, values: np.ndarray, tasks: np.ndarray, n_tasks: int):
        self.values = values
        self.tasks = tasks
        self.row = {int(t): j for j, t in enumerate(tasks)}
        self.shape = (values.shape[1], n_tasks)

    def __getitem__(self, key):
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)):
            raise TypeError("FinishColumns supports only finish[:, task]")
        try:
            return self.values[self.row[int(key[1])]]
        except KeyError:
            raise KeyError(f"finish time of task {key[1]} was not kept") from None


def _blocks(n: int, parallel: bool) -> int:
    if not parallel or n < 256:
        return 1
    from numba import get_num_threads

    return max(1, min(get_num_threads() * 4, n // 64))


def finish_times(
    plan: Plan,
    draws: Draws,
    tasks: np.ndarray | None = None,
    kp: KernelPlan | None = None,
    parallel: bool = True,
    starts: bool = False,
) -> tuple[FinishColumns, np.ndarray | None]:
    """Finish times (and optionally start times) of ``tasks`` (default: all) in every replicate."""
    kp = kp if kp is not None else prepare(plan)
    a = kp.arrays
    keep = np.arange(a.n, dtype=np.int64) if tasks is None else np.asarray(tasks, dtype=np.int64)
    R = duration_rows(plan, kp, draws)
    out = np.empty((len(keep), draws.n), dtype=np.float64)
    out_start = np.empty((len(keep) if starts else 0, draws.n), dtype=np.float64)
    simulate(
        R,
        kp.col,
        kp.const,
        a.succ_ptr,
        a.succ_idx,
        a.need,
        a.role,
        a.capacity,
        kp.qoff,
        a.elapsed_from,
        a.elapsed_to,
        a.elapsed_coef,
        a.priority,
        a.skip_if,
        keep,
        out,
        out_start,
        _blocks(draws.n, parallel),
    )
    return FinishColumns(out, keep, a.n), (out_start if starts else None)


def run_many(plan: Plan, draws: Draws, arrays=None, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish matrices ``(n, n_tasks)`` for every replicate of ``draws``."""
    del arrays  # kept for callers of the earlier signature; the plan is prepared here
    fin, start = finish_times(plan, draws, parallel=parallel, starts=True)
    return np.ascontiguousarray(start.T), np.ascontiguousarray(fin.values.T)
