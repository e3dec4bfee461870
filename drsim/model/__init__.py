"""The validated description of an estate (topology) and a failure scenario (drill)."""

from .drill import Detection, Drill, Fault, HumanStep, Inject, Response, Rollback
from .topology import (
    DataStore,
    LocalHA,
    Queue,
    Recovery,
    Region,
    Replication,
    Service,
    Shift,
    StaffRole,
    Step,
    Tier,
    Topology,
    TransactionLogs,
    Workflow,
)

__all__ = [
    "DataStore",
    "Detection",
    "Drill",
    "Fault",
    "HumanStep",
    "Inject",
    "LocalHA",
    "Queue",
    "Recovery",
    "Region",
    "Replication",
    "Response",
    "Rollback",
    "Service",
    "Shift",
    "StaffRole",
    "Step",
    "Tier",
    "Topology",
    "TransactionLogs",
    "Workflow",
]
