"""Memory: how many replicates a chunk may hold so that a sweep stays within a budget.

A chunk holds, for each of its replicates, every random element's draw, the
sampled durations the engine reads, the finish times the outcomes read and the
outcomes being scored — so its memory grows with the chunk size *and* with the
estate: 65,536 replicates of a 1,000-service estate once took 5.6 GB. Instead
of a fixed chunk, a sweep cuts its replicates into chunks that fit a **memory
budget** (default :data:`DEFAULT_BUDGET`, 1.5 GiB; ``--memory 800M`` or the
``DRSIM_MEMORY`` environment variable to change it):

* :func:`replicate_bytes` estimates one replicate's bytes from the plan's size
  (elements, duration rows, finish times kept, metrics) for the sweep's engine;
* :func:`baseline_bytes` estimates what a process holds before its first chunk
  (the interpreter, numpy, numba and the compiled kernel, the plans);
* :func:`chunk_size_for` takes the largest power of two of replicates (at most
  65,536, at least :data:`MIN_CHUNK`) whose chunk fits in what is left.

The budget holds for each process that runs chunks: the sweep's own (whose
threads run only as many chunks at once as fit, :attr:`MemoryPlan.at_once`), each
worker of a local pool, each worker of a Dask cluster (one chunk at a time).
Draws are keyed by replicate, not by chunk (:mod:`drsim.engine.draws`), and sums
are exact (:mod:`drsim.stats`), so the chunk size chosen never changes a number.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError, Problem

if TYPE_CHECKING:
    from .chunks import SweepPoint

#: A sweep's process stays under this many bytes unless told otherwise: 1.5 GiB.
DEFAULT_BUDGET = 3 * 2**29
#: The environment variable that sets the budget (the ``--memory`` option wins over it).
ENV = "DRSIM_MEMORY"
#: The largest chunk: beyond it a chunk gains no speed (the kernel's per-call set-up is long repaid).
MAX_CHUNK = 65536
#: The smallest chunk: below it the per-chunk overheads (sampling set-up, summaries) dominate.
MIN_CHUNK = 256
#: The smallest budget accepted: the interpreter, numpy and numba alone take about 200 MiB.
MIN_BUDGET = 256 * 2**20
#: What a process holds before its first chunk (measured: about 190 MiB with drsim, numpy, scipy,
#: numba and the compiled kernel loaded), and per task of each plan (its models, tasks and arrays:
#: about 8 KiB measured on the 1,000- and 5,000-service estates of benchmarks/estates.py).
PROCESS_BYTES = 200 * 2**20
TASK_BYTES = 8 * 2**10
#: Bytes per replicate of each float64 array a chunk holds, times the temporaries made along the way
#: (measured: a chunk of the 1,000-service estate peaked at about 1.5 times the arrays counted).
HEADROOM = 2

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str | int) -> int:
    """Bytes of a size such as ``800M``, ``1.5G``, ``2GiB`` or ``1048576`` (K, M, G, T are powers of 1,024).

    Raises :class:`ValueError` with what was expected.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"expected a size such as 800M, 1.5G or 2GiB, found {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def budget(setting: str | int | None = None) -> int:
    """The memory budget in bytes: ``setting`` (``--memory``), else ``$DRSIM_MEMORY``, else 1.5 GiB."""
    where, value = ("--memory", setting) if setting is not None else (ENV, os.environ.get(ENV) or None)
    if value is None:
        return DEFAULT_BUDGET
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise InputError(where, [Problem(str(exc), ("memory",))]) from None
    if size < MIN_BUDGET:
        raise InputError(
            where,
            [Problem(f"a budget of at least {MIN_BUDGET // 2**20} MiB is needed (drsim itself takes about 200 MiB), "
                     f"found {value!r}", ("memory",))],
        )  # fmt: skip
    return size


def replicate_bytes(point: SweepPoint, engine: str) -> int:
    """Estimated bytes one replicate of grid point ``point`` takes in a chunk run by ``engine``."""
    plan = point.plan
    elements = len(plan.elements())
    metrics = len(point.metrics)
    if engine == "vectorized":
        rows = len(point.kernel.rows) + len(point.kernel.shifts) if point.kernel is not None else len(plan.tasks)
        arrays = elements + rows + len(point.columns) + metrics
    else:  # the DES keeps every task's duration, start and finish
        arrays = elements + 3 * len(plan.tasks) + metrics
    return 8 * HEADROOM * arrays


def baseline_bytes(points: tuple[SweepPoint, ...] | list[SweepPoint]) -> int:
    """Estimated bytes a process holds before its first chunk: drsim itself and every point's plan."""
    return PROCESS_BYTES + TASK_BYTES * sum(len(p.plan.tasks) for p in points)


def kept_bytes(points: int, n: int, metrics: int) -> int:
    """Bytes of every replicate's value of every metric, kept for exact percentiles."""
    return points * n * metrics * 8


@dataclass(frozen=True)
class MemoryPlan:
    """How a sweep fits its budget: the chunk size and how many chunks one process may hold at once."""

    budget: int
    chunk_size: int
    #: Chunks one process may run at once (threads of the inline runner) within the budget.
    at_once: int
    #: Estimated bytes of one replicate in a chunk, and of a process before its first chunk.
    per_replicate: int
    baseline: int


def chunk_size_for(
    points: tuple[SweepPoint, ...] | list[SweepPoint],
    engine: str,
    budget_bytes: int,
    kept: int = 0,
    fixed: int | None = None,
    least: int = 1,
) -> MemoryPlan:
    """The chunk size — ``fixed`` if given, else the largest power of two from :data:`MIN_CHUNK` (or
    ``least``) to :data:`MAX_CHUNK` whose chunk fits in ``budget_bytes`` beside the process's baseline
    and ``kept`` bytes of kept values — and how many such chunks fit at once."""
    per = max(replicate_bytes(p, engine) for p in points)
    base = baseline_bytes(points) + kept
    room = max(budget_bytes - base, 0)
    size = MAX_CHUNK
    while size > MIN_CHUNK and size * per > room and size // 2 >= least:
        size //= 2
    size = fixed if fixed is not None else size
    return MemoryPlan(budget_bytes, size, at_once=max(1, room // (size * per)), per_replicate=per, baseline=base)


__all__ = [
    "DEFAULT_BUDGET",
    "ENV",
    "MAX_CHUNK",
    "MIN_CHUNK",
    "MemoryPlan",
    "baseline_bytes",
    "budget",
    "chunk_size_for",
    "kept_bytes",
    "parse_size",
    "replicate_bytes",
]
