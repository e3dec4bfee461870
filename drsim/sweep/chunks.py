"""Chunks: the unit of a sweep's work, and the pure function that does one.

A sweep of ``n`` replicates at each grid point is cut into chunks of
``chunk_size`` replicates. Chunk ``i`` of a point covers replicates
``[i * chunk_size, (i + 1) * chunk_size)`` and draws those replicates' numbers
from every element's stream (:mod:`drsim.engine.draws`, keyed by fixed blocks
of replicates, not by chunk), so a replicate's numbers do not depend on who
runs it, when, or on the chunk size: any chunking gives the same replicates,
and the merged summaries are the same (:mod:`drsim.stats` sums exactly).
Replicate 0 is ``drsim drill --seed S``. Every grid point reads the
same streams (common random numbers), so differences between points are
differences of configuration, not of luck.

A :class:`SweepSpec` holds everything a chunk needs — the compiled plan of
every grid point, the seed, the chunk size — and pickles, so a chunk can be
shipped to another process or machine. :func:`run_chunk` turns
``(spec, chunk, point)`` into a :class:`ChunkResult` of mergeable summaries
(:mod:`drsim.stats`) in three steps:

1. :func:`draw_chunk` — the chunk's random numbers;
2. :func:`replay_chunk` — the sweep's engine turns them into task finish times;
3. :func:`score_chunk` — the outcomes (RTO, RPO, downtime, ...) of every
   replicate, each metric summarised the moment it is computed.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import des
from ..engine.draws import Draws, element_uniforms
from ..engine.finish import FinishTimes
from ..engine.outcomes import evaluate
from ..model.calibrated import CalibratedElement
from ..model.distributions import Distribution
from ..model.gates import Gate
from ..plan import Plan
from ..stats import Summary

if TYPE_CHECKING:
    from ..engine.vectorized import KernelPlan

#: The engines a sweep can replay chunks with.
ENGINES = ("vectorized", "des")
#: Replicates per chunk at most (fewer when the memory budget needs: :mod:`drsim.sweep.memory`).
DEFAULT_CHUNK = 65536
#: The most replicates one sweep runs: 10^10, hours of work at a million replicates a second and
#: far past any percentile's need; beyond it a mistyped count would run for ever.
MAX_REPLICATES = 10**10
#: The most chunks one sweep tracks (every chunk is listed in the merge order and the checkpoint).
MAX_CHUNKS = 1_000_000
#: The most grid points one sweep compiles (each is an estate and a plan held in memory).
MAX_GRID_POINTS = 10_000
#: Below this many replicates a chunk's elements are sampled on one thread: starting threads costs more.
THREADED_SAMPLING_FROM = 4096


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: its parameter values and its compiled plan."""

    index: int
    #: The grid's ``(dotted path, value)`` pairs that made this point; empty for a sweep without a grid.
    params: tuple[tuple[str, Any], ...]
    plan: Plan
    #: Metrics the outcomes produce for this plan, in their order.
    metrics: tuple[str, ...]
    #: Per metric, the bounds counted exactly: its target and any gate bounds.
    bounds: dict[str, np.ndarray]
    gates: tuple[Gate, ...]
    #: Tasks whose finish times the outcomes read.
    columns: np.ndarray
    #: The plan made ready for the compiled kernel (the vectorized engine only).
    kernel: KernelPlan | None = None

    def label(self) -> str:
        """The point as people read it: ``key=value, ...``, or ``(base)`` without a grid."""
        return ", ".join(f"{k}={v}" for k, v in self.params) or "(base)"


