"""The compiled event loop behind the vectorized engine.

:func:`simulate_one` executes one replicate of a plan with exactly the dispatch
rules the SimPy engine follows (see :mod:`drsim.plan`): at each instant every
finishing task is processed first — people are freed, successors become ready,
role-free successors start at once (zero-length ones finish at the same instant
and are processed in the same pass) — and then each staff pool hands free
people to waiting tasks, earliest ready first, ties by task index. Zero-length
staffed tasks finish at the same instant and start another such round, as
SimPy's low-priority dispatch event does.

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
def _begin(i, t, d, efrom, eto, ecoef, start, finish, state, running, nrun):
    dur = d[i]
    if efrom[i] >= 0:
        dur = dur + ecoef[i] * (finish[eto[i]] - finish[efrom[i]])
    start[i] = t
    finish[i] = t + dur
    state[i] = 2
    running[nrun] = i
    return nrun + 1


@njit(cache=True)
def simulate_one(d, pred_ptr, succ_ptr, succ_idx, need, role, capacity, efrom, eto, ecoef, start, finish):
    """Execute one replicate; fills ``start`` and ``finish`` (``inf`` = never)."""
    n = d.shape[0]
    state = np.zeros(n, dtype=np.int8)  # 0 idle, 1 waiting for staff, 2 running, 3 done
    cnt = np.zeros(n, dtype=np.int64)
    ready = np.full(n, np.inf)
    free = capacity.copy()
    running = np.empty(n, dtype=np.int64)
    nrun = 0
    waiting = np.empty(n, dtype=np.int64)
    nwait = 0
    for i in range(n):
        start[i] = np.inf
        finish[i] = np.inf
    for i in range(n):
        if need[i] == 0:
            ready[i] = 0.0
            if role[i] < 0:
                nrun = _begin(i, 0.0, d, efrom, eto, ecoef, start, finish, state, running, nrun)
            else:
                state[i] = 1
                waiting[nwait] = i
                nwait += 1
    t = 0.0
    while True:
        # dispatch: free people take waiting tasks, earliest ready first, then lowest index
        while True:
            best = -1
            bpos = -1
            for k in range(nwait):
                j = waiting[k]
                if free[role[j]] > 0:
                    if best < 0 or ready[j] < ready[best] or (ready[j] == ready[best] and j < best):
                        best = j
                        bpos = k
            if best < 0:
                break
            free[role[best]] -= 1
            waiting[bpos] = waiting[nwait - 1]
            nwait -= 1
            nrun = _begin(best, t, d, efrom, eto, ecoef, start, finish, state, running, nrun)
        # next instant: the earliest finish among running tasks
        tn = np.inf
        for k in range(nrun):
            f = finish[running[k]]
            if f < tn:
                tn = f
        if tn == np.inf:
            break
        t = tn
        # process every finish at t, including zero-length role-free tasks started meanwhile
        progressed = True
        while progressed:
            progressed = False
            k = 0
            while k < nrun:
                i = running[k]
                if finish[i] == t:
                    running[k] = running[nrun - 1]
                    nrun -= 1
                    state[i] = 3
                    progressed = True
                    if role[i] >= 0:
                        free[role[i]] += 1
                    for p in range(succ_ptr[i], succ_ptr[i + 1]):
                        s = succ_idx[p]
                        cnt[s] += 1
                        if cnt[s] == need[s] and state[s] == 0:
                            ready[s] = t
                            if role[s] < 0:
                                nrun = _begin(s, t, d, efrom, eto, ecoef, start, finish, state, running, nrun)
                            else:
                                state[s] = 1
                                waiting[nwait] = s
                                nwait += 1
                else:
                    k += 1
    return 0


@njit(cache=True, parallel=True)
def simulate_many(D, pred_ptr, succ_ptr, succ_idx, need, role, capacity, efrom, eto, ecoef, start, finish):
    """Execute every replicate (row of ``D``) in parallel."""
    for r in prange(D.shape[0]):
        simulate_one(D[r], pred_ptr, succ_ptr, succ_idx, need, role, capacity, efrom, eto, ecoef, start[r], finish[r])
    return 0


def run_kernel(arrays, D: np.ndarray, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish times ``(n, n_tasks)`` of every task for durations ``D``."""
    D = np.ascontiguousarray(D, dtype=np.float64)
    start = np.empty_like(D)
    finish = np.empty_like(D)
    a = arrays
    args = (a.pred_ptr, a.succ_ptr, a.succ_idx, a.need, a.role, a.capacity, a.elapsed_from, a.elapsed_to, a.elapsed_coef)
    if parallel:
        simulate_many(D, *args, start, finish)
    else:
        for r in range(D.shape[0]):
            simulate_one(D[r], *args, start[r], finish[r])
    return start, finish
