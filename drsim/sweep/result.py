"""Sweep results: what a sweep found at each grid point, merged from its chunks in chunk order.

Chunks finish in whatever order their executor runs them, and a retried
worker may report one twice. :class:`ChunkMerger` holds each result until every
chunk before it has been merged, then folds it into one
:class:`~drsim.stats.Accumulator` per metric of its point, so the merged
summaries — and every number derived from them — are those of the chunks taken
strictly in ``(point, chunk)`` order, and a chunk reported twice counts once.

:meth:`ChunkMerger.result` judges the drill's gates (:mod:`drsim.sweep.gates`)
on the merged summaries and returns a :class:`SweepResult`: an immutable record
per grid point of every metric's summary, its target and the gate verdicts,
with a tidy frame (:meth:`SweepResult.to_frame`), every replicate when they
were kept (:meth:`SweepResult.replicates`), CSV or Parquet files written
atomically, and a JSON-ready summary (:meth:`SweepResult.to_dict`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.outcomes import targets
from ..errors import InputError, Problem
from ..extras import require
from ..frames import COUNT, SECONDS, columns, identity, suffix_of, summary_statistics
from ..io import atomic_write, csv_safe
from ..model.calibrated import CalibratedElement, calibration_column
from ..stats import Accumulator, Summary, wilson
from .chunks import ChunkResult, SweepSpec
from .gates import GateResult, evaluate_gates

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PointResult:
    """The sweep's findings at one grid point."""

    index: int
    #: The grid's values at this point, by dotted path (empty without a grid).
    params: dict[str, Any]
    #: Replicates.
    n: int
    #: Every metric's summary over the point's replicates, by outcomes key (``tier:tier0:rto``).
    metrics: dict[str, Summary] = field(repr=False)
    #: The target each metric with one is held to (seconds).
    targets: dict[str, float] = field(repr=False)
    #: The verdict of each of the drill's gates, in the drill's order.
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
        """Whether every ``fail`` gate passed at this point (True when the drill has none); a missed
        ``warn`` gate does not change it."""
        return not any(g.blocking for g in self.gates)

    @property
    def warned(self) -> bool:
        """Whether a ``warn`` gate was missed at this point."""
        return any(g.warning for g in self.gates)


