"""The compiled event loop behind the vectorized engine.

:func:`simulate` executes replicates of a plan with exactly the dispatch rules
the SimPy engine follows (see :mod:`drsim.plan`): at each instant every roster
change and every finishing task is processed first — people arrive, leave or
are freed, successors become ready, role-free successors start at once
(zero-length ones finish at the same instant and are processed in the same
pass) — and then each staff pool hands free
people to waiting tasks: most critical class first, then earliest ready,
then lowest task index. Zero-length staffed tasks finish at the same instant
and start another such round, as SimPy's low-priority dispatch event does.

Only staffed tasks need an event loop: a role-free task starts the moment it
is ready, so its times follow from its predecessors' finish times (the latest
of them for a task that waits for all, the earliest for one that waits for
any) plus its own duration — the same float operations an event loop performs,
since ``max`` and ``min`` are exact. The kernel therefore splits a plan (see
:func:`drsim.engine.vectorized.prepare`) into

* **head** tasks, role-free with no staffed or cyclic task before them (the fault,
  detection, the first pages): computed in topological order before the loop;
* **dynamic** tasks: the staffed ones, those on a cycle, and role-free ones
  between them (escalation, later pages, automated runbook steps). A plan need not be a DAG: a task waiting for the
  first of several predecessors can sit on a cycle (console access comes from
  break-glass or from the identity provider's restoration, whose runbook needs
  that access), which only the event loop breaks. A staffed task's finish is
  an instant of the loop: there its person is freed and the finish is pushed at
  once through the role-free tasks after it. The loop only stops at the
  instants where a staffed task finishes, where one becomes ready after
  role-free tasks finish later than the instant that settled them, or where a
  task waiting for the first of several predecessors is settled (its earliest
  finish cannot be known before the loop reaches it);
* **tail** tasks, role-free and never needed by a dynamic one (milestones,
  restarts, "restored"): computed in topological order after the loop.

A role-free task that may be cancelled (``cancel_if``) is dynamic and is not
pushed ahead: it starts as any role-free task, but its finish is an instant
of the loop (code ``-1 - task``, like a staffed finish; a role-free task
tells them apart). At that instant it is checked after the carry has settled
every finish of the instant that needs nobody dispatched, and before the
dispatch: it finishes, and is carried forward, unless the task it names has
finished by then (the SimPy engine checks at the same point).

A finish pushed ahead of time (a role-free task finishing after the instant
that settled it) must not look "done" to a staffed task that
skips its work once another task has finished (``skip_if``) before the loop
would have processed it: every computed finish carries the number of the
dispatch round it was computed in, and a finish at the current instant counts
only if it was computed before the current round.

Pending instants sit in a short list kept sorted, latest first: a new one is
usually near the end, the next instant is the last element, and everything at
one instant comes off the end together. A staffed task that becomes ready at
the instant being processed joins its queue at once instead, except one the
head tasks make ready at 0: that waits for the second round at 0. Each role
keeps its waiting tasks in a queue ordered by (priority class, ready time, task index): tasks join a queue
at the instant they become ready, which never decreases, so a new task is
appended and moved forward past less critical tasks and equally ready tasks of
higher index. Only roles that gained a waiting task, or freed a person while
tasks wait, since the last round are visited; roles never compete for the same person, so
dispatching role by role, in any order, hands out people exactly as one global
pass would.

A replicate's task durations come from a matrix ``R`` with one row per
random (or data-dependent) task and one column per replicate, or from a
per-task constant; only the finish times a caller asks for are written out.
Replicates run in tiles of 64 whose draws are copied in row by row, into a
matrix of durations by task and replicate that also holds the constant
durations of dynamic tasks, so the event loop reads any duration with one
load. Head and tail tasks are computed for a whole tile at once, task by task, in loops over
the tile's replicates that the compiler vectorizes: the finish (and start) times
of a tile are kept in a matrix by task and replicate, holding the head and tail
tasks and those dynamic tasks the tail reads or the caller keeps; the kept rows
are copied out from it. These loops perform, replicate by replicate, exactly
the float operations of a one-replicate pass (the latest or earliest
predecessor finish, plus the duration and its elapsed-time term, evaluated in
the same order, without contraction into fused operations), so the times are
the same to the bit. The event loop runs replicate by replicate; a replicate
starts from the head tasks' finishes in the matrix and leaves the finishes the
tail needs there.

The small helpers are inlined (``inline="always"``): an ordinary call makes
numba count references to every array passed, which costs more than the work.
Indices read from arrays are masked with ``NN``, a no-op on the non-negative
indices used here, which lets the compiler drop numba's wraparound of negative
indices from the loop.

Capacity follows the roster (see :mod:`drsim.plan`): the plan's roster changes
(time, role, change of capacity), ascending and the same for every replicate,
are read from shared arrays through a pointer rather than pushed into each
replicate's pending list. The next instant is the earlier of the next pending
one and the next roster change; a roster change adds its delta to the role's
free count (which goes negative while departures are owed: a person freed then
leaves instead of taking work) and, when people arrive, visits the role at the
dispatch round of that instant, after every finish and roster change of the
instant. A call-in (a role-free task with ``adds_role``) is a dynamic task whose finish is also an
instant (code ``-1 - task``; a role-free task that may not be cancelled is a call-in): there its
people join the role's free count for the rest of the incident and the role is visited, exactly
like a roster rise. At one instant the order is the SimPy engine's: finishes, roster changes and
call-in arrivals first (one that finishes at the very instant it starts arrives at once, before the
dispatch), then the cancel checks, then the dispatch round; arrivals and cancel checks never read
each other, and both come before the dispatch. A staffed task works at the pace of the shift on
duty when it is dispatched: where that differs from the compiled (starting) pace, the drawn part
of its duration is scaled by their ratio. A page (a task with ``on_duty`` entries) takes the time to
acknowledge of the shift on duty when it fires, read from its own row of the tile before the first
change and from the row of that shift's stream after it; such pages are dynamic tasks, so the
instant they fire is known (:func:`_on_duty`). A task needing several people at once (dual control) is
dispatched only when that many are free, and until then holds its role's queue (nobody behind it
overtakes). The loop goes on while instants are pending, or while some task waits
in a queue and roster changes remain (a task waiting for a shift that has not
started yet gets one); a replicate whose queues are empty stops at its last
pending instant, whatever the roster does after.

The kernel is plain Python in a subset numba compiles; without numba it still
runs (slowly), which keeps the semantics testable everywhere (see :mod:`drsim.jit`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import njit, prange
from .handover import hand_over, work_share

INF = np.inf
#: Replicates per tile (see :func:`simulate`).
TILE = 64
#: Masks an index read from an array: the compiler then knows it (and it plus one) is not
#: negative and drops numba's wraparound of negative indices. Indices here are never negative.
NN = (1 << 62) - 1


@njit(inline="always")
def _duration(i, Dt, rr, efrom, eto, ecoef, finish):
    """Task ``i``'s duration in the replicate at column ``rr`` of the tile: its draw or constant
    (row ``i`` of ``Dt``), plus the part that grows with the time between two earlier finishes
    (rollback replay)."""
    dur = Dt[i, rr]
    if efrom[i] >= 0:
        dur = dur + ecoef[i] * (finish[eto[i] & NN] - finish[efrom[i] & NN])
    return dur


#: The handover arithmetic of :mod:`drsim.engine.handover`, compiled: the same operations as the SimPy engine's.
_hand_over = njit(inline="always")(hand_over)
_work_share = njit(inline="always")(work_share)


@njit(inline="always")
def _push(evt, evc, nev, x, code):
    """Adds instant ``x`` with ``code`` to the ``nev`` pending ones, kept latest first; returns their new count."""
    pos = nev
    while pos > 0 and evt[pos - 1] < x:
        evt[pos] = evt[pos - 1]
        evc[pos] = evc[pos - 1]
        pos -= 1
    evt[pos] = x
    evc[pos] = code
    return nev + 1


@njit(inline="always")
def _unpush(evt, evc, nev, x, code):
    """Removes the pending instant ``x`` with ``code`` (there is one) from the ``nev`` pending ones;
    returns their new count."""
    pos = 0
    while pos < nev and not (evt[pos] == x and evc[pos] == code):
        pos += 1
    while pos < nev - 1:
        evt[pos] = evt[pos + 1]
        evc[pos] = evc[pos + 1]
        pos += 1
    return nev - 1


@njit(inline="always")
def _mark(rl, dmark, dq, nd):
    """Role ``rl`` is visited at the next dispatch round (once, however often it is marked);
    returns the new count of roles to visit."""
    if not dmark[rl]:
        dmark[rl] = 1
        dq[nd] = rl
        nd += 1
    return nd


@njit(inline="always")
def _on_duty(i, x, Dt, rr, dptr, dtime, drow):
    """Page ``i`` fired at ``x`` takes the time to acknowledge of the shift on duty then: row ``drow`` of
    ``Dt`` of its last change at or before ``x`` (-1: nobody answers), its own row before the first."""
    row = i
    c = dptr[i]
    while c < dptr[i + 1] and dtime[c & NN] <= x:
        row = drow[c & NN]
        c += 1
    if row < 0:
        return INF
    return Dt[row & NN, rr]


@njit(inline="always")
def _start(
    s,
    x,
    rnd,
    Dt,
    rr,
    efrom,
    eto,
    ecoef,
    start,
    finish,
    tag,
    stk,
    sp,
    dsucc_ptr,
    cancel,
    evt,
    evc,
    nev,
    dptr,
    dtime,
    drow,
):
    """Role-free task ``s`` starts at ``x``, its finish counted as computed in round ``rnd`` and,
    if it finishes and has dynamic successors, put on the stack ``stk`` to carry forward; a task
    that may be cancelled is instead checked at the instant it would finish (code ``-1 - s``).
    Returns the new stack height and count of pending instants."""
    if dptr[s] < dptr[s + 1]:
        fs = x + _on_duty(s, x, Dt, rr, dptr, dtime, drow)
    else:
        fs = x + _duration(s, Dt, rr, efrom, eto, ecoef, finish)
    start[s] = x
    if cancel[s] >= 0:
        if fs < INF:
            nev = _push(evt, evc, nev, fs, -1 - s)
        return sp, nev
    finish[s] = fs
    tag[s] = rnd
    if fs < INF and dsucc_ptr[s] < dsucc_ptr[s + 1]:
        stk[sp & NN] = s
        sp += 1
    return sp, nev


@njit(inline="always")
def _paced(i, rl, t, dur, Dt, rr, off, pc, pace_ptr, pace_time, pace_ratio, hk):
    """Staffed task ``i`` of role ``rl`` starting at ``t`` takes ``dur`` at the pace of the shift then on
    duty: its drawn part (``Dt`` less the data transfer ``off``) times the ratio of that pace to the
    compiled one, from the last change at or before ``t`` (none: unchanged). ``pc[rl]`` counts the
    role's changes passed so far in the replicate: dispatch times never decrease, so it only moves on.
    The ratio is kept in ``hk[i]`` (for a handover)."""
    c = pc[rl]
    while c < pace_ptr[rl + 1] and pace_time[c & NN] <= t:
        c += 1
    pc[rl] = c
    k = 1.0
    if c > pace_ptr[rl] and dur < INF:
        k = pace_ratio[(c - 1) & NN]
        if k != 1.0:
            dur = dur + (Dt[i, rr] - off[i]) * (k - 1.0)
    hk[i] = k
    return dur


@njit(inline="always")
def _call_in(s, t, finish, adds, addn, free, dmark, dq, nd, evt, evc, nev):
    """Role-free task ``s`` has just started (or, one that may be cancelled, finished) before the
    dispatch round of instant ``t``: if it is a call-in (``adds``), its people arrive at its finish.
    At ``t`` itself they join the role's free count at once, before that dispatch round (as the SimPy
    engine adds them at their finish, before its dispatch event); later, its finish is an instant
    (code ``-1 - s``). Returns the new counts of roles to visit and of pending instants."""
    f = finish[s]
    if adds[s] >= 0 and f < INF:
        if f == t:
            rl = adds[s] & NN
            free[rl] += addn[s]
            nd = _mark(rl, dmark, dq, nd)
        else:
            nev = _push(evt, evc, nev, f, -1 - s)
    return nd, nev


@njit(inline="always")
def _join(c, t, rl, q, qoff, qhead, qtail, prio, acc):
    """Task ``c``, ready at ``t``, joins the queue of role ``rl`` in (class, ready time, index) order:
    ready times never decrease, so it moves forward past less critical tasks and equally ready ones
    of higher index."""
    acc[c] = t
    off = qoff[rl]
    pos = qtail[rl]
    while pos > qhead[rl]:
        o = q[(off + pos - 1) & NN] & NN
        if prio[o] > prio[c] or (prio[o] == prio[c] and (acc[o] > t or (acc[o] == t and o > c))):
            q[(off + pos) & NN] = o
            pos -= 1
        else:
            break
    q[(off + pos) & NN] = c
    qtail[rl] += 1


@njit(inline="always")
def _tile_task(i, w, ft, st, want_start, xs, ds, Dt, pred_ptr, pred_idx, anyj, col, const, efrom, eto, ecoef):
    """Role-free task ``i`` in the first ``w`` replicates of a tile, from its predecessors' rows of
    ``ft``: it starts at the latest finish of its predecessors (the earliest if it waits for any,
    0 with none) and, unless that is never, finishes its duration (the operations of
    :func:`_duration`) later. Writes row ``i`` of ``ft`` (and of ``st``)."""
    p0 = pred_ptr[i]
    p1 = pred_ptr[i + 1]
    if p0 < p1:
        a = ft[pred_idx[p0]]
        for m in range(w):
            xs[m] = a[m]
        if anyj[i]:
            for p in range(p0 + 1, p1):
                a = ft[pred_idx[p]]
                for m in range(w):
                    xs[m] = min(xs[m], a[m])
        else:
            for p in range(p0 + 1, p1):
                a = ft[pred_idx[p]]
                for m in range(w):
                    xs[m] = max(xs[m], a[m])
    else:
        for m in range(w):
            xs[m] = 0.0
    if col[i] >= 0:
        a = Dt[i]
        for m in range(w):
            ds[m] = a[m]
    else:
        d = const[i]
        for m in range(w):
            ds[m] = d
    if efrom[i] >= 0:
        a = ft[eto[i]]
        a2 = ft[efrom[i]]
        e = ecoef[i]
        for m in range(w):
            ds[m] = ds[m] + e * (a[m] - a2[m])
    a = ft[i]
    for m in range(w):
        x = xs[m]
        a[m] = INF if x == INF else x + ds[m]
    if want_start:
        a = st[i]
        for m in range(w):
            a[m] = xs[m]


class KernelArrays(NamedTuple):
    """A plan as the event loop reads it: flat arrays, the same for every replicate and every call.

    Built once per plan by :func:`drsim.engine.vectorized.prepare` and passed to
    :func:`simulate` as one argument (numba compiles a named tuple of arrays
    like the arrays themselves). Tasks are numbered as in the plan; ``*_ptr``
    and ``*_idx`` pairs are compressed sparse rows (the entries of task ``i``
    are ``idx[ptr[i]:ptr[i + 1]]``); every index array is ``int64``.
    """

    #: For each task, the row of the duration matrix ``R`` holding its duration (-1: a constant).
    duration_row: np.ndarray
    #: For each task whose ``duration_row`` is -1, its duration (seconds).
    constant_duration: np.ndarray
    #: The predecessors of each task.
    pred_ptr: np.ndarray
    pred_idx: np.ndarray
    #: The successors of each task among the dynamic tasks (those the event loop settles).
    dynamic_succ_ptr: np.ndarray
    dynamic_succ_idx: np.ndarray
    #: How many predecessors must finish before a task that waits for all of them starts.
    need: np.ndarray
    #: 1 for a task that waits for the first of its predecessors, 0 for one that waits for all.
    waits_for_any: np.ndarray
    #: The staff pool (role) a task needs a person from, -1 for a role-free task.
    role: np.ndarray
    #: People of each role on duty when the drill starts.
    capacity: np.ndarray
    #: Where each role's queue of waiting tasks starts in the shared queue array.
    queue_offset: np.ndarray
    #: A duration that grows with the time between two earlier finishes (rollback replay): a task's
    #: duration gains ``elapsed_coef * (finish[elapsed_to] - finish[elapsed_from])`` (-1: none).
    elapsed_from: np.ndarray
    elapsed_to: np.ndarray
    elapsed_coef: np.ndarray
    #: Dispatch class of a staffed task: lower goes first.
    priority: np.ndarray
    #: A staffed task takes no time once this task has finished (-1: never skipped).
    skip_if: np.ndarray
    #: A role-free dynamic task never finishes if this task has finished by the instant it would
    #: finish, once that instant's finishes needing nobody dispatched are known (-1: never cancelled).
    cancel_if: np.ndarray
    #: Roster changes, ascending by time: when, which role, and its change of capacity.
    roster_time: np.ndarray
    roster_role: np.ndarray
    roster_delta: np.ndarray
    #: The role a task's finish adds people to for the rest of the incident (a call-in; -1: none),
    #: and how many.
    adds_role: np.ndarray
    adds_count: np.ndarray
    #: People of its role a staffed task needs at once (2: dual control).
    people: np.ndarray
    #: Each task's data-transfer seconds (included in its duration, not scaled by a shift's pace).
    offset: np.ndarray
    #: By role (compressed), ascending times from which its work takes ``pace_ratio`` times its
    #: compiled duration (the pace of the shift then on duty over the starting shift's).
    pace_ptr: np.ndarray
    pace_time: np.ndarray
    pace_ratio: np.ndarray
    #: Shift changes that hand running tasks over, ascending by time: the role, the incoming
    #: headcount (at most that many people's tasks are handed over), the seconds a handover
    #: takes and the pace ratio from then on (see :mod:`drsim.engine.handover`).
    change_time: np.ndarray
    change_role: np.ndarray
    change_headcount: np.ndarray
    change_cost: np.ndarray
    change_ratio: np.ndarray
    #: Each role's staffed tasks, in task order.
    role_ptr: np.ndarray
    role_idx: np.ndarray
    #: By task (compressed), for a page: ascending times from which the shift on duty answers it, and the
    #: row of the tile's durations holding that shift's time to acknowledge (the page's own row for the
    #: starting shift, ``n_tasks + a`` for other shift ``a``, -1: nobody answers).
    duty_ptr: np.ndarray
    duty_time: np.ndarray
    duty_row: np.ndarray
    #: The row of ``R`` holding each other shift's time to acknowledge (row ``n_tasks + a`` of the tile).
    shift_row: np.ndarray
    #: Head tasks (role-free, before any staffed or cyclic task), in topological order.
    head: np.ndarray
    #: Tail tasks (role-free, needed by no dynamic task), in topological order.
    tail: np.ndarray
    #: Staffed tasks that wait for nothing, by role, class and index: queued from the start.
    queued_at_start: np.ndarray


@njit(cache=True, parallel=True, nogil=True)
def simulate(kernel_arrays, R, keep, out_finish, out_start, blocks):
    """Execute every replicate (column of ``R``) of the plan ``kernel_arrays``, in ``blocks`` parallel blocks.

    Parameters
    ----------
    kernel_arrays : KernelArrays
        The plan, as the event loop reads it.
    R : numpy.ndarray
        ``(rows, replicates)`` durations of the tasks with a row (``duration_row``).
    keep : numpy.ndarray
        The tasks whose times are written out.
    out_finish : numpy.ndarray
        ``(len(keep), replicates)``: receives the finish time of task ``keep[j]`` in replicate ``r``
        at ``[j, r]``.
    out_start : numpy.ndarray
        The same for start times, or an array with no rows when they are not wanted.
    blocks : int
        Parallel blocks of consecutive replicates.

    Returns
    -------
    int
        0.

    Notes
    -----
    Inside, the plan's arrays go by short names: ``col`` and ``const`` (durations), ``dsucc_*``
    (dynamic successors), ``anyj`` (waits for any), ``qoff``, ``efrom``, ``eto``, ``ecoef``,
    ``prio``, ``skip``, ``cancel``, ``rtime``, ``rrole``, ``rdelta``, ``adds``, ``addn``, ``crew`` (people), ``off``,
    ``pptr``, ``ptime``, ``pratio``, ``dptr``, ``dtime``, ``drow``, ``srow`` (pages answered by
    the shift on duty) and ``start0``.
    Helpers are inlined: ordinary calls that pass arrays cost reference
    counting on every call. Each block keeps a tile's finish times in ``ft``
    (and start times in ``st``), by task and replicate.
    """
    col = kernel_arrays.duration_row
    const = kernel_arrays.constant_duration
    pred_ptr = kernel_arrays.pred_ptr
    pred_idx = kernel_arrays.pred_idx
    dsucc_ptr = kernel_arrays.dynamic_succ_ptr
    dsucc_idx = kernel_arrays.dynamic_succ_idx
    need = kernel_arrays.need
    anyj = kernel_arrays.waits_for_any
    role = kernel_arrays.role
    capacity = kernel_arrays.capacity
    qoff = kernel_arrays.queue_offset
    efrom = kernel_arrays.elapsed_from
    eto = kernel_arrays.elapsed_to
    ecoef = kernel_arrays.elapsed_coef
    prio = kernel_arrays.priority
    skip = kernel_arrays.skip_if
    cancel = kernel_arrays.cancel_if
    rtime = kernel_arrays.roster_time
    rrole = kernel_arrays.roster_role
    rdelta = kernel_arrays.roster_delta
    adds = kernel_arrays.adds_role
    addn = kernel_arrays.adds_count
    crew = kernel_arrays.people
    off = kernel_arrays.offset
    pptr = kernel_arrays.pace_ptr
    ptime = kernel_arrays.pace_time
    pratio = kernel_arrays.pace_ratio
    ctime = kernel_arrays.change_time
    crole = kernel_arrays.change_role
    chead = kernel_arrays.change_headcount
    ccost = kernel_arrays.change_cost
    cratio = kernel_arrays.change_ratio
    rptr = kernel_arrays.role_ptr
    dptr = kernel_arrays.duty_ptr
    dtime = kernel_arrays.duty_time
    drow = kernel_arrays.duty_row
    srow = kernel_arrays.shift_row
    nshift = srow.shape[0]
    ridx = kernel_arrays.role_idx
    nchange = ctime.shape[0]
    head = kernel_arrays.head
    tail = kernel_arrays.tail
    start0 = kernel_arrays.queued_at_start
    n = out_finish.shape[1]
    ntask = need.shape[0]
    nroles = capacity.shape[0]
    nkeep = keep.shape[0]
    nev_max = 3 * ntask + pred_idx.shape[0] + 1  # ready, finish and arrival instants
    want_start = out_start.shape[0] > 0
    nroster = rtime.shape[0]
    # the tile's matrix: head and tail rows are computed for the whole tile; the rows of dynamic
    # tasks the tail reads (cp) or whose start the caller keeps (ks) are filled replicate by replicate
    tiled = np.zeros(ntask, dtype=np.bool_)
    for k in range(head.shape[0]):
        tiled[head[k]] = True
    for k in range(tail.shape[0]):
        tiled[tail[k]] = True
    read = np.zeros(ntask, dtype=np.bool_)
    for k in range(tail.shape[0]):
        i = tail[k]
        for p in range(pred_ptr[i], pred_ptr[i + 1]):
            read[pred_idx[p]] = True
        if efrom[i] >= 0:
            read[efrom[i]] = True
            read[eto[i]] = True
    kept = np.zeros(ntask, dtype=np.bool_)
    for j in range(nkeep):
        kept[keep[j]] = True
    cp = np.flatnonzero((read | kept) & ~tiled)
    ks = np.flatnonzero(kept & ~tiled) if want_start else np.empty(0, dtype=np.int64)
    # what a replicate starts from: no predecessor finished yet, staffed tasks waiting for nothing
    # ready at 0
    acc0 = np.empty(ntask, dtype=np.float64)
    for i in range(ntask):
        acc0[i] = INF if anyj[i] else -INF
    # the task whose duration each row of R holds (-1: none, R has a row even when no task is random)
    nrow = R.shape[0]
    rowtask = np.full(nrow, -1, dtype=np.int64)
    for i in range(ntask):
        if col[i] >= 0:
            rowtask[col[i]] = i
    # the predecessors a task waits for, 0 for one that waits for the first of them
    needx = np.empty(ntask, dtype=np.int64)
    for i in range(ntask):
        needx[i] = 0 if anyj[i] else need[i]
    for k in range(start0.shape[0]):
        acc0[start0[k]] = 0.0
    for b in prange(blocks):
        r0 = b * n // blocks
        r1 = (b + 1) * n // blocks
        start = np.empty(ntask, dtype=np.float64)
        finish = np.empty(ntask, dtype=np.float64)
        # latest predecessor finish so far (a task waiting for all), earliest (waiting for any);
        # a staffed task's ready time once it waits in a queue
        acc = np.empty(ntask, dtype=np.float64)
        # predecessors finished (waiting for all); 1 once settled (waiting for any)
        cnt = np.empty(ntask, dtype=np.int64)
        tag = np.zeros(ntask, dtype=np.int64)  # the dispatch round a finish was computed in
        stk = np.empty(ntask, dtype=np.int64)  # tasks whose finish is known, to carry forward
        # pending instants, latest first: a task becomes ready or is settled (code: the task),
        # or a staffed task finishes (code: -1 - the task)
        evt = np.empty(nev_max, dtype=np.float64)
        evc = np.empty(nev_max, dtype=np.int64)
        q = np.empty(ntask, dtype=np.int64)
        free = np.empty(nroles, dtype=np.int64)
        qhead = np.empty(nroles, dtype=np.int64)
        qtail = np.empty(nroles, dtype=np.int64)
        dq = np.empty(nroles, dtype=np.int64)  # roles that may dispatch: a task waiting and a person free
        dmark = np.zeros(nroles, dtype=np.int64)
        pc = np.empty(nroles, dtype=np.int64)  # each role's pace changes passed (see _paced)
        hk = np.ones(ntask, dtype=np.float64)  # a running staffed task's pace ratio (for a handover)
        hw = np.ones(ntask, dtype=np.float64)  # and the share of its time that is people's work
        res = np.empty(ntask, dtype=np.int64)  # tasks that may be cancelled, to check at this instant
        for k in range(head.shape[0]):
            tag[head[k]] = 1  # head tasks finish before the first dispatch round
        # replicates go in tiles of TILE: their draws are copied in, head and tail tasks are
        # computed for the whole tile at once, and the kept times are copied out row by row
        ft = np.empty((ntask, TILE), dtype=np.float64)
        st = np.empty((ntask if want_start else 0, TILE), dtype=np.float64)
        xs = np.empty(TILE, dtype=np.float64)
        ds = np.empty(TILE, dtype=np.float64)
        # durations by task and replicate: the draws of random tasks, copied in for each tile,
        # and the constant ones of dynamic tasks
        Dt = np.empty((ntask + nshift, TILE), dtype=np.float64)
        for i in range(ntask):
            if col[i] < 0 and not tiled[i]:
                a = Dt[i]
                d = const[i]
                for m in range(TILE):
                    a[m] = d
        for lo in range(r0, r1, TILE):
            w = min(TILE, r1 - lo)
            for c in range(nrow):
                i = rowtask[c]
                if i >= 0:
                    a = R[c, lo : lo + w]
                    a2 = Dt[i]
                    for m in range(w):
                        a2[m] = a[m]
            for c in range(nshift):
                a = R[srow[c], lo : lo + w]
                a2 = Dt[ntask + c]
                for m in range(w):
                    a2[m] = a[m]
            # head tasks, in topological order, for the whole tile
            for k in range(head.shape[0]):
                _tile_task(
                    head[k], w, ft, st, want_start, xs, ds, Dt, pred_ptr, pred_idx, anyj, col, const, efrom, eto, ecoef
                )
            for rr in range(w):
                for i in range(ntask):
                    start[i] = INF
                    finish[i] = INF
                    cnt[i] = 0
                    acc[i] = acc0[i]
                for k in range(nroles):
                    free[k] = capacity[k]
                    pc[k] = pptr[k]
                    qhead[k] = 0
                    qtail[k] = 0
                for k in range(start0.shape[0]):
                    i = start0[k] & NN
                    rl = role[i] & NN
                    q[(qoff[rl] + qtail[rl]) & NN] = i
                    qtail[rl] += 1
                nq = start0.shape[0]  # tasks waiting in the queues
                rp = 0  # the next roster change
                hp = 0  # the next shift change that hands work over
                # head tasks, computed for the tile
                sp = 0
                for k in range(head.shape[0]):
                    i = head[k] & NN
                    f = ft[i, rr]
                    finish[i] = f
                    if f < INF and dsucc_ptr[i] < dsucc_ptr[i + 1]:
                        stk[sp & NN] = i
                        sp += 1
                # the event loop; the first dispatch round (at 0, before anything has finished) is round 1
                rnd = 1
                ptag = 1  # the round that finishes carried forward now count as computed in
                t = 0.0
                # the instant whose dispatch round has not run yet: a staffed task ready then joins
                # its queue at once (none while the head tasks are carried forward: they are only
                # ready for the second round at 0)
                tj = np.nan
                nev = 0
                nres = 0
                nd = 0
                for k in range(start0.shape[0]):
                    rl = role[start0[k] & NN] & NN
                    nd = _mark(rl, dmark, dq, nd)
                while True:
                    # carry known finishes through the dynamic tasks after them: a successor waiting
                    # for all is settled with the last (a role-free one starts, a staffed one joins its
                    # queue, now or at an instant); one waiting for any keeps the earliest and an instant
                    while sp > 0:
                        sp -= 1
                        j = stk[sp] & NN
                        f = finish[j]
                        for p in range(dsucc_ptr[j], dsucc_ptr[j + 1]):
                            s = dsucc_idx[p & NN] & NN
                            ns = needx[s]
                            if ns == 0:
                                if f >= acc[s] or cnt[s]:
                                    continue
                                acc[s] = f
                                if f != tj:
                                    nev = _push(evt, evc, nev, f, s)
                                    continue
                                cnt[s] = 1  # settled now
                            else:
                                k = cnt[s] + 1
                                cnt[s] = k
                                x = max(acc[s], f)
                                acc[s] = x
                                if k < ns:
                                    continue
                                if x != tj:
                                    if role[s] >= 0:
                                        nev = _push(evt, evc, nev, x, s)
                                        continue
                                    sp, nev = _start(
                                        s,
                                        x,
                                        ptag,
                                        Dt,
                                        rr,
                                        efrom,
                                        eto,
                                        ecoef,
                                        start,
                                        finish,
                                        tag,
                                        stk,
                                        sp,
                                        dsucc_ptr,
                                        cancel,
                                        evt,
                                        evc,
                                        nev,
                                        dptr,
                                        dtime,
                                        drow,
                                    )
                                    nd, nev = _call_in(s, t, finish, adds, addn, free, dmark, dq, nd, evt, evc, nev)
                                    continue
                            # ready at t, before its dispatch round
                            rl = role[s]
                            if rl >= 0:
                                rl = rl & NN
                                _join(s, t, rl, q, qoff, qhead, qtail, prio, acc)
                                nq += 1
                                nd = _mark(rl, dmark, dq, nd)
                                continue
                            sp, nev = _start(
                                s,
                                t,
                                ptag,
                                Dt,
                                rr,
                                efrom,
                                eto,
                                ecoef,
                                start,
                                finish,
                                tag,
                                stk,
                                sp,
                                dsucc_ptr,
                                cancel,
                                evt,
                                evc,
                                nev,
                                dptr,
                                dtime,
                                drow,
                            )
                            nd, nev = _call_in(s, t, finish, adds, addn, free, dmark, dq, nd, evt, evc, nev)
                    if nres > 0:
                        # a task that may be cancelled, checked once every finish of the instant
                        # that needs nobody dispatched is known: it finishes unless its task has
                        nres -= 1
                        i = res[nres] & NN
                        if not finish[cancel[i] & NN] <= t:
                            finish[i] = t
                            tag[i] = ptag
                            if dsucc_ptr[i] < dsucc_ptr[i + 1]:
                                stk[sp & NN] = i
                                sp += 1
                            nd, nev = _call_in(i, t, finish, adds, addn, free, dmark, dq, nd, evt, evc, nev)
                        continue
                    if nd > 0:
                        # dispatch: free people take waiting tasks, most critical class first, then
                        # earliest ready; a task's finish is an instant that frees its person and is
                        # carried forward
                        while nd > 0:
                            nd -= 1
                            rl = dq[nd] & NN
                            dmark[rl] = 0
                            # strictly in order: a task needing several people at once holds the queue
                            while qhead[rl] < qtail[rl] and free[rl] >= crew[q[(qoff[rl] + qhead[rl]) & NN] & NN]:
                                i = q[(qoff[rl] + qhead[rl]) & NN] & NN
                                qhead[rl] += 1
                                nq -= 1
                                free[rl] -= crew[i]
                                d0 = _duration(i, Dt, rr, efrom, eto, ecoef, finish)
                                dur = _paced(i, rl, t, d0, Dt, rr, off, pc, pptr, ptime, pratio, hk)
                                x = skip[i]
                                if x >= 0 and (finish[x] < t or (finish[x] == t and tag[x] < rnd)):
                                    dur = 0.0
                                if nchange > 0 and 0.0 < dur < INF:
                                    hw[i] = _work_share(dur, d0, off[i], Dt[i, rr])
                                f = t + dur
                                start[i] = t
                                finish[i] = f
                                tag[i] = rnd
                                if f < INF:
                                    nev = _push(evt, evc, nev, f, -1 - i)
                    # the next instant: the next pending one or roster change, whichever is first;
                    # with nothing pending, only a waiting task makes a roster change worth reaching
                    if nev > 0:
                        t = evt[nev - 1]
                        if rp < nroster and rtime[rp & NN] < t:
                            t = rtime[rp & NN]
                        if hp < nchange and ctime[hp & NN] < t:
                            t = ctime[hp & NN]
                    elif nq > 0 and rp < nroster:
                        t = rtime[rp & NN]
                    else:
                        break
                    tj = t
                    rnd += 1
                    ptag = rnd - 1  # whatever is settled from here on is done by the next round
                    while rp < nroster and rtime[rp & NN] == t:
                        rl = rrole[rp & NN] & NN
                        free[rl] += rdelta[rp & NN]
                        if rdelta[rp & NN] > 0:
                            nd = _mark(rl, dmark, dq, nd)
                        rp += 1
                    # a shift begins: running tasks of its role with more left than the handover are
                    # handed to it, in task order, while its headcount lasts (a change passed while
                    # nothing was pending had nothing running)
                    while hp < nchange and ctime[hp & NN] <= t:
                        if ctime[hp & NN] == t:
                            rl = crole[hp & NN] & NN
                            cap = chead[hp & NN]
                            h = ccost[hp & NN]
                            for p in range(rptr[rl], rptr[rl + 1]):
                                i = ridx[p & NN] & NN
                                f = finish[i]
                                if start[i] < t < f < INF and f - t > h and crew[i] <= cap:
                                    cap -= crew[i]
                                    left, share = _hand_over(t, f, h, hw[i], hk[i], cratio[hp & NN])
                                    hw[i] = share
                                    hk[i] = cratio[hp & NN]
                                    nev = _unpush(evt, evc, nev, f, -1 - i)
                                    f = t + left
                                    finish[i] = f
                                    nev = _push(evt, evc, nev, f, -1 - i)
                        hp += 1
                    # take out and process every pending instant at t
                    while nev > 0 and evt[nev - 1] == t:
                        nev -= 1
                        c = evc[nev]
                        if c < 0:
                            i = (-1 - c) & NN
                            if role[i] < 0:
                                if cancel[i] >= 0:
                                    res[nres & NN] = i  # a task that may be cancelled: checked after the carry
                                    nres += 1
                                    continue
                                # a call-in: its people arrive (its finish was carried forward as it started)
                                rl = adds[i] & NN
                                free[rl] += addn[i]
                                nd = _mark(rl, dmark, dq, nd)
                                continue
                            # a staffed task finishes: its people are freed, its finish carried forward
                            rl = role[i] & NN
                            free[rl] += crew[i]
                            if qhead[rl] < qtail[rl]:
                                nd = _mark(rl, dmark, dq, nd)
                            if dsucc_ptr[i] < dsucc_ptr[i + 1]:
                                stk[sp & NN] = i
                                sp += 1
                            continue
                        if needx[c] == 0:
                            if cnt[c]:
                                continue  # settled already by an earlier finish
                            cnt[c] = 1
                        rl = role[c]
                        if rl >= 0:
                            rl = rl & NN
                            _join(c, t, rl, q, qoff, qhead, qtail, prio, acc)
                            nq += 1
                            nd = _mark(rl, dmark, dq, nd)
                            continue
                        sp, nev = _start(
                            c,
                            t,
                            ptag,
                            Dt,
                            rr,
                            efrom,
                            eto,
                            ecoef,
                            start,
                            finish,
                            tag,
                            stk,
                            sp,
                            dsucc_ptr,
                            cancel,
                            evt,
                            evc,
                            nev,
                            dptr,
                            dtime,
                            drow,
                        )
                        nd, nev = _call_in(c, t, finish, adds, addn, free, dmark, dq, nd, evt, evc, nev)
                for k in range(cp.shape[0]):
                    i = cp[k] & NN
                    ft[i, rr] = finish[i]
                for k in range(ks.shape[0]):
                    i = ks[k] & NN
                    st[i, rr] = start[i]
            # tail tasks, in topological order, for the whole tile: the same operations as one
            # replicate at a time, in loops over the tile's replicates
            for k in range(tail.shape[0]):
                _tile_task(
                    tail[k], w, ft, st, want_start, xs, ds, Dt, pred_ptr, pred_idx, anyj, col, const, efrom, eto, ecoef
                )
            for j in range(nkeep):
                a = ft[keep[j]]
                a2 = out_finish[j, lo : lo + w]
                for m in range(w):
                    a2[m] = a[m]
            if want_start:
                for j in range(nkeep):
                    a = st[keep[j]]
                    a2 = out_start[j, lo : lo + w]
                    for m in range(w):
                        a2[m] = a[m]
    return 0