@dataclass(frozen=True)
class SweepSpec:
    """Everything needed to run any chunk of a sweep, anywhere: picklable and immutable."""

    points: tuple[SweepPoint, ...]
    grid_keys: tuple[str, ...]
    #: Replicates per grid point.
    n: int
    seed: int
    engine: str
    chunk_size: int
    #: Whether summaries keep every replicate's value (exact percentiles) rather than a histogram.
    exact: bool
    #: A hash of the settings and of every point's validated topology and drill: which sweep this is.
    config_hash: str
    #: The elements a calibration overlay set (:mod:`drsim.model.calibrated`), for the result to list.
    calibrated: tuple[CalibratedElement, ...] = ()
    #: Chunks one process may run at once within the memory budget (:mod:`drsim.sweep.memory`).
    at_once: int = 1

    @property
    def n_chunks(self) -> int:
        """Chunks per grid point."""
        return -(-self.n // self.chunk_size)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """The replicates ``[start, stop)`` chunk ``chunk`` covers."""
        if not 0 <= chunk < self.n_chunks:
            raise IndexError(f"chunk {chunk} outside 0..{self.n_chunks - 1}")
        return chunk * self.chunk_size, min(self.n, (chunk + 1) * self.chunk_size)

    def work(self) -> list[tuple[int, int]]:
        """Every ``(point, chunk)`` of the sweep, in merge order."""
        return [(p, c) for p in range(len(self.points)) for c in range(self.n_chunks)]


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk of one grid point tells: a mergeable summary of every metric."""

    point: int
    chunk: int
    #: Replicates in the chunk.
    n: int
    summaries: dict[str, Summary]
    #: Events the DES processed (0 for the vectorized engine).
    events: int = 0


@dataclass(frozen=True)
class ReplayedChunk:
    """A chunk replayed but not yet scored: its draws and the finish times the outcomes read."""

    point: int
    chunk: int
    draws: Draws
    #: Finish time of every task the outcomes read, in every replicate of the chunk.
    finish: FinishTimes
    #: Events the DES processed (0 for the vectorized engine).
    events: int


def compiled_threads() -> int:
    """Threads the compiled kernel and sampling may use on the calling thread (numba's setting)."""
    # start-up time: drsim.jit imports numba, which a sweep needs only once it runs chunks
    from ..jit import get_num_threads

    return int(get_num_threads())


def sample(elements: dict[str, Distribution], seed: int, n: int, start: int) -> Draws:
    """The same draws as :meth:`drsim.engine.draws.Draws.sample`, computed on several threads.

    Each element's stream is independent, and numpy releases the GIL while it
    fills and transforms arrays, so elements are sampled concurrently, on as
    many threads as the compiled kernel may use here. The threads are started
    for this chunk and gone once it has its numbers.
    """
    threads = compiled_threads()
    items = list(elements.items())
    if threads <= 1 or n < THREADED_SAMPLING_FROM or len(items) < 2:
        return Draws.sample(elements, seed, n, start)

    def one(item: tuple[str, Distribution]) -> tuple[str, np.ndarray]:
        name, dist = item
        return name, dist.ppf(element_uniforms(seed, name, n, start))

    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="drsim-draws") as pool:
        values = dict(pool.map(one, items))
    return Draws(int(seed), int(start), int(n), values)


def draw_chunk(spec: SweepSpec, chunk_index: int, point: int = 0) -> Draws:
    """The random numbers of chunk ``chunk_index`` of grid point ``point``."""
    start, stop = spec.chunk_range(chunk_index)
    return sample(spec.points[point].plan.elements(), spec.seed, stop - start, start)


def replay_chunk(spec: SweepSpec, chunk_index: int, point: int, draws: Draws) -> ReplayedChunk:
    """The chunk's ``draws`` through the sweep's engine: the finish times the outcomes read."""
    # start-up time: the compiled engine imports numba, which only a sweep that runs needs
    from ..engine import vectorized

    pt = spec.points[point]
    events = 0
    if spec.engine == "vectorized":
        finish = vectorized.finish_times(pt.plan, draws, pt.columns, pt.kernel)
    else:
        finish = des.run_many(pt.plan, draws)
        events = finish.events
    return ReplayedChunk(point, chunk_index, draws, finish, events)


def score_chunk(spec: SweepSpec, replayed: ReplayedChunk) -> ChunkResult:
    """The outcomes of a replayed chunk, summarised per metric."""
    pt = spec.points[replayed.point]
    summaries = {}

    def summarise(key: str, values: np.ndarray) -> None:
        # each metric the moment it is computed, while it is still in cache
        summaries[key] = Summary.of(values, pt.bounds[key], spec.exact)

    evaluate(pt.plan, replayed.draws, replayed.finish, sink=summarise)
    return ChunkResult(
        replayed.point, replayed.chunk, replayed.draws.n, {k: summaries[k] for k in pt.metrics}, replayed.events
    )


def run_chunk(spec: SweepSpec, chunk_index: int, point: int = 0) -> ChunkResult:
    """Run chunk ``chunk_index`` of grid point ``point`` and summarise its metrics.

    A pure function of its arguments: the same chunk gives the same result in
    any process, on any machine, in any order.
    """
    return score_chunk(spec, replay_chunk(spec, chunk_index, point, draw_chunk(spec, chunk_index, point)))


__all__ = [
    "DEFAULT_CHUNK",
    "ENGINES",
    "ChunkResult",
    "ReplayedChunk",
    "SweepPoint",
    "SweepSpec",
    "compiled_threads",
    "draw_chunk",
    "replay_chunk",
    "run_chunk",
    "sample",
    "score_chunk",
]
