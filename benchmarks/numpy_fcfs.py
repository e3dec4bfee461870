"""A pure-numpy implementation of the same exact dispatch, kept only as a benchmark baseline.

Every replicate advances in lockstep through whole-array operations: each
dispatch round starts, per replicate, the waiting task of the most critical
class, then earliest ready time, among roles with a free person (``argmin``
returns the lowest index among ties, which is the last tie-break), and each instant processes every finish at the
replicate's current time (a call-in's people arriving with it), propagating readiness with a matrix product; a
task that may be cancelled is checked after the other finishes of the instant. A task needing several people
at once holds its role's queue until that many are free. Capacity follows the roster as in the kernel: a
replicate reaches a roster change while something is pending or a task waits for a person.
A duration that grows with the time between two finishes (back-entry, a resync) adds it as
the task starts. It gives the compiled kernel's task times exactly (checked by ``run.py``);
it is here to measure what avoiding a compiler would cost.
"""

from __future__ import annotations

import numpy as np


def finish_times(plan, D: np.ndarray) -> np.ndarray:
    """Finish time of every task, ``(replicates, tasks)``, for the durations ``D``."""
    a = plan.arrays()
    grows = np.flatnonzero(a.elapsed_from >= 0)  # durations that grow with the time between two finishes
    n, T = D.shape
    role, need, prio, skip = a.role, a.need, a.priority, a.skip_if
    cancel = a.cancel_if
    checked = cancel >= 0
    R = len(a.capacity)
    adj = np.zeros((T, T))
    for i in range(T):
        for p in range(a.succ_ptr[i], a.succ_ptr[i + 1]):
            adj[i, a.succ_idx[p]] += 1
    onehot = np.zeros((T, max(R, 1)))
    staffed = role >= 0
    onehot[np.flatnonzero(staffed), role[staffed]] = 1
    rclip = np.where(staffed, role, 0)
    crew = a.people.astype(float)
    # people freed (a staffed task's crew) and people arriving (a call-in's) at each task's finish, by role
    gain = onehot * crew[:, None]
    called = np.flatnonzero(a.adds_role >= 0)
    gain[called, a.adds_role[called]] += a.adds_count[called]
    rows = np.arange(n)

    finish = np.full((n, T), np.inf)
    state = np.zeros((n, T), dtype=np.int8)  # 0 idle, 1 waiting, 2 running, 3 done, 4 cancelled
    cnt = np.zeros((n, T))
    ready = np.full((n, T), np.inf)
    free = np.tile(a.capacity.astype(float), (n, 1))
    t = np.zeros(n)
    rtime, rrole, rdelta = a.roster_time, a.roster_role, a.roster_delta
    nro = len(rtime)
    rp = np.zeros(n, dtype=np.int64)  # each replicate's next roster change
    start0 = need == 0
    ready[:, start0] = 0.0
    rf0 = start0 & ~staffed
    state[:, rf0] = 2
    finish[:, rf0] = D[:, rf0]
    state[:, start0 & staffed] = 1
    while True:
        held = np.zeros((n, max(R, 1)), dtype=bool)  # a role whose first task needs more people than are free
        while True:  # dispatch rounds: most critical class, then earliest ready, then lowest index
            can = (state == 1) & (free[:, rclip] > 0) & staffed & ~held[:, rclip]
            top = np.where(can, prio, np.iinfo(np.int64).max).min(axis=1)
            key = np.where(can & (prio == top[:, None]), ready, np.inf)
            best = key.argmin(axis=1)
            ok = np.isfinite(key[rows, best])
            if not ok.any():
                break
            r, b = rows[ok], best[ok]
            short = free[r, role[b]] < crew[b]  # dual control: it holds its role's queue until enough are free
            held[r[short], role[b[short]]] = True
            r, b = r[~short], b[~short]
            dur = _paced(a, r, b, t[r], D[r, b]) + _elapsed(a, finish, r, b)
            sk = skip[b]
            # a step made unnecessary by a task already done (break-glass once access is back) takes no time
            dur = np.where((sk >= 0) & (state[r, np.maximum(sk, 0)] == 3), 0.0, dur)
            state[r, b] = 2
            finish[r, b] = t[r] + dur
            free[r, role[b]] -= crew[b]
        tn = np.where(state == 2, finish, np.inf).min(axis=1)
        # the next roster change, reached when something is pending or a task waits for a person
        tr = np.where(rp < nro, rtime[np.minimum(rp, max(nro - 1, 0))] if nro else np.inf, np.inf)
        tr = np.where(np.isfinite(tn) | ((state == 1) & staffed).any(axis=1), tr, np.inf)
        tn = np.minimum(tn, tr)
        live = np.isfinite(tn)
        if not live.any():
            break
        t = np.where(live, tn, t)
        while nro:  # the roster changes at t: arrivals free at once, departures owed (free may go negative)
            due = (rp < nro) & live
            due[due] = rtime[rp[due]] == t[due]
            if not due.any():
                break
            free[rows[due], rrole[rp[due]]] += rdelta[rp[due]]
            rp += due
        while True:  # every finish at t, including zero-length role-free tasks started meanwhile
            now = (state == 2) & (finish == t[:, None]) & ~checked
            if not now.any():
                # then the tasks that are cancelled if their watched task has finished by now
                due = (state == 2) & (finish == t[:, None]) & checked
                if not due.any():
                    break
                beaten = due & (state[:, np.maximum(cancel, 0)] == 3)
                state[beaten] = 4
                finish[beaten] = np.inf
                now = due & ~beaten
                if not now.any():
                    continue
            state[now] = 3
            nowf = now.astype(float)
            free += nowf @ gain[:, :R] if R else 0.0  # crews freed, and people called in, before the dispatch
            inc = nowf @ adj
            cnt += inc
            newly = (inc > 0) & (cnt >= need) & (state == 0)
            ready = np.where(newly, t[:, None], ready)
            rf = newly & ~staffed
            state[rf] = 2
            extra = np.zeros_like(D)
            if grows.size:
                with np.errstate(invalid="ignore"):
                    gap = finish[:, a.elapsed_to[grows]] - finish[:, a.elapsed_from[grows]]
                extra[:, grows] = np.where(rf[:, grows], a.elapsed_coef[grows] * gap, 0.0)
            finish = np.where(rf, t[:, None] + (D + extra), finish)
            state[newly & staffed] = 1
    return finish


def _elapsed(a, finish, r, b):
    """What tasks ``b`` (rows ``r``) gain from the time between two finishes (0 for the others)."""
    ef = a.elapsed_from[b]
    has = ef >= 0
    out = np.zeros(len(b))
    rh, bh = r[has], b[has]
    out[has] = a.elapsed_coef[bh] * (finish[rh, a.elapsed_to[bh]] - finish[rh, ef[has]])
    return out


def _paced(a, r, b, t, dur):
    """The durations ``dur`` of tasks ``b`` starting at ``t`` at the pace of the shift then on duty."""
    if not a.pace_time.size:
        return dur
    k = np.ones(len(r))
    rl = a.role[b]
    for q in np.unique(rl):
        lo, hi = a.pace_ptr[q], a.pace_ptr[q + 1]
        if lo == hi:
            continue
        m = rl == q
        j = np.searchsorted(a.pace_time[lo:hi], t[m], side="right")
        k[m] = np.where(j > 0, a.pace_ratio[lo:hi][np.maximum(j - 1, 0)], 1.0)
    scale = np.isfinite(dur) & (k != 1.0)
    with np.errstate(invalid="ignore"):
        return np.where(scale, dur + (dur - a.offset[b]) * (k - 1.0), dur)
