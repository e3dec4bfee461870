"""Sweeps: many replicates of a drill, in chunks, on this machine or a cluster, summarised per grid point.

* :mod:`~drsim.sweep.run` — :func:`sweep` from one :class:`SweepSettings` record:
  build the spec, execute its chunks, collect the result;
* :mod:`~drsim.sweep.chunks` — the spec and the pure work of one chunk (draw, replay, score);
* :mod:`~drsim.sweep.grid` — what-ifs: dotted paths into the YAML documents and their values;
* :mod:`~drsim.sweep.executors` — where chunks run (this process, a process pool, Dask);
* :mod:`~drsim.sweep.checkpoint` — every finished chunk on disk, to resume an interrupted sweep;
* :mod:`~drsim.sweep.result` — chunk results merged in chunk order into a :class:`SweepResult`;
* :mod:`~drsim.sweep.gates` — the drill's gates judged on the merged summaries.
"""

from .chunks import (
    ChunkResult,
    ReplayedChunk,
    SweepPoint,
    SweepSpec,
    draw_chunk,
    replay_chunk,
    run_chunk,
    sample,
    score_chunk,
)
from .grid import parse_grid_option
from .result import PointResult, SweepResult
from .run import ProgressCallback, SweepProgress, SweepSettings, build_spec, execute, sweep

__all__ = [
    "ChunkResult",
    "PointResult",
    "ProgressCallback",
    "ReplayedChunk",
    "SweepPoint",
    "SweepProgress",
    "SweepResult",
    "SweepSettings",
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
