"""Compiling a topology and a drill into a plan: a DAG of timed tasks, built in named phases.

Both engines execute the same plan on the same draws:

* a task becomes *ready* when its join over predecessors is satisfied;
* a task with no role starts when ready;
* a task with a role waits for a free person of that role; free people take
  the waiting task of the most critical class first (incident command and
  tier-0 work, then each less critical tier), first come first served by
  ready time within a class, ties broken by task index (the order tasks are
  compiled in: most critical services first);
* a staffed task with ``skip_if`` takes no time if that task has finished by
  the moment it starts (break-glass access once the identity provider is back);
* at one instant, every finish and every roster change is processed before
  anybody is dispatched.

**Capacity follows the roster.** A role's capacity over the incident is a step
function: at offset ``t`` from the drill start, the headcount of the shift on
duty at clock time ``start + t`` (:func:`~drsim.plan.roster.shift_on_duty`; 0
when nobody is rostered). The instants where it changes, up to
:data:`~drsim.plan.roster.ROSTER_HORIZON` after the start, are compiled into
:attr:`Plan.handovers <drsim.plan.compiled.Plan.handovers>` (the same for every
replicate); only roles some task needs are listed. When capacity rises, the
new people are free at that instant. When it falls, free people leave at once;
if too few are free, the next busy people to finish leave instead of taking
new work. Only counts matter: a role's free
count may go negative (departures owed), and a rise first cancels owed
departures. A role is paged once per person of its largest shift, and each
page is answered by the shift on duty when it fires, with that shift's
``acknowledge`` (:attr:`Task.on_duty <drsim.plan.tasks.Task.on_duty>`; nobody
answers while that shift has fewer people than the page's number). A staffed task works at the ``pace``
of the shift on duty when it starts: its drawn duration (not a data transfer's
time) is multiplied by that pace over the starting shift's
(:attr:`Plan.paces <drsim.plan.compiled.Plan.paces>`). A role with a ``handover`` time hands
tasks still running at a shift's start to the incoming shift
(:attr:`Plan.shift_changes <drsim.plan.compiled.Plan.shift_changes>`): each ends the
handover later, its remaining work at the incoming pace.

**Call-in.** Off-shift people (a role's ``call_in``) and external responders (an
``external`` role) come through a task that needs nobody and whose finish adds
people to the role for the rest of the incident (``Task.adds_role``): capacity
rises at that instant, per replicate, processed like a roster rise (before the
dispatch). A role that may call people in is, when first paged, called in if nobody of it
is ever on duty, paged if somebody always is, and otherwise both: pages answered only while
somebody is on duty, a call answered only while nobody is (its ``on_duty`` entries), so the
choice is made by the instant the page fires, replicate by replicate.

**The phases.** :func:`compile_plan` runs these in order; each reads the typed
results of the ones before, and those that add tasks add them through one
:class:`~drsim.plan.builder.PlanBuilder`, so task indices follow this order:

1. **affected services** (:mod:`~drsim.plan.affected`): which services each
   fault hits and how, their dependents, what is unavailable — no tasks;
2. **response and decisions** (:mod:`~drsim.plan.response`): faults,
   detection, paging, triage, escalation, the declaration, communication;
3. **per-service recovery** (:mod:`~drsim.plan.recovery`): runbooks,
   validation, zone failover, restart in place, corruption and drift
   restores, the rollback chain — most critical service first;
4. **data loss** (:mod:`~drsim.plan.data_loss`): each service's RPO item,
   settled by the recovery paths — no tasks;
5. **milestones** (:mod:`~drsim.plan.milestones`): restored milestones in
   dependency order, access links, the needs of steps, validations and
   detection (:mod:`~drsim.plan.needs`), all restored, the milestone map;
6. **external outages** (:mod:`~drsim.plan.externals`): systems outside the
   estate that a fault takes down, and when they come back;
7. **usable** (:mod:`~drsim.plan.usable`): after restored, the work before
   people can use a service or workflow again (reconnection, re-validation,
   back-entry of paper records scaled by the downtime);
8. **failback** (:mod:`~drsim.plan.failback`): moving a failed-over service
   back to its primary once that is back.

Problems found along the way are collected and raised together, as one
:class:`~drsim.errors.InputError`, once every task has been added.
"""

from __future__ import annotations

from ..collection import collection_paused
from ..model import Drill, Topology
from .affected import affected_services
from .builder import PlanBuilder
from .compiled import Plan, RpoItem, ServiceOutage
from .data_loss import settle_data_loss
from .externals import compile_externals
from .failback import compile_failback
from .milestones import compile_restoration, milestone_map
from .recovery import compile_recovery
from .response import compile_response, link_triggers
from .roster import handovers_of, pace_changes, shift_changes, shift_spans
from .usable import UsableContext, compile_usable


@collection_paused
def compile_plan(topo: Topology, drill: Drill) -> Plan:
    """Compile a validated topology and drill into a :class:`~drsim.plan.compiled.Plan`.

    Raises
    ------
    InputError
        When the drill cannot be compiled on the topology (a model built in code skips the
        loader's checks): every problem found, at once.
    """
    affected = affected_services(topo, drill)
    builder = PlanBuilder(topo, drill, affected.unavailable)
    response = compile_response(builder)
    recovery = compile_recovery(builder, affected, response)
    data_loss = settle_data_loss((r.loss, r.loss_paths) for r in recovery.services.values())
    restoration = compile_restoration(builder, affected, response, recovery)
    link_triggers(builder, response.declare, restoration.outages)
    externals = compile_externals(builder, response)
    chain = recovery.rollback
    stay = {name for name, o in restoration.outages.items() if _stays_up(drill, data_loss.items, o)}
    usable = compile_usable(builder, UsableContext(restoration.outages, data_loss.items, chain, response), stay)
    failbacks = compile_failback(
        builder,
        response,
        {
            name: (r.loss_paths.failover, r.loss_paths.back_in_place)
            for name, r in recovery.services.items()
            if r.loss_paths.failover >= 0 and r.loss_paths.back_in_place >= 0
        },
    )
    builder.raise_problems()
    staffed = {t.role for t in builder.tasks if t.role is not None}
    paces = pace_changes(topo, drill.start, staffed)
    return Plan(
        topology=topo,
        drill=drill,
        tasks=builder.tasks,
        capacity=builder.capacity,
        shift_of=builder.shift_of,
        outages=restoration.outages,
        rpo_items=data_loss.items,
        rpo_elements=data_loss.elements,
        fault_tasks=response.fault_tasks,
        milestones=milestone_map(drill, response, restoration),
        rollback=(chain.decided, chain.done) if chain is not None else None,
        handovers=handovers_of(topo, drill.start, staffed),
        paces=paces,
        shift_changes=shift_changes(topo, drill.start, staffed, paces),
        externals=externals,
        degraded=affected.degraded,
        usable=usable,
        failbacks=failbacks,
        shift_spans={r: shift_spans(s, drill.start) for r, s in topo.staff.items() if s.shifts},
    )


def _stays_up(drill: Drill, items: list[RpoItem], o: ServiceOutage) -> bool:
    """Whether a service hit in the drill keeps serving: a drift the policy leaves up."""
    return o.cause == "data-drift" and drill.faults[items[o.rpo].fault].on_detect == "stay-up"
