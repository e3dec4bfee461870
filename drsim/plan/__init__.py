"""The plan: a topology and a drill compiled into a DAG of timed tasks both engines execute.

* :mod:`~drsim.plan.tasks` — a task and how it waits for others (:data:`ALL`, :data:`ANY`);
* :mod:`~drsim.plan.compiled` — the :class:`Plan` the engines accept, with its outages and data-loss items;
* :mod:`~drsim.plan.arrays` — the plan as flat arrays, for the compiled kernel;
* :mod:`~drsim.plan.roster` — who is on duty, and when that changes;
* :mod:`~drsim.plan.compile` — :func:`compile_plan` and its phases
  (:mod:`~drsim.plan.affected`, :mod:`~drsim.plan.response`, :mod:`~drsim.plan.recovery`,
  :mod:`~drsim.plan.data_loss`, :mod:`~drsim.plan.milestones`, :mod:`~drsim.plan.usable`,
  :mod:`~drsim.plan.failback`), which add tasks through
  :mod:`~drsim.plan.builder` in the orders of :mod:`~drsim.plan.order`.
"""

from .arrays import PlanArrays
from .compile import compile_plan
from .compiled import FailbackTasks, Plan, RpoItem, ServiceOutage, UsableMark
from .roster import ROSTER_HORIZON, Handover, roster_changes, shift_on_duty
from .tasks import ALL, ANY, Attempts, OnDuty, Task

__all__ = [
    "ALL",
    "ANY",
    "ROSTER_HORIZON",
    "Attempts",
    "FailbackTasks",
    "Handover",
    "OnDuty",
    "Plan",
    "PlanArrays",
    "RpoItem",
    "ServiceOutage",
    "Task",
    "UsableMark",
    "compile_plan",
    "roster_changes",
    "shift_on_duty",
]
