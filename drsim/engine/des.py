"""The discrete-event engine: one replay of a plan, event by event, in SimPy.

Every task is a SimPy process that waits for its predecessors, asks its staff
pool for a person if it needs one, holds that person for its duration and then
signals completion. Staff pools hand out people first come, first served by
ready time (ties by task index) in a dispatch event scheduled *after* every
other event of the same instant — so all tasks that become ready at one
instant compete fairly, exactly as the vectorized engine assumes. A task with
``cancel_if`` checks, when its time is up, in an event of its own after every
other finish of that instant and before the dispatch: if the named task has
finished, it is cancelled (never finishes, leaves no line in the timeline).

Capacity follows the roster (:attr:`drsim.plan.Plan.handovers`): a roster
process wakes at each change with the same priority as a task finishing, so
every finish and roster change of an instant is applied before the dispatch.
Arrivals get new person numbers (``dba#2``) and are free at once; when
capacity falls, free people leave (lowest numbers first) and, if too few are
free, the next busy people to finish leave instead of taking new work. A rise
while departures are owed cancels them first, so the pool's counts are
exactly the vectorized engine's. A staffed task works at the pace of the shift
on duty when it starts (:attr:`drsim.plan.Plan.paces`); a page takes the time to acknowledge
of the shift on duty when it fires (:attr:`drsim.plan.Task.on_duty`). A call-in (a task with ``adds_role``) changes
capacity the same way at its finish, a per-replicate instant: the people called
in arrive and stay for the rest of the incident. They arrive as the call-in
finishes, with the other finishes of the instant: before its cancel checks and
its dispatch (a cancel check never reads capacity, and an arrival never reads a
check, so only "before the dispatch" matters; the vectorized engine keeps the
same order). Person numbers only label timelines. The
process stops once nothing else is scheduled and no task waits for a person.

The replay records a timeline: what happened, when, who did it, to which service.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.events import EventPriority

from ..model.units import write_duration
from ..plan import ANY, Plan, Task
from ..plan.roster import ShiftChange
from .draws import Draws, duty_column, failed_attempts, on_duty_at, task_durations
from .finish import FinishTimes
from .handover import hand_over, work_share

#: SimPy processes NORMAL (1) and URGENT (0) events of one instant before this: a task's
#: ``cancel_if`` check, after every finish of the instant that needs nobody dispatched.
CANCEL_PRIORITY = EventPriority(2)
#: Staff pools hand out people after every other event of one instant, cancel checks included.
DISPATCH_PRIORITY = EventPriority(3)


def story_order(e: TimelineEvent) -> tuple[float, int]:
    """The order a timeline reads in: by time; at one instant the fault, then acknowledgements, then what
    finished or happened, then what starts (after what let it start: a decision before the failover it
    orders, a failed attempt before the alternate path)."""
    return (e.time, 0 if e.kind == "fault" else 1 if e.kind == "ack" else 3 if e.phase == "start" else 2)


@dataclass(frozen=True)
class TimelineEvent:
    """One line of a replay's story."""

    time: float  # seconds after the drill starts
    actor: str  # a person ("dba#1"), "automation", "monitoring" or "facilitator"
    service: str | None
    event: str
    kind: str  # fault, detect, page, ack, triage, declare, step, validate, restored, handover (a roster
    # change), hand-off (a running task handed to the incoming shift), failure, ...
    phase: str = "finish"  # start | finish | instant


