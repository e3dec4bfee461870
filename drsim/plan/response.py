"""The incident response: from the faults striking to the decision to recover.

Before anybody recovers anything, the incident has to be noticed and owned.
This phase compiles that chain, the same for every drill:

1. **faults** strike at their set times; each is **detected** after its own
   detection delay (or the drill's), and the incident is detected at the first;
2. the roles of the first response are **paged**: everyone on shift, the first
   acknowledgement counts; roles whose consoles are down **break glass**;
3. **triage** confirms scope and impact (or, in a drill without a triage
   step, the first acknowledgement does), and the incident is **escalated**:
   more roles are paged;
   off-shift people and external responders are **called in** at the response
   milestone the drill names (``detected``, ``escalated``, ``declared``), and a
   role with nobody on duty is called in when first paged, if it can be;
4. someone **declares** disaster (or decides to roll back a failed cutover) —
   the trigger of every recovery that needs a human decision — and, if the
   drill says so, **communicates** (the switch to fallback procedures: in a
   hospital, downtime procedures on the wards).

With an **escalation policy**, the first response is level 1 and each later
level is paged only when nobody acknowledged within the timeout
(:meth:`~drsim.plan.builder.PlanBuilder.page_levels`); the incident is
acknowledged at the first acknowledgement of any level. A **deputy** decides
when the decider has not acknowledged in time, and **decision triggers**
(a fault kind detected; a service or tier not back within a time, linked once
the restorations exist by :func:`link_triggers`) declare without waiting: the
declaration is then a milestone, the first of the decisions and triggers.

Its milestones start the decision-latency breakdown: fault, detected,
acknowledged, declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model.distributions import Fixed
from ..model.units import write_duration
from .builder import PlanBuilder
from .compiled import ServiceOutage
from .needs import PendingNeed
from .tasks import ANY


@dataclass(frozen=True)
class ResponseTasks:
    """The tasks of the incident response that later phases wait for.

    Attributes
    ----------
    fault_tasks
        Each fault striking, in drill order.
    detect_tasks
        Each fault detected, in drill order.
    detected
        The incident detected (the first detection).
    first_ack
        The first role of the first response acknowledging its page.
    escalated
        The incident escalated; roles called in later are paged after it.
    declare
        The decision to recover: the trigger of every recovery that waits for a person.
    """

    fault_tasks: list[int]
    detect_tasks: list[int]
    detected: int
    first_ack: int
    escalated: int
    declare: int
    #: Each fault's detection waiting for the services detection runs on, linked with the milestones.
    needs: list[PendingNeed] = field(default_factory=list)


def compile_response(builder: PlanBuilder) -> ResponseTasks:
    """Add the faults, detection, paging, triage, escalation, the decision and communication."""
    drill = builder.drill
    resp = drill.response
    fault_tasks, detect_tasks = [], []
    needs: list[PendingNeed] = []
    for fi, f in enumerate(drill.faults):
        what = ", ".join(f.targets)
        ft = builder.add(f"fault:{fi}", "fault", f"{f.kind} strikes {what}", Fixed(f.at))
        fault_tasks.append(ft)
        detect = f.detect if f.detect is not None else drill.detection.delay
        detect_tasks.append(builder.add(f"detect:{fi}", "detect", f"alert: {f.kind} on {what} detected", detect, [ft]))
        own = f.detect_needs is not None
        detect_needs = f.detect_needs if own else drill.detection.needs
        if detect_needs:
            where = ("faults", fi, "detect_needs") if own else ("detection", "needs")
            needs.append(PendingNeed(detect_tasks[-1], tuple(detect_needs), where, f.at))
    detected = builder.add("detected", "milestone", "incident detected", Fixed(0.0), detect_tasks, join=ANY)
    _call_in_at(builder, "detected", detected)

    if resp.escalation is None:
        # the first role paged is the first response (a drill pages at least one role)
        acks = [builder.page(r, detected, "first response") for r in resp.page]
        first_ack = acks[0]
    else:
        esc = resp.escalation
        first_ack = builder.page_levels([list(resp.page), *esc.levels], detected, esc.timeout, esc.repeat)
    for r in resp.page:
        builder.add_break_glass(r)

    triage = _triage(builder, detected, first_ack)
    escalated = builder.add("escalate", "escalate", "major incident: escalate", Fixed(0.0), [triage])
    _call_in_at(builder, "escalated", escalated)
    for r in resp.escalate:
        builder.page(r, escalated, "escalation")
        builder.add_break_glass(r)

    dec = resp.declare
    is_rollback = any(f.kind == "cutover-failure" for f in drill.faults)
    declare = builder.add(
        "declare",
        "declare",
        dec.name or ("decision: roll back the cutover" if is_rollback else "decision: declare disaster, fail over"),
        dec.duration,
        [triage, *builder.called_in(dec.role, escalated)],
        role=dec.role,
    )
    decisions = _deputy(builder, triage, declare)
    decisions += _detection_triggers(builder, detect_tasks)
    if len(decisions) > 1 or resp.declare_when:
        # the declaration is the first decision or trigger (triggers on services are linked later)
        declare = builder.add("declared", "milestone", "disaster declared", Fixed(0.0), decisions, join=ANY)
    _call_in_at(builder, "declared", declare)
    if resp.communicate is not None:
        c = resp.communicate
        builder.add(
            "communicate",
            "communicate",
            c.name or builder.topo.words().communicate_label,
            c.duration,
            [triage, *builder.called_in(c.role, escalated)],
            role=c.role,
        )
    return ResponseTasks(fault_tasks, detect_tasks, detected, first_ack, escalated, declare, needs)


def _triage(builder: PlanBuilder, detected: int, first_ack: int) -> int:
    """Triage by its role once detected and acknowledged; without a triage step, the first acknowledgement.

    A drill without ``response.triage`` escalates as soon as the first response acknowledges: the
    person who answers the page confirms the incident at once.
    """
    tri = builder.drill.response.triage
    if tri is None:
        return builder.add(
            "triage", "milestone", "first response acknowledged: no triage step", Fixed(0.0), [first_ack]
        )
    return builder.add(
        "triage",
        "triage",
        tri.name or "triage: confirm scope and impact",
        tri.duration,
        [detected, *builder.ready_for(tri.role, detected)],
        role=tri.role,
    )


def _call_in_at(builder: PlanBuilder, when: str, after: int) -> None:
    """Call in the roles the drill asks for at ``when``, once task ``after`` finishes."""
    for req in builder.drill.response.call_in:
        if req.when == when:
            builder.call_in(req.role, after, req.count)


def _deputy(builder: PlanBuilder, triage: int, declare: int) -> list[int]:
    """The decisions: the decider's ``declare``, or the deputy's when the decider has not acknowledged within
    the deputy's ``after``.

    A role-free timer runs from the moment the decider was paged and is cancelled by the
    decider's acknowledgement; only if it runs out is the deputy paged (if not paged already)
    and decides, as staffed work of the deputy's role. The decision is then the deputy's alone:
    the decider, answering late, takes no time over it (``skip_if``: freed at once), and it
    counts only through a role-free mark of the decider's decision cancelled by the timer, so
    no decision is made twice.
    """
    dec = builder.drill.response.declare
    dep = dec.deputy
    if dep is None or dec.role not in builder.ack:
        return [declare]
    after = write_duration(dep.after)
    gate = builder.add(
        "deputy:timeout",
        "deputy",
        f"{dec.role} did not answer within {after}: deputy {dep.role} paged",
        Fixed(dep.after),
        [builder.paged_after[dec.role]],
    )
    builder.tasks[gate].cancel_if = builder.ack[dec.role]
    builder.tasks[declare].skip_if = gate
    own = builder.add("declare:own", "milestone", "", Fixed(0.0), [declare])
    builder.tasks[own].cancel_if = gate
    return [
        own,
        builder.add(
            "declare:deputy",
            "declare",
            f"deputy {dep.role} decides ({dec.role} did not answer within {after})",
            dep.duration if dep.duration is not None else dec.duration,
            [triage, gate, *builder.called_in(dep.role, gate)],
            role=dep.role,
        ),
    ]


def _detection_triggers(builder: PlanBuilder, detect_tasks: list[int]) -> list[int]:
    """Triggers that declare as soon as a fault of a named kind is detected."""
    out = []
    for i, tr in enumerate(builder.drill.response.declare_when):
        if tr.fault_detected is None:
            continue
        hits = [d for f, d in zip(builder.drill.faults, detect_tasks, strict=True) if f.kind == tr.fault_detected]
        if hits:
            out.append(
                builder.add(
                    f"trigger:{i}",
                    "trigger",
                    f"declared by trigger: {tr.fault_detected} detected",
                    Fixed(0.0),
                    hits,
                    join=ANY,
                )
            )
    return out


def link_triggers(builder: PlanBuilder, declared: int, outages: Mapping[str, ServiceOutage]) -> None:
    """Add the triggers "service (or every service of a tier) not back within T" to the declaration.

    Each is a role-free timer of T from the moment the service went down, cancelled if the
    service is restored by then (:attr:`~drsim.plan.tasks.Task.cancel_if`). The restoration may
    itself wait for the declaration (a failover): that cannot deadlock, since a cancel check only
    reads whether the restoration has happened when the timer runs out — it never waits for it —
    and a restoration that needs the declaration can only be there already if the decision was
    taken already. A service the drill leaves up has no timer.
    """
    triggers = []
    for i, tr in enumerate(builder.drill.response.declare_when):
        if tr.not_back_within is None:
            continue
        for name, o in outages.items():
            if name != tr.service and (tr.tier is None or o.tier != tr.tier):
                continue
            timer = builder.add(
                f"trigger:{i}:{name}",
                "trigger",
                f"declared by trigger: {name} not back within {write_duration(tr.not_back_within)}",
                Fixed(tr.not_back_within),
                [o.down_task],
            )
            builder.tasks[timer].cancel_if = o.restored_task
            triggers.append(timer)
    if triggers:
        builder.tasks[declared].preds = sorted({*builder.tasks[declared].preds, *triggers})
        builder.tasks[declared].join = ANY
