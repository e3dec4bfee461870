"""The vectorized engine: many replicates of a plan at once, through a compiled kernel.

It consumes the same :class:`~drsim.engine.draws.Draws` as the SimPy engine and gives
the same task times; :mod:`drsim.engine.kernel` holds the event loop itself.

For sweeps the plan is prepared once (:func:`prepare`) and each batch of draws
is run with :func:`finish_times`, which builds no ``(replicates, tasks)``
duration matrix: the kernel reads the draws of random tasks directly and keeps
only the finish times the caller needs (those the outcomes read), one
contiguous array per task.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..jit import HAVE_NUMBA, get_num_threads, is_compiled, set_num_threads
from ..plan import ANY, Plan, PlanArrays
from ..plan.arrays import compressed
from .draws import Draws, duty_column, restore_can_block, task_column
from .finish import FinishTimes
from .kernel import KernelArrays, simulate


@dataclass(frozen=True)
class KernelPlan:
    """A plan made ready for the kernel, built once per plan by :func:`prepare`."""

    #: What the event loop reads (the same for every batch of replicates).
    kernel: KernelArrays
    #: For each row of the duration matrix ``R``: (task index, random element or None, offset,
    #: RPO item blocking it or -1).
    rows: tuple[tuple[int, str | None, float, int], ...]
    #: For each row of ``R`` after ``rows``: a page and the entry of its ``on_duty`` whose shift's time to
    #: acknowledge the row holds (one per page and shift other than the starting one).
    shifts: tuple[tuple[int, int], ...]
    #: Staffed tasks, tasks on a cycle, and the tasks after them the loop needs: the event loop's tasks.
    dyn: np.ndarray
    #: Tasks in the plan.
    n_tasks: int


def _order(n: int, preds: list[list[int]], among: np.ndarray) -> list[int]:
    """Tasks of ``among`` in an order where each comes after its predecessors in ``among``.

    Tasks left out wait, through tasks of ``among``, for themselves: they sit on a cycle or after one.
    """
    succs: list[list[int]] = [[] for _ in range(n)]
    left = [0] * n
    for i in range(n):
        if among[i]:
            for p in set(preds[i]):
                if among[p]:
                    succs[p].append(i)
                    left[i] += 1
    todo = [i for i in range(n - 1, -1, -1) if among[i] and left[i] == 0]
    order = []
    while todo:
        i = todo.pop()
        order.append(i)
        for s in succs[i]:
            left[s] -= 1
            if left[s] == 0:
                todo.append(s)
    return order


def _reach(n: int, edges: list[list[int]], seeds: np.ndarray) -> np.ndarray:
    """The tasks reachable from ``seeds`` (included) along ``edges``."""
    out = seeds.copy()
    todo = [int(i) for i in np.flatnonzero(seeds)]
    while todo:
        i = todo.pop()
        for x in edges[i]:
            if x >= 0 and not out[x]:
                out[x] = True
                todo.append(int(x))
    return out


def _split(plan: Plan, a: PlanArrays):
    """Head, dynamic and tail tasks (see :mod:`drsim.engine.kernel`), and the dynamic successors of each task.

    A plan need not be a DAG: a task waiting for the first of several
    predecessors can sit on a cycle (console access comes from break-glass or
    from the identity provider being restored, whose runbook needs that
    access). Such a cycle is only broken as the replicate runs, so every task
    on a cycle is dynamic, like a staffed one: the event loop settles it. So is a
    task that may be cancelled: its fate is known only at the instant it would finish.
    """
    n = a.n
    preds = [list(t.preds) for t in plan.tasks]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    everything = np.ones(n, dtype=bool)
    # on a cycle (or between two): left out of a topological order both forwards and backwards
    fwd = np.zeros(n, dtype=bool)
    fwd[_order(n, preds, everything)] = True
    bwd = np.zeros(n, dtype=bool)
    bwd[_order(n, succs, everything)] = True
    cyclic = ~fwd & ~bwd
    staffed = a.role >= 0
    # a call-in's finish changes capacity at an instant of the loop, like a staffed task's; a task
    # that may be cancelled is settled at the instant it would finish
    # and a page whose time to acknowledge depends on when it fires (the shift then on duty)
    paged = np.array([bool(t.on_duty) for t in plan.tasks], dtype=bool)
    seeds = staffed | cyclic | (a.adds_role >= 0) | (a.cancel_if >= 0) | paged
    # what the loop needs: staffed, cyclic, call-in and cancellable tasks, the tasks they skip on or
    # are cancelled by, the finish times a needed duration reads, and everything before those
    needed = _reach(
        n, [[*preds[i], a.skip_if[i], a.cancel_if[i], a.elapsed_from[i], a.elapsed_to[i]] for i in range(n)], seeds
    )
    after = _reach(n, succs, seeds)  # a staffed or cyclic task, or one after such a task
    # tasks that have finished whenever a task starts: the greatest solution (None: every task)
    # of "all the predecessors and what they wait for" (all) or "what every predecessor has" (any)
    surely: list[set[int] | None] = [set() if not preds[i] else None for i in range(n)]
    visit = _order(n, preds, everything)
    visit += [i for i in range(n) if not fwd[i]]
    changed = True
    while changed:
        changed = False
        for i in visit:
            if not preds[i]:
                continue
            before = [None if (sp := surely[p]) is None else sp | {p} for p in preds[i]]
            known = [b for b in before if b is not None]
            new: set[int] | None
            if plan.tasks[i].join != ANY:
                new = set[int]().union(*known) if len(known) == len(before) else None
            else:
                new = set.intersection(*known) if known else None
            if new != surely[i]:
                surely[i] = new
                changed = True
    for i in range(n):
        for x in (a.elapsed_from[i], a.elapsed_to[i]):
            if x >= 0 and (si := surely[i]) is not None and x not in si:
                # both engines read such a finish time as the task starts; it must be known by then
                raise ValueError(f"task {plan.tasks[i].key!r} reads the finish of a task that need not precede it")
    head_mask = needed & ~after
    tail_mask = ~needed
    head = _order(n, preds, head_mask)
    tail = _order(n, preds, tail_mask)
    if len(head) != head_mask.sum() or len(tail) != tail_mask.sum():  # pragma: no cover - cycles are dynamic
        raise AssertionError("a cycle outside the event loop")
    dyn_mask = needed & after
    dsucc: list[list[int]] = [[] for _ in range(n)]
    for s in range(n):
        if dyn_mask[s]:
            for p in preds[s]:
                dsucc[p].append(s)
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in dsucc])
    idx = np.array([s for x in dsucc for s in x], dtype=np.int64)
    # staffed tasks waiting for nothing are in their queues from the start, in (class, index) order
    start0 = sorted((i for i in range(n) if staffed[i] and not preds[i]), key=lambda i: (a.role[i], a.priority[i], i))

    def ints(x):
        return np.array(x, dtype=np.int64)

    return ints(head), ints(np.flatnonzero(dyn_mask)), ints(tail), ints(start0), ptr, idx


def prepare(plan: Plan) -> KernelPlan:
    """The kernel's view of ``plan``: durations by row or constant, staff queues, DAG arrays."""
    a = plan.arrays()
    n = len(plan.tasks)
    col = np.full(n, -1, dtype=np.int64)
    const = np.zeros(n, dtype=np.float64)
    rows: list[tuple[int, str | None, float, int]] = []
    for t in plan.tasks:
        blocked = -1
        if t.blocked_by_rpo >= 0 and restore_can_block(plan.rpo_items[t.blocked_by_rpo]):
            blocked = t.blocked_by_rpo
        if t.element is not None or blocked >= 0 or t.attempts is not None or t.gate_of >= 0:
            col[t.index] = len(rows)
            rows.append((t.index, t.element, float(t.offset), blocked))
        else:
            # the same arithmetic as drsim.engine.draws.task_column: value, then the offset added
            v = float(t.duration.ppf(np.zeros(1))[0])
            const[t.index] = v + t.offset if t.offset else v
    # pages answered by the shift on duty: a row of R per page and shift other than the starting one
    shifts: list[tuple[int, int]] = []
    duty_rows: list[list[int]] = []
    duty_times: list[list[float]] = []
    for t in plan.tasks:
        seen: dict[str | None, int] = {None: -1}
        rws = []
        for j, d in enumerate(t.on_duty):
            if d.starting:
                rws.append(t.index)
                continue
            if d.shift not in seen:
                seen[d.shift] = n + len(shifts)
                shifts.append((t.index, j))
            rws.append(seen[d.shift])
        duty_rows.append(rws)
        duty_times.append([d.time for d in t.on_duty])
    duty_ptr, duty_row = compressed(duty_rows)
    duty_time = np.array([x for ts in duty_times for x in ts], dtype=np.float64)
    counts = np.bincount(a.role[a.role >= 0], minlength=len(a.capacity))
    qoff = np.zeros(len(a.capacity), dtype=np.int64)
    qoff[1:] = np.cumsum(counts)[:-1]
    anyj = np.array([1 if t.join == ANY and t.preds else 0 for t in plan.tasks], dtype=np.int64)
    head, dyn, tail, start0, dsucc_ptr, dsucc_idx = _split(plan, a)
    kernel = KernelArrays(
        duration_row=col,
        constant_duration=const,
        pred_ptr=a.pred_ptr,
        pred_idx=a.pred_idx,
        dynamic_succ_ptr=dsucc_ptr,
        dynamic_succ_idx=dsucc_idx,
        need=a.need,
        waits_for_any=anyj,
        role=a.role,
        capacity=a.capacity,
        queue_offset=qoff,
        elapsed_from=a.elapsed_from,
        elapsed_to=a.elapsed_to,
        elapsed_coef=a.elapsed_coef,
        priority=a.priority,
        skip_if=a.skip_if,
        cancel_if=a.cancel_if,
        roster_time=a.roster_time,
        roster_role=a.roster_role,
        roster_delta=a.roster_delta,
        adds_role=a.adds_role,
        adds_count=a.adds_count,
        people=a.people,
        offset=a.offset,
        pace_ptr=a.pace_ptr,
        pace_time=a.pace_time,
        pace_ratio=a.pace_ratio,
        change_time=a.change_time,
        change_role=a.change_role,
        change_headcount=a.change_headcount,
        change_cost=a.change_cost,
        change_ratio=a.change_ratio,
        role_ptr=a.role_ptr,
        role_idx=a.role_idx,
        duty_ptr=duty_ptr,
        duty_time=duty_time,
        duty_row=duty_row,
        shift_row=np.arange(len(rows), len(rows) + len(shifts), dtype=np.int64),
        head=head,
        tail=tail,
        queued_at_start=start0,
    )
    return KernelPlan(kernel, tuple(rows), tuple(shifts), dyn, n)