class StaffPool:
    """The people of one role on duty: a capacity-limited, first-come-first-served pool."""

    def __init__(
        self, env: simpy.Environment, role: str, capacity: int, spans: list[tuple[float, str | None]] | None = None
    ):
        self.env, self.role = env, role
        self.free = list(range(capacity))
        self.waiting: list[tuple[tuple[int, float, int], simpy.Event, int]] = []
        self._pending = False
        self.owed = 0  # busy people who leave when they finish their task
        self._next = capacity  # the number the next arrival gets
        # labels only (no number depends on them): the shift instance each person belongs to
        self.spans = spans or [(0.0, None)]
        self._times = [t for t, _ in self.spans]
        self._of: dict[int, tuple[int, int]] = {}  # person -> (shift instance, or -1 called in; number in it)
        self._counts: dict[int, int] = {}
        for p in range(capacity):
            self._join(p, 0)

    def _instance(self) -> int:
        """The shift instance on duty now (an index into ``spans``)."""
        return bisect.bisect_right(self._times, self.env.now) - 1

    def _join(self, person: int, instance: int) -> None:
        """``person`` becomes the next person of ``instance`` (-1: the people called in)."""
        self._counts[instance] = self._counts.get(instance, 0) + 1
        self._of[person] = (instance, self._counts[instance])

    def label(self, person: int) -> str:
        """How a timeline names ``person``: ``dba#2@day``, ``dba#1@called-in`` (``dba#3`` with no shift name)."""
        instance, k = self._of.get(person, (0, person + 1))
        name = "called-in" if instance < 0 else self.spans[instance][1]
        return f"{self.role}#{k}@{name}" if name else f"{self.role}#{k}"

    def on_shift_now(self, person: int) -> None:
        """``person`` takes work now: one of the rostered people left from an earlier shift is, from now, a
        person of the shift on duty (whoever took their place); called-in people stay called in."""
        now = self._instance()
        instance, k = self._of.get(person, (now, 0))
        if instance >= 0 and instance != now and self.spans[now][1] is not None:
            self._join(person, now)
        elif k == 0:  # arrived, not yet numbered: the first to take work is the first of their shift
            self._join(person, instance)

    def change(self, delta: int, called_in: bool = False) -> None:
        """Capacity changes by ``delta``: arrivals are free now; departures leave free or when done.

        ``called_in``: the arrivals are people called in (labels only)."""
        if delta > 0:
            stay = min(delta, self.owed)
            self.owed -= stay
            for _ in range(delta - stay):
                heapq.heappush(self.free, self._next)
                self._of[self._next] = (-1 if called_in else self._instance(), 0)  # numbered when they take work
                self._next += 1
            self._schedule_dispatch()
        else:
            leave = min(-delta, len(self.free))
            for _ in range(leave):
                heapq.heappop(self.free)
            self.owed += -delta - leave

    def request(self, key: tuple[int, float, int], people: int = 1) -> simpy.Event:
        """An event that succeeds with the numbers of ``people`` persons once that many are free for this task.

        ``key`` is (priority class, ready time, task index): the smallest key goes first, and a task
        needing several people at once holds the queue until they are free (nobody overtakes it).
        """
        ev = self.env.event()
        heapq.heappush(self.waiting, (key, ev, people))
        self._schedule_dispatch()
        return ev

    def relieve(self) -> int:
        """A person of the incoming shift takes over a running task: their number (the one who leaves is gone)."""
        self._join(self._next, self._instance())
        self._next += 1
        return self._next - 1

    def release(self, person: int) -> None:
        """``person`` finished their task: free for the next one, or gone if their shift is over."""
        if self.owed > 0:
            self.owed -= 1  # their shift is over: they leave instead of taking new work
            return
        heapq.heappush(self.free, person)
        self._schedule_dispatch()

    def _schedule_dispatch(self) -> None:
        """Hand out people at this instant, after every other event of it (once, however often asked)."""
        if self._pending:
            return
        self._pending = True
        ev = simpy.Event(self.env)
        ev._ok, ev._value = True, None
        ev.callbacks.append(self._dispatch)
        self.env.schedule(ev, DISPATCH_PRIORITY)

    def _dispatch(self, _event: simpy.Event) -> None:
        """Free people take waiting tasks, smallest (class, ready time, index) first."""
        self._pending = False
        while self.waiting and len(self.free) >= self.waiting[0][2]:
            _, ev, people = heapq.heappop(self.waiting)
            taken = [heapq.heappop(self.free) for _ in range(people)]
            for p in taken:
                self.on_shift_now(p)
            ev.succeed(taken)


@dataclass
class Running:
    """A staffed task of a role that hands work over, while it runs: what a shift change reads and changes."""

    start: float
    finish: float  # when it is due to end
    share: float  # of the time left, the part that is people's work
    ratio: float  # the pace ratio that work goes at
    people: list[int]
    process: simpy.Process | None = None


