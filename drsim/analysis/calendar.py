"""Planning an exercise calendar: which drill on which day, so that every part of the estate is exercised
in time.

A **requirement** is something the rules say must be exercised regularly: a
service of a tier with a rule (every tier0 service every 6 months) or a kind of
fault (each kind yearly). An exercise **covers** a service when its drill hits
it or takes it down (a dependent counts: its restoration is exercised too) and
covers the kinds of fault it injects. Its **risk** is the most critical tier
it takes down: an exercise that takes only tier2 services down is low risk.

A requirement was **last tested** on the latest day a drill covering it was
recorded in history (a ``drsim drill`` or ``drsim sweep`` run of that drill on
the same estate, before the plan starts). It **falls due** ``every`` months
after that — at the start of the plan if it was never tested — and is worth
repeating no sooner than half that interval after the last test.

The plan walks the days exercises may be held on (allowed weekdays, outside
blackouts, ``spacing`` days apart) and on each picks one exercise whose roles
are all available:

1. first anything **urgent** — a requirement overdue, or due before the next
   possible day — the most overdue first;
2. otherwise the **lowest-risk** exercise that covers a requirement falling due
   within the plan, so a programme starts with low-risk components and
   expands to the critical workflows as the year goes on.

Everything an exercise covers counts as tested on its day. A **coverage gap** is
a requirement never tested, overdue when the plan starts, planned only after
it falls due, not planned at all before the plan ends, or that no exercise on
offer covers.
"""

from __future__ import annotations

import calendar as _months
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Drill, Topology
from ..model.calendar import CalendarRules, Period, Unavailable
from ..plan.affected import affected_services


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months on, the day of the month kept where it exists
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _months.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Coverage:
    """What one exercise on offer exercises, how risky it is, and who must be there."""

    #: The drill's name as its results (and history) name it.
    drill: str
    #: The drill as listed in the rules (a bundled name or a file).
    given: str
    services: frozenset[str]
    kinds: frozenset[str]
    #: The most critical tier the exercise takes down (None: it takes nothing down).
    risk: str | None
    #: 0 for the least risky; larger is riskier (the estate's tiers from least to most critical).
    risk_order: int
    roles: tuple[str, ...]
    owner: str


@dataclass(frozen=True)
class Requirement:
    """Something the rules say must be exercised every ``every`` months: a service or a kind of fault."""

    kind: str  # "service" or "fault kind"
    name: str
    every: int
    #: The service's tier (None for a kind of fault).
    tier: str | None
    #: The last day it was tested before the plan starts, from history (None: never).
    last_tested: dt.date | None

    @property
    def subject(self) -> str:
        return f"{self.kind} {self.name}"

    def rule(self) -> str:
        what = f"every {self.tier} service" if self.tier else "each kind of fault"
        return f"{what} every {self.every} month{'s' if self.every != 1 else ''}"


@dataclass(frozen=True)
class Planned:
    """One exercise on the calendar: its day, its drill, what it was planned for and what else it covers."""

    day: dt.date
    drill: str
    given: str
    #: Requirements it was planned for (urgent or falling due), as subjects.
    reasons: tuple[str, ...]
    #: Every requirement it covers (reasons included), as subjects.
    covers: tuple[str, ...]
    #: Whether it was planned for something overdue or due before the next possible day.
    urgent: bool
    risk: str | None
    roles: tuple[str, ...]
    owner: str


@dataclass(frozen=True)
class Gap:
    """A requirement not exercised in time: what, when it fell due, when (if ever) it is planned, and why."""

    subject: str
    rule: str
    last_tested: dt.date | None
    due: dt.date
    planned: dt.date | None
    why: str
    owner: str = ""


