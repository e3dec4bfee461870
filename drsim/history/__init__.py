"""Run history: every ``drsim drill``, ``drsim sweep`` and ``drsim cutover`` remembered, so a programme of
exercises and a migration's go/no-go decisions can be followed over time (only drills and sweeps count as
exercises: :mod:`.tested`).

:mod:`.store` keeps each run's journal (:mod:`drsim.report.journal`) in an
embedded SQLite database; :mod:`.changes` reads two runs side by side
(which inputs changed, which figures moved) and one drill's runs over time.
"""

from .changes import Comparison, FigureChange, InputChange, Trend, compare_runs, trend
from .store import HistoryError, Run, Store, default_path, resolve_path

__all__ = [
    "Comparison",
    "FigureChange",
    "HistoryError",
    "InputChange",
    "Run",
    "Store",
    "Trend",
    "compare_runs",
    "default_path",
    "resolve_path",
    "trend",
]
