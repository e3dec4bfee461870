"""The incident response: from the faults striking to the decision to recover.

Before anybody recovers anything, the incident has to be noticed and owned.
This phase compiles that chain, the same for every drill:

1. **faults** strike at their set times; each is **detected** after its own
   detection delay (or the drill's), and the incident is detected at the first;
2. the roles of the first response are **paged**: everyone on shift, the first
   acknowledgement counts; roles whose consoles are down **break glass**;
3. **triage** confirms scope and impact, and the incident is **escalated**:
   more roles are paged;
   off-shift people and external responders are **called in** at the response
   milestone the drill names (``detected``, ``escalated``, ``declared``), and a
   role with nobody on duty is called in when first paged, if it can be;
4. someone **declares** disaster (or decides to roll back a failed cutover) —
   the trigger of every recovery that needs a human decision — and, if the
   drill says so, **communicates** (downtime procedures for the wards).

Its milestones start the decision-latency breakdown: fault, detected,
acknowledged, declared.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.distributions import Fixed
from .builder import PlanBuilder
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


def compile_response(builder: PlanBuilder) -> ResponseTasks:
    """Add the faults, detection, paging, triage, escalation, the decision and communication."""
    drill = builder.drill
    resp = drill.response
    fault_tasks, detect_tasks = [], []
    for fi, f in enumerate(drill.faults):
        what = ", ".join(f.targets)
        ft = builder.add(f"fault:{fi}", "fault", f"{f.kind} strikes {what}", Fixed(f.at))
        fault_tasks.append(ft)
        detect = f.detect if f.detect is not None else drill.detection.delay
        detect_tasks.append(builder.add(f"detect:{fi}", "detect", f"alert: {f.kind} on {what} detected", detect, [ft]))
    detected = builder.add("detected", "milestone", "incident detected", Fixed(0.0), detect_tasks, join=ANY)
    _call_in_at(builder, "detected", detected)

    # the first role paged is the first response (a drill pages at least one role)
    acks = [builder.page(r, detected, "first response") for r in resp.page]
    first_ack = acks[0]
    for r in resp.page:
        builder.add_break_glass(r)

    tri = resp.triage
    triage = builder.add(
        "triage",
        "triage",
        tri.name or "triage: confirm scope and impact",
        tri.duration,
        [detected, *builder.ready_for(tri.role, detected)],
        role=tri.role,
    )
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
    _call_in_at(builder, "declared", declare)
    if resp.communicate is not None:
        c = resp.communicate
        builder.add(
            "communicate",
            "communicate",
            c.name or "tell wards: switch to downtime procedures",
            c.duration,
            [triage, *builder.called_in(c.role, escalated)],
            role=c.role,
        )
    return ResponseTasks(fault_tasks, detect_tasks, detected, first_ack, escalated, declare)


def _call_in_at(builder: PlanBuilder, when: str, after: int) -> None:
    """Call in the roles the drill asks for at ``when``, once task ``after`` finishes."""
    for req in builder.drill.response.call_in:
        if req.when == when:
            builder.call_in(req.role, after, req.count)
