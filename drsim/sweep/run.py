"""Sweeps: many replicates of a drill, over a grid of what-ifs, summarised per metric.

One replay tells a story; a decision needs a distribution. A sweep runs ``n``
replicates of a drill at each point of a grid (e.g. one, two or three DBAs on
the night shift x a 4 h or 8 h site outage) and reports, per point, the
percentiles of every metric, the probability of meeting each target with a
95% interval, and the verdict of the drill's gates.

A sweep is three phases, each in a module of its own:

1. **build** (:func:`build_spec`) — load the drill and topology, expand the
   grid (:mod:`drsim.sweep.grid`), validate and compile every point into a
   picklable :class:`~drsim.sweep.chunks.SweepSpec`;
2. **run** (:func:`execute`) — drive every chunk (:mod:`drsim.sweep.chunks`)
   through a runner (:mod:`drsim.sweep.executors`: this process, a local
   process pool, a Dask cluster, or anything with ``submit(fn, *args)``
   returning a future), reading chunks already in a checkpoint
   (:mod:`drsim.sweep.checkpoint`) instead of running them and storing every
   chunk that finishes;
3. **collect** — merge the chunk results strictly in chunk order, whatever
   order they finish in, ignoring duplicates, and judge the gates
   (:mod:`drsim.sweep.result`, :mod:`drsim.sweep.gates`).

:func:`sweep` does all three from one :class:`SweepSettings` record (or the
same settings as keywords). Memory does not grow with ``n`` beyond a budget:
while every per-replicate value of every metric fits in :data:`EXACT_BUDGET`
bytes (or when the caller asks to keep replicates) values are kept and
percentiles are exact order statistics; beyond that each metric is a log
histogram with 0.05% resolution. Probabilities of meeting targets and gate
verdicts are exact counts either way.

Progress is reported, not drawn: a sweep calls its ``progress`` callback with a
:class:`SweepProgress` before its first chunk and after every chunk it merges
(the command line passes its bar, :mod:`drsim.cli.progress`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..api import prepare
from ..engine import des
from ..engine.draws import Draws
from ..engine.finish import FinishTimes
from ..engine.outcomes import evaluate, targets
from ..errors import InputError, InputWarning, Problem
from ..model import Drill, Topology
from ..model.calibrated import CalibratedElement
from ..model.gates import GateError, parse_gate
from ..model.loader import load_topology
from ..plan import Plan, compile_plan
from .checkpoint import Checkpoint
from .chunks import ENGINES, MAX_CHUNKS, MAX_GRID_POINTS, MAX_REPLICATES, SweepPoint, SweepSpec
from .executors import open_runner
from .grid import GridModels, combinations, grid_models, point_label
from .memory import budget, chunk_size_for, kept_bytes
from .overlay import Overlay, apply_overlays, calibrated_elements, load_overlays
from .result import ChunkMerger, SweepResult

#: Per-replicate values of all metrics are kept while they fit in this many bytes (and in a quarter
#: of the memory budget).
EXACT_BUDGET = 256 * 2**20
EXACT_SHARE = 4


# ------------------------------------------------------------------ settings and progress


@dataclass(frozen=True)
class SweepProgress:
    """Where a running sweep stands: reported before its first chunk and after each chunk it merges."""

    #: The drill's name and the engine replaying it.
    drill: str
    engine: str
    #: Chunks merged so far, of ``total`` (every grid point's chunks).
    done: int
    total: int
    #: Replicates merged so far, counting those read back from a checkpoint.
    replicates: int
    #: Replicates this sweep ran itself (not read back from a checkpoint): what a rate counts.
    replicates_run: int


#: Told where a sweep stands, as it runs.
ProgressCallback = Callable[[SweepProgress], None]


def progress_listener(progress: ProgressCallback | bool | None) -> ProgressCallback | None:
    """The callback to report progress to; ``False`` is none.

    ``True`` (which once asked the library for a bar on standard error) is none
    too, with a warning: the bar belongs to the command line
    (:class:`drsim.cli.progress.ProgressBar`) and may be passed as the callback.
    """
    if progress is False or progress is None:
        return None
    if progress is True:
        warnings.warn(
            "progress=True draws no bar outside the command line; pass a callback such as "
            "drsim.cli.progress.ProgressBar() (a context manager) as progress=",
            stacklevel=2,
        )
        return None
    return progress


@dataclass(frozen=True)
class SweepSettings:
    """How to sweep a drill: every setting of :func:`sweep`, in one immutable record.

    :func:`build_spec` reads the settings that decide the numbers (``n``,
    ``seed``, ``engine``, ``grid``, ``chunk_size``, ``keep_replicates``);
    :func:`sweep` also reads those that decide where and how the chunks run.

    Attributes
    ----------
    n, seed
        Replicates per grid point, and the seed: replicate 0 is ``drsim drill --seed``.
    engine
        ``"vectorized"`` (compiled, for millions of replicates) or ``"des"``
        (SimPy, the reference; identical numbers, far slower).
    grid
        What-ifs: dotted paths into the raw YAML documents (list items by
        index) mapped to lists of values, e.g.
        ``{"topology.staff.dba.shifts.1.headcount": [1, 2, 3]}``; every
        combination is a point, re-validated like a file (:mod:`drsim.sweep.grid`).
    chunk_size
        Replicates per unit of work; memory per chunk grows with it. ``None`` (the default):
        as many as fit the memory budget (:mod:`drsim.sweep.memory`). The numbers never depend on it.
    memory
        The memory budget of each process that runs chunks: bytes, or a size such as ``"800M"``;
        ``None``: ``$DRSIM_MEMORY``, else 1.5 GiB.
    keep_replicates
        Keep every replicate's metrics (exact percentiles, :meth:`SweepResult.replicates`).
    executor
        Where chunks run (:mod:`drsim.sweep.executors`): ``"local"`` (the best choice
        on this machine: a process pool for large sweeps, else this process),
        ``"inline"`` (this process), ``"dask"`` (a Dask cluster: ``scheduler``
        or a LocalCluster of ``workers``), a ``distributed.Client``, or any
        :class:`concurrent.futures.Executor`. The numbers never depend on it.
    workers
        Processes of a local pool or of a LocalCluster drsim starts.
    scheduler
        Address of an existing Dask scheduler, e.g. ``"tcp://host:8786"``.
    checkpoint, resume, force
        A directory to write every finished chunk to (:mod:`drsim.sweep.checkpoint`);
        ``resume`` runs only the chunks missing there; ``force`` starts afresh
        in a non-empty one.
    progress
        Called with a :class:`SweepProgress` before the first chunk and after
        each chunk merged, e.g. the command line's bar
        (:class:`drsim.cli.progress.ProgressBar`).
    calibration
        Overlays (files or loaded :class:`~drsim.sweep.overlay.Overlay`) written into
        the drill and topology before the grid (:mod:`drsim.sweep.overlay`); the
        result lists the elements they calibrate (:attr:`SweepResult.calibrated`).
    """

    n: int = 100_000
    seed: int = 0
    engine: str = "vectorized"
    grid: Mapping[str, Sequence[Any]] | None = None
    chunk_size: int | None = None
    memory: str | int | None = None
    keep_replicates: bool = False
    executor: Any = "local"
    workers: int | None = None
    scheduler: str | None = None
    checkpoint: str | Path | None = None
    resume: bool = False
    force: bool = False
    progress: ProgressCallback | None = None
    calibration: Sequence[str | Path | Overlay] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "progress", progress_listener(self.progress))

    @classmethod
    def of(cls, settings: SweepSettings | None = None, **options: Any) -> SweepSettings:
        """``settings`` (default: the defaults) with the settings named in ``options`` replaced."""
        return dataclasses.replace(settings, **options) if settings is not None else cls(**options)

    def problems(self) -> list[Problem]:
        """What is wrong with the settings that decide the numbers, field by field (empty if nothing)."""
        n, chunk_size, seed, engine = self.n, self.chunk_size, self.seed, self.engine
        problems = []
        n_ok = not isinstance(n, bool) and isinstance(n, int | np.integer) and 1 <= n <= MAX_REPLICATES
        if not n_ok:
            problems.append(
                Problem(
                    f"the number of replicates must be a whole number from 1 to {MAX_REPLICATES:,} "
                    f"(about {MAX_REPLICATES / 1e6 / 3600:.0f} hours at a million a second), found {n!r}",
                    ("n",),
                )
            )
        size_ok = chunk_size is None or (
            not isinstance(chunk_size, bool) and isinstance(chunk_size, int | np.integer) and chunk_size >= 1
        )
        if not size_ok:
            problems.append(
                Problem(f"the chunk size must be a whole number >= 1, found {chunk_size!r}", ("chunk_size",))
            )
        points = math.prod(len(list(v)) for v in dict(self.grid or {}).values() if hasattr(v, "__iter__"))
        if points > MAX_GRID_POINTS:
            problems.append(
                Problem(
                    f"the grid has {points:,} points, more than the {MAX_GRID_POINTS:,} a sweep compiles; "
                    "split it into several sweeps",
                    ("grid",),
                )
            )
        elif n_ok and size_ok and chunk_size is not None:
            chunks = -(-int(n) // int(chunk_size)) * max(points, 1)
            if chunks > MAX_CHUNKS:
                problems.append(
                    Problem(
                        f"{chunks:,} chunks of {chunk_size:,} replicates are more than the {MAX_CHUNKS:,} a sweep "
                        f"tracks; use a chunk size of at least {-(-int(n) * max(points, 1) // MAX_CHUNKS):,}",
                        ("chunk_size",),
                    )
                )
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            problems.append(Problem(f"the seed must be a whole number >= 0, found {seed!r}", ("seed",)))
        if engine not in ENGINES:
            problems.append(Problem(f"engine must be one of {', '.join(ENGINES)}, found {engine!r}", ("engine",)))
        for key, values in dict(self.grid or {}).items():
            if isinstance(values, str | bytes) or not hasattr(values, "__iter__") or len(list(values)) == 0:
                problems.append(
                    Problem(f"grid key {key!r} needs a non-empty list of values, found {values!r}", ("grid", key))
                )
        return problems


# ------------------------------------------------------------------ build


def build_spec(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    *,
    settings: SweepSettings | None = None,
    **options: Any,
) -> SweepSpec:
    """Load, expand the grid, validate and compile every point: the picklable plan of a sweep.

    Parameters
    ----------
    drill, topology
        Bundled names, file paths or loaded models (topology defaults to the
        reference estate).
    settings
        The sweep's :class:`SweepSettings`; only those that decide the numbers are read.
    **options
        Settings by name (``n=``, ``seed=``, ``grid=``, ...), replacing those in ``settings``.
    """
    settings = SweepSettings.of(settings, **options)
    problems = settings.problems()
    if problems:
        raise InputError("sweep", problems)
    n, seed = int(settings.n), int(settings.seed)
    budget_bytes = budget(settings.memory)
    grid = dict(settings.grid or {})
    calibrated: tuple[CalibratedElement, ...] = ()
    if settings.calibration:
        overlays = load_overlays(settings.calibration)
        topology, drill = apply_overlays(drill, topology, overlays)
        every = calibrated_elements(overlays)
        calibrated = calibrated_elements(overlays, replaced=tuple(grid))
        for e in every:
            if e.element in grid:
                problem = Problem("a grid key replaces this calibrated value at every point", ("set", e.element))
                warnings.warn(InputWarning(e.overlay, problem), stacklevel=2)

    keys = tuple(grid)
    if not keys:
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        d = drill if isinstance(drill, Drill) else prepare(drill, topo).drill
        models = [GridModels((), topo, d)]
    else:
        models = grid_models(drill, topology, grid)

    points = []
    for i, model in enumerate(models):
        label = point_label(model.params)
        try:
            plan = compile_plan(model.topology, model.drill)
        except InputError as exc:
            if not model.params:
                raise
            raise InputError(f"grid point {label}: {exc.source}", exc.problems) from None
        points.append(_point(i, model.params, plan, settings.engine, label))

    n_metrics = max(len(p.metrics) for p in points)
    kept = kept_bytes(len(points), n, n_metrics)
    exact = settings.keep_replicates or kept <= min(EXACT_BUDGET, budget_bytes // EXACT_SHARE)
    fits = chunk_size_for(
        points,
        settings.engine,
        budget_bytes,
        kept=kept if exact else 0,
        fixed=None if settings.chunk_size is None else int(settings.chunk_size),
        least=-(-n * len(points) // MAX_CHUNKS),  # never more chunks than a sweep tracks
    )
    chunk_size = fits.chunk_size
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {
                "n": n,
                "seed": seed,
                "engine": settings.engine,
                "chunk_size": chunk_size,
                "exact": exact,
                "grid": [list(map(str, c)) for c in combinations(grid)],
            },
            sort_keys=True,
        ).encode()
    )
    for p in points:
        h.update(p.plan.topology.model_dump_json(by_alias=True).encode())
        h.update(p.plan.drill.model_dump_json(by_alias=True).encode())
    return SweepSpec(
        tuple(points), keys, n, seed, settings.engine, chunk_size, exact, h.hexdigest(), calibrated, fits.at_once
    )


class _Recorder:
    """Stands in for the finish times and notes which tasks' finish times are read."""

    def __init__(self, finish: FinishTimes):
        self.finish = finish
        self.read: set[int] = set()

    def finish_of(self, task: int) -> np.ndarray:
        self.read.add(int(task))
        return self.finish.finish_of(task)


