"""The plan builder: appends tasks, calls people in, and collects what cannot be compiled.

Every phase of compiling adds its tasks through one :class:`PlanBuilder`, so
task indices follow the order the phases run in. Adding a task is where the
rules every task obeys are applied once (:meth:`PlanBuilder.add`): keys are
unique, a staffed task is slowed or sped up by the pace of the shift on duty,
predecessors are sorted and deduplicated, an any-join over one predecessor is
an all-join, and a service's task takes its tier's dispatch class.

The builder also knows who has been called in. A role works only once paged
and acknowledged (:meth:`PlanBuilder.page`: every person on shift is paged, the
first acknowledgement counts; a page fired after a shift change reaches the shift then on duty), or when an escalation policy reached it
(:meth:`PlanBuilder.page_levels`). When the consoles a role works through sit
behind a service that is down, the role must first break glass
(:meth:`PlanBuilder.add_break_glass`) — unless those services come back first
(:meth:`PlanBuilder.link_access`).

What cannot be compiled (a role nobody is rostered in, a restore with no
throughput, …) is collected as a :class:`~drsim.errors.Problem`, so compiling
goes on and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import InputError, Problem
from ..model import Drill, Topology
from ..model.distributions import Distribution, Fixed
from ..model.units import write_duration
from .order import tier_classes
from .roster import duty_windows, page_answers, shift_on_duty, starting_roster
from .tasks import ALL, ANY, Attempts, Join, OnDuty, Task, TaskKind


@dataclass
class BreakGlass:
    """A role's way to its consoles while the services they sit behind are down.

    Attributes
    ----------
    task
        The break-glass task (staffed by the role, skipped once ``lost`` are back).
    access
        The milestone "the role has console access": break glass done, or ``lost`` restored.
    lost
        The unavailable services the role's consoles are reached through.
    """

    task: int
    access: int
    lost: list[str]


class PlanBuilder:
    """The tasks compiled so far, who has been paged, and the problems found.

    Parameters
    ----------
    topo, drill
        The models being compiled.
    unavailable
        Services unusable during the incident (they decide who must break glass).
    """

    def __init__(self, topo: Topology, drill: Drill, unavailable: set[str]):
        self.topo, self.drill = topo, drill
        self.tasks: list[Task] = []
        self.keys: dict[str, int] = {}
        roster = starting_roster(topo, drill.start)
        self.capacity: dict[str, int] = roster.capacity
        self.shift_of: dict[str, str] = roster.shift_of
        self.pace: dict[str, float] = roster.pace
        #: Each paged role's "acknowledged" milestone.
        self.ack: dict[str, int] = {}
        #: The task after which each role was first paged.
        self.paged_after: dict[str, int] = {}
        #: Pages of escalation levels to roles not called in yet: their acknowledgement counts once they are.
        self.level_pages: dict[str, list[int]] = {}
        self.access: dict[str, BreakGlass] = {}
        #: Each called-in (or engaged external) role's arrival task, and how many people it adds.
        self.arrival: dict[str, int] = {}
        self.called: dict[str, int] = {}
        #: Each role's arrival of people called in only if nobody of it is on duty when it is paged.
        self.conditional: dict[str, int] = {}
        self.unavailable = unavailable
        self.tier_class = tier_classes(topo)
        self.problems: list[Problem] = []

    def add(
        self,
        key: str,
        kind: TaskKind,
        label: str,
        duration: Distribution,
        preds: Iterable[int] = (),
        role: str | None = None,
        join: Join = ALL,
        service: str | None = None,
        *,
        offset: float = 0.0,
        elapsed_from: int = -1,
        elapsed_to: int = -1,
        elapsed_coef: float = 0.0,
        blocked_by_rpo: int = -1,
        adds: tuple[str, int] | None = None,
        people: int = 1,
        attempts: Attempts | None = None,
        gate_of: int = -1,
        gate_exhausted: bool = False,
    ) -> int:
        """Append a task and return its index (see the module docstring for the rules applied)."""
        if key in self.keys:
            raise AssertionError(f"duplicate task key {key}")
        if role is not None and self.pace.get(role, 1.0) != 1.0:
            duration = duration.scaled(self.pace[role])
            if attempts is not None and attempts.retry is not None:
                attempts = replace(attempts, retry=attempts.retry.scaled(self.pace[role]))
        preds = sorted(set(preds))
        if join == ANY and len(preds) == 1:
            join = ALL
        priority = self.tier_class[self.topo.services[service].tier] if service is not None else 0
        t = Task(
            len(self.tasks),
            key,
            kind,
            label,
            duration,
            role,
            preds,
            join,
            service,
            offset=offset,
            elapsed_from=elapsed_from,
            elapsed_to=elapsed_to,
            elapsed_coef=elapsed_coef,
            blocked_by_rpo=blocked_by_rpo,
            priority=priority,
            adds_role=adds[0] if adds is not None else None,
            adds_count=adds[1] if adds is not None else 0,
            people=people,
            attempts=attempts,
            gate_of=gate_of,
            gate_exhausted=gate_exhausted,
        )
        self.tasks.append(t)
        self.keys[key] = t.index
        return t.index

    def problem(self, message: str, path: tuple[str | int, ...]) -> None:
        """Record something that makes the drill impossible to compile (raised by :meth:`raise_problems`)."""
        self.problems.append(Problem(message, path))

    def raise_problems(self) -> None:
        """Raise every problem recorded so far as one :class:`~drsim.errors.InputError`, if there is any."""
        if self.problems:
            raise InputError(f"drill {self.drill.name!r} on topology {self.topo.name!r}", self.problems)

    # -- people
    def page(self, role: str, after: int, why: str) -> int:
        """Page everyone of ``role`` on shift; the first acknowledgement starts their work.

        A role that may call people in (``call_in``, or an external role) is called in while
        nobody of it is on duty: its people's arrival is their acknowledgement. Which of the two
        happens is decided when the page fires (:meth:`called_if_off_duty`): the role is paged
        and called in by turns of its roster, the call going out only while nobody is on duty.
        """
        if role in self.ack:
            return self.ack[role]
        if self.needs_call_in(role):
            self.paged_after[role] = after
            self.ack[role] = self.call_in(role, after)
            return self.ack[role]
        pages = self.pages(role, after, why)
        if not pages:
            return after
        self.paged_after[role] = after
        pages += self.level_pages.pop(role, [])
        if self.off_duty_at_times(role):
            pages.append(self.arrival[role] if role in self.arrival else self.called_if_off_duty(role, after))
        self.ack[role] = self.add(f"ack:{role}", "ack", f"{role} acknowledged", Fixed(0.0), pages, join=ANY)
        return self.ack[role]

    def can_call_in(self, role: str) -> bool:
        """Whether people of ``role`` may be called in (``call_in``) or engaged (an external role)."""
        staff = self.topo.staff[role]
        return staff.call_in is not None or staff.external is not None

    def needs_call_in(self, role: str) -> bool:
        """Whether ``role`` has nobody on duty over the whole incident but can be called in (or engaged).

        Such a role is always called in, never paged.
        """
        return self.can_call_in(role) and all(off for _, off in duty_windows(self.topo.staff[role], self.drill.start))

    def off_duty_at_times(self, role: str) -> bool:
        """Whether ``role`` may be called in and has nobody on duty for part of the incident, not all of it:
        paged or called in by when the page fires."""
        if not self.can_call_in(role):
            return False
        offs = {off for _, off in duty_windows(self.topo.staff[role], self.drill.start)}
        return offs == {False, True}

    def on_duty_at_start(self, role: str) -> bool:
        """Whether somebody of ``role`` is on duty when the drill starts."""
        return self.capacity.get(role, 0) > 0 and shift_on_duty(self.topo.staff[role], self.drill.start) is not None

    def pages(self, role: str, after: int, why: str, round: str = "") -> list[int]:
        """One page to each person of ``role``'s largest shift, sent when ``after`` finishes.

        The ``k``-th page is answered by the ``k``-th person of the shift on duty when it fires (nobody answers
        while that shift has fewer people). None when nobody is on duty at the start and nobody can be
        called in, or nobody is ever on duty. ``round`` tells apart the keys of a role paged again by an
        escalation policy.
        """
        staff = self.topo.staff[role]
        sh = shift_on_duty(staff, self.drill.start)
        n = max((s.headcount for s in staff.shifts), default=0)
        if n == 0 or self.needs_call_in(role) or (not self.on_duty_at_start(role) and not self.can_call_in(role)):
            fix = (
                "a later escalation level pages only people on duty (a role called in off shift may be in response.page)"
                if self.needs_call_in(role)
                else "add a shift with a headcount"
            )
            self.problem(
                f"the drill needs role {role!r} ({why}) but nobody is on duty at {self.drill.start:%a %H:%M}; {fix}",
                ("start",),
            )
            return []
        starting = sh.name if sh is not None and self.capacity.get(role, 0) > 0 else None
        out = []
        for k in range(n):
            own = sh is not None and k < self.capacity.get(role, 0)
            page = self.add(
                f"page:{role}#{k + 1}{round}",
                "page",
                f"{role}#{k + 1} acknowledges the page",
                sh.acknowledge if own and sh is not None else Fixed(0.0),
                [after],
                role=None,
            )
            self.tasks[page].on_duty = self.answered_by(role, k + 1, starting if own else None)
            out.append(page)
        return out

    def answered_by(self, role: str, k: int, starting: str | None) -> tuple[OnDuty, ...]:
        """Who answers a page to ``role``'s ``k``-th person by the time it fires (see :class:`OnDuty`).

        The shift on duty when the page fires answers it with its own time to acknowledge;
        the starting shift ``starting`` with the page's own duration. With no ``starting`` shift
        (nobody with that number on duty at the start), nobody answers until a shift with them begins.
        """
        changes = page_answers(self.topo.staff[role], k, self.drill.start)
        first = [] if starting is not None else [OnDuty(0.0, None)]
        return tuple(first) + tuple(
            OnDuty(t, None) if sh is None else OnDuty(t, sh.name, None if sh.name == starting else sh.acknowledge)
            for t, sh in changes
        )

    def called_if_off_duty(self, role: str, after: int) -> int:
        """Call people of ``role`` in once ``after`` finishes if, at that instant, nobody of it is on duty.

        The call's first task answers only while nobody is on duty (its :class:`OnDuty` entries: the task's own
        time to answer then, never finishing otherwise), so whether anybody is called is decided replicate by
        replicate when the page fires. Returns the arrival (made once per role).
        """
        if role in self.conditional:
            return self.conditional[role]
        arrive = self.call_in(role, after, key=f"call-in:{role}:if-off-duty", record=False)
        first = self.tasks[arrive].preds[0] if self.tasks[arrive].preds != [after] else arrive
        self.tasks[first].on_duty = tuple(
            OnDuty(t, "called-in" if off else None) for t, off in duty_windows(self.topo.staff[role], self.drill.start)
        )
        self.conditional[role] = arrive
        return arrive

    def page_levels(self, levels: list[list[str]], after: int, timeout: float, repeat: int) -> int:
        """Page ``levels`` in turn from ``after``: each after ``timeout`` with no acknowledgement yet.

        The whole policy is paged ``repeat`` more times. A level's timeout is a role-free task
        cancelled by any acknowledgement before it runs out, so a level is paged only when nobody
        before it answered. The roles of the first level are called in (their first page of any
        round is their acknowledgement); a later level's pages count for its roles once they are
        called in. Returns the milestone "somebody acknowledged", at any level.
        """
        stages = [levels[j % len(levels)] for j in range(len(levels) * (repeat + 1))]
        gate, acked = after, -1
        sent: list[int] = []
        pages_of: dict[str, list[int]] = {}
        for j, roles in enumerate(stages):
            if j > 0:
                level = f"level {j % len(levels) + 1}" + (
                    f" (round {j // len(levels) + 1})" if j >= len(levels) else ""
                )
                gate = self.add(
                    f"escalation:{j}",
                    "escalation",
                    f"{level} paged: {', '.join(roles)} (no acknowledgement within {write_duration(timeout)})",
                    Fixed(timeout),
                    [gate],
                )
                self.tasks[gate].cancel_if = acked
            for r in roles:
                if r in levels[0] and self.needs_call_in(r):
                    # the first response calls in a role with nobody on duty, once: its arrival answers
                    ps = [self.call_in(r, after)]
                else:
                    ps = self.pages(r, gate, "an escalation level", "" if j == 0 else f"@{j}")
                    if r in levels[0] and ps and self.off_duty_at_times(r):
                        # paged while on duty, called in while nobody is: decided when the first page fires
                        ps.append(self.arrival[r] if r in self.arrival else self.called_if_off_duty(r, after))
                pages_of.setdefault(r, []).extend(ps)
                sent += [p for p in ps if p not in sent]
            acked = self.add(
                f"escalation:acked:{j}", "milestone", "the incident acknowledged", Fixed(0.0), sent, join=ANY
            )
        for r, ps in pages_of.items():
            if r in levels[0] and r not in self.ack and self.needs_call_in(r):
                self.paged_after[r] = after
                self.ack[r] = ps[0]
            elif r in levels[0] and r not in self.ack and ps:
                self.paged_after[r] = after
                self.ack[r] = self.add(f"ack:{r}", "ack", f"{r} acknowledged", Fixed(0.0), ps, join=ANY)
            elif r not in self.ack:
                self.level_pages[r] = ps
        return acked

    def call_in(
        self, role: str, after: int, count: int | None = None, *, key: str | None = None, record: bool = True
    ) -> int:
        """Call off-shift people of ``role`` in (or engage an external role) once ``after`` finishes.

        Returns the arrival task, whose finish adds the people to the role for the rest of the
        incident. A role is called in once: a later call returns the first arrival. ``count``
        defaults to the drill's request for the role, else 1 (call-in) or the contract's headcount.
        ``key`` prefixes the tasks' keys (default ``call-in:<role>``, ``external:<role>``); a call
        not ``record``-ed is not the role's call-in (one made only if nobody is on duty).
        """
        if record and role in self.arrival:
            return self.arrival[role]
        staff = self.topo.staff[role]
        if count is None:
            count = next((r.count for r in self.drill.response.call_in if r.role == role), None)
        people = f"{count} {role}" if count is not None else role
        if staff.external is not None:
            n = count or staff.external.headcount
            arrive = self.add(
                key or f"external:{role}",
                "call-in",
                f"{n} {role} (external, engaged on contract) arrive",
                staff.external.response,
                [after],
                adds=(role, n),
            )
        elif staff.call_in is not None:
            ci, n = staff.call_in, count or 1
            prefix = key or f"call-in:{role}"
            answer = self.add(
                f"{prefix}:respond",
                "call-in",
                f"{people} called in off shift: answers the call",
                ci.respond,
                [after],
            )
            way = "on site" if ci.travel is not None else "logged in from home"
            how = ci.travel if ci.travel is not None else ci.remote_login
            assert how is not None  # one of the two, by the topology's checks
            arrive = self.add(
                f"{prefix}:arrive", "call-in", f"{n} {role} called in: {way}", how, [answer], adds=(role, n)
            )
        else:  # an unchecked drill (check_drill reports it too)
            self.problem(f"role {role!r} has no call_in section and is not external", ("response", "call_in"))
            return after
        if record:
            self.arrival[role] = arrive
            self.called[role] = n
        return arrive

    def ready_for(self, role: str | None, escalation: int) -> list[int]:
        """Tasks a person of ``role`` must have done before working: acknowledge, maybe break glass.

        A role not paged yet is paged after ``escalation``.
        """
        if role is None:
            return []
        ack = self.page(role, escalation, "a runbook step")
        self.add_break_glass(role)
        out = [ack]
        if role in self.access:
            out.append(self.access[role].access)
        return out

    def called_in(self, role: str | None, escalation: int) -> list[int]:
        """:meth:`ready_for` a task of the incident's later work, calling ``role`` in first if needed.

        Identical to :meth:`ready_for` when the role can be paged; when nobody is on duty, the
        problem is recorded twice (once for the call, once for the readiness), as it always was.
        """
        if role is not None and role not in self.ack:
            self.page(role, escalation, "a runbook step")
        return self.ready_for(role, escalation)

    def add_break_glass(self, role_name: str) -> None:
        """When a role's consoles sit behind a service that is down, it must break glass first.

        Access comes from whichever is first: break-glass done, or every such
        service restored (linked once the restorations exist, in :meth:`link_access`).
        """
        role = self.topo.staff[role_name]
        if role_name in self.access or role_name not in self.ack:
            return
        lost = [svc for svc in role.access_via if svc in self.unavailable]
        if not lost:
            return
        if role.break_glass is None:  # an unchecked topology (check_topology reports it too)
            self.problem("access_via needs break_glass: the time to reach emergency access", ("staff", role_name))
            return
        bg = self.add(
            f"break-glass:{role_name}",
            "break-glass",
            f"{role_name} gets break-glass access ({', '.join(lost)} down)",
            role.break_glass,
            [self.ack[role_name]],
            role=role_name,
        )
        acc = self.add(f"access:{role_name}", "milestone", f"{role_name} has console access", Fixed(0.0), [bg])
        self.access[role_name] = BreakGlass(bg, acc, lost)

    def link_access(self, restored: dict[str, int]) -> None:
        """Give each role that broke glass normal access back once its services are restored.

        ``restored`` maps a service to its restored milestone.
        """
        for role_name, glass in self.access.items():
            if not all(s in restored for s in glass.lost):
                continue
            back = self.add(
                f"access-restored:{role_name}",
                "milestone",
                f"{', '.join(glass.lost)} back: {role_name} logs in normally",
                Fixed(0.0),
                [restored[s] for s in glass.lost],
            )
            self.tasks[glass.access].preds = sorted([glass.task, back])
            self.tasks[glass.access].join = ANY
            self.tasks[glass.task].skip_if = back
