"""The compiled event loop behind the vectorized engine.

:func:`simulate` executes replicates of a plan with exactly the dispatch rules
the SimPy engine follows (see :mod:`drsim.plan`): at each instant every
finishing task is processed first — people are freed, successors become ready,
role-free successors start at once (zero-length ones finish at the same instant
and are processed in the same pass) — and then each staff pool hands free
people to waiting tasks: most critical class first, then earliest ready,
then lowest task index. Zero-length
staffed tasks finish at the same instant and start another such round, as
SimPy's low-priority dispatch event does.

Running tasks sit in a short unsorted list: the next instant is the smallest
finish time in it (a plan keeps only a handful of tasks running at once, and a
branch-free scan beat a binary heap by a third on the reference estate).
Zero-length role-free tasks (milestones, joins) never enter it: they finish
on a stack within the instant that started them. Each role keeps its
waiting tasks in a queue ordered by (priority class, ready time, task index):
tasks only ever become ready at the current instant, which never decreases,
so a new task is appended and moved forward past less critical tasks and
equally ready tasks of higher index.
Roles never compete for the same person, so dispatching role by role hands out
people exactly as one global first-come-first-served pass would.

A replicate's task durations are read from a matrix ``R`` with one row per
random (or data-dependent) task and one column per replicate, or from a
per-task constant; only the finish times a caller asks for are written out.

The functions are plain Python in a subset numba compiles; without numba they
still run (slowly), which keeps the semantics testable everywhere.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a dependency; the fallback keeps the kernel importable for debugging
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False
    prange = range

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


@njit(cache=True)
def _replicate(
    r,
    R,
    col,
    const,
    succ_ptr,
    succ_idx,
    need,
    role,
    capacity,
    qoff,
    efrom,
    eto,
    ecoef,
    prio,
    skip,
    start,
    finish,
    ready,
    rt,
    state,
    cnt,
    ri,
    q,
    free,
    qhead,
    qtail,
    now,
):
    """Execute replicate ``r``, filling ``start`` and ``finish`` (``inf`` = never).

    The remaining arguments are scratch space: ``state`` (0 idle, 1 waiting
    for staff, 2 running, 3 done), predecessor counts ``cnt``, ready times,
    the running tasks (finish times ``rt``, tasks ``ri``, ``nrun`` of them), the role queues
    ``q`` with their ``qhead``/``qtail``, free people per role and the stack
    ``now`` of tasks finishing at the current instant.
    """
    n = need.shape[0]
    nroles = capacity.shape[0]
    for i in range(n):
        start[i] = np.inf
        finish[i] = np.inf
        state[i] = 0
        cnt[i] = 0
    for k in range(nroles):
        free[k] = capacity[k]
        qhead[k] = 0
        qtail[k] = 0
    nrun = 0
    t = 0.0
    for i in range(n):
        if need[i] == 0:
            ready[i] = 0.0
            rl = role[i]
            if rl < 0:
                dur = R[col[i], r] if col[i] >= 0 else const[i]
                if efrom[i] >= 0:
                    dur = dur + ecoef[i] * (finish[eto[i]] - finish[efrom[i]])
                start[i] = t
                finish[i] = t + dur
                state[i] = 2
                rt[nrun] = finish[i]
                ri[nrun] = i
                nrun += 1
            else:
                state[i] = 1
                _enqueue(q, qoff[rl], qhead[rl], qtail[rl], i, prio, ready)
                qtail[rl] += 1
    dirty = True  # a person was freed or a task started waiting since the last dispatch
    while True:
        # dispatch: free people take waiting tasks, most critical class first, then earliest ready
        for rl in range(nroles if dirty else 0):
            while free[rl] > 0 and qhead[rl] < qtail[rl]:
                i = q[qoff[rl] + qhead[rl]]
                qhead[rl] += 1
                free[rl] -= 1
                dur = R[col[i], r] if col[i] >= 0 else const[i]
                if efrom[i] >= 0:
                    dur = dur + ecoef[i] * (finish[eto[i]] - finish[efrom[i]])
                if skip[i] >= 0 and state[skip[i]] == 3:
                    dur = 0.0
                start[i] = t
                finish[i] = t + dur
                state[i] = 2
                rt[nrun] = finish[i]
                ri[nrun] = i
                nrun += 1
        tn = np.inf
        for k in range(nrun):
            if rt[k] < tn:
                tn = rt[k]
        if tn == np.inf:
            break
        t = tn
        # take out every task finishing at t
        nnow = 0
        k = 0
        while k < nrun:
            if rt[k] == t:
                now[nnow] = ri[k]
                nnow += 1
                nrun -= 1
                rt[k] = rt[nrun]
                ri[k] = ri[nrun]
            else:
                k += 1
        # process every finish at t, including zero-length role-free tasks started meanwhile
        # (those go on the stack ``now`` rather than among the running tasks)
        dirty = False
        while nnow > 0:
            nnow -= 1
            i = now[nnow]
            state[i] = 3
            if role[i] >= 0:
                free[role[i]] += 1
                dirty = True
            for p in range(succ_ptr[i], succ_ptr[i + 1]):
                s = succ_idx[p]
                cnt[s] += 1
                if cnt[s] == need[s] and state[s] == 0:
                    ready[s] = t
                    rl = role[s]
                    if rl < 0:
                        dur = R[col[s], r] if col[s] >= 0 else const[s]
                        if efrom[s] >= 0:
                            dur = dur + ecoef[s] * (finish[eto[s]] - finish[efrom[s]])
                        start[s] = t
                        finish[s] = t + dur
                        state[s] = 2
                        if finish[s] == t:
                            now[nnow] = s
                            nnow += 1
                        else:
                            rt[nrun] = finish[s]
                            ri[nrun] = s
                            nrun += 1
                    else:
                        state[s] = 1
                        dirty = True
                        _enqueue(q, qoff[rl], qhead[rl], qtail[rl], s, prio, ready)
                        qtail[rl] += 1
    return 0


@njit(cache=True)
def _enqueue(q, off, head, tail, s, prio, ready):
    """Put task ``s`` into a role's queue, kept in (priority, ready time, index) order.

    A task only ever becomes ready at the current instant, so it moves forward
    past tasks of a less critical class and equally ready tasks of higher index.
    """
    pos = tail
    while pos > head:
        p = q[off + pos - 1]
        if prio[p] > prio[s] or (prio[p] == prio[s] and (ready[p] > ready[s] or (ready[p] == ready[s] and p > s))):
            q[off + pos] = p
            pos -= 1
        else:
            break
    q[off + pos] = s


@njit(cache=True, parallel=True)
def simulate(
    R,
    col,
    const,
    succ_ptr,
    succ_idx,
    need,
    role,
    capacity,
    qoff,
    efrom,
    eto,
    ecoef,
    prio,
    skip,
    keep,
    out_finish,
    out_start,
    blocks,
):
    """Execute every replicate (column of ``R``), in ``blocks`` parallel blocks.

    Writes the finish time of task ``keep[j]`` in replicate ``r`` to
    ``out_finish[j, r]``, and its start time to ``out_start[j, r]`` when
    ``out_start`` has rows.
    """
    n = out_finish.shape[1]
    ntask = need.shape[0]
    nroles = capacity.shape[0]
    nkeep = keep.shape[0]
    want_start = out_start.shape[0] > 0
    for b in prange(blocks):
        r0 = b * n // blocks
        r1 = (b + 1) * n // blocks
        start = np.empty(ntask, dtype=np.float64)
        finish = np.empty(ntask, dtype=np.float64)
        ready = np.empty(ntask, dtype=np.float64)
        rt = np.empty(ntask, dtype=np.float64)
        state = np.empty(ntask, dtype=np.int64)
        cnt = np.empty(ntask, dtype=np.int64)
        ri = np.empty(ntask, dtype=np.int64)
        q = np.empty(ntask, dtype=np.int64)
        now = np.empty(ntask, dtype=np.int64)
        free = np.empty(nroles, dtype=np.int64)
        qhead = np.empty(nroles, dtype=np.int64)
        qtail = np.empty(nroles, dtype=np.int64)
        for r in range(r0, r1):
            _replicate(
                r,
                R,
                col,
                const,
                succ_ptr,
                succ_idx,
                need,
                role,
                capacity,
                qoff,
                efrom,
                eto,
                ecoef,
                prio,
                skip,
                start,
                finish,
                ready,
                rt,
                state,
                cnt,
                ri,
                q,
                free,
                qhead,
                qtail,
                now,
            )
            for j in range(nkeep):
                out_finish[j, r] = finish[keep[j]]
            if want_start:
                for j in range(nkeep):
                    out_start[j, r] = start[keep[j]]
    return 0