class Handovers:
    """Where a replay hands running tasks to an incoming shift (:attr:`drsim.plan.Plan.shift_changes`).

    A staffed task of a role that hands work over runs through :meth:`work`, which registers it while it
    runs; at a shift change :meth:`shift_change` hands the eligible ones over and moves their finish.
    """

    def __init__(self, env: simpy.Environment, plan: Plan, pools: dict[str, StaffPool]):
        self.env, self.plan, self.pools = env, plan, pools
        self.running: dict[str, dict[int, Running]] = {c.role: {} for c in plan.shift_changes}
        self.processes: dict[int, simpy.Process] = {}
        self.done_by: dict[int, str] = {}  # who finished a task handed over
        self.handed: dict[int, list[tuple[float, str]]] = {}  # each hand-over of a task: when, to whom
        self.lines: list[TimelineEvent] = []

    def hands_over(self, task: Task) -> bool:
        """Whether ``task`` is of a role whose running work a shift change hands over."""
        return task.role in self.running

    def work(self, task: Task, dur: float, share: float, ratio: float, people: list[int]):
        """A SimPy process step: ``task`` works ``dur`` (``share`` of it people's work at pace ``ratio``), or longer
        or shorter if it is handed over."""
        env = self.env
        run = self.running[task.role or ""][task.index] = Running(env.now, env.now + dur, share, ratio, people)
        run.process = self.processes[task.index]
        left = dur
        while True:
            try:
                yield env.timeout(left)
                break
            except simpy.Interrupt as handed:  # handed to the incoming shift: this much left from now
                left = handed.cause if handed.cause is not None else left
        del self.running[task.role or ""][task.index]

    def shift_change(self, c: ShiftChange) -> None:
        """Shift change ``c``: running tasks with more left than the handover go to the incoming shift, in task
        order while its headcount lasts."""
        now, cap = self.env.now, c.headcount
        for i, r in sorted(self.running[c.role].items()):
            if r.start < now < r.finish < np.inf and r.finish - now > c.cost and len(r.people) <= cap:
                cap -= len(r.people)
                left, r.share = hand_over(now, r.finish, c.cost, r.share, r.ratio, c.ratio)
                r.ratio, r.finish = c.ratio, now + left
                pool = self.pools[c.role]
                outgoing = "+".join(pool.label(p) for p in r.people)
                r.people[:] = [pool.relieve() for _ in r.people]
                self.done_by[i] = "+".join(pool.label(p) for p in r.people)
                self.handed.setdefault(i, []).append((now, self.done_by[i]))
                t = self.plan.tasks[i]
                how = f"{self.done_by[i]} ({write_duration(c.cost)} handover)"
                self.lines.append(
                    TimelineEvent(now, outgoing, t.service, f"hands over {t.label} to {how}", "hand-off", "instant")
                )
                assert r.process is not None
                r.process.interrupt(left)


@dataclass
class Replay:
    """One replicate replayed event by event: when each task started and finished, who did it, and the story.

    Attributes
    ----------
    start, finish : numpy.ndarray
        Start and finish time of each task (seconds after the drill starts, ``inf`` for never).
    timeline : list of TimelineEvent
        What happened, in order.
    actors : dict
        The person (``"dba#1"``) who did each staffed task that started, and who acknowledged
        each page (:func:`paged_people`), by task index.
    events_processed : int
        SimPy events processed.
    """

    start: np.ndarray
    finish: np.ndarray
    timeline: list[TimelineEvent]
    actors: dict[int, str]
    events_processed: int
    #: Tasks handed to an incoming shift while they ran: each hand-over's time and the person it went to.
    handed: dict[int, list[tuple[float, str]]] = field(default_factory=dict)

    @property
    def times(self) -> FinishTimes:
        """The replay's task times as a batch of one replicate, as the outcomes read them."""
        return FinishTimes.of_every_task(self.finish[None, :], self.start[None, :], self.events_processed)


