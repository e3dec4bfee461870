"""Sweeps: many replicates of a drill, in chunks, on this machine or a cluster, summarised per grid point."""

from .run import (
    ChunkResult,
    PointResult,
    ReplayedChunk,
    SweepPoint,
    SweepResult,
    SweepSpec,
    build_spec,
    draw_chunk,
    execute,
    parse_grid_option,
    replay_chunk,
    run_chunk,
    sample,
    score_chunk,
    sweep,
)

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