@dataclass(frozen=True)
class SweepResult:
    """Percentiles, probabilities of meeting targets and gate verdicts of a sweep, per grid point."""

    drill: str
    topology: str
    seed: int
    n: int
    engine: str
    chunk_size: int
    #: Whether percentiles are exact order statistics (every replicate kept) rather than histogram estimates.
    exact: bool
    #: The grid's dotted paths, in the order its points vary them.
    grid_keys: tuple[str, ...]
    points: tuple[PointResult, ...]
    #: Which sweep this is: a hash of its settings and of every point's validated topology and drill.
    config_hash: str
    #: Events the DES processed (0 for the vectorized engine).
    events: int = 0
    #: The elements a calibration overlay set, with what each was fitted from (empty without one).
    calibrated: tuple[CalibratedElement, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every ``fail`` gate passed at every grid point (True when the drill has none)."""
        return all(p.passed for p in self.points)

    @property
    def warned(self) -> bool:
        """Whether a ``warn`` gate was missed at some grid point (the verdict is unchanged)."""
        return any(p.warned for p in self.points)

    @property
    def has_gates(self) -> bool:
        """Whether the drill has gates to judge."""
        return any(p.gates for p in self.points)

    def to_frame(self) -> pd.DataFrame:
        """A tidy DataFrame: one row per grid point x metric, in the columns of :mod:`drsim.frames`.

        Columns: the grid parameters (one per dotted path), ``point``, then
        ``metric``, ``kind``, ``subject``, ``measure``, ``unit``, ``n``,
        ``never``, ``target_s``, ``p50_s``/``p90_s``/``p95_s``/``p99_s`` each
        with its 95% interval (``p90_lo_s``, ``p90_hi_s``), ``mean_s``,
        ``p_meet`` with ``p_meet_lo``/``p_meet_hi``, and for counted metrics
        (messages, writes) the same statistics ending in ``_count``. A column
        that does not apply to a row is NaN.
        With a calibration, a last column ``calibrated`` lists every calibrated
        element, its value and what it was fitted from (the same on every row).
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        rows = []
        for pt in self.points:
            for key, s in pt.metrics.items():
                row: dict[str, Any] = {k: pt.params[k] for k in self.grid_keys}
                row["point"] = pt.index
                row.update(identity(key, s.n))
                row.update(summary_statistics(s, str(row["unit"]), pt.targets.get(key)))
                rows.append(row)
        df = pd.DataFrame(rows, columns=columns((*self.grid_keys, "point")))
        if self.calibrated:
            df["calibrated"] = calibration_column(self.calibrated)
        return _uniform_columns(df, self.grid_keys)

    def by_variation(self) -> list[str]:
        """The metrics with a target, those whose P(meet) varies most across the grid first.

        The spread is the largest P(meet) at any grid point minus the smallest;
        ties (every metric flat, as without a grid) keep the order of the
        tiers' RTO targets, tightest first, then the metric's name. This is
        what a heatmap of the grid shows by default: a metric never (or always)
        met everywhere would draw a uniform picture.
        """
        spread: dict[str, list[float]] = {}
        for pt in self.points:
            for key in pt.targets:
                spread.setdefault(key, []).append(pt.p_meet(key)[0])
        tier_rto = {k: t for k, t in self.points[0].targets.items() if k.startswith("tier:") and k.endswith(":rto")}

        def order(key: str) -> tuple[float, int, float, str]:
            ps = spread[key]
            return (-(max(ps) - min(ps)), 0 if key in tier_rto else 1, tier_rto.get(key, 0.0), key)

        return sorted(spread, key=order)

    def replicates(self, point: int | None = None) -> pd.DataFrame:
        """Every replicate's value of every metric, one row per (point, replicate).

        Available when the sweep kept values (``keep_replicates=True``, or a
        sweep small enough for exact percentiles).
        """
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        if not self.exact:
            raise ValueError("this sweep kept histograms, not replicates; run it with keep_replicates=True")
        frames = []
        for pt in self.points if point is None else [self.points[point]]:
            cols = {k: pt.params[k] for k in self.grid_keys}
            data: dict[str, np.ndarray | None] = {"point": np.full(pt.n, pt.index), "replicate": np.arange(pt.n)}
            data.update({k: s.values for k, s in pt.metrics.items()})
            df = pd.DataFrame(data)
            for k, v in cols.items():
                df.insert(0, k, [v] * pt.n)
            frames.append(df)
        return _uniform_columns(pd.concat(frames, ignore_index=True), self.grid_keys)

    def to_csv(self, path: str | Path, force: bool = False, replicates: bool = False) -> Path:
        """Write the tidy summary (or every replicate) as CSV, atomically; refuse to overwrite without ``force``."""
        df = self.replicates() if replicates else self.to_frame()
        df = csv_safe(df)  # a name such as =HYPERLINK(...) must not become a formula in a spreadsheet
        return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False), force=force)

    def to_parquet(self, path: str | Path, force: bool = False, replicates: bool = False) -> Path:
        """Write the tidy summary (or every replicate) as Parquet, atomically; refuse to overwrite without ``force``.

        Needs pyarrow (``pip install 'drsim[parquet]'``)."""
        require("parquet", "writing Parquet files")
        df = self.replicates() if replicates else self.to_frame()
        meta: dict[str, Any] = {"seed": self.seed, "n": self.n, "engine": self.engine, "config_hash": self.config_hash}
        if self.calibrated:
            meta["calibrated"] = [e.to_dict() for e in self.calibrated]
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

        def num(x: Any) -> Any:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {
            "drill": self.drill,
            "topology": self.topology,
            "seed": self.seed,
            "n": self.n,
            "engine": self.engine,
            "exact_percentiles": self.exact,
            "passed": self.passed,
            **({"calibrated": [e.to_dict() for e in self.calibrated]} if self.calibrated else {}),
            "points": [
                {
                    "params": pt.params,
                    "gates": [g.to_dict() for g in pt.gates],
                    "metrics": [
                        {
                            k: num(v)
                            for k, v in row.items()
                            if k not in (*self.grid_keys, "calibrated") and not _other_unit(k, row)
                        }
                        for row in df[df.point == pt.index].to_dict("records")
                    ],
                }
                for pt in self.points
            ],
        }


def _other_unit(column: str, row: dict[str, Any]) -> bool:
    """Whether ``column`` holds statistics in the other unit than ``row``'s (a ``_count`` column of a duration,
    an ``_s`` column of a count): always empty, so left out of the JSON."""
    mine = suffix_of(str(row["unit"]))
    return column.endswith(COUNT if mine == SECONDS else SECONDS)


def _uniform_columns(df: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Grid columns whose values mix types are written as text (Parquet needs one type per column)."""
    for k in keys:
        if k in df and len({type(v) for v in df[k]}) > 1:
            df[k] = df[k].astype(str)
    return df


class ChunkMerger:
    """Merges chunk results strictly in ``(point, chunk)`` order, whatever order they arrive in."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self.order = spec.work()
        self.position = {key: i for i, key in enumerate(self.order)}
        #: How many chunks, in merge order, are merged.
        self.next = 0
        #: Chunks that arrived before one of the chunks ahead of them.
        self.pending: dict[tuple[int, int], ChunkResult] = {}
        #: Per grid point, per metric, the merged summary so far.
        self.acc = [{k: Accumulator(pt.bounds[k], spec.exact) for k in pt.metrics} for pt in spec.points]
        #: Events the DES processed in the merged chunks.
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
        """Whether every chunk of the sweep is merged."""
        return self.next == len(self.order)

    def result(self) -> SweepResult:
        """The merged summaries as a :class:`SweepResult`, with every point's gates judged."""
        spec = self.spec
        points = []
        for pt, acc in zip(spec.points, self.acc):
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
            events=self.events,
            calibrated=spec.calibrated,
        )


__all__ = ["ChunkMerger", "PointResult", "SweepResult"]