def replay(plan: Plan, draws: Draws, replicate: int = 0, durations: np.ndarray | None = None) -> Replay:
    """Execute replicate ``replicate`` of ``draws`` event by event."""
    one = draws.replicate(replicate)
    D = task_durations(plan, one)[0] if durations is None else durations
    env = simpy.Environment()
    pools = {role: StaffPool(env, role, cap, plan.shift_spans.get(role)) for role, cap in plan.capacity.items()}
    done = [env.event() for _ in plan.tasks]
    n = len(plan.tasks)
    start = np.full(n, np.inf)
    finish = np.full(n, np.inf)
    actors: dict[int, str] = {}
    timeline: list[TimelineEvent] = []
    paces: dict[str, tuple[list[float], list[float]]] = {}
    desk = Handovers(env, plan, pools)
    for p in plan.paces:
        times, ratios = paces.setdefault(p.role, ([], []))
        times.append(p.time)
        ratios.append(p.ratio)

    def run(task):
        if task.preds:
            evs = [done[p] for p in task.preds]
            yield (simpy.AnyOf(env, evs) if task.join == ANY else simpy.AllOf(env, evs))
        ready = env.now
        people: list[int] = []
        if task.role is not None:
            people = yield pools[task.role].request((task.priority, ready, task.index), task.people)
            actors[task.index] = "+".join(pools[task.role].label(p) for p in people)
        dur = D[task.index]
        if task.on_duty and (j := on_duty_at(task, env.now)) >= 0 and not task.on_duty[j].starting:
            dur = duty_column(task, task.on_duty[j], one)[0]  # a page reaches the shift on duty now
        if task.elapsed_from >= 0:
            dur = dur + task.elapsed_coef * (finish[task.elapsed_to] - finish[task.elapsed_from])
        unpaced, ratio = dur, 1.0
        if task.role is not None and task.role in paces and np.isfinite(dur):
            times, ratios = paces[task.role]
            k = bisect.bisect_right(times, env.now)
            if k > 0:
                ratio = ratios[k - 1]
            if ratio != 1.0:  # the pace of the shift on duty now, over the compiled one
                dur = dur + (D[task.index] - task.offset) * (ratio - 1.0)
        if task.skip_if >= 0 and finish[task.skip_if] <= env.now:
            dur = 0.0
        start[task.index] = env.now
        if (task.role is not None or task.kind in ("step", "validate", "reconcile")) and dur > 0:
            timeline.append(
                TimelineEvent(
                    env.now, actors.get(task.index, "automation"), task.service, task.label, task.kind, "start"
                )
            )
        if not np.isfinite(dur):
            return  # never finishes (no clean backup, a fault that never clears)
        if desk.hands_over(task) and dur > 0:
            yield from desk.work(task, dur, work_share(dur, unpaced, task.offset, D[task.index]), ratio, people)
        else:
            yield env.timeout(dur)
        if task.cancel_if >= 0:
            yield _after_finishes(env)
            if finish[task.cancel_if] <= env.now:
                return  # cancelled: the named task finished first
        finish[task.index] = env.now
        for p in people:
            pools[task.role].release(p)
        if task.adds_role is not None:
            pools[task.adds_role].change(
                task.adds_count, called_in=True
            )  # called in: they join for the rest of the incident
        done[task.index].succeed()

    handovers: list[TimelineEvent] = []

    def roster():
        changes = sorted([*plan.handovers, *plan.shift_changes], key=lambda h: h.time)  # stable: capacity first
        for h in changes:
            if env.peek() == np.inf and not any(p.waiting for p in pools.values()):
                return  # nothing will happen again: no finish to come, nobody waiting for a person
            yield env.timeout(h.time - env.now)
            if env.now != h.time:  # pragma: no cover - offsets are whole seconds
                raise AssertionError(f"roster change at {h.time} fired at {env.now}")
            if isinstance(h, ShiftChange):
                desk.shift_change(h)
                continue
            pools[h.role].change(h.headcount - h.previous)
            handovers.append(TimelineEvent(env.now, h.role, None, h.text, "handover", "instant"))

    for t in plan.tasks:
        desk.processes[t.index] = env.process(run(t))
    if plan.handovers or plan.shift_changes:
        env.process(roster())
    count = 0
    while True:
        try:
            env.step()
            count += 1
        except simpy.core.EmptySchedule:
            break
    actors.update(paged_people(plan, start, finish))
    finishers = {**actors, **desk.done_by}  # a task handed over is finished by the person it went to
    tries, failed = attempt_lines(plan, draws.replicate(replicate), D, start, finish, finishers)
    timeline.extend(tries)
    timeline.extend(finish_lines(plan, start, finish, finishers, failed))
    finite = finish[np.isfinite(finish)]
    end = finite.max() if finite.size else 0.0
    timeline.extend(h for h in handovers if h.time < end)  # those before the incident ends
    timeline.extend(desk.lines)
    timeline.sort(key=story_order)
    return Replay(start, finish, timeline, actors, count, desk.handed)