@dataclass(frozen=True)
class Calendar:
    """A planned programme of exercises and the coverage gaps it leaves or closes."""

    name: str
    topology: str
    start: dt.date
    #: The first day after the plan.
    end: dt.date
    exercises: tuple[Planned, ...]
    gaps: tuple[Gap, ...]
    requirements: tuple[Requirement, ...]
    #: For each requirement's subject, the days it is exercised in the plan.
    planned_days: Mapping[str, tuple[dt.date, ...]]
    blackouts: tuple[Period, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()
    coverage: tuple[Coverage, ...] = field(default=())


# ------------------------------------------------------------------ phases


def coverage_of(topology: Topology, rules: CalendarRules, drills: Sequence[Drill]) -> tuple[Coverage, ...]:
    """What each exercise on offer covers, its risk, and the roles it needs."""
    least_first = sorted(topology.tiers, key=topology.tier_rank, reverse=True)
    out = []
    for ex, drill in zip(rules.exercises, drills):
        hit = affected_services(topology, drill)
        services = frozenset(hit.direct) | frozenset(hit.unavailable)
        down = hit.unavailable or set(hit.direct)
        tiers = {topology.services[s].tier for s in down}
        risk = min(tiers, key=topology.tier_rank) if tiers else None
        roles = tuple(ex.roles) if ex.roles is not None else tuple(dict.fromkeys(drill.response.page))
        out.append(
            Coverage(
                drill=drill.name,
                given=ex.drill,
                services=services,
                kinds=frozenset(f.kind for f in drill.faults),
                risk=risk,
                risk_order=least_first.index(risk) + 1 if risk is not None else 0,
                roles=roles,
                owner=ex.owner,
            )
        )
    return tuple(out)


def requirements_of(
    topology: Topology,
    rules: CalendarRules,
    coverage: Sequence[Coverage],
    tested: Mapping[str, Sequence[dt.date]],
    start: dt.date,
) -> tuple[Requirement, ...]:
    """Every requirement of the rules, with the day it was last tested before ``start``.

    ``tested`` maps a drill's name to the days it was run (from history).
    """

    def last(covering: list[Coverage]) -> dt.date | None:
        days = [d for c in covering for d in tested.get(c.drill, ()) if d <= start]
        return max(days, default=None)

    out = []
    for tier, every in rules.rules.tiers.items():
        for name, service in sorted(topology.services.items()):
            if service.tier == tier:
                out.append(Requirement("service", name, every, tier, last([c for c in coverage if name in c.services])))
    fk = rules.rules.fault_kinds
    if fk is not None:
        out.extend(
            Requirement("fault kind", kind, fk.every, None, last([c for c in coverage if kind in c.kinds]))
            for kind in dict.fromkeys(fk.kinds)
        )
    return tuple(out)


def _covers(c: Coverage, r: Requirement) -> bool:
    return r.name in (c.services if r.kind == "service" else c.kinds)


def exercise_days(rules: CalendarRules, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days exercises may be held on: allowed weekdays from ``start`` until before ``end``, outside blackouts."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    allowed = set(rules.weekdays)
    out = []
    day = start
    while day < end:
        if names[day.weekday()] in allowed and not any(day in b for b in rules.blackouts):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _available(c: Coverage, rules: CalendarRules, day: dt.date) -> bool:
    return not any(u.role in c.roles and day in u for u in rules.unavailable)


@dataclass
class _State:
    """A requirement's progress through the plan: when it next falls due and may next be repeated."""

    due: dt.date
    eligible: dt.date
    days: list[dt.date] = field(default_factory=list)


def _initial(r: Requirement, start: dt.date) -> _State:
    if r.last_tested is None:
        return _State(start, start)
    return _State(add_months(r.last_tested, r.every), add_months(r.last_tested, r.every // 2))


def _pick(
    candidates: list[Coverage], pending: list[Requirement], state: Mapping[str, _State], soon: dt.date
) -> tuple[Coverage, list[Requirement], bool] | None:
    """The exercise to hold: the most overdue urgent one, else the least risky that covers something pending."""
    best, best_key, best_for, best_urgent = None, None, [], False
    for i, c in enumerate(candidates):
        mine = [r for r in pending if _covers(c, r)]
        if not mine:
            continue
        first_due = min(state[r.subject].due for r in mine)
        urgent = first_due <= soon
        key = (0, first_due, c.risk_order, i) if urgent else (1, c.risk_order, first_due, i)
        if best_key is None or key < best_key:
            best, best_key, best_for, best_urgent = c, key, mine, urgent
    return None if best is None else (best, best_for, best_urgent)


def plan_calendar(
    topology: Topology,
    rules: CalendarRules,
    drills: Sequence[Drill],
    tested: Mapping[str, Sequence[dt.date]],
    start: dt.date,
) -> Calendar:
    """A dated plan of exercises from ``start`` for ``rules.months`` months (see the module docstring).

    ``drills`` are the exercises' drills, in the order of ``rules.exercises``; ``tested`` maps a drill's
    name to the days it was recorded in history on this estate.
    """
    end = add_months(start, rules.months)
    coverage = coverage_of(topology, rules, drills)
    reqs = requirements_of(topology, rules, coverage, tested, start)
    state = {r.subject: _initial(r, start) for r in reqs}
    owners = {r.subject: next((c.owner for c in coverage if _covers(c, r) and c.owner), "") for r in reqs}
    gaps: list[Gap] = []
    uncovered = {r.subject for r in reqs if not any(_covers(c, r) for c in coverage)}
    for r in reqs:
        if r.subject in uncovered:
            why = "no exercise on offer covers it: add a drill that exercises it"
            gaps.append(Gap(r.subject, r.rule(), r.last_tested, state[r.subject].due, None, why))
    planned: list[Planned] = []
    next_day = start
    for day in exercise_days(rules, start, end):
        if day < next_day:
            continue
        pending = [
            r
            for r in reqs
            if r.subject not in uncovered and state[r.subject].eligible <= day and state[r.subject].due < end
        ]
        candidates = [c for c in coverage if _available(c, rules, day)]
        choice = _pick(candidates, pending, state, day + dt.timedelta(days=rules.spacing))
        if choice is None:
            continue
        c, reasons, urgent = choice
        covers = [r for r in reqs if _covers(c, r)]
        for r in covers:
            st = state[r.subject]
            if r in reasons:
                gap = _lateness(r, st, day, start)
                if gap is not None:
                    gaps.append(Gap(r.subject, r.rule(), r.last_tested, st.due, day, gap, owners[r.subject]))
            st.days.append(day)
            st.due, st.eligible = add_months(day, r.every), add_months(day, r.every // 2)
        planned.append(
            Planned(
                day,
                c.drill,
                c.given,
                tuple(r.subject for r in reasons),
                tuple(r.subject for r in covers),
                urgent,
                c.risk,
                c.roles,
                c.owner,
            )
        )
        next_day = day + dt.timedelta(days=rules.spacing)
    for r in reqs:
        st = state[r.subject]
        if r.subject not in uncovered and st.due < end:
            why = "falls due within the plan but no day was left for it (blackouts, staff, spacing)"
            gaps.append(Gap(r.subject, r.rule(), r.last_tested, st.due, None, why, owners[r.subject]))
    gaps.sort(key=lambda g: (g.due, g.subject))
    return Calendar(
        name=rules.name,
        topology=topology.name,
        start=start,
        end=end,
        exercises=tuple(planned),
        gaps=tuple(gaps),
        requirements=reqs,
        planned_days={r.subject: tuple(state[r.subject].days) for r in reqs},
        blackouts=tuple(rules.blackouts),
        unavailable=tuple(rules.unavailable),
        coverage=coverage,
    )


def _lateness(r: Requirement, st: _State, day: dt.date, start: dt.date) -> str | None:
    """Why exercising ``r`` on ``day`` closes a gap (None: it is in time)."""
    if not st.days:
        if r.last_tested is None:
            return "never exercised"
        if st.due < start:
            months = (start - st.due).days // 30
            return f"overdue when the plan starts: last exercised {r.last_tested.isoformat()}, fell due " + (
                f"{st.due.isoformat()} ({months} month{'s' if months != 1 else ''} before)"
                if months
                else st.due.isoformat()
            )
    if day > st.due:
        return f"planned {(day - st.due).days} day(s) after it falls due (blackouts, staff or spacing)"
    return None


__all__ = [
    "Calendar",
    "Coverage",
    "Gap",
    "Planned",
    "Requirement",
    "add_months",
    "coverage_of",
    "exercise_days",
    "plan_calendar",
    "requirements_of",
]
