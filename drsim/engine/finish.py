"""Finish times: when each task of a plan started and finished, replicate by replicate.

Whatever a drill's outcome is, it is read from the moments its tasks finished:
a service is down from the finish of its fault task to the finish of its
"restored" milestone, a decision is taken when the task deciding it finishes.
Both engines therefore hand back the same record, :class:`FinishTimes`, from
their batch entry points (:func:`drsim.engine.des.run_many`,
:func:`drsim.engine.vectorized.run_many` and
:func:`drsim.engine.vectorized.finish_times`), and the outcomes
(:func:`drsim.engine.outcomes.evaluate`) read nothing else.

A sweep asks the vectorized engine only for the tasks the outcomes read, so a
record may hold some tasks' columns: ``tasks`` says which task each column is,
and asking for one that was not kept is an error. A time of ``inf`` means
never: a task waiting for something that never happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class TaskFinishes(Protocol):
    """Anything that gives a task's finish time in every replicate of a batch."""

    def finish_of(self, task: int) -> np.ndarray:
        """Finish time (seconds after the drill starts) of ``task`` in each replicate."""
        ...


@dataclass(frozen=True, eq=False)
class FinishTimes:
    """Start and finish times of a plan's tasks in a batch of replicates.

    Attributes
    ----------
    finish : numpy.ndarray
        ``(replicates, kept tasks)``: the finish time (seconds after the drill
        starts, ``inf`` for never) of task ``tasks[j]`` in replicate ``r`` is
        ``finish[r, j]``. When every task is kept, columns are task indices.
    tasks : numpy.ndarray
        The plan's index of the task in each column.
    n_tasks : int
        Tasks in the plan (kept or not).
    start : numpy.ndarray or None
        Start times, laid out like ``finish``, when they were asked for.
    events : int
        Discrete events the SimPy engine processed for these times (0 from the vectorized engine).
    """

    finish: np.ndarray
    tasks: np.ndarray
    n_tasks: int
    start: np.ndarray | None = None
    events: int = 0
    #: The column of each kept task.
    column: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", {int(t): j for j, t in enumerate(self.tasks)})

    @classmethod
    def of_every_task(cls, finish: np.ndarray, start: np.ndarray | None = None, events: int = 0) -> FinishTimes:
        """The times of every task: ``finish[r, i]`` (and ``start[r, i]``) for task ``i`` in replicate ``r``."""
        n_tasks = finish.shape[1]
        return cls(finish, np.arange(n_tasks, dtype=np.int64), n_tasks, start, events)

    @property
    def n(self) -> int:
        """Replicates in the batch."""
        return int(self.finish.shape[0])

    @property
    def complete(self) -> bool:
        """Whether every task of the plan was kept, in task order (columns are task indices)."""
        return len(self.tasks) == self.n_tasks and bool(np.array_equal(self.tasks, np.arange(self.n_tasks)))

    def finish_of(self, task: int) -> np.ndarray:
        """Finish time of ``task`` in each replicate."""
        return self.finish[:, self._column_of(task)]

    def start_of(self, task: int) -> np.ndarray:
        """Start time of ``task`` in each replicate."""
        if self.start is None:
            raise ValueError("start times were not asked for")
        return self.start[:, self._column_of(task)]

    def _column_of(self, task: int) -> int:
        try:
            return self.column[int(task)]
        except KeyError:
            raise KeyError(f"finish time of task {task} was not kept") from None
