"""The compiled plan: what the engines run and what the outcomes score.

A :class:`Plan` is the output of :func:`~drsim.plan.compile.compile_plan` and the
only thing either engine accepts. Beyond the tasks (:mod:`drsim.plan.tasks`)
and the people who work them, it holds what scoring a replay needs: which
services were down and from which task to which (:class:`ServiceOutage`), and
how each directly hit service's window of lost writes is formed
(:class:`RpoItem`, see :mod:`drsim.plan.data_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..model import Drill, Topology
from ..model.distributions import Distribution
from .arrays import PlanArrays
from .roster import Handover, PaceChange, ShiftChange
from .tasks import Task

#: How a service's window of lost writes is formed (see :mod:`drsim.plan.data_loss`).
LossKind = Literal["none", "sync", "lag", "backup", "corruption", "drift", "rollback-discard"]


@dataclass
class RpoItem:
    """How a service's window of lost writes is formed in a replicate.

    Read by the outcomes (:func:`drsim.engine.outcomes.rpo_base`), and by both
    engines for tasks :attr:`~drsim.plan.tasks.Task.blocked_by_rpo` (a restore from
    a backup that corruption outlived can never finish).

    Attributes
    ----------
    service
        The service whose writes are lost.
    kind
        How the loss is formed (:data:`LossKind`): nothing (``none``, ``sync``); the replication
        lag (``lag``); the age of the last backup (``backup``); dwell plus backup age, infinite
        past the retention, or the dwell alone when intact logs reach back (``corruption``); the fault until ``task_a`` (``drift``: detection);
        the cutover until ``task_a`` plus ``offset`` (``rollback-discard``: the freeze).
    elements
        Names of the random elements (in :attr:`Plan.rpo_elements`) the loss is drawn from.
    retention
        Seconds backups are kept (``corruption``): an older clean copy is gone.
    fault
        Index of the fault (in the drill) that causes the loss.
    task_a
        The task ending the window (``drift``: detection; ``rollback-discard``: the freeze).
    offset
        Seconds added to the window (``rollback-discard``: the cutover ran this long before the fault).
    inplace, failover
        When the service came back in place (its site or fault cleared, data intact) no later
        than its failover path finished, nothing was lost: the tasks of the two paths (-1: none).
    unusable, unusable_p, interval
        Restore points can be unusable: the element (a uniform) drawing how many the restore
        falls back past, each with probability ``unusable_p``, one backup ``interval`` older each
        (``""``: every restore point is usable).
    backup_age, restore_gate
        A failover that can fall back to a restore from backup: the element of the last backup's
        age, and the gate task that finishes when the fallback is taken (-1: none). In those
        replicates the loss is the restore's window (:func:`drsim.engine.draws.restore_window`).
    dwell, point_in_time, logs_retention, logs, logs_p
        Corruption of a store with point-in-time logs: the element of the corruption's dwell
        (``""``: none, it began at the fault), whether the logs can stop the roll-forward just
        before it began, how far back they reach (seconds), and the element (a uniform) drawing
        whether they are compromised, with probability ``logs_p`` (``""``: never).
    """

    service: str
    kind: LossKind
    elements: tuple[str, ...] = ()
    retention: float = float("inf")
    fault: int = -1
    task_a: int = -1
    offset: float = 0.0
    inplace: int = -1
    failover: int = -1
    unusable: str = ""
    unusable_p: float = 0.0
    interval: float = 0.0
    backup_age: str = ""
    restore_gate: int = -1
    dwell: str = ""
    point_in_time: bool = False
    logs_retention: float = 0.0
    logs: str = ""
    logs_p: float = 0.0


@dataclass(frozen=True)
class ExternalOutage:
    """An external system down in this drill: from the finish of ``down_task`` to that of ``up_task``
    (-1: it never comes back during the drill)."""

    name: str
    down_task: int
    up_task: int = -1


@dataclass(frozen=True)
class UsableMark:
    """When services and workflows declaring ``usable`` are back in service (:mod:`drsim.plan.usable`).

    Attributes
    ----------
    services
        Each such service's usable mark, by name: its last piece of usable work.
    workflows
        Each such workflow's (every need back, usable) milestones, by name; its downtime runs on
        from the first to the second.
    """

    services: dict[str, int] = field(default_factory=dict)
    workflows: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class FailbackTasks:
    """A service's failback to its primary (:mod:`drsim.plan.failback`).

    Attributes
    ----------
    service, mode
        The service, and ``planned`` or ``forced``.
    standby
        Finishes when the failover ended with the service on its standby; never, when it came back in
        place first (then there is no failback).
    primary_back
        The service's restart in place: from then it could run on its primary again.
    freeze
        Writes to the standby stopped: the switch-back outage starts when it finishes.
    switched
        The last switch-back step: the service serves from its primary again.
    done
        The failback's last task (a forced failback's resync after the switch included).
    """

    service: str
    mode: str
    standby: int
    primary_back: int
    freeze: int
    switched: int
    done: int


@dataclass
class ServiceOutage:
    """A service taken down in this drill, directly or through what it depends on.

    Attributes
    ----------
    service, tier
        The service and its tier (whose RTO and RPO it is held to).
    down_task
        The task whose finish marks the start of the outage.
    restored_task
        The task whose finish marks the service restored (with what it depends on).
    direct
        Hit by a fault itself, rather than down because a dependency is.
    cause
        The fault kind, or ``"depends on a, b"`` for a dependent.
    rpo
        Index into :attr:`Plan.rpo_items`; -1 for dependents (no loss of their own).
    """

    service: str
    tier: str
    down_task: int
    restored_task: int
    direct: bool
    cause: str
    rpo: int = -1


@dataclass
class Plan:
    """The compiled drill: tasks, staff pools and everything needed to score a replay.

    **The engines' contract.** The engines and outcomes read these fields, and nothing else of the plan:

    * ``tasks`` — the DAG both engines schedule (see :class:`~drsim.plan.tasks.Task`);
    * ``capacity`` and ``handovers`` — people per role at the start, and how that changes;
    * ``paces`` — how each role's pace, relative to the starting shift's, changes over the incident;
    * ``shift_changes`` — the shift starts at which running tasks are handed over;
    * :meth:`elements` — every random element, by stable name, which the draws sample;
    * :meth:`arrays` — the same schedule as flat arrays, for the kernel;
    * ``rpo_items`` — read by the draws and the vectorized engine for blocked tasks, and
      by the outcomes with ``rpo_elements`` through :meth:`elements`;
    * ``outages``, ``externals``, ``milestones``, ``rollback``, ``usable``, ``failbacks`` — the tasks
      whose finishes the outcomes turn into RTO, RPO, usable time, workflow downtime, failback
      and the decision-latency breakdown;
    * ``topology`` and ``drill`` — the outcomes' targets (tiers, queues, workflows) and
      fault times.

    ``shift_of``, ``shift_spans`` and ``fault_tasks`` are for results and reports only.

    Attributes
    ----------
    topology, drill
        The validated models the plan was compiled from.
    tasks
        Every task, in compile order (``tasks[i].index == i``).
    capacity
        People on duty per role at the drill start (every role of the topology).
    shift_of
        The shift on duty per role at the drill start (``"off"``: nobody rostered).
    outages
        Every service down in the drill, in dependency order.
    rpo_items
        One data-loss item per directly hit service, in compile order.
    rpo_elements
        The random elements the data-loss items draw from, by name.
    fault_tasks
        The task of each fault of the drill, in drill order.
    milestones
        The decision-latency milestones: ``fault``, ``detected``, ``acknowledged``,
        ``declared`` and (when any service is down) ``restored``.
    rollback
        The rollback's (decision task, done task), or None without a rollback.
    handovers
        Capacity changes over the incident, by time (then role): see :mod:`drsim.plan.roster`.
    paces
        Pace changes over the incident, by role (then time): a staffed task takes the pace of the
        shift on duty when it starts (see :mod:`drsim.plan.roster`).
    shift_changes
        The instants a shift of a role with a ``handover`` time begins, by time (then role): running
        tasks of the role are handed to it (see :mod:`drsim.plan.roster`).
    externals
        Systems outside the estate a fault takes down (:mod:`drsim.plan.externals`), by name.
    degraded
        Services left up on fewer members of a dependency group than it has, with the members
        that are down (for results and reports).
    usable
        The usable milestones of the services and workflows declaring ``usable``.
    failbacks
        Each service's failback to its primary, by name.
    shift_spans
        Per role, the shift on duty from each time of the incident (:func:`~drsim.plan.roster.shift_spans`):
        what labels people by shift (``dba#1@night``) in timelines and reports.
    """

    topology: Topology
    drill: Drill
    tasks: list[Task]
    capacity: dict[str, int]
    shift_of: dict[str, str]
    outages: dict[str, ServiceOutage]
    rpo_items: list[RpoItem]
    rpo_elements: dict[str, Distribution]
    fault_tasks: list[int]
    milestones: dict[str, int]
    rollback: tuple[int, int] | None
    handovers: list[Handover] = field(default_factory=list)
    paces: list[PaceChange] = field(default_factory=list)
    shift_changes: list[ShiftChange] = field(default_factory=list)
    externals: dict[str, ExternalOutage] = field(default_factory=dict)
    degraded: dict[str, list[str]] = field(default_factory=dict)
    usable: UsableMark = field(default_factory=UsableMark)
    failbacks: dict[str, FailbackTasks] = field(default_factory=dict)
    shift_spans: dict[str, list[tuple[float, str | None]]] = field(default_factory=dict)

    def roles(self) -> list[str]:
        """The role names, sorted: the order of the kernel's role arrays."""
        return sorted(self.capacity)

    def elements(self) -> dict[str, Distribution]:
        """Every random element of the drill, by stable name."""
        out: dict[str, Distribution] = {}
        for t in self.tasks:
            if t.element is not None:
                out[t.element] = t.duration
            out.update(t.attempt_elements())
            out.update(t.duty_elements())
        out.update(self.rpo_elements)
        return out

    def arrays(self) -> PlanArrays:
        """The plan's schedule as the flat arrays a compiled kernel reads."""
        return PlanArrays.of(self.tasks, self.capacity, self.handovers, self.paces, self.shift_changes)

    def task(self, key: str) -> Task:
        """The task named ``key`` (``KeyError`` if there is none)."""
        for t in self.tasks:
            if t.key == key:
                return t
        raise KeyError(key)
