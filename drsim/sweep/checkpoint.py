"""Checkpoints: a sweep written chunk by chunk to a folder, so an interrupted sweep resumes.

A sweep that runs for an hour must survive being stopped — a laptop closed, a
job pre-empted, a cluster torn down — without losing or double-counting work.
With a checkpoint folder, every chunk that finishes is written at once to its
own file (temporary file, fsync, rename: a file is either whole or absent),
beside a manifest that says which sweep the chunks belong to::

    DIR/manifest.json                       seed, config hash, versions, chunk count
    DIR/chunks/point-0000-chunk-000012.npz  one finished chunk of one grid point
    DIR/summary.parquet                     the tidy summary, once every chunk is in

Resuming loads the chunks already there, runs only the missing ones and
merges everything in chunk order, so the result is exactly that of an
uninterrupted run. It refuses to mix in chunks of a different sweep: another
seed, topology, drill, grid, replicate count, chunk size or engine, or
another version of drsim, numpy or scipy (whose numbers could differ).
Chunk files hold plain arrays (``.npz``, read without pickle); one that cannot
be read (empty, truncated, a bad checksum) is named with what to do about it.

One sweep writes to a folder at a time: an advisory lock (``flock`` on
``DIR/.lock``, released when the process ends, however it ends) refuses a
second writer before it touches anything.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from ..errors import InputError, OutputError, OutputExistsError, Problem
from ..extras import require
from ..io import atomic_write
from ..stats import Summary
from ..version import __version__
from .chunks import ChunkResult, SweepSpec
from .result import SweepResult

#: 2: draws keyed by blocks of replicates, not by chunk, and sums kept as exact partial sums.
FORMAT = 2
MANIFEST = "manifest.json"
CHUNKS = "chunks"
SUMMARY = "summary.parquet"
LOCK = ".lock"
_CHUNK_FILE = re.compile(r"^point-(\d{4,})-chunk-(\d{6,})\.npz$")


def versions() -> dict[str, str]:
    """Versions of the packages a sweep's numbers depend on."""
    return {"drsim": __version__, "numpy": np.__version__, "scipy": scipy.__version__}


def manifest(spec: SweepSpec) -> dict:
    """What identifies a sweep's chunks: its settings, config hash and the versions that made them."""
    first = spec.points[0].plan
    return {
        "format": FORMAT,
        "drill": first.drill.name,
        "topology": first.topology.name,
        "seed": spec.seed,
        "n": spec.n,
        "chunk_size": spec.chunk_size,
        "engine": spec.engine,
        "exact": spec.exact,
        "grid": [[[k, str(v)] for k, v in p.params] for p in spec.points],
        "points": len(spec.points),
        "chunks_per_point": spec.n_chunks,
        "chunks": len(spec.points) * spec.n_chunks,
        "config_hash": spec.config_hash,
        "versions": versions(),
    }


def _minor(v: str) -> str:
    """A version's major and minor parts (``1.26`` of ``1.26.4``): patch releases give the same numbers."""
    return ".".join(v.split(".")[:2])


