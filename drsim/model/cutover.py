"""A migration cutover planned as a safety case: waves, a freeze, gates, a reversible window.

A cutover moves services from the system in use to a new one (an on-prem EHR
core to a cloud region) inside a **freeze**: a window, agreed in advance, in
which changes stop and users work on downtime procedures. The work is split
into **waves**, each moving some services through a sequence of runbook
**steps**, each done by a role in a time that is a distribution.

Most steps can be undone: each may name the time its ``undo`` takes. Some
cannot — the first write accepted by the new database, a DNS change with a
long client cache, the legacy system decommissioned. The start of the first
such **irreversible** step is the **point of no return**: until then the change
board can still roll back, by undoing the steps begun so far, in reverse order.

Before the freeze and between waves, **go/no-go gates** compare measured
quantities with thresholds (backup validated, interface reconciliation,
login success rate, order transmission latency, open P1 defects); **rollback
triggers** are the conditions that, once the cutover runs, launch a rollback.

Records keep arriving during the freeze: admissions, orders, results,
medication administrations, notes, charges. Each **entity** has a volume per
hour (shaped by an hour-of-day profile, the topology's ``profiles`` mechanism)
and a **reconciliation rule** decided before go-live: ``preserve`` (carried
across as they are), ``replay`` (re-applied to the new system at a rate) or
``discard`` (dropped and entered again by hand from the downtime record);
manual re-entry costs an effort per record of a named role, so reconciliation
is staffed work.

This module only describes a plan; :func:`check_cutover` checks it against a
topology (services and roles exist, names are unique) and
:mod:`drsim.analysis.cutover` simulates it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .checks import did_you_mean
from .distributions import parse_distribution
from .topology import RateProfile, Retry, Topology, WorkStep
from .types import DurationDist, Model, Name, PositiveSeconds, Rate, clock_time

#: A check's finding: the field path it concerns, and what is wrong.
Finding = tuple[tuple, str]


class CutoverFailure(Model):
    """A step that can fail: each attempt fails independently, is retried, then escalated or left stuck."""

    probability: float = Field(ge=0, le=1, description="Probability that one attempt fails, in [0, 1].")
    retry: Retry | None = Field(None, description="Retries after a failed attempt (none: the first failure is final).")
    otherwise: list[WorkStep] | None = Field(
        None,
        description="The escalation when every attempt has failed: steps (another role, the vendor) that finish "
        "the step instead. None: the wave is stuck and the cutover cannot complete (a rollback is the way out).",
    )


class CutoverStep(Model):
    """One runbook step of a wave: what it takes, who does it, and whether it can be undone."""

    name: Name
    description: str = ""
    duration: DurationDist = Field(description="How long the step takes: '20m', 'lognormal(p50=30m, p95=2h)'.")
    role: Name | None = Field(None, description="The staff role that does it (a role of the topology).")
    irreversible: bool = Field(
        False,
        description="Once this step starts the cutover cannot be rolled back: the start of the first "
        "irreversible step is the point of no return.",
    )
    undo: DurationDist | None = Field(
        None,
        description="Time to undo the step in a rollback (omitted: nothing to undo). An irreversible step has none.",
    )
    failure: CutoverFailure | None = Field(
        None, description="The chance that an attempt fails, its retries and the escalation after the last one."
    )
    diverts: list[Name] = Field(
        default_factory=list,
        description="Entities whose new records land on the new system from the end of this step: a rollback "
        "must carry them back (divergent writes) until the step is undone.",
    )

    @model_validator(mode="after")
    def _no_undo_of_the_irreversible(self) -> CutoverStep:
        if self.irreversible and self.undo is not None:
            raise ValueError("an irreversible step cannot be undone: remove 'undo' or 'irreversible'")
        return self


class Wave(Model):
    """A group of services moved together by a sequence of steps, done one after another."""

    name: Name
    description: str = ""
    services: list[Name] = Field(min_length=1, description="The topology's services this wave moves.")
    after: list[Name] | None = Field(
        None,
        description="Waves that must finish before this one starts (omitted: the wave listed before it; "
        "[]: starts with the freeze).",
    )
    steps: list[CutoverStep] = Field(min_length=1, description="The runbook, in order.")


class Freeze(Model):
    """The change freeze: when it starts and how long it lasts."""

    start: dt.datetime = Field(
        description="Clock time the freeze starts (time 0 of the plan); decides the hour-of-day volumes."
    )
    length: PositiveSeconds = Field(description="How long the freeze lasts: the cutover or a rollback must end inside.")

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, v):
        return clock_time(v, "2026-03-15T00:00")


class Threshold(Model):
    """A bound on a measured quantity: at least, or at most, a value (exactly one of the two)."""

    measure: str = Field(min_length=1, description="What is measured: 'login success rate (%)'.")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("expected exactly one of 'at_least' or 'at_most'")
        bound = self.at_least if self.at_least is not None else self.at_most
        assert bound is not None
        if not math.isfinite(bound):
            raise ValueError(f"expected a finite threshold, found {bound}")
        return self

    def describe(self) -> str:
        """The threshold in words: ``login success rate (%) >= 98``."""
        op, v = (">=", self.at_least) if self.at_least is not None else ("<=", self.at_most)
        return f"{self.measure} {op} {v:g}"


#: Quantities a gate can be judged on from the simulation itself (``simulated: true``), and what each means.
SIMULATED_MEASURES = {
    "p_completes_inside_freeze": "probability that the cutover completes inside the freeze",
    "safe_rollback_hours": "latest rollback decision (hours from the freeze start) that still ends inside "
    "the freeze with probability >= the plan's rollback.confidence (0 if none does)",
    "reentry_person_hours": "mean person-hours of manual re-entry, all entities and roles together",
}


class Gate(Threshold):
    """A go/no-go entry criterion: the cutover (or a wave) goes only if the threshold holds.

    Most gates are judged on evidence measured in a rehearsal (an evidence file
    gives the value of each ``measure``); a ``simulated`` gate is judged on a
    quantity of the simulation itself, one of :data:`SIMULATED_MEASURES`.
    """

    name: Name
    before: Name | None = Field(None, description="The wave it gates (omitted: the whole cutover, before the freeze).")
    decided_by: Name | None = Field(None, description="The role that judges it (a role of the topology).")
    takes: DurationDist | None = Field(
        None,
        description="For a gate before a wave: how long judging it takes once the waves before are done, "
        "work of decided_by that the wave waits for (omitted: no time).",
    )
    simulated: bool = Field(
        False,
        description="Judged on the simulation, not on evidence: measure is then one of "
        + ", ".join(SIMULATED_MEASURES)
        + ".",
    )

    @model_validator(mode="after")
    def _known_simulated_measure(self) -> Gate:
        if self.simulated and self.measure not in SIMULATED_MEASURES:
            known = ", ".join(SIMULATED_MEASURES)
            raise ValueError(
                f"a simulated gate's measure must be one of {known}, found {self.measure!r}"
                f"{did_you_mean(self.measure, SIMULATED_MEASURES)}"
            )
        if self.takes is not None and self.before is None:
            raise ValueError(
                "'takes' is for a gate before a wave (give 'before'): the freeze's own gates are judged ahead of it"
            )
        return self


class RollbackTrigger(Threshold):
    """A condition that, once the cutover runs, launches a rollback when its threshold is crossed."""

    name: Name
    decided_by: Name | None = Field(None, description="The role that declares the rollback.")


class Rollback(Model):
    """How a rollback is launched: the time from a trigger firing to the decision to roll back."""

    decision: DurationDist = Field(
        default_factory=lambda: parse_distribution("0s"),
        description="From a trigger firing to the rollback decided (meeting, sign-off).",
    )
    confidence: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="q: a rollback decided at t is safe when it ends inside the freeze with probability >= q; "
        "the latest such t is the point of no return the board works to.",
    )


class Reentry(Model):
    """Manual re-entry of records, as staffed work."""

    effort: PositiveSeconds = Field(description="Work per record re-entered: '2m'.")
    role: Name = Field(description="The role that re-enters records (a role of the topology).")
    share: float = Field(1.0, gt=0, le=1, description="Share of the entity's records that need re-entry.")


class Entity(Model):
    """A kind of record written during the freeze, and how it is reconciled after it."""

    description: str = ""
    volume: Rate = Field(description="Records per unit time at profile multiplier 1: '120/h'.")
    profile: Name | RateProfile | None = Field(
        None,
        description="Hour-of-day and weekday multipliers: a profile of the topology's 'profiles' by name, "
        "or one written here. Omitted = the same volume at every hour.",
    )
    rule: Literal["preserve", "discard", "replay"] = Field(
        description="preserve: carried across as they are; replay: re-applied to the new system at "
        "replay_rate; discard: dropped (entered again by hand with reentry)."
    )
    replay_rate: Rate | None = Field(None, description="Records re-applied per unit time (rule replay).")
    reentry: Reentry | None = Field(None, description="Records entered again by hand, and by whom.")

    @model_validator(mode="after")
    def _rule_fields(self) -> Entity:
        if self.rule == "replay" and self.replay_rate is None:
            raise ValueError("rule 'replay' needs a replay_rate")
        if self.rule != "replay" and self.replay_rate is not None:
            raise ValueError(f"replay_rate is only for rule 'replay', not {self.rule!r}")
        if self.replay_rate is not None and not self.replay_rate > 0:
            raise ValueError("expected a positive replay_rate")
        return self


class CutoverPlan(Model):
    """A whole cutover: its freeze, waves, gates, rollback triggers and reconciliation rules."""

    name: Name
    description: str = ""
    freeze: Freeze
    waves: list[Wave] = Field(min_length=1)
    gates: list[Gate] = Field(default_factory=list)
    rollback: Rollback = Field(default_factory=Rollback)
    triggers: list[RollbackTrigger] = Field(default_factory=list)
    entities: dict[Name, Entity] = Field(default_factory=dict)

    def predecessors(self, i: int) -> list[int]:
        """Indices of the waves wave ``i`` waits for."""
        w = self.waves[i]
        if w.after is None:
            return [i - 1] if i > 0 else []
        index = {v.name: j for j, v in enumerate(self.waves)}
        return [index[a] for a in w.after if a in index]

    def profile_of(self, entity: Name, topology: Topology) -> RateProfile | None:
        """The profile of ``entity``: its own, the topology's it names, or None."""
        p = self.entities[entity].profile
        return topology.profiles[p] if isinstance(p, str) else p


