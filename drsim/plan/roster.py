"""The roster: who is on duty at a clock time, and when that changes during an incident.

A role's people work in shifts (``day``, ``night``, a weekend on-call), each with
a headcount, the days it starts on and a clock span that may run past midnight.
At any clock time at most one shift of a role is on duty; its headcount is the
role's *capacity* — how many tasks of that role can run at once. Nobody
rostered means a capacity of 0.

The plan reads the roster twice:

* **at the drill start** (:func:`starting_roster`): the shift on duty decides how
  many people a role's pages go to; its ``pace`` scales staffed tasks' durations
  as they are compiled;
* **when a page fires** (:func:`page_answers`): the page to a role's ``k``-th person
  reaches the ``k``-th person of the shift on duty then, with that shift's
  ``acknowledge`` time; nobody answers it while the shift on duty has fewer than ``k``
  people (or nobody is rostered). A role that may call people in has them called
  instead while nobody of it is on duty (:func:`duty_windows`);
* **over the incident** (:func:`roster_changes`): capacity is a step function
  of the time since the start, changing at shift boundaries. Each change is a
  :class:`Handover`, compiled up to :data:`ROSTER_HORIZON` after the start for
  every role some task needs (:func:`handovers_of`). Both engines apply the
  same handovers to every replicate;
* **shift changes that hand work over** (:func:`shift_changes`): for a role with a
  ``handover`` time, each instant a shift begins is a :class:`ShiftChange`. A task of
  the role still running then, with more work left than the handover takes, is handed
  to the incoming shift (in task order, while its headcount lasts; the rest are
  finished by the people who began them): it ends ``handover`` later than the outgoing
  person would have finished it, its remaining work (not its data transfer) at the
  incoming shift's pace. The person who leaves is freed;
* **the pace over the incident** (:func:`pace_changes`): a staffed task takes the
  pace of the shift on duty when it *starts*. Where that pace differs from the
  starting shift's, the task's drawn duration (not its data transfer) is
  multiplied by their ratio (:class:`PaceChange`, compiled for every role some
  task needs whose shifts differ in pace or that tire; nobody rostered counts as
  pace 1). A role's ``fatigue`` slows a shift's people from ``after`` into the
  shift (measured from the shift's start; a 24-hour shift starts afresh each day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Shift, StaffRole, Topology
from ..model.topology import ALL_DAYS

#: How far past the drill start roster changes are compiled (seconds): 60 days.
ROSTER_HORIZON = 60 * 86400.0


@dataclass(frozen=True)
class Handover:
    """A change of a role's capacity at a shift boundary, ``time`` seconds after the drill starts.

    Attributes
    ----------
    time
        Seconds after the drill start when the change takes effect.
    role
        The staff role whose capacity changes.
    shift
        The shift taking over (None: nobody is rostered from then on).
    headcount
        The role's capacity from ``time`` on.
    previous
        The role's capacity just before ``time``.
    """

    time: float
    role: str
    shift: str | None
    headcount: int
    previous: int

    @property
    def text(self) -> str:
        """The change as a timeline reads it: who takes over and how many are on duty."""
        if self.shift is None:
            return f"nobody rostered: 0 on duty (was {self.previous})"
        return f"{self.shift} shift takes over: {self.headcount} on duty (was {self.previous})"


@dataclass(frozen=True)
class PaceChange:
    """From ``time`` seconds after the drill start, ``role``'s work takes ``ratio`` times its compiled duration.

    ``ratio`` is the pace of the shift then on duty over the starting shift's (the compiled one).
    """

    time: float
    role: str
    ratio: float


@dataclass(frozen=True)
class ShiftChange:
    """A shift of ``role`` begins ``time`` seconds after the drill starts and takes over running work.

    Attributes
    ----------
    time
        Seconds after the drill start when the shift begins.
    role
        The staff role (one with a ``handover`` time).
    shift
        The incoming shift.
    headcount
        Its people: at most this many people's tasks are handed to it.
    cost
        Seconds a handover takes (the role's ``handover``): a task handed over ends this much later.
    ratio
        The pace a task handed over works at from then on, over the starting shift's (the ratio a task
        started at ``time`` would take, from :attr:`drsim.plan.Plan.paces`; 1 without pace changes).
    """

    time: float
    role: str
    shift: str
    headcount: int
    cost: float
    ratio: float


@dataclass(frozen=True)
class StartingRoster:
    """Who is on duty when the drill starts, role by role (every role of the topology, in file order).

    Attributes
    ----------
    capacity
        People on duty per role (0 when nobody is rostered).
    shift_of
        The name of the shift on duty per role (``"off"`` when nobody is rostered).
    pace
        The duration multiplier of the shift on duty per role (1.0 when nobody is rostered).
    """

    capacity: dict[str, int]
    shift_of: dict[str, str]
    pace: dict[str, float]


def shift_on_duty(role: StaffRole, when: dt.datetime) -> Shift | None:
    """The shift of ``role`` covering clock time ``when`` (None if nobody is rostered)."""
    minute = when.hour * 60 + when.minute
    day = ALL_DAYS[when.weekday()]
    prev_day = ALL_DAYS[(when.weekday() - 1) % 7]
    for sh in role.shifts:
        if sh.start < sh.end:
            if day in sh.days and sh.start <= minute < sh.end:
                return sh
        else:  # runs past midnight: the part before midnight belongs to its start day
            if (day in sh.days and minute >= sh.start) or (prev_day in sh.days and minute < sh.end):
                return sh
    return None


def starting_roster(topo: Topology, start: dt.datetime) -> StartingRoster:
    """The shift of every role on duty at the drill's clock start ``start``."""
    capacity: dict[str, int] = {}
    shift_of: dict[str, str] = {}
    pace: dict[str, float] = {}
    for name, role in topo.staff.items():
        sh = shift_on_duty(role, start)
        capacity[name] = sh.headcount if sh else 0
        shift_of[name] = sh.name if sh else "off"
        pace[name] = sh.pace if sh else 1.0
    return StartingRoster(capacity, shift_of, pace)