def _mismatches(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why the chunks under manifest ``old`` cannot be merged into the sweep ``new``."""
    if old.get("format") != FORMAT:
        return [f"it was written in checkpoint format {old.get('format')!r}; this drsim reads format {FORMAT}"]
    out = []
    ov, nv = old.get("versions", {}), new["versions"]
    if ov.get("drsim") != nv["drsim"]:
        out.append(f"it was made by drsim {ov.get('drsim')}, this is drsim {nv['drsim']}")
    out.extend(
        f"it was made with {pkg} {ov.get(pkg)}, this is {pkg} {nv[pkg]}"
        for pkg in ("numpy", "scipy")
        if _minor(str(ov.get(pkg))) != _minor(nv[pkg])
    )
    names = {
        "seed": "seed",
        "n": "replicates per point (-n)",
        "chunk_size": "chunk size",
        "engine": "engine",
        "exact": "exact percentiles (keep_replicates)",
        "drill": "drill",
        "topology": "topology",
        "grid": "grid",
    }
    for key, name in names.items():
        if old.get(key) != new[key]:
            out.append(f"its {name} is {old.get(key)!r}, this sweep's is {new[key]!r}")
    if not out and old.get("config_hash") != new["config_hash"]:
        out.append(
            "the topology or drill content differs (config hash "
            f"{str(old.get('config_hash'))[:12]}… there, {new['config_hash'][:12]}… here)"
        )
    return out


class Checkpoint:
    """A folder holding a sweep's finished chunks; see the module docstring."""

    def __init__(self, folder: Path, spec: SweepSpec, meta: dict, lock: int | None = None):
        self.folder = folder
        self.spec = spec
        self.meta = meta
        self.chunks = folder / CHUNKS
        self.lock = lock

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Let another sweep write to the folder."""
        if self.lock is not None:
            os.close(self.lock)  # closing the descriptor releases the flock
            self.lock = None

    @staticmethod
    def _lock(folder: Path) -> int:
        """Take the folder's advisory lock, or refuse: another sweep is writing there."""
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                folder, "another sweep is writing to this checkpoint folder; wait for it to end, or use another folder"
            ) from None
        return fd

    @classmethod
    def open(cls, folder: str | Path, spec: SweepSpec, resume: bool = False, force: bool = False) -> Checkpoint:
        """Start a checkpoint in ``folder``, or with ``resume`` continue the one there.

        Without ``resume`` a non-empty folder is refused unless ``force``
        (which first removes the files of an earlier checkpoint there). With
        ``resume`` the manifest there must describe this very sweep. The
        summary it ends with is Parquet: pyarrow must be installed
        (``drsim[parquet]``), which is checked before anything is run.
        """
        require("parquet", "a checkpointed sweep (its summary.parquet)")
        folder = Path(folder)
        new = manifest(spec)
        if folder.exists() and not folder.is_dir():
            raise OutputExistsError(f"{folder} exists and is not a directory; a checkpoint needs a directory")
        existing = folder.is_dir() and any(f.name != LOCK for f in folder.iterdir())
        lock = cls._lock(folder)
        try:
            return cls._open(folder, spec, new, existing, lock, resume, force)
        except BaseException:
            os.close(lock)
            raise

    @classmethod
    def _open(
        cls, folder: Path, spec: SweepSpec, new: dict, existing: bool, lock: int, resume: bool, force: bool
    ) -> Checkpoint:
        mpath = folder / MANIFEST
        if resume and existing:
            if not mpath.exists():
                raise InputError(
                    str(folder),
                    [Problem(f"nothing to resume: the directory is not empty but has no {MANIFEST} of a drsim sweep")],
                )
            try:
                old = json.loads(mpath.read_text())
            except (OSError, ValueError) as exc:
                raise InputError(str(mpath), [Problem(f"unreadable checkpoint manifest: {exc}")]) from None
            why = _mismatches(old, new)
            if why:
                raise InputError(
                    str(folder),
                    [Problem(f"cannot resume this sweep from this checkpoint: {w}") for w in why]
                    + [Problem("resume with the same settings, or start afresh in another directory (or --force)")],
                )
            cp = cls(folder, spec, old, lock)
            cp._sweep_temporaries()
            return cp
        if existing and not force:
            raise OutputExistsError(
                f"{folder} is not empty; pass --resume to continue the sweep there, or --force to start it afresh"
            )
        if existing:
            cls._clear(folder)
        (folder / CHUNKS).mkdir(parents=True, exist_ok=True)
        atomic_write(mpath, json.dumps(new, indent=2) + "\n", force=True)
        return cls(folder, spec, new, lock)

    @staticmethod
    def _clear(folder: Path) -> None:
        """Remove an earlier checkpoint's files (and nothing else)."""
        for name in (MANIFEST, SUMMARY):
            (folder / name).unlink(missing_ok=True)
        chunks = folder / CHUNKS
        if chunks.is_dir():
            for f in chunks.iterdir():
                if _CHUNK_FILE.match(f.name) or (f.name.startswith(".point-") and f.name.endswith(".tmp")):
                    f.unlink()

    def _sweep_temporaries(self) -> None:
        """Remove half-written chunk files left by a process killed while writing."""
        if self.chunks.is_dir():
            for f in self.chunks.glob(".point-*.tmp"):
                f.unlink(missing_ok=True)
        self.chunks.mkdir(parents=True, exist_ok=True)

    def path(self, point: int, chunk: int) -> Path:
        """The file that holds chunk ``chunk`` of grid point ``point``."""
        return self.chunks / f"point-{point:04d}-chunk-{chunk:06d}.npz"

    def stored(self) -> list[tuple[int, int]]:
        """The ``(point, chunk)`` pairs already written, in merge order."""
        done = set()
        if self.chunks.is_dir():
            for f in self.chunks.iterdir():
                m = _CHUNK_FILE.match(f.name)
                if m:
                    done.add((int(m.group(1)), int(m.group(2))))
        return [w for w in self.spec.work() if w in done]

    def save(self, res: ChunkResult) -> Path:
        """Write one finished chunk atomically."""
        buf = io.BytesIO()
        arrays: dict[str, Any] = _encode(res, self.spec.config_hash)  # savez's stubs type its keywords as options
        np.savez(buf, **arrays)
        return atomic_write(self.path(res.point, res.chunk), buf.getvalue(), force=True)

    def load(self, point: int, chunk: int) -> ChunkResult:
        """Read back one chunk, checking it belongs to this sweep."""
        p = self.path(point, chunk)
        try:
            with np.load(p, allow_pickle=False) as z:
                return _decode(z, self.spec, point, chunk)
        except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
            why = str(exc) or type(exc).__name__
            if isinstance(exc, EOFError) or (p.is_file() and p.stat().st_size == 0):
                why = "the file is empty"
            elif p.is_file() and not zipfile.is_zipfile(p):
                why = "not an .npz archive: cut short or overwritten"
            raise InputError(
                str(p),
                [
                    Problem(
                        f"corrupt checkpoint chunk ({why}); delete this file to run the chunk again "
                        "with --resume, or start the sweep afresh with --force"
                    )
                ],
            ) from None

    def finish(self, result: SweepResult) -> Path:
        """Write the sweep's tidy summary beside its chunks."""
        return result.to_parquet(self.folder / SUMMARY, force=True)