def attempt_lines(
    plan: Plan, one: Draws, D: np.ndarray, start: np.ndarray, finish: np.ndarray, finishers: dict[int, str]
) -> tuple[list[TimelineEvent], dict[int, str]]:
    """The failed attempts of steps that can fail, for the timeline; and the finish line of each step whose
    every attempt failed.

    A step's attempts follow one another, the same person throughout: each failed attempt that is retried
    is a line where it ends, placed in proportion to the attempts' drawn durations within the step's span
    (exact unless a handover or a data transfer changed how the span was spent).
    """
    lines: list[TimelineEvent] = []
    failed: dict[int, str] = {}
    for t in plan.tasks:
        a = t.attempts
        s, f = float(start[t.index]), float(finish[t.index])
        if a is None or not np.isfinite(s):
            continue
        k = int(failed_attempts(t, one)[0])
        made = min(k, a.limit)
        retry = a.retry if a.retry is not None else t.duration
        durs = [
            float(retry.ppf(np.zeros(1))[0] if retry.is_fixed else one[t.retry_element(j)][0])
            for j in range(1, made + 1)
        ]
        total = float(D[t.index])
        cum = total - sum(durs)  # the first attempt
        who = finishers.get(t.index, "automation")
        for j in range(1, made + 1):
            at = s + (f - s) * (cum / total) if np.isfinite(f) and total > 0 else s
            text = f"{t.label}: attempt {j} failed - trying again (retry {j} of {a.limit})"
            lines.append(TimelineEvent(at, who, t.service, text, "failure", "instant"))
            cum += durs[j - 1]
        if k > a.limit:
            failed[t.index] = f"{t.label} - attempt {made + 1} failed: no retries left"
    return lines, failed


def finish_lines(
    plan: Plan, start: np.ndarray, finish: np.ndarray, finishers: dict[int, str], failed: dict[int, str] | None = None
) -> list[TimelineEvent]:
    """The timeline lines of tasks finishing, worded by kind (``finishers``: who finished each staffed task;
    ``failed``: the line of a step whose every attempt failed).

    Acknowledgements are told with their pages and bookkeeping marks not at all; a restart the service no
    longer needed is left out; a decider who answers after the deputy was paged is told as leaving the
    decision to the deputy.
    """
    out: list[TimelineEvent] = []
    restored_at = {o.service: finish[o.restored_task] for o in plan.outages.values()}
    for t in plan.tasks:
        if (
            not np.isfinite(finish[t.index])
            or t.kind == "ack"
            or (t.kind == "milestone" and (t.join == ANY or not t.label))
        ):
            continue
        if t.kind == "declare" and t.skip_if >= 0 and finish[t.skip_if] <= start[t.index]:
            deputy = plan.drill.response.declare.deputy
            text = f"answers late: the decision is the deputy's ({deputy.role if deputy else 'deputy'})"
            out.append(
                TimelineEvent(finish[t.index], finishers.get(t.index, "-"), t.service, text, "deputy", "instant")
            )
            continue
        if (
            t.kind == "step"
            and t.key.endswith(":restart")
            and t.service is not None
            and finish[t.index] > restored_at.get(t.service, np.inf)
        ):
            continue  # the service was already back by another path
        if failed and t.index in failed:
            who = finishers.get(t.index, "automation")
            out.append(TimelineEvent(finish[t.index], who, t.service, failed[t.index], "failure", "finish"))
            continue
        out.append(_finish_event(plan, t, finish[t.index], finishers))
    return out