class MeasureNote(Model):
    """What a measured value is in, when it was measured and where the figure comes from (all optional)."""

    unit: str = ""
    when: str = ""
    source: str = ""

    def describe(self) -> str:
        """The note in words: ``2026-02-28T23:40, smoke-test log`` (empty when there is none)."""
        return ", ".join(x for x in (self.when, self.source) if x)


class Evidence(Model):
    """What a rehearsal measured: a value for each gate's ``measure``, judged against its threshold."""

    description: str = ""
    measured: dict[str, float] = Field(
        description="Each measured quantity, by the gate's measure (exactly as the plan spells it): its value."
    )
    notes: dict[str, MeasureNote] = Field(
        default_factory=dict, description="For a measure: its unit, when it was measured and its source."
    )


def check_evidence(evidence: Evidence, plan: CutoverPlan) -> list[Finding]:
    """Evidence for quantities no gate of ``plan`` measures (a misspelt measure), and values that are not finite."""
    measures = {g.measure for g in plan.gates if not g.simulated}
    out: list[Finding] = []
    for m, v in evidence.measured.items():
        if m not in measures:
            known = "; ".join(sorted(measures)) or "none: every gate is simulated"
            out.append(
                (
                    ("measured", m),
                    f"no gate of plan {plan.name!r} measures {m!r}{did_you_mean(m, measures)} "
                    f"(measured by its gates: {known})",
                )
            )
        elif not math.isfinite(v):
            out.append((("measured", m), f"expected a finite value, found {v}"))
    return out