def _point(index: int, params: tuple[tuple[str, Any], ...], plan: Plan, engine: str, label: str) -> SweepPoint:
    """A compiled grid point made ready to run: its metrics, the bounds counted exactly, its gates."""
    # start-up time: the compiled engine imports numba, which only a sweep that runs needs
    from ..engine import vectorized

    probe = Draws.sample(plan.elements(), 0, 2)
    kernel = vectorized.prepare(plan) if engine == "vectorized" else None
    if kernel is not None:
        fin = vectorized.finish_times(plan, probe, kp=kernel, parallel=False)
    else:  # the DES sweep never waits for the compiled kernel
        fin = des.run_many(plan, probe)
    rec = _Recorder(fin)
    metrics = tuple(evaluate(plan, probe, rec))
    gates = []
    for i, entry in enumerate(plan.drill.gates):
        try:
            g = parse_gate(entry, plan.topology)
            if g.metric_key not in metrics and g.subject_kind == "rollback":
                raise GateError(f"gate {g.text!r}: this drill has no rollback (it needs a cutover-failure fault)")
        except GateError as exc:
            where = f"grid point {label}: drill {plan.drill.name!r}" if label else f"drill {plan.drill.name!r}"
            raise InputError(where, [Problem(str(exc), ("gates", i))]) from None
        gates.append(g)
    tg = targets(plan)
    bounds = {}
    for k in metrics:
        b = {tg[k]} if k in tg else set()
        b |= {g.bound for g in gates if g.metric_key == k}
        bounds[k] = np.array(sorted(b), dtype=np.float64)
    return SweepPoint(
        index=index,
        params=params,
        plan=plan,
        metrics=metrics,
        bounds=bounds,
        gates=tuple(gates),
        columns=np.array(sorted(rec.read), dtype=np.int64),
        kernel=kernel,
    )


