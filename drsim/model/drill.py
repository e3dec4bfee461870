"""A drill: one failure scenario replayed against an estate.

A drill says what fails (faults), when on the clock it happens (which shift is on),
how the failure is noticed (detection), who decides what (response and decision
policy), what a rollback involves, what facilitators read out (injects), and
which probabilistic targets gate a release (gates).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from .topology import Step
from .types import DurationDist, Model, Name, Rate, Seconds, clock_time

FAULT_KINDS = ("region-loss", "service-outage", "data-corruption", "data-drift", "cutover-failure")
FaultKind = Literal["region-loss", "service-outage", "data-corruption", "data-drift", "cutover-failure"]


class Fault(Model):
    """Something that breaks: a site, a service, its data, or a migration cutover."""

    kind: FaultKind
    targets: list[Name] = Field(
        min_length=1, description="Regions (region-loss) or services (all other kinds) affected."
    )
    at: Seconds = Field(0.0, description="When the fault strikes, after the drill starts.")
    duration: DurationDist | None = Field(
        None, description="How long until the fault clears by itself; omitted = it does not."
    )
    dwell: DurationDist | None = Field(
        None,
        description="data-corruption/data-drift: how long the damage went unseen before 'at'.",
    )
    on_detect: Literal["stay-up", "take-down"] = Field(
        "stay-up",
        description="data-drift: what the drill's policy does with a drifting service once the drift is "
        "detected. stay-up: it keeps serving (stale) until re-synced, and the drift is reported as exposure "
        "(window, divergent writes, time to reconcile), not as an outage; take-down: it is taken offline "
        "from detection until re-synced, an outage with an RTO and an RPO.",
    )
    write_rate: Rate | None = Field(
        None, description="data-drift: writes that diverge per unit time while the drift goes on, e.g. '12/min'."
    )
    detect: DurationDist | None = Field(
        None, description="Time to detect this fault; overrides the drill's detection delay."
    )
    steps: list[Step] | None = Field(
        None, description="A runbook for this fault that replaces the services' own (e.g. resync)."
    )
    detect_needs: list[Name] | None = Field(
        default=None,
        description="Services detecting this fault runs on; overrides the drill's detection.needs.",
    )


class Detection(Model):
    """How a failure is noticed: monitoring alert delay after the fault."""

    delay: DurationDist
    needs: list[Name] = Field(
        default_factory=list,
        description="Services detection runs on (monitoring, alerting): when a fault takes one down, "
        "that fault is detected only its detection delay after the service is restored.",
    )


class HumanStep(Model):
    """A step people take: who takes it and how long it takes them."""

    role: Name
    duration: DurationDist
    name: str | None = None


class CallInRequest(Model):
    """People of a role called in (off-shift staff) or engaged (an external role) at a point of the response."""

    role: str
    count: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="People called in; default 1 (call_in) or the contract's headcount (external).",
    )
    when: Literal["detected", "escalated", "declared"] = Field(
        "escalated", description="The response milestone the call goes out at."
    )


class Escalation(Model):
    """An escalation policy as on-call paging tools define it: levels paged in turn until someone acknowledges."""

    timeout: Seconds = Field(
        description="How long a level has to acknowledge before the next level is paged "
        "(REFERENCE-DATA §1: PagerDuty example 30 min per level; Terraform example 600 s)."
    )
    levels: list[list[Name]] = Field(
        min_length=1,
        description="The roles of each level after the first response ('page', level 1), in order.",
    )
    repeat: int = Field(
        0, ge=0, description="Times the whole policy, level 1 included, is paged again when nobody acknowledged."
    )


class Deputy(Model):
    """Who decides when the decider has not acknowledged in time."""

    role: Name = Field(description="The deputy's role: paged, and deciding, only when the decider is late.")
    after: Seconds = Field(description="How long after the decider is paged the deputy is paged, if still unanswered.")
    duration: DurationDist | None = Field(
        None, description="The deputy's time to decide; omitted = the decider's duration."
    )


class DeclareStep(HumanStep):
    """The decision to recover: who declares, how long it takes, and who stands in."""

    deputy: Deputy | None = Field(None, description="A deputy who decides if the decider does not answer.")


class Trigger(Model):
    """A rule that declares without waiting for the decision: a service not back in time, or a kind of fault seen."""

    service: Name | None = Field(None, description="A service that must be back within 'not_back_within'.")
    tier: Name | None = Field(None, description="Every affected service of this tier must be back within it.")
    not_back_within: Seconds | None = Field(
        None, description="With 'service' or 'tier': declare if it is not back this long after it went down."
    )
    fault_detected: FaultKind | None = Field(None, description="Declare as soon as a fault of this kind is detected.")


class Response(Model):
    """The incident response and decision policy: who is paged, who triages, who may declare."""

    page: list[Name] = Field(min_length=1, description="Roles paged as soon as the fault is detected.")
    triage: HumanStep | None = Field(
        None,
        description="Confirming scope and impact before escalating; omitted = the incident is escalated "
        "as soon as the first response acknowledges.",
    )
    escalate: list[Name] = Field(
        default_factory=list,
        description="Roles paged once triage confirms a major incident. Any role a runbook "
        "needs and nobody paged is paged at escalation too.",
    )
    declare: DeclareStep = Field(
        description="The decision to fail over (or roll back): the role allowed to declare it and "
        "the time taken to gather evidence and decide."
    )
    escalation: Escalation | None = Field(
        None, description="Levels paged in turn when the first response does not acknowledge in time."
    )
    declare_when: list[Trigger] = Field(
        default_factory=list,
        description="Rules that declare at once when they fire: the declaration is the first of "
        "the decision and every trigger.",
    )
    communicate: HumanStep | None = Field(
        None,
        description="Telling the people who use the services to switch to fallback procedures "
        "(in a hospital: the wards, to downtime procedures).",
    )
    call_in: list[CallInRequest] = Field(
        default_factory=list,
        description="Roles whose off-shift people are called in, or external responders engaged, and when. "
        "A role the drill needs with nobody on duty is called in when first paged, if it can be.",
    )


class Rollback(Model):
    """Undoing a failed cutover: back to the previous system, divergent writes reconciled."""

    cutover_before: Seconds = Field(
        description="How long before the fault the cutover went live (writes diverging since)."
    )
    write_rate: Rate = Field(description="Writes reaching the new system, e.g. '30/min'.")
    policy: Literal["replay", "preserve", "discard"] = Field(
        description="replay: divergent writes re-applied to the old system; preserve: exported "
        "for manual re-entry; discard: lost."
    )
    reconcile_rate: Rate | None = Field(
        None, description="Writes re-applied (replay) or exported (preserve) per unit time."
    )
    freeze: HumanStep = Field(description="Stopping writes to the new system.")
    steps: list[Step] = Field(min_length=1, description="Runbook back to the old system.")


class Inject(Model):
    """A timed message a tabletop facilitator reads out."""

    at: Seconds
    audience: str
    text: str
    expected_actions: list[str] = Field(default_factory=list)
    prompt: str | None = Field(None, description="A question to put to the table.")


#: How a missed gate counts: ``fail`` decides the exit status, ``warn`` is reported and does not.
Severity = Literal["fail", "warn"]


class GateEntry(Model):
    """A gate written as a mapping, to give it a severity other than ``fail``.

    ``- {gate: "declared time p90 <= 1h", severity: warn}`` is reported when
    missed (WARN) without failing the run; a gate written as plain text is a
    ``fail`` gate.
    """

    gate: str = Field(description="The gate, e.g. 'tier0 rto p95 <= 15m' or 'P(tier0 rto <= 15m) >= 0.99'.")
    severity: Severity = Field("fail", description="fail: a miss fails the run (exit 1); warn: a miss is reported.")


class Drill(Model):
    """A failure scenario with its clock time, detection, response policy and targets."""

    name: Name
    description: str = ""
    start: dt.datetime = Field(description="Clock time the drill starts; decides which shift is on.")
    faults: list[Fault] = Field(min_length=1)
    detection: Detection
    response: Response
    rollback: Rollback | None = None
    injects: list[Inject] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    gates: list[str | GateEntry] = Field(
        default_factory=list,
        description="Probabilistic targets judged on a sweep: text (a fail gate) or {gate, severity}.",
    )
    objectives: list[str] = Field(default_factory=list)

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, v):
        return clock_time(v, "2026-03-14T02:10")
