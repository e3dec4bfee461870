"""Sweeps: many replicates of a drill, over a grid of what-ifs, summarised per metric.

One replay tells a story; a decision needs a distribution. A sweep runs ``n``
replicates of a drill at each point of a grid (e.g. one, two or three DBAs on
the night shift x a 4 h or 8 h site outage) and reports, per point, the
percentiles of every metric, the probability of meeting each target with a
95% interval, and the verdict of the drill's gates.

How the work is cut, so that it can run anywhere and always give the same answer:

* a :class:`SweepSpec` holds everything a chunk needs — compiled plans, the
  seed, the chunk size — and pickles, so chunks can be shipped to other
  processes or machines;
* chunk ``i`` of a point covers replicates ``[i * chunk_size, (i + 1) * chunk_size)``
  and draws its random numbers from the streams ``(seed, i, element)``
  (:mod:`drsim.engine.draws`), so its numbers do not depend on who runs it, when, or
  on how many other chunks there are; replicate 0 of chunk 0 is ``drsim drill --seed S``;
* every grid point uses the same streams (common random numbers), so
  differences between points are differences of configuration, not of luck;
* :func:`run_chunk` turns ``(spec, chunk, point)`` into a :class:`ChunkResult`
  of mergeable summaries (:mod:`drsim.stats`) in three steps — draws
  (:func:`draw_chunk`), the engine (:func:`replay_chunk`), outcomes and
  summaries (:func:`score_chunk`); :func:`execute` drives the chunks through an executor
  (:mod:`drsim.sweep.executors`: this process, a local process pool, a Dask
  cluster, or anything with ``submit(fn, *args)`` returning a future) and
  merges results strictly in chunk order whatever order they finish in,
  ignoring duplicates;
* with a checkpoint folder (:mod:`drsim.sweep.checkpoint`) every finished chunk is
  written at once, and an interrupted sweep resumes with only the missing chunks.

Memory does not grow with ``n`` beyond a budget: while every per-replicate
value of every metric fits in :data:`EXACT_BUDGET` bytes (or when the caller
asks to keep replicates) values are kept and percentiles are exact order
statistics; beyond that each metric is a log histogram with 0.05% resolution.
Probabilities of meeting targets and gate verdicts are exact counts either way.
"""

from __future__ import annotations

import concurrent.futures
import copy
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.draws import Draws, element_uniforms
from ..errors import InputError, Problem, format_path
from ..model import Drill, Topology
from ..model.gates import Gate, GateError, GateResult, evaluate_gates, parse_gate
from ..plan import Plan, compile_plan
from ..stats import PERCENTILES, Accumulator, Summary, wilson

ENGINES = ("vectorized", "des")
#: Per-replicate values of all metrics are kept while they fit in this many bytes.
EXACT_BUDGET = 256 * 2**20
DEFAULT_CHUNK = 65536


# ------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: its parameter values and its compiled plan."""

    index: int
    params: tuple[tuple[str, Any], ...]
    plan: Plan
    #: Metrics the outcomes produce for this plan, in their order.
    metrics: tuple[str, ...]
    #: Per metric, the bounds counted exactly: its target and any gate bounds.
    bounds: dict[str, np.ndarray]
    gates: tuple[Gate, ...]
    #: Tasks whose finish times the outcomes read.
    columns: np.ndarray
    kernel: Any = None  # drsim.engine.vectorized.KernelPlan, for the vectorized engine

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params) or "(base)"


@dataclass(frozen=True)
class SweepSpec:
    """Everything needed to run any chunk of a sweep, anywhere: picklable and immutable."""

    points: tuple[SweepPoint, ...]
    grid_keys: tuple[str, ...]
    n: int
    seed: int
    engine: str
    chunk_size: int
    exact: bool
    config_hash: str

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
    n: int
    summaries: dict[str, Summary]
    events: int = 0  # events the DES processed (0 for the vectorized engine)


# ------------------------------------------------------------------ running chunks