# ------------------------------------------------------------------ run and collect


class _Tally:
    """Counts what a sweep has merged and tells its progress callback."""

    def __init__(self, spec: SweepSpec, listener: ProgressCallback | None):
        self.listener = listener
        self.drill = spec.points[0].plan.drill.name
        self.engine = spec.engine
        self.total = len(spec.work())
        self.done = self.replicates = self.replicates_run = 0
        self.tell()

    def tell(self) -> None:
        if self.listener is not None:
            self.listener(
                SweepProgress(self.drill, self.engine, self.done, self.total, self.replicates, self.replicates_run)
            )

    def merged(self, replicates: int, stored: bool = False) -> None:
        """One more chunk merged: run now, or read back from a checkpoint (``stored``)."""
        self.done += 1
        self.replicates += replicates
        if not stored:
            self.replicates_run += replicates
        self.tell()


@contextmanager
def _closed(results: Iterable[Any]) -> Iterator[Iterator[Any]]:
    """Iterate ``results`` and close it on the way out, when it can be closed (a generator can)."""
    it = iter(results)
    try:
        yield it
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def execute(
    spec: SweepSpec,
    executor: Any = None,
    progress: ProgressCallback | bool | None = None,
    checkpoint: Checkpoint | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Run every chunk of ``spec`` and merge the results into a :class:`SweepResult`.

    ``executor`` None or ``"inline"`` runs chunks one after another in this
    process (the compiled kernel already uses every core); ``"local"``,
    ``"dask"``, a ``distributed.Client`` or anything with ``submit(fn, *args)``
    returning a :class:`concurrent.futures.Future` run them elsewhere
    (:mod:`drsim.sweep.executors`; ``workers`` and ``scheduler`` configure the named
    ones). With a :class:`drsim.sweep.checkpoint.Checkpoint`, chunks already stored
    there are read instead of run, and every chunk that finishes is stored.
    ``progress`` is told where the sweep stands (:class:`SweepProgress`).
    """
    merger = ChunkMerger(spec)
    stored = checkpoint.stored() if checkpoint is not None else []
    tally = _Tally(spec, progress_listener(progress))
    if checkpoint is not None:
        for p, c in stored:
            res = checkpoint.load(p, c)
            merger.add(res)
            tally.merged(res.n, stored=True)
    already = set(stored)
    todo = [w for w in spec.work() if w not in already]
    if todo:
        # closing: whatever goes wrong while saving or merging, the runner's results stop at once (its
        # threads or futures are told to stop here, not whenever the generator happens to be collected)
        with (
            open_runner(executor, spec, workers=workers, scheduler=scheduler) as runner,
            _closed(runner.run(spec, todo)) as results,
        ):
            for res in results:
                if not merger.is_new(res):
                    continue
                if checkpoint is not None:
                    checkpoint.save(res)
                merger.add(res)
                tally.merged(res.n)
    if not merger.done:  # pragma: no cover - an executor that lost work
        raise RuntimeError("some chunks of the sweep never reported")
    result = merger.result()
    if checkpoint is not None:
        checkpoint.finish(result)
    return result


def sweep(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    *,
    settings: SweepSettings | None = None,
    **options: Any,
) -> SweepResult:
    """Run ``n`` replicates of a drill at every point of ``grid`` and summarise them.

    Parameters
    ----------
    drill, topology
        Bundled names, file paths or loaded models (topology defaults to the
        reference estate).
    settings
        A :class:`SweepSettings` record: replicates, seed, engine, grid, chunk
        size, where chunks run, checkpoint, progress.
    **options
        The same settings by name, replacing those in ``settings``
        (``sweep("region-loss", n=100_000, seed=1, grid={...})``); see
        :class:`SweepSettings` for each.
    """
    settings = SweepSettings.of(settings, **options)
    spec = build_spec(drill, topology, settings=settings)
    cp = None
    if settings.checkpoint is not None:
        cp = Checkpoint.open(settings.checkpoint, spec, resume=settings.resume, force=settings.force)
    try:
        return execute(
            spec,
            executor=settings.executor,
            progress=settings.progress,
            checkpoint=cp,
            workers=settings.workers,
            scheduler=settings.scheduler,
        )
    finally:
        if cp is not None:
            cp.close()


__all__ = [
    "EXACT_BUDGET",
    "ProgressCallback",
    "SweepProgress",
    "SweepSettings",
    "build_spec",
    "execute",
    "progress_listener",
    "sweep",
]