# ------------------------------------------------------------------ chunk files


def _encode(res: ChunkResult, config_hash: str) -> dict[str, np.ndarray]:
    """A chunk result as named plain arrays (no pickle): its identity in ``meta``, each summary's fields by index."""
    keys = list(res.summaries)
    meta = {
        "config_hash": config_hash,
        "point": res.point,
        "chunk": res.chunk,
        "n": res.n,
        "events": res.events,
        "metrics": keys,
    }
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
    arrays["ints"] = np.array([[s.n, s.n_inf] for s in res.summaries.values()], dtype=np.int64).reshape(-1, 2)
    arrays["floats"] = np.array([[s.lo, s.hi] for s in res.summaries.values()], dtype=np.float64).reshape(-1, 2)
    for j, s in enumerate(res.summaries.values()):
        arrays[f"sum{j}"] = s.partials  # the exact sum, so a resumed sweep's means are those of an unbroken one
        arrays[f"bounds{j}"] = s.bounds
        arrays[f"le{j}"] = s.n_le
        arrays[f"lt{j}"] = s.n_lt
        if s.values is not None:
            arrays[f"values{j}"] = s.values
        elif s.bins is not None and s.counts is not None:
            arrays[f"bins{j}"] = s.bins
            arrays[f"counts{j}"] = s.counts
        else:
            raise ValueError(f"the summary of {keys[j]} holds neither values nor a histogram")
    return arrays


def _decode(z: Mapping[str, np.ndarray], spec: SweepSpec, point: int, chunk: int) -> ChunkResult:
    """The chunk result ``_encode`` wrote, after checking it is chunk ``chunk`` of point ``point`` of ``spec``."""
    meta = json.loads(str(z["meta"]))
    if meta["config_hash"] != spec.config_hash or (meta["point"], meta["chunk"]) != (point, chunk):
        raise ValueError(
            f"it holds chunk {meta['chunk']} of point {meta['point']} of sweep {meta['config_hash'][:12]}…"
        )
    ints, floats = z["ints"], z["floats"]
    summaries = {}
    for j, key in enumerate(meta["metrics"]):
        s = Summary(
            int(ints[j, 0]),
            z[f"sum{j}"],
            int(ints[j, 1]),
            float(floats[j, 0]),
            float(floats[j, 1]),
            z[f"bounds{j}"],
            z[f"le{j}"],
            z[f"lt{j}"],
        )
        if f"values{j}" in z:
            s.values = z[f"values{j}"]
        else:
            s.bins, s.counts = z[f"bins{j}"], z[f"counts{j}"]
        summaries[key] = s
    return ChunkResult(point, chunk, int(meta["n"]), summaries, int(meta["events"]))


__all__ = ["Checkpoint", "manifest", "versions"]
