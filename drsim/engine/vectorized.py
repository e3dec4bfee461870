"""The vectorized engine: many replicates of a plan at once, through a compiled kernel.

It consumes the same :class:`~drsim.draws.Draws` as the SimPy engine and
produces the same start/finish matrices; :mod:`drsim.engine.kernel` holds the
event loop itself.
"""

from __future__ import annotations

import numpy as np

from ..draws import Draws, task_durations
from ..plan import Plan
from .kernel import run_kernel


def run_many(plan: Plan, draws: Draws, arrays=None, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish matrices ``(n, n_tasks)`` for every replicate of ``draws``."""
    D = task_durations(plan, draws)
    return run_kernel(arrays if arrays is not None else plan.arrays(), D, parallel=parallel)
