"""What history says was exercised: the days each drill was run on an estate.

A run recorded in history (``drsim drill`` or ``drsim sweep``) counts as an
exercise of its drill on the day it finished (UTC). The exercise calendar reads
these days to know when each part of the estate was last tested; the
contingency-plan evidence reads the runs themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from .store import Run, Store, resolve_path


def run_day(run: Run) -> dt.date:
    """The day (UTC) a run finished."""
    return dt.date.fromisoformat(run.created_utc[:10])


def recorded_runs(path: str | Path | None = None, topology: str | None = None) -> list[Run]:
    """Every run in the history (``--history`` path, else ``$DRSIM_HISTORY``, else the default), oldest
    first, of one estate if ``topology`` is given; none when history is off or holds nothing yet.

    A history that cannot be read raises :class:`~drsim.history.store.HistoryError`, leaving the file as it was.
    """
    resolved = resolve_path(path)
    if resolved is None:
        return []
    store = Store(resolved)
    if store.check() == 0:
        return []
    return [r for r in store.runs() if topology is None or r["topology"] == topology]


def tested_days(runs: Sequence[Run]) -> dict[str, list[dt.date]]:
    """For each drill (as named in its results), the days it was run, oldest first."""
    out: dict[str, list[dt.date]] = {}
    for r in runs:
        out.setdefault(r["drill"], []).append(run_day(r))
    return out


__all__ = ["recorded_runs", "run_day", "tested_days"]
