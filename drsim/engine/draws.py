"""Sampled draws: every random number a drill needs, in one place.

Each random element of a drill — a runbook step's duration, a person's time to
acknowledge a page, a database's replication lag at the moment of failure, the
age of the last backup — has its own stream of uniform random numbers, derived
from the seed and the element's *name*::

    SeedSequence(seed, spawn_key=(chunk, stable_hash(name)))

So the numbers an element gets do not depend on which other elements exist:
adding a responder or changing one service's strategy leaves every unrelated
draw untouched (common random numbers), and both engines — and every worker of
a distributed sweep — see exactly the same values. Replicates are grouped in
chunks; replicate ``r`` of chunk ``c`` is number ``r`` of that chunk's stream,
so a chunk's draws do not depend on the chunk size of other chunks.

Some of a drill's data loss is settled by the draws alone — the replication
lag at the fault, the age of the last backup, how long corruption went unseen
— and a restore from a backup the corruption outlived never finishes: both
engines read that here (:func:`data_loss_window`, :func:`task_durations`),
and the outcomes add what only finish times decide.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..model.distributions import Distribution
from ..plan import Plan, RpoItem


def stable_hash(name: str) -> int:
    """A 64-bit number from a name, identical on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def element_uniforms(seed: int, chunk: int, name: str, n: int) -> np.ndarray:
    """The first ``n`` uniforms of element ``name``'s stream in chunk ``chunk``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(chunk), stable_hash(name)))
    return np.random.Generator(np.random.PCG64(ss)).random(n)


@dataclass
class Draws:
    """Sampled values (seconds) of every random element, for ``n`` replicates."""

    seed: int
    chunk: int
    n: int
    values: dict[str, np.ndarray]

    @classmethod
    def sample(cls, elements: dict[str, Distribution], seed: int, n: int, chunk: int = 0) -> Draws:
        """Draw ``n`` replicates of every element, transformed by its distribution."""
        values = {name: dist.ppf(element_uniforms(seed, chunk, name, n)) for name, dist in elements.items()}
        return cls(int(seed), int(chunk), int(n), values)

    def replicate(self, r: int) -> Draws:
        """The draws of one replicate, as a one-replicate :class:`Draws`."""
        return Draws(self.seed, self.chunk, 1, {k: v[r : r + 1] for k, v in self.values.items()})

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def data_loss_window(item: RpoItem, draws: Draws) -> np.ndarray:
    """The window of writes (seconds) a service's data path loses, where the draws alone decide it.

    Nothing for synchronous replication (or no data at risk); the replication
    lag at the fault; the age of the last backup; for corruption, how long it
    went unseen plus the age of the last backup taken before it began — ``inf``
    beyond the retention, when no clean backup is left. Windows that end at a
    task's finish (drift, a rollback's discarded writes) are the outcomes' to
    compute (:func:`drsim.engine.outcomes.rpo_base`).
    """
    n = draws.n
    if item.kind in ("none", "sync"):
        return np.zeros(n)
    if item.kind == "lag":
        return np.asarray(draws[item.elements[0]], dtype=float).copy()
    if item.kind == "backup":
        return np.asarray(draws[item.elements[0]], dtype=float).copy()
    if item.kind == "corruption":
        total = np.zeros(n)
        for e in item.elements:
            total = total + draws[e]
        return np.where(total > item.retention, np.inf, total)
    raise ValueError(item.kind)


def no_clean_backup(item: RpoItem, draws: Draws) -> np.ndarray:
    """Replicates where corruption outlived every backup (of data-loss ``item``): a restore never finishes."""
    return np.isinf(data_loss_window(item, draws))


def task_durations(plan: Plan, draws: Draws) -> np.ndarray:
    """The ``(n, n_tasks)`` matrix of sampled base durations of every task of ``plan``.

    Fixed durations are filled in; a task restoring data gets the transfer time
    added, and is made endless (``inf``) in replicates with no clean backup to
    restore from.
    """
    n = draws.n
    d = np.empty((n, len(plan.tasks)), dtype=float)
    blocked_cache: dict[int, np.ndarray] = {}
    for t in plan.tasks:
        if t.element is None:
            d[:, t.index] = t.duration.ppf(np.zeros(1))[0]
        else:
            d[:, t.index] = draws[t.element]
        if t.offset:
            d[:, t.index] += t.offset
        if t.blocked_by_rpo >= 0:
            item = plan.rpo_items[t.blocked_by_rpo]
            if item.kind == "corruption":
                if t.blocked_by_rpo not in blocked_cache:
                    blocked_cache[t.blocked_by_rpo] = no_clean_backup(item, draws)
                d[blocked_cache[t.blocked_by_rpo], t.index] = np.inf
    return d
