"""Sampled draws: every random number a drill needs, in one place.

Each random element of a drill — a runbook step's duration, a person's time to
acknowledge a page, a database's replication lag at the moment of failure, the
age of the last backup — has its own stream of uniform random numbers, derived
from the seed and the element's *name*. The stream is cut into blocks of
:data:`BLOCK` replicates, each block a stream of its own::

    SeedSequence(seed, spawn_key=(block, stable_hash(name)))

So the numbers an element gets do not depend on which other elements exist:
adding a responder or changing one service's strategy leaves every unrelated
draw untouched (common random numbers), and both engines — and every worker of
a distributed sweep — see exactly the same values. Replicate ``r`` is number
``r % BLOCK`` of block ``r // BLOCK``; a run of replicates that starts inside a
block jumps ahead to it (PCG64's ``advance``) instead of drawing what comes
before. So the numbers of replicate ``r`` are the same however a sweep cuts its
replicates into chunks — a chunk size chosen to fit a memory budget changes
where the work is split, never the result.

Some of a drill's data loss is settled by the draws alone — the replication
lag at the fault, the age of the last backup, how long corruption went unseen
— and a restore from a backup the corruption outlived never finishes; so are
the outcomes of steps that can fail (how many attempts fail, which of a
step's gates opens) and how many unusable restore points a restore falls
back past. Both engines read all of that here (:func:`data_loss_window`,
:func:`task_column`), and the outcomes add what only finish times decide.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass

import numpy as np

from ..model.distributions import Distribution
from ..plan import OnDuty, Plan, RpoItem, Task


def stable_hash(name: str) -> int:
    """A 64-bit number from a name, identical on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


#: Replicates per block of an element's stream: each block is seeded on its own, and a run of
#: replicates starting inside one jumps ahead to its first number. Fixed for good: changing it
#: changes every number beyond the first block.
BLOCK = 65536


def element_uniforms(seed: int, name: str, n: int, start: int = 0) -> np.ndarray:
    """The uniforms of replicates ``start .. start + n - 1`` of element ``name``'s stream."""
    out = np.empty(int(n))
    key = stable_hash(name)
    r, stop = int(start), int(start) + int(n)
    while r < stop:
        block, skip = divmod(r, BLOCK)
        take = min(BLOCK - skip, stop - r)
        bits = np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(block, key)))
        if skip:
            bits.advance(skip)  # one 64-bit step per double: the numbers ``skip`` replicates in
        np.random.Generator(bits).random(out=out[r - start : r - start + take])
        r += take
    return out


@dataclass
class Draws:
    """Sampled values (seconds) of every random element, for replicates ``start .. start + n - 1``."""

    seed: int
    #: The first replicate's number (0 for ``drsim drill --seed``).
    start: int
    n: int
    values: dict[str, np.ndarray]

    @classmethod
    def sample(cls, elements: dict[str, Distribution], seed: int, n: int, start: int = 0) -> Draws:
        """Draw replicates ``start .. start + n - 1`` of every element, transformed by its distribution."""
        values = {name: dist.ppf(element_uniforms(seed, name, n, start)) for name, dist in elements.items()}
        return cls(int(seed), int(start), int(n), values)

    def replicate(self, r: int) -> Draws:
        """The draws of one replicate (the ``r``-th of these), as a one-replicate :class:`Draws`."""
        return Draws(self.seed, self.start + r, 1, {k: v[r : r + 1] for k, v in self.values.items()})

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def fallbacks(item: RpoItem, draws: Draws) -> np.ndarray:
    """How many unusable restore points a restore falls back past (of data-loss ``item``), per replicate.

    Each restore point is unusable with probability ``q`` independently, so the count
    ``F`` is geometric: ``P(F >= k) = q ** k``, drawn as ``floor(log u / log q)`` from the
    item's own uniform ``u``. Zero where every restore point is usable.
    """
    if not item.unusable:
        return np.zeros(draws.n)
    u = np.asarray(draws[item.unusable], dtype=float)
    q = item.unusable_p
    if q <= 0.0:
        return np.zeros(draws.n)
    if q >= 1.0:
        return np.full(draws.n, np.inf)
    with np.errstate(divide="ignore"):
        return np.floor(np.log(u) / np.log(q))


