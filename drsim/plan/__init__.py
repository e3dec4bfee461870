"""The plan: a topology and a drill compiled into a DAG of timed tasks both engines execute."""

from .compile import (
    ALL,
    ANY,
    ROSTER_HORIZON,
    Handover,
    Plan,
    PlanArrays,
    RpoItem,
    ServiceOutage,
    Task,
    compile_plan,
    roster_changes,
    shift_on_duty,
)

__all__ = [
    "ALL",
    "ANY",
    "ROSTER_HORIZON",
    "Handover",
    "Plan",
    "PlanArrays",
    "RpoItem",
    "ServiceOutage",
    "Task",
    "compile_plan",
    "roster_changes",
    "shift_on_duty",
]