def _after_finishes(env: simpy.Environment) -> simpy.Event:
    """An event at this instant, after every finish of it and before the staff pools' dispatch."""
    ev = simpy.Event(env)
    ev._ok, ev._value = True, None
    env.schedule(ev, CANCEL_PRIORITY)
    return ev


def paged_people(plan: Plan, start: np.ndarray, finish: np.ndarray) -> dict[int, str]:
    """The person who acknowledges each page, numbered by shift in the order they acknowledge (``dba#1@night``).

    Everyone of a role on shift is paged at once, and the first to acknowledge is the first
    free person (``role#1@shift``) to take the role's first task — so the one shown acknowledging
    first is the one shown triaging. A page is answered by the shift on duty when it fires, and
    people are numbered within their shift. A person paged more than once in one shift (an
    escalation policy paging their level again, key ``role#k@level``) is one person, ranked by
    their first acknowledgement. People who never acknowledge come last, by task index. A page
    nobody answers (fired while the shift on duty has fewer people than its number) reached
    nobody: it names no one.
    """
    people: dict[tuple[str, int], dict[str, list[Task]]] = {}
    for t in plan.tasks:
        if t.kind == "page" and not (np.isfinite(start[t.index]) and np.isinf(finish[t.index])):
            person = t.key.split(":", 1)[1].split("@")[0]
            role = person.split("#")[0]
            spans = plan.shift_spans.get(role, [(0.0, None)])
            fired = float(start[t.index]) if np.isfinite(start[t.index]) else 0.0
            instance = bisect.bisect_right([x for x, _ in spans], fired) - 1
            people.setdefault((role, instance), {}).setdefault(person, []).append(t)
    out: dict[int, str] = {}
    for (role, instance), by_person in people.items():
        name = plan.shift_spans.get(role, [(0.0, None)])[instance][1]
        ranked = sorted(by_person.values(), key=lambda ts: min((float(finish[t.index]), t.index) for t in ts))
        for rank, tasks in enumerate(ranked):
            for t in tasks:
                out[t.index] = f"{role}#{rank + 1}@{name}" if name else f"{role}#{rank + 1}"
    return out


def _finish_event(plan: Plan, t: Task, time: float, actors: dict[int, str]) -> TimelineEvent:
    """The timeline line for task ``t`` finishing at ``time``, worded by its kind."""
    kind = t.kind
    if kind == "page":
        who = actors.get(t.index, t.key.split(":", 1)[1])
        return TimelineEvent(time, who, None, f"{who} acknowledges the page", "ack", "instant")
    if kind == "fault":
        return TimelineEvent(time, "-", None, t.label, "fault", "instant")
    if kind == "detect":
        return TimelineEvent(time, "monitoring", None, t.label, "detect", "instant")
    if kind == "fault-end":
        return TimelineEvent(time, "-", None, t.label, "fault-end", "instant")
    if kind == "call-in":  # "call-in:dba:arrive", "external:ir-retainer": the role called
        return TimelineEvent(time, t.key.split(":")[1], None, t.label, "call-in", "instant")
    if kind in ("escalation", "deputy"):
        return TimelineEvent(time, "paging", None, t.label, kind, "instant")
    if kind == "trigger":
        return TimelineEvent(time, "policy", None, t.label, kind, "instant")
    label = {
        "triage": f"{t.label} - done",
        "declare": f"{t.label} - decided",
    }.get(kind, t.label if kind in ("restored", "milestone", "ack", "escalate") else f"{t.label} - done")
    return TimelineEvent(time, actors.get(t.index, "automation"), t.service, label, kind, "finish")


def run_many(plan: Plan, draws: Draws) -> FinishTimes:
    """Start and finish times of every task in every replicate of ``draws`` (one SimPy run each)."""
    D = task_durations(plan, draws)
    n = draws.n
    start = np.empty((n, len(plan.tasks)))
    finish = np.empty((n, len(plan.tasks)))
    events = 0
    for r in range(n):
        rep = replay(plan, draws, r, durations=D[r])
        start[r], finish[r] = rep.start, rep.finish
        events += rep.events_processed
    return FinishTimes.of_every_task(finish, start, events)