def roster_changes(role: StaffRole, name: str, start: dt.datetime, horizon: float = ROSTER_HORIZON) -> list[Handover]:
    """The instants in (0, ``horizon``] after ``start`` where ``role``'s headcount on duty changes.

    Candidates are every shift's start and end clock time on every day of the
    span; the headcount at each is that of :func:`shift_on_duty` (0 when nobody
    is rostered), and only changes are kept.
    """
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = sorted({m for sh in role.shifts for m in (sh.start, sh.end)})
    days = int(horizon // 86400) + 2
    first = shift_on_duty(role, start)
    current = first.headcount if first is not None else 0
    out: list[Handover] = []
    for d in range(days):
        for m in minutes:
            when = midnight + dt.timedelta(days=d, minutes=m)
            t = (when - start).total_seconds()
            if t <= 0 or t > horizon:
                continue
            sh = shift_on_duty(role, when)
            n = sh.headcount if sh is not None else 0
            if n != current:
                out.append(Handover(t, name, sh.name if sh is not None else None, n, current))
                current = n
    return out


def answering_shift(role: StaffRole, k: int, when: dt.datetime) -> Shift | None:
    """The shift whose ``k``-th person answers a page to ``role`` sent at clock time ``when`` (None: the shift on
    duty then has fewer than ``k`` people, or nobody is rostered)."""
    sh = shift_on_duty(role, when)
    return sh if sh is not None and sh.headcount >= k else None


def page_answers(
    role: StaffRole, k: int, start: dt.datetime, horizon: float = ROSTER_HORIZON
) -> list[tuple[float, Shift | None]]:
    """The instants in (0, ``horizon``] where the shift answering a page to ``role``'s ``k``-th person changes.

    Each is (time, the shift on duty then if it has at least ``k`` people, else None); before the first,
    the starting shift answers.
    """
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = sorted({m for sh in role.shifts for m in (sh.start, sh.end)})

    def answering(when: dt.datetime) -> Shift | None:
        return answering_shift(role, k, when)

    current = answering(start)
    out: list[tuple[float, Shift | None]] = []
    for d in range(int(horizon // 86400) + 2):
        for m in minutes:
            when = midnight + dt.timedelta(days=d, minutes=m)
            t = (when - start).total_seconds()
            if t <= 0 or t > horizon:
                continue
            sh = answering(when)
            if sh is not current:
                out.append((t, sh))
                current = sh
    return out


def shift_spans(role: StaffRole, start: dt.datetime, horizon: float = ROSTER_HORIZON) -> list[tuple[float, str | None]]:
    """Who is on duty for ``role`` over the incident: from each time (seconds after ``start``, the first 0), the
    name of the shift on duty (None: nobody). Each entry is a new shift instance: a day shift on Monday and on
    Tuesday are two entries, as their people differ."""
    first = answering_shift(role, 1, start)
    out: list[tuple[float, str | None]] = [(0.0, first.name if first is not None else None)]
    out += [(t, sh.name if sh is not None else None) for t, sh in page_answers(role, 1, start, horizon)]
    return out


def duty_windows(role: StaffRole, start: dt.datetime, horizon: float = ROSTER_HORIZON) -> list[tuple[float, bool]]:
    """When ``role`` has somebody on duty: from each time (seconds after ``start``, the first 0), whether
    nobody of it is on duty then (no shift, or a headcount of 0). Consecutive entries differ."""
    out = [(0.0, answering_shift(role, 1, start) is None)]
    for t, sh in page_answers(role, 1, start, horizon):
        if (sh is None) != out[-1][1]:
            out.append((t, sh is None))
    return out


def handovers_of(topo: Topology, start: dt.datetime, roles: Iterable[str]) -> list[Handover]:
    """Roster changes of ``roles`` (the roles some task needs) after ``start``, by time then role."""
    out = [h for r in sorted(set(roles)) for h in roster_changes(topo.staff[r], r, start)]
    out.sort(key=lambda h: (h.time, h.role))
    return out


def pace_at(role: StaffRole, when: dt.datetime) -> float:
    """The pace of ``role`` at clock time ``when``: its shift's, times the fatigue pace once the shift has
    run ``fatigue.after`` (1.0 when nobody is rostered)."""
    sh = shift_on_duty(role, when)
    if sh is None:
        return 1.0
    f = role.fatigue
    into = (when.hour * 60 + when.minute + (when.second + when.microsecond / 1e6) / 60 - sh.start) % 1440  # minutes
    return sh.pace * f.pace if f is not None and into * 60 >= f.after else sh.pace


def pace_changes(
    topo: Topology, start: dt.datetime, roles: Iterable[str], horizon: float = ROSTER_HORIZON
) -> list[PaceChange]:
    """The instants in [0, ``horizon``] where a role's pace relative to the starting shift's changes (by role, time).

    The ratio is 1 at the start unless the starting shift is already fatigued (then a change at 0).
    Only roles whose shifts differ in pace, or that tire (``fatigue``), have any.
    """
    out: list[PaceChange] = []
    for name in sorted(set(roles)):
        role = topo.staff[name]
        if len({sh.pace for sh in role.shifts}) < 2 and role.fatigue is None:
            continue
        first = shift_on_duty(role, start)
        base = first.pace if first is not None else 1.0
        current = 1.0
        if (ratio := pace_at(role, start) / base) != current:
            out.append(PaceChange(0.0, name, ratio))
            current = ratio
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        tired = [(sh.start + role.fatigue.after / 60) % 1440 for sh in role.shifts] if role.fatigue else []
        minutes = sorted({m for sh in role.shifts for m in (sh.start, sh.end)} | set(tired))
        for d in range(int(horizon // 86400) + 2):
            for m in minutes:
                when = midnight + dt.timedelta(days=d, minutes=m)
                t = (when - start).total_seconds()
                if t <= 0 or t > horizon:
                    continue
                ratio = pace_at(role, when) / base
                if ratio != current:
                    out.append(PaceChange(t, name, ratio))
                    current = ratio
    return out


def shift_changes(
    topo: Topology,
    start: dt.datetime,
    roles: Iterable[str],
    paces: Iterable[PaceChange],
    horizon: float = ROSTER_HORIZON,
) -> list[ShiftChange]:
    """The instants in (0, ``horizon``] where a shift of a role with a ``handover`` time begins (by time, role).

    Every start of a shift instance counts, a 24-hour shift's daily restart and a shift followed by one of the
    same name included: its people are not the ones who leave. ``paces`` (:func:`pace_changes`) give each
    change's ratio.
    """
    by_role: dict[str, list[PaceChange]] = {}
    for p in paces:
        by_role.setdefault(p.role, []).append(p)
    out: list[ShiftChange] = []
    for name in sorted(set(roles)):
        role = topo.staff[name]
        if role.handover is None:
            continue
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        changes = sorted(by_role.get(name, []), key=lambda p: p.time)
        for d in range(int(horizon // 86400) + 2):
            for sh in role.shifts:
                when = midnight + dt.timedelta(days=d, minutes=sh.start)
                t = (when - start).total_seconds()
                if t <= 0 or t > horizon or sh.headcount == 0 or shift_on_duty(role, when) is not sh:
                    continue
                ratio = next((p.ratio for p in reversed(changes) if p.time <= t), 1.0)
                out.append(ShiftChange(t, name, sh.name, sh.headcount, role.handover, ratio))
    out.sort(key=lambda c: (c.time, c.role))
    return out
