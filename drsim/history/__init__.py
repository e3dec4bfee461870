"""Run history: every ``drsim drill`` and ``drsim sweep`` remembered, so a programme of exercises can be
followed over time.

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