def _unknown(path: tuple, name: str, choices, what: str) -> Iterator[Finding]:
    if name not in choices:
        known = ", ".join(sorted(choices)) or "none defined"
        yield path, f"unknown {what} {name!r}{did_you_mean(name, choices)} (known: {known})"


def _duplicates(names: list[str], path: tuple, what: str) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            yield (*path, i, "name"), f"{what} {n!r} is named twice; each needs its own name"
        seen.add(n)


def check_cutover(plan: CutoverPlan, topology: Topology) -> list[Finding]:
    """What is wrong with ``plan`` on ``topology``: references to services, roles, waves and profiles
    that do not exist, repeated names, and waves that wait for themselves or for later waves."""
    out: list[Finding] = []
    roles, services = topology.staff, topology.services
    waves = [w.name for w in plan.waves]
    out += _duplicates(waves, ("waves",), "wave")
    moved: dict[str, str] = {}
    for i, w in enumerate(plan.waves):
        for j, s in enumerate(w.services):
            out += _unknown(("waves", i, "services", j), s, services, "service")
            if s in moved:
                out.append((("waves", i, "services", j), f"service {s!r} is already moved by wave {moved[s]!r}"))
            moved.setdefault(s, w.name)
        for j, a in enumerate(w.after or []):
            out += _unknown(("waves", i, "after", j), a, waves, "wave")
            if a in waves and waves.index(a) >= i:
                out.append(
                    (("waves", i, "after", j), f"wave {a!r} is not listed before {w.name!r}; list waves in order")
                )
        out += _duplicates([s.name for s in w.steps], ("waves", i, "steps"), "step")
        for j, step in enumerate(w.steps):
            if step.role is not None:
                out += _unknown(("waves", i, "steps", j, "role"), step.role, roles, "role")
            for k, entity in enumerate(step.diverts):
                out += _unknown(("waves", i, "steps", j, "diverts", k), entity, plan.entities, "entity")
            if step.failure is not None:
                for k, alt in enumerate(step.failure.otherwise or []):
                    if alt.role is not None:
                        out += _unknown(
                            ("waves", i, "steps", j, "failure", "otherwise", k, "role"), alt.role, roles, "role"
                        )
    out += _duplicates([g.name for g in plan.gates], ("gates",), "gate")
    for i, g in enumerate(plan.gates):
        if g.before is not None:
            out += _unknown(("gates", i, "before"), g.before, waves, "wave")
        if g.decided_by is not None:
            out += _unknown(("gates", i, "decided_by"), g.decided_by, roles, "role")
    out += _duplicates([t.name for t in plan.triggers], ("triggers",), "trigger")
    for i, t in enumerate(plan.triggers):
        if t.decided_by is not None:
            out += _unknown(("triggers", i, "decided_by"), t.decided_by, roles, "role")
    for name, e in plan.entities.items():
        if isinstance(e.profile, str):
            out += _unknown(("entities", name, "profile"), e.profile, topology.profiles, "profile")
        if e.reentry is not None:
            out += _unknown(("entities", name, "reentry", "role"), e.reentry.role, roles, "role")
        if not e.volume > 0:
            out.append((("entities", name, "volume"), f"expected a positive volume, found {e.volume:g}/s"))
    return out