def duration_rows(plan: Plan, kp: KernelPlan, draws: Draws) -> np.ndarray:
    """The ``(rows, replicates)`` matrix of sampled durations of the random tasks.

    Each row is :func:`drsim.engine.draws.task_column`, the computation the SimPy engine reads too.
    """
    R = np.empty((max(len(kp.rows) + len(kp.shifts), 1), draws.n), dtype=np.float64)
    blocked_cache: dict[int, np.ndarray] = {}
    for j, (ti, _element, _offset, _blocked) in enumerate(kp.rows):
        R[j] = task_column(plan, plan.tasks[ti], draws, blocked_cache)
    for j, (ti, k) in enumerate(kp.shifts):
        t = plan.tasks[ti]
        R[len(kp.rows) + j] = duty_column(t, t.on_duty[k], draws)
    return R


def _blocks(n: int, parallel: bool) -> int:
    """Parallel blocks for ``n`` replicates: about four per thread, of at least 64 replicates."""
    if not parallel or n < 256:
        return 1
    return max(1, min(get_num_threads() * 4, n // 64))


def finish_times(
    plan: Plan,
    draws: Draws,
    tasks: np.ndarray | None = None,
    kp: KernelPlan | None = None,
    parallel: bool = True,
    starts: bool = False,
) -> FinishTimes:
    """Finish times (and, with ``starts``, start times) of ``tasks`` (default: all) in every replicate.

    Parameters
    ----------
    plan : Plan
        The compiled drill.
    draws : Draws
        The random numbers of the batch: one replicate per draw.
    tasks : numpy.ndarray, optional
        The tasks whose times are kept (a sweep keeps those the outcomes read).
    kp : KernelPlan, optional
        ``prepare(plan)``, when it has been built already.
    parallel : bool
        Whether the kernel may spread the replicates over every thread.
    starts : bool
        Whether to keep start times too.
    """
    kp = kp if kp is not None else prepare(plan)
    keep = np.arange(kp.n_tasks, dtype=np.int64) if tasks is None else np.asarray(tasks, dtype=np.int64)
    R = duration_rows(plan, kp, draws)
    out = np.empty((len(keep), draws.n), dtype=np.float64)
    out_start = np.empty((len(keep) if starts else 0, draws.n), dtype=np.float64)
    blocks = _blocks(draws.n, parallel)
    with _one_thread_unless(blocks > 1):
        simulate(kp.kernel, R, keep, out, out_start, blocks)
    # the kernel writes one contiguous row per kept task; the record reads it by replicate and column
    return FinishTimes(out.T, keep, kp.n_tasks, out_start.T if starts else None)


@contextmanager
def _one_thread_unless(parallel: bool):
    """The kernel on this thread alone unless ``parallel``: a parallel kernel asked for one block
    still starts a team of every thread, and waits for a busy core to schedule the others."""
    if parallel or not HAVE_NUMBA:
        yield
        return
    before = get_num_threads()
    set_num_threads(1)
    try:
        yield
    finally:
        set_num_threads(before)


def kernel_compiled() -> bool | None:
    """Whether the compiled event loop starts at once (True), compiles first, for about half a
    minute (False: not cached for this source, numba and machine), or cannot be told (None)."""
    return is_compiled(simulate)


def run_many(plan: Plan, draws: Draws, parallel: bool = True) -> FinishTimes:
    """Start and finish times of every task in every replicate of ``draws``."""
    return finish_times(plan, draws, parallel=parallel, starts=True)