def sample(elements: dict, seed: int, n: int, chunk: int) -> Draws:
    """The same draws as :meth:`drsim.engine.draws.Draws.sample`, computed on several threads.

    Each element's stream is independent, and numpy releases the GIL while it
    fills and transforms arrays, so elements are sampled concurrently.
    """
    threads = _threads()
    items = list(elements.items())
    if threads <= 1 or n < 4096 or len(items) < 2:
        return Draws.sample(elements, seed, n, chunk)

    def one(item):
        name, dist = item
        return name, dist.ppf(element_uniforms(seed, chunk, name, n))

    return Draws(int(seed), int(chunk), int(n), dict(_pool(threads).map(one, items)))


_POOL: concurrent.futures.ThreadPoolExecutor | None = None


def _threads() -> int:
    try:
        from numba import get_num_threads

        return int(get_num_threads())
    except ImportError:  # pragma: no cover
        return 1


def _pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    if _POOL is None or _POOL._max_workers != threads:
        _POOL = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="drsim-draws")
    return _POOL


def run_chunk(spec: SweepSpec, chunk_index: int, point: int = 0) -> ChunkResult:
    """Run chunk ``chunk_index`` of grid point ``point`` and summarise its metrics."""
    return score_chunk(spec, replay_chunk(spec, chunk_index, point, draw_chunk(spec, chunk_index, point)))


@dataclass(frozen=True)
class ReplayedChunk:
    """A chunk replayed but not yet scored: its draws and the finish times the outcomes read."""

    point: int
    chunk: int
    draws: Draws
    finish: Any
    events: int


def draw_chunk(spec: SweepSpec, chunk_index: int, point: int = 0) -> Draws:
    """The random numbers of chunk ``chunk_index`` of grid point ``point``."""
    start, stop = spec.chunk_range(chunk_index)
    return sample(spec.points[point].plan.elements(), spec.seed, stop - start, chunk_index)


def replay_chunk(spec: SweepSpec, chunk_index: int, point: int, draws: Draws) -> ReplayedChunk:
    """The chunk's ``draws`` through the sweep's engine: the finish times the outcomes read."""
    from ..engine import des, vectorized

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
    from ..engine.outcomes import evaluate

    pt = spec.points[replayed.point]
    summaries = {}

    def summarise(key, values):  # each metric the moment it is computed, while it is still in cache
        summaries[key] = Summary.of(values, pt.bounds[key], spec.exact)

    evaluate(pt.plan, replayed.draws, replayed.finish, sink=summarise)
    return ChunkResult(
        replayed.point, replayed.chunk, replayed.draws.n, {k: summaries[k] for k in pt.metrics}, replayed.events
    )


def _results(spec: SweepSpec, executor, work=None):
    """Chunk results as they finish, from a runner (:mod:`drsim.sweep.executors`) or an executor with ``submit``."""
    from .executors import InlineRunner, Runner, SubmitRunner

    if executor is None:
        executor = InlineRunner()
    elif not isinstance(executor, Runner):
        executor = SubmitRunner(executor)
    return executor.run(spec, spec.work() if work is None else work)


