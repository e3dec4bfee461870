"""What history says was exercised: the days each drill was run on an estate.

A run recorded in history by ``drsim drill`` or ``drsim sweep`` counts as an
exercise of its drill on the day it finished (UTC); other recorded runs (a
``drsim cutover`` judging a plan's gates) exercise nothing and are left out. The exercise calendar reads
these days to know when each part of the estate was last tested; the
contingency-plan evidence reads the runs themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..model import Drill, Topology
from ..model.loader import drill_from_text
from ..report.journal import sha256_of
from .store import Run, Store, resolve_path


def run_day(run: Run) -> dt.date:
    """The day (UTC) a run finished."""
    return dt.date.fromisoformat(run.created_utc[:10])


#: The commands whose recorded runs are exercises of a drill.
EXERCISES = ("drill", "sweep")


def recorded_runs(path: str | Path | None = None, topology: str | None = None) -> list[Run]:
    """Every exercise in the history (``--history`` path, else ``$DRSIM_HISTORY``, else the default): the
    runs of :data:`EXERCISES`, oldest first, of one estate if ``topology`` is given; none when history is
    off or holds nothing yet.

    A history that cannot be read raises :class:`~drsim.history.store.HistoryError`, leaving the file as it was.
    """
    resolved = resolve_path(path)
    if resolved is None:
        return []
    store = Store(resolved)
    if store.check() == 0:
        return []
    return [r for r in store.runs() if r["command"] in EXERCISES and (topology is None or r["topology"] == topology)]


def tested_days(runs: Sequence[Run]) -> dict[str, list[dt.date]]:
    """For each drill (as named in its results), the days it was run, oldest first (exercises only)."""
    out: dict[str, list[dt.date]] = {}
    for r in runs:
        if r["command"] in EXERCISES:
            out.setdefault(r["drill"], []).append(run_day(r))
    return out


def drill_of(run: Run, topology: Topology) -> Drill | None:
    """The drill ``run`` ran, read from the file it recorded when that file is still there with the same
    SHA-256 and valid on ``topology``; None otherwise (what the run exercised is then not known)."""
    entry = next((i for i in run["inputs"] if i.get("role") == "drill"), None)
    if entry is None:
        return None
    path = Path(entry.get("path", ""))
    try:
        if not path.is_file() or sha256_of(path) != entry.get("sha256"):
            return None
        return drill_from_text(path.read_bytes(), topology, str(path))
    except (OSError, InputError):
        return None


def drills_of(runs: Sequence[Run], topology: Topology) -> list[Drill | None]:
    """:func:`drill_of` for each run, each drill file read once however many runs share it."""
    seen: dict[tuple[str, str], Drill | None] = {}
    out = []
    for run in runs:
        entry: dict = next((i for i in run["inputs"] if i.get("role") == "drill"), {})
        key = (str(entry.get("path", "")), str(entry.get("sha256", "")))
        if key not in seen:
            seen[key] = drill_of(run, topology)
        out.append(seen[key])
    return out


__all__ = ["EXERCISES", "drill_of", "drills_of", "recorded_runs", "run_day", "tested_days"]