def _older_points(item: RpoItem, draws: Draws, window: np.ndarray) -> np.ndarray:
    """``window`` grown by one backup interval per unusable restore point, ``inf`` beyond the retention."""
    if not item.unusable:
        return window
    out = window + fallbacks(item, draws) * item.interval
    return np.where(out > item.retention, np.inf, out)


def data_loss_window(item: RpoItem, draws: Draws) -> np.ndarray:
    """The window of writes (seconds) a service's data path loses, where the draws alone decide it.

    Nothing for synchronous replication (or no data at risk); the replication
    lag at the fault; the age of the last usable backup; for corruption, how long
    it went unseen plus the age of the last usable backup taken before it began —
    ``inf`` beyond the retention, when no clean backup is left. Each unusable
    restore point (:func:`fallbacks`) takes the restore one backup interval further
    back. Where intact point-in-time logs reach back past the corruption's start
    (:func:`logs_reach_back`), they are rolled forward from that backup to just
    before it began: only the dwell is lost. Windows that end at a task's finish (drift, a rollback's discarded
    writes) are the outcomes' to compute (:func:`drsim.engine.outcomes.rpo_base`).
    """
    n = draws.n
    if item.kind in ("none", "sync"):
        return np.zeros(n)
    if item.kind == "lag":
        return np.asarray(draws[item.elements[0]], dtype=float).copy()
    if item.kind == "backup":
        return _older_points(item, draws, np.asarray(draws[item.elements[0]], dtype=float).copy())
    if item.kind == "corruption":
        total = np.zeros(n)
        for e in item.elements:
            total = total + draws[e]
        if item.unusable:
            total = _older_points(item, draws, total)
        else:
            total = np.where(total > item.retention, np.inf, total)
        if item.point_in_time:
            return np.where(logs_reach_back(item, draws) & np.isfinite(total), dwell(item, draws), total)
        return total
    raise ValueError(item.kind)


def dwell(item: RpoItem, draws: Draws) -> np.ndarray:
    """How long before it was found the corruption of data-loss ``item`` began, per replicate (0: no dwell)."""
    if not item.dwell:
        return np.zeros(draws.n)
    return np.asarray(draws[item.dwell], dtype=float)


def logs_compromised(item: RpoItem, draws: Draws) -> np.ndarray:
    """Replicates where the point-in-time logs of data-loss ``item`` are compromised: its uniform below ``logs_p``."""
    if not item.logs:
        return np.zeros(draws.n, dtype=bool)
    return np.asarray(draws[item.logs], dtype=float) < item.logs_p


def logs_reach_back(item: RpoItem, draws: Draws) -> np.ndarray:
    """Replicates where intact point-in-time logs reach back to just before the corruption began."""
    if not item.point_in_time:
        return np.zeros(draws.n, dtype=bool)
    return (dwell(item, draws) <= item.logs_retention) & ~logs_compromised(item, draws)


def restore_window(item: RpoItem, draws: Draws) -> np.ndarray:
    """The window of writes a restore from backup loses (of data-loss ``item``): ``inf`` with no clean backup.

    The service's own loss when it is restored from backup (``backup``, ``corruption``); for a
    failover that falls back to a restore, the last usable backup's age.
    """
    if item.kind in ("backup", "corruption") or not item.backup_age:
        return data_loss_window(item, draws)
    return _older_points(item, draws, np.asarray(draws[item.backup_age], dtype=float).copy())


def restore_can_block(item: RpoItem) -> bool:
    """Whether a restore of data-loss ``item`` can find no clean backup in some replicates."""
    return item.kind == "corruption" or bool(item.unusable)


def no_clean_backup(item: RpoItem, draws: Draws) -> np.ndarray:
    """Replicates where no usable backup is left (of data-loss ``item``): a restore never finishes."""
    return np.isinf(restore_window(item, draws))