class _Merger:
    """Merges chunk results strictly in (point, chunk) order, whatever order they arrive in."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self.order = spec.work()
        self.position = {key: i for i, key in enumerate(self.order)}
        self.next = 0
        self.pending: dict[tuple[int, int], ChunkResult] = {}
        self.acc = [{k: Accumulator(pt.bounds[k], spec.exact) for k in pt.metrics} for pt in spec.points]
        self.events = 0

    def is_new(self, res: ChunkResult) -> bool:
        """Whether ``res`` is a chunk not merged or waiting yet (a retried chunk may arrive twice)."""
        key = (res.point, res.chunk)
        return not (self.position[key] < self.next or key in self.pending)

    def add(self, res: ChunkResult) -> bool:
        """Merge ``res`` in its place; False (and nothing counted) if that chunk was already in."""
        if not self.is_new(res):
            return False  # a chunk run twice (a retried worker) is counted once
        key = (res.point, res.chunk)
        self.pending[key] = res
        while self.next < len(self.order) and self.order[self.next] in self.pending:
            r = self.pending.pop(self.order[self.next])
            for k, s in r.summaries.items():
                self.acc[r.point][k].add(s)
            self.events += r.events
            self.next += 1
        return True

    @property
    def done(self) -> bool:
        return self.next == len(self.order)


def execute(
    spec: SweepSpec,
    executor=None,
    progress: bool = False,
    checkpoint=None,
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
    """
    from .executors import open_runner

    merger = _Merger(spec)
    done = checkpoint.stored() if checkpoint is not None else []
    with _progress_bar(progress, spec) as advance:
        for p, c in done:
            res = checkpoint.load(p, c)
            merger.add(res)
            advance(res.n, stored=True)
        stored = set(done)
        todo = [w for w in spec.work() if w not in stored] if stored else None
        if todo is None or todo:
            with open_runner(executor, spec, workers=workers, scheduler=scheduler) as runner:
                results = _results(spec, runner) if todo is None else _results(spec, runner, todo)
                for res in results:
                    if not merger.is_new(res):
                        continue
                    if checkpoint is not None:
                        checkpoint.save(res)
                    merger.add(res)
                    advance(res.n)
    if not merger.done:  # pragma: no cover - an executor that lost work
        raise RuntimeError("some chunks of the sweep never reported")
    result = _build_result(spec, merger)
    if checkpoint is not None:
        checkpoint.finish(result)
    return result


