"""An exercise calendar's rules: which drills the organisation can run, how often each part of the estate
must be exercised, and when exercises cannot happen.

A resilience programme does not run one drill: it runs a recurring calendar of
them. The rules file names the **exercises** on offer (drills, each with the
roles it needs in the room), the **coverage rules** (each service of a tier
exercised every N months; each kind of fault every M months), and the dates
that are off limits: **blackouts** (a go-live, the winter pressures, a
holiday freeze) and the **unavailability** of staff roles (the only DBA's
leave). :mod:`drsim.analysis.calendar` turns the rules, the estate and the
exercises already recorded in history into a dated plan.

This module only describes the rules; :func:`check_calendar` checks them
against a topology (tiers and roles exist, exercise names are unique).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, get_args

from pydantic import BeforeValidator, Field, model_validator

from .checks import did_you_mean
from .drill import FaultKind
from .topology import Topology, Weekday
from .types import Model, Name

#: A check's finding: the field path it concerns, and what is wrong.
Finding = tuple[tuple, str]

#: Every kind of fault a drill can inject (the default of ``rules.fault_kinds.kinds``).
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
#: The weekdays exercises are held on unless the rules say otherwise (never a Monday or a Friday).
DEFAULT_WEEKDAYS: tuple[Weekday, ...] = ("tue", "wed", "thu")


def calendar_date(v: object) -> dt.date:
    """A day: a YAML date (``2027-03-01``) or ISO text; a time of day is refused (a plan is by day)."""
    if isinstance(v, dt.datetime):
        raise ValueError(f"expected a day like '2027-03-01', found a time {v.isoformat()!r}")
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise ValueError(f"expected a day like '2027-03-01', found {v!r}")


#: A number of months between two exercises of the same thing.
Months = Annotated[int, Field(ge=1, le=60)]

#: A calendar day, written ``2027-03-01``.
Day = Annotated[dt.date, BeforeValidator(calendar_date)]


class Exercise(Model):
    """A drill the organisation can run as an exercise, and who must be there to run it."""

    drill: str = Field(
        min_length=1, description="A bundled drill name or a drill file (relative to this rules file's folder)."
    )
    roles: list[Name] | None = Field(
        None,
        description="Staff roles that must be available on the day (default: the roles the drill pages).",
    )
    owner: str = Field(
        "", description="Who owns the remediation of what this exercise finds (a person or a team, for the report)."
    )


class Period(Model):
    """Days from ``start`` to ``end`` inclusive (one day when ``end`` is omitted), with the reason."""

    start: Day
    end: Day | None = None
    reason: str = ""

    @model_validator(mode="after")
    def _in_order(self) -> Period:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"expected 'end' on or after 'start' ({self.start.isoformat()}), found {self.end}")
        return self

    @property
    def last(self) -> dt.date:
        """The last day of the period."""
        return self.end or self.start

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.last


class Unavailable(Period):
    """A staff role that cannot take part in exercises for a while (leave, a go-live, on-call elsewhere)."""

    role: Name


class FaultKindRule(Model):
    """Each listed kind of fault exercised at least every ``every`` months."""

    every: Months = Field(12, description="Months between two exercises of each kind (12: yearly).")
    kinds: list[FaultKind] = Field(
        default_factory=lambda: list(FAULT_KINDS), description="The kinds of fault to exercise (default: all)."
    )


class Rules(Model):
    """How often each part of the estate must be exercised."""

    tiers: dict[Name, Months] = Field(
        default_factory=dict,
        description="Tier -> months: every service of the tier exercised at least that often (e.g. tier0: 6).",
    )
    fault_kinds: FaultKindRule | None = Field(
        default_factory=lambda: FaultKindRule(every=12),
        description="Each kind of fault exercised regularly (null: no such rule).",
    )


class CalendarRules(Model):
    """A year (or any number of months) of exercises to plan: the catalogue, the rules and the days off limits."""

    name: Name
    description: str = ""
    start: Day | None = Field(None, description="First day of the plan (default: drsim calendar --start, else today).")
    months: int = Field(12, ge=1, le=36, description="How many months the plan covers.")
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(DEFAULT_WEEKDAYS),
        min_length=1,
        description="Days of the week exercises may be held on.",
    )
    spacing: int = Field(14, ge=1, le=180, description="Fewest days between two exercises.")
    exercises: list[Exercise] = Field(min_length=1, description="The drills on offer.")
    rules: Rules = Field(default_factory=Rules)
    blackouts: list[Period] = Field(default_factory=list, description="Days no exercise may be held, with why.")
    unavailable: list[Unavailable] = Field(
        default_factory=list, description="Staff roles unavailable for a while: exercises needing them wait."
    )


def _unknown(path: tuple, name: str, choices, what: str) -> Iterator[Finding]:
    if name not in choices:
        known = ", ".join(sorted(choices)) or "none defined"
        yield path, f"unknown {what} {name!r}{did_you_mean(name, choices)} (known: {known})"


def check_calendar(rules: CalendarRules, topology: Topology) -> list[Finding]:
    """What is wrong with ``rules`` on ``topology``: tiers and roles that do not exist, an exercise listed
    twice, a weekday listed twice."""
    out: list[Finding] = []
    for tier in rules.rules.tiers:
        out += _unknown(("rules", "tiers", tier), tier, topology.tiers, "tier")
    seen: dict[str, int] = {}
    for i, ex in enumerate(rules.exercises):
        if ex.drill in seen:
            out.append(
                (("exercises", i, "drill"), f"drill {ex.drill!r} is already listed (exercises[{seen[ex.drill]}])")
            )
        seen.setdefault(ex.drill, i)
        for j, role in enumerate(ex.roles or []):
            out += _unknown(("exercises", i, "roles", j), role, topology.staff, "role")
    for i, u in enumerate(rules.unavailable):
        out += _unknown(("unavailable", i, "role"), u.role, topology.staff, "role")
    days: set[str] = set()
    for i, d in enumerate(rules.weekdays):
        if d in days:
            out.append((("weekdays", i), f"weekday {d!r} is listed twice"))
        days.add(d)
    return out


__all__ = [
    "FAULT_KINDS",
    "CalendarRules",
    "Day",
    "Exercise",
    "FaultKindRule",
    "Period",
    "Rules",
    "Unavailable",
    "calendar_date",
    "check_calendar",
]