def failed_attempts(task: Task, draws: Draws) -> np.ndarray:
    """How many attempts of ``task`` fail, per replicate: ``0 .. limit + 1`` (see :class:`~drsim.plan.Attempts`)."""
    a = task.attempts
    if a is None:
        return np.zeros(draws.n, dtype=np.int64)
    u = np.asarray(draws[task.outcome_element], dtype=float)
    k = np.zeros(draws.n, dtype=np.int64)
    for j in range(1, a.limit + 2):
        k += u < a.probability**j
    return k


def task_column(plan: Plan, t: Task, draws: Draws, blocked_cache: dict[int, np.ndarray]) -> np.ndarray:
    """The sampled duration of task ``t`` in every replicate: the one computation both engines read.

    The draw (or fixed value) plus the offset; the retries actually made of a task that can
    fail; a gate's 0 or ``inf`` by the outcome of the task it watches; a restore run again per
    unusable restore point, and endless (``inf``) where no clean backup is left.
    """
    n = draws.n
    if t.gate_of >= 0:
        watched = plan.tasks[t.gate_of]
        exhausted = failed_attempts(watched, draws) > (watched.attempts.limit if watched.attempts else 0)
        return np.where(exhausted == t.gate_exhausted, 0.0, np.inf)
    if t.element is None:
        col = np.full(n, t.duration.ppf(np.zeros(1))[0])
    else:
        col = np.array(draws[t.element], dtype=float)
    if t.offset:
        col += t.offset
    if t.attempts is not None:
        col = col + _retries(t, draws)
    if t.blocked_by_rpo >= 0:
        item = plan.rpo_items[t.blocked_by_rpo]
        if item.unusable:
            col = col * (1.0 + fallbacks(item, draws))
        if restore_can_block(item):
            if t.blocked_by_rpo not in blocked_cache:
                blocked_cache[t.blocked_by_rpo] = no_clean_backup(item, draws)
            col[blocked_cache[t.blocked_by_rpo]] = np.inf
    return col


def _retries(t: Task, draws: Draws) -> np.ndarray:
    """The time the retries of task ``t`` add, per replicate: ``min(K, limit)`` retry durations."""
    a = t.attempts
    if a is None:  # pragma: no cover - only called for tasks that can fail
        return np.zeros(draws.n)
    made = np.minimum(failed_attempts(t, draws), a.limit)
    retry = a.retry if a.retry is not None else t.duration
    extra = np.zeros(draws.n)
    for j in range(1, a.limit + 1):
        d = np.full(draws.n, retry.ppf(np.zeros(1))[0]) if retry.is_fixed else draws[t.retry_element(j)]
        extra = extra + np.where(made >= j, d, 0.0)
    return extra


def task_durations(plan: Plan, draws: Draws) -> np.ndarray:
    """The ``(n, n_tasks)`` matrix of sampled base durations of every task of ``plan``."""
    d = np.empty((draws.n, len(plan.tasks)), dtype=float)
    blocked_cache: dict[int, np.ndarray] = {}
    for t in plan.tasks:
        d[:, t.index] = task_column(plan, t, draws, blocked_cache)
    return d


def on_duty_at(task: Task, t: float) -> int:
    """Which entry of page ``task``'s :attr:`~drsim.plan.Task.on_duty` answers it when it fires at ``t``:
    the last one from ``t`` or before (-1: none, the starting shift answers at the task's own duration)."""
    return bisect.bisect_right([d.time for d in task.on_duty], t) - 1


def duty_column(task: Task, d: OnDuty, draws: Draws) -> np.ndarray:
    """The time page ``task`` takes to be acknowledged when shift ``d`` answers it, per replicate.

    ``inf`` where nobody answers; the draws of the shift's own element (one per shift of the role,
    so every other draw is untouched). Not for the starting shift (``d.starting``): that is
    the task's own column (:func:`task_column`).
    """
    if d.shift is None:
        return np.full(draws.n, np.inf)
    assert d.duration is not None
    if d.duration.is_fixed:
        return np.full(draws.n, d.duration.ppf(np.zeros(1))[0])
    return np.array(draws[task.duty_element(d.shift)], dtype=float)