class _progress_bar:
    """Chunks done out of the total, wherever they ran, and replicates per second."""

    def __init__(self, enabled: bool, spec: SweepSpec):
        self.enabled, self.spec = enabled, spec
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda k, stored=False: None
        import time

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks  {task.fields[replicates]:,} replicates  {task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.start()
        total = len(self.spec.work())
        name = self.spec.points[0].plan.drill.name
        task = self.bar.add_task(f"{name} ({self.spec.engine})", total=total, replicates=0, rate="")
        start = time.perf_counter()
        state = {"replicates": 0, "run": 0}

        def advance(k: int, stored: bool = False) -> None:
            state["replicates"] += k
            if not stored:  # the rate counts replicates run now, not read back from a checkpoint
                state["run"] += k
            dt = time.perf_counter() - start
            rate = f"{state['run'] / dt:,.0f} replicates/s" if state["run"] and dt > 0 else ""
            self.bar.update(task, advance=1, replicates=state["replicates"], rate=rate)

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class PointResult:
    """The sweep's findings at one grid point."""

    index: int
    params: dict[str, Any]
    n: int
    metrics: dict[str, Summary] = field(repr=False)
    targets: dict[str, float] = field(repr=False)
    gates: tuple[GateResult, ...] = ()

    def percentile(self, metric: str, p: float) -> float:
        """The ``p``-th percentile (0 < p < 100) of ``metric``, in its unit."""
        return self.metrics[metric].quantile(p / 100.0)

    def p_meet(self, metric: str) -> tuple[float, float, float]:
        """P(metric <= its target), with its Wilson 95% interval."""
        s = self.metrics[metric]
        k = s.count("<=", self.targets[metric])
        return (k / s.n, *wilson(k, s.n))

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


@dataclass(frozen=True)
class SweepResult:
    """Percentiles, probabilities of meeting targets and gate verdicts of a sweep, per grid point."""

    drill: str
    topology: str
    seed: int
    n: int
    engine: str
    chunk_size: int
    exact: bool
    grid_keys: tuple[str, ...]
    points: tuple[PointResult, ...]
    config_hash: str
    events: int = 0

    @property
    def passed(self) -> bool:
        """Whether every gate passed at every grid point (True when the drill has no gates)."""
        return all(p.passed for p in self.points)

    @property
    def has_gates(self) -> bool:
        return any(p.gates for p in self.points)

    def to_frame(self):
        """A tidy DataFrame: one row per grid point x metric.

        Columns: the grid parameters, ``point``, ``metric`` (the outcomes key),
        ``kind`` (service, tier, workflow, queue, latency, rollback), ``subject``,
        ``measure`` (rto, rpo, downtime, ...), ``unit`` (s or messages),
        ``p50``/``p90``/``p95``/``p99``, ``mean``, ``never`` (share of replicates
        where it never ended), ``target`` (NaN if none), ``p_meet`` with its
        95% interval ``p_meet_lo``/``p_meet_hi``, and ``n``.
        """
        import pandas as pd

        rows = []
        for pt in self.points:
            for key, s in pt.metrics.items():
                kind, subject, measure = _split_key(key)
                qs = s.quantiles([p / 100 for p in PERCENTILES])
                row = {k: pt.params[k] for k in self.grid_keys}
                row.update(
                    point=pt.index,
                    metric=key,
                    kind=kind,
                    subject=subject,
                    measure=measure,
                    unit="messages" if kind == "queue" and measure in ("backlog", "dropped") else "s",
                )
                row.update({f"p{p}": q for p, q in zip(PERCENTILES, qs)})
                row.update(mean=s.mean, never=s.n_inf / s.n if s.n else math.nan)
                if key in pt.targets:
                    p, lo, hi = pt.p_meet(key)
                    row.update(target=pt.targets[key], p_meet=p, p_meet_lo=lo, p_meet_hi=hi)
                else:
                    row.update(target=math.nan, p_meet=math.nan, p_meet_lo=math.nan, p_meet_hi=math.nan)
                row["n"] = s.n
                rows.append(row)
        return _uniform_columns(pd.DataFrame(rows), self.grid_keys)

    def replicates(self, point: int | None = None):
        """Every replicate's value of every metric, one row per (point, replicate).

        Available when the sweep kept values (``keep_replicates=True``, or a
        sweep small enough for exact percentiles).
        """
        import pandas as pd

        if not self.exact:
            raise ValueError("this sweep kept histograms, not replicates; run it with keep_replicates=True")
        frames = []
        for pt in self.points if point is None else [self.points[point]]:
            cols = {k: pt.params[k] for k in self.grid_keys}
            data = {"point": np.full(pt.n, pt.index), "replicate": np.arange(pt.n)}
            data.update({k: s.values for k, s in pt.metrics.items()})
            df = pd.DataFrame(data)
            for k, v in cols.items():
                df.insert(0, k, [v] * pt.n)
            frames.append(df)
        return _uniform_columns(pd.concat(frames, ignore_index=True), self.grid_keys)

    def to_csv(self, path: str | Path, force: bool = False, replicates: bool = False) -> Path:
        """Write the tidy summary (or every replicate) as CSV, atomically; refuse to overwrite without ``force``."""
        from ..io import atomic_write

        df = self.replicates() if replicates else self.to_frame()
        return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False), force=force)

    def to_parquet(self, path: str | Path, force: bool = False, replicates: bool = False) -> Path:
        """Write the tidy summary (or every replicate) as Parquet, atomically; refuse to overwrite without ``force``."""
        from ..io import atomic_write

        df = self.replicates() if replicates else self.to_frame()
        meta = {"seed": self.seed, "n": self.n, "engine": self.engine, "config_hash": self.config_hash}
        df.attrs["drsim"] = json.dumps(meta)
        return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False), force=force)

    def write(self, path: str | Path, force: bool = False) -> Path:
        """Write the summary to ``path`` as Parquet (``.parquet``) or CSV (``.csv``)."""
        suffix = Path(path).suffix.lower()
        if suffix == ".parquet":
            return self.to_parquet(path, force=force)
        if suffix == ".csv":
            return self.to_csv(path, force=force)
        raise InputError(str(path), [Problem("output file must end in .parquet or .csv")])

    def to_dict(self) -> dict:
        """A JSON-ready summary (seconds; ``null`` = never)."""
        df = self.to_frame()

        def num(x):
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {
            "drill": self.drill,
            "topology": self.topology,
            "seed": self.seed,
            "n": self.n,
            "engine": self.engine,
            "exact_percentiles": self.exact,
            "passed": self.passed,
            "points": [
                {
                    "params": pt.params,
                    "gates": [g.to_dict() for g in pt.gates],
                    "metrics": [
                        {k: num(v) for k, v in row.items() if k not in self.grid_keys}
                        for row in df[df.point == pt.index].to_dict("records")
                    ],
                }
                for pt in self.points
            ],
        }


def _split_key(key: str) -> tuple[str, str, str]:
    kind, rest = key.split(":", 1)
    subject, _, measure = rest.rpartition(":")
    return kind, subject, measure


def _uniform_columns(df, keys):
    """Grid columns whose values mix types are written as text (Parquet needs one type per column)."""
    for k in keys:
        if k in df and len({type(v) for v in df[k]}) > 1:
            df[k] = df[k].astype(str)
    return df


def _build_result(spec: SweepSpec, merger: _Merger) -> SweepResult:
    from ..engine.outcomes import targets

    points = []
    for pt, acc in zip(spec.points, merger.acc):
        metrics = {k: a.result() for k, a in acc.items()}
        tg = {k: v for k, v in targets(pt.plan).items() if k in metrics}
        gates = tuple(evaluate_gates(list(pt.gates), metrics, spec.n))
        points.append(PointResult(pt.index, dict(pt.params), spec.n, metrics, tg, gates))
    first = spec.points[0].plan
    return SweepResult(
        drill=first.drill.name,
        topology=first.topology.name,
        seed=spec.seed,
        n=spec.n,
        engine=spec.engine,
        chunk_size=spec.chunk_size,
        exact=spec.exact,
        grid_keys=spec.grid_keys,
        points=tuple(points),
        config_hash=spec.config_hash,
        events=merger.events,
    )


# ------------------------------------------------------------------ grids


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


def parse_grid_option(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` from the command line: the key and its values.

    Commas inside parentheses or brackets belong to a value
    (``drill.detection.delay=lognormal(p50=3m, p95=10m),5m`` has two values).
    Whole numbers become integers, decimals floats, ``true``/``false``
    booleans; everything else stays text.
    """
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(
            f"--grid {text!r}", [Problem("expected KEY=VALUE1,VALUE2,... e.g. drill.faults.0.duration=4h,8h")]
        )
    values, depth, cur = [], 0, []
    for ch in rest:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            values.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    values.append("".join(cur).strip())
    if any(v == "" for v in values):
        raise InputError(f"--grid {text!r}", [Problem(f"grid key {key!r} has an empty value")])
    return key, [_scalar(v) for v in values]


def _scalar(v: str):
    if _INT.match(v):
        return int(v)
    if _FLOAT.match(v):
        return float(v)
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def _set_path(docs: dict, key: str, value) -> None:
    """Set ``value`` at the dotted ``key`` (``topology.staff.dba.shifts.1.headcount``) of ``docs``."""
    parts = key.split(".")
    where = f"grid key {key!r}"
    if parts[0] not in ("topology", "drill") or len(parts) < 2:
        raise InputError(where, [Problem("must start with 'topology.' or 'drill.', e.g. drill.faults.0.duration")])
    cur = docs[parts[0]]
    trail: list = []
    for i, part in enumerate(parts[1:], 1):
        last = i == len(parts) - 1
        at = format_path((parts[0], *trail)) or parts[0]
        if isinstance(cur, list):
            if not re.fullmatch(r"\d+", part) or int(part) >= len(cur):
                raise InputError(
                    where,
                    [Problem(f"{at} is a list of {len(cur)}; expected an index 0..{len(cur) - 1}, found {part!r}")],
                )
            idx = int(part)
        elif isinstance(cur, dict):
            if part not in cur and not last:
                has = ", ".join(map(str, cur)) or "nothing"
                raise InputError(where, [Problem(f"no {part!r} in {at} (it has: {has})")])
            idx = part
        else:
            raise InputError(where, [Problem(f"{at} is a value ({cur!r}), not a mapping or list")])
        if last:
            cur[idx] = value
            return
        cur = cur[idx]
        trail.append(int(part) if isinstance(idx, int) else part)


def _documents(drill, topology) -> dict:
    """The raw documents (plain data, as written) of the drill and topology, for grid edits."""
    from ..model.loader import DEFAULT_TOPOLOGY, _plain, _read, parse_yaml, resolve

    def raw(obj, folder):
        if isinstance(obj, Topology | Drill):
            return obj.model_dump(mode="json", by_alias=True, exclude_unset=True), f"<{obj.name}>"
        path = resolve(str(obj if obj is not None else DEFAULT_TOPOLOGY), folder)
        return _plain(parse_yaml(_read(path), str(path)).data), str(path)

    t, tsrc = raw(topology, "topologies")
    d, dsrc = raw(drill, "drills")
    return {"topology": t, "drill": d, "sources": {"topology": tsrc, "drill": dsrc}}


def _validated(docs: dict, label: str) -> tuple[Topology, Drill]:
    """Validate edited documents; problems are reported against the grid point that made them."""
    import yaml

    from ..model.loader import drill_from_text, topology_from_text

    src = docs["sources"]
    try:
        topo = topology_from_text(yaml.safe_dump(docs["topology"], sort_keys=False), src["topology"])
        drill = drill_from_text(yaml.safe_dump(docs["drill"], sort_keys=False), topo, src["drill"])
        return topo, drill
    except InputError as exc:
        # line numbers would point into the edited copy, not the user's file: keep field paths only
        raise InputError(
            f"grid point {label}: {exc.source}", [Problem(p.message, p.path) for p in exc.problems]
        ) from None


# ------------------------------------------------------------------ building a sweep


def build_spec(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    n: int = 100_000,
    seed: int = 0,
    engine: str = "vectorized",
    grid: dict[str, list] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    keep_replicates: bool = False,
) -> SweepSpec:
    """Load, expand the grid, validate and compile every point: the picklable plan of a sweep."""
    from ..model.loader import load_drill, load_topology

    problems = []
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        problems.append(Problem(f"the number of replicates must be a whole number >= 1, found {n!r}", ("n",)))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        problems.append(Problem(f"the chunk size must be a whole number >= 1, found {chunk_size!r}", ("chunk_size",)))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(Problem(f"the seed must be a whole number >= 0, found {seed!r}", ("seed",)))
    if engine not in ENGINES:
        problems.append(Problem(f"engine must be one of {', '.join(ENGINES)}, found {engine!r}", ("engine",)))
    grid = dict(grid or {})
    for key, values in grid.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__") or len(list(values)) == 0:
            problems.append(
                Problem(f"grid key {key!r} needs a non-empty list of values, found {values!r}", ("grid", key))
            )
    if problems:
        raise InputError("sweep", problems)
    n, chunk_size, seed = int(n), int(chunk_size), int(seed)

    keys = tuple(grid)
    combos = list(itertools.product(*[list(grid[k]) for k in keys]))
    models: list[tuple[tuple, Topology, Drill]] = []
    if not keys:
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        d = drill if isinstance(drill, Drill) else load_drill(drill, topo)
        models.append(((), topo, d))
    else:
        base = _documents(drill, topology)
        for key in keys:  # check every path once, before validating any point
            _set_path(copy.deepcopy(base), key, None)
        for combo in combos:
            docs = copy.deepcopy(base)
            params = tuple(zip(keys, combo))
            for key, value in params:
                _set_path(docs, key, value)
            label = ", ".join(f"{k}={v}" for k, v in params)
            topo, d = _validated(docs, label)
            models.append((params, topo, d))

    points = []
    for i, (params, topo, d) in enumerate(models):
        label = ", ".join(f"{k}={v}" for k, v in params)
        try:
            plan = compile_plan(topo, d)
        except InputError as exc:
            if not params:
                raise
            raise InputError(f"grid point {label}: {exc.source}", exc.problems) from None
        points.append(_point(i, params, plan, engine, label))

    n_metrics = max(len(p.metrics) for p in points)
    exact = keep_replicates or len(points) * n * n_metrics * 8 <= EXACT_BUDGET
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {
                "n": n,
                "seed": seed,
                "engine": engine,
                "chunk_size": chunk_size,
                "exact": exact,
                "grid": [list(map(str, c)) for c in combos],
            },
            sort_keys=True,
        ).encode()
    )
    for p in points:
        h.update(p.plan.topology.model_dump_json(by_alias=True).encode())
        h.update(p.plan.drill.model_dump_json(by_alias=True).encode())
    return SweepSpec(tuple(points), keys, n, seed, engine, chunk_size, exact, h.hexdigest())


class _Recorder:
    """Stands in for the finish times and notes which tasks' finish times are read."""

    def __init__(self, finish):
        self.finish = finish
        self.read: set[int] = set()

    def finish_of(self, task: int):
        self.read.add(int(task))
        return self.finish.finish_of(task)


def _point(index: int, params: tuple, plan: Plan, engine: str, label: str) -> SweepPoint:
    from ..engine import vectorized
    from ..engine.outcomes import evaluate, targets

    probe = Draws.sample(plan.elements(), 0, 2)
    kernel = vectorized.prepare(plan)
    fin = vectorized.finish_times(plan, probe, kp=kernel, parallel=False)
    rec = _Recorder(fin)
    metrics = tuple(evaluate(plan, probe, rec))
    gates = []
    for i, text in enumerate(plan.drill.gates):
        try:
            g = parse_gate(text, plan.topology)
            if g.metric_key not in metrics and g.subject_kind == "rollback":
                raise GateError(f"gate {text!r}: this drill has no rollback (it needs a cutover-failure fault)")
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
        kernel=kernel if engine == "vectorized" else None,
    )


def sweep(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    n: int = 100_000,
    seed: int = 0,
    engine: str = "vectorized",
    grid: dict[str, list] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: bool = False,
    keep_replicates: bool = False,
    executor="local",
    workers: int | None = None,
    scheduler: str | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
) -> SweepResult:
    """Run ``n`` replicates of a drill at every point of ``grid`` and summarise them.

    Parameters
    ----------
    drill, topology
        Bundled names, file paths or loaded models (topology defaults to the
        reference estate).
    n, seed
        Replicates per grid point, and the seed: replicate 0 is ``drsim drill --seed``.
    engine
        ``"vectorized"`` (compiled, for millions of replicates) or ``"des"``
        (SimPy, the reference; identical numbers, far slower).
    grid
        What-ifs: dotted paths into the raw YAML documents (list items by
        index) mapped to lists of values, e.g.
        ``{"topology.staff.dba.shifts.1.headcount": [1, 2, 3]}``; every
        combination is a point, re-validated like a file.
    chunk_size
        Replicates per unit of work; memory per chunk grows with it.
    progress
        Show a progress bar on stderr.
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
    """
    spec = build_spec(drill, topology, n, seed, engine, grid, chunk_size, keep_replicates)
    cp = None
    if checkpoint is not None:
        from .checkpoint import Checkpoint

        cp = Checkpoint.open(checkpoint, spec, resume=resume, force=force)
    return execute(spec, executor=executor, progress=progress, checkpoint=cp, workers=workers, scheduler=scheduler)


__all__ = [
    "ChunkResult",
    "PointResult",
    "ReplayedChunk",
    "SweepPoint",
    "SweepResult",
    "SweepSpec",
    "build_spec",
    "draw_chunk",
    "execute",
    "parse_grid_option",
    "replay_chunk",
    "run_chunk",
    "sample",
    "score_chunk",
    "sweep",
]
