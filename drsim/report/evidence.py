"""What the table knew at a moment, and where a service's outage went.

A replay records when every task of the plan started and finished. Two
readings of that record serve a tabletop facilitator:

* **the state of play** at a clock time: which alerts had fired, who had
  acknowledged, who was busy with what, which services were back and which
  were still down (and for how long, against their target), which interface
  buffers were filling. It is the evidence a decision-maker had at that
  moment, and what the room should "know" when an inject is read out;
* **the critical path** behind one service's restoration: walking back from
  "restored" through the predecessor that made each task ready (the last to
  finish for a task that waits for all, the first for one that waits for
  any), every second of the outage is accounted to one phase — detection,
  acknowledging the page, triage, the decision, break-glass access, waiting
  for a free person, runbook work, another service, or the fault clearing.
  The phases add up to the achieved RTO exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..engine.finish import FinishTimes
from ..engine.outcomes import outage_window, queue_flows, stays_up
from ..plan import ANY, Plan, Task

# ------------------------------------------------------------------ state of play


@dataclass(frozen=True)
class Down:
    """A service still down at a moment."""

    service: str
    tier: str
    since: float
    target: float

    def down_for(self, t: float) -> float:
        return t - self.since


@dataclass(frozen=True)
class Busy:
    """A person working on a task at a moment."""

    actor: str
    task: str
    since: float


@dataclass(frozen=True)
class Backlog:
    """An interface queue filling while its consumer is down."""

    queue: str
    consumer: str
    messages: float
    buffer: int
    dropping: bool


@dataclass
class State:
    """The state of play at ``time`` seconds after the drill starts."""

    time: float
    alerts: list[tuple[float, str]] = field(default_factory=list)
    acknowledged: list[tuple[float, str]] = field(default_factory=list)
    awaiting_ack: list[str] = field(default_factory=list)
    busy: list[Busy] = field(default_factory=list)
    done: list[tuple[float, str]] = field(default_factory=list)
    restored: list[tuple[float, str]] = field(default_factory=list)
    down: list[Down] = field(default_factory=list)
    backlogs: list[Backlog] = field(default_factory=list)
    workflows_on_paper: list[tuple[str, float, float]] = field(default_factory=list)  # name, for, tolerance
    declared: float | None = None
    #: Roster changes so far (before the incident ended): time, role, what changed.
    handovers: list[tuple[float, str, str]] = field(default_factory=list)
    #: People called in (or external responders) who have arrived: time, what arrived.
    called_in: list[tuple[float, str]] = field(default_factory=list)
    #: Roles called in, not arrived yet: when the call went out, the role.
    on_the_way: list[tuple[float, str]] = field(default_factory=list)


def ready_time(plan: Plan, finish: np.ndarray, task: Task) -> float:
    """When ``task`` could start: its join over predecessors satisfied (0 for none)."""
    if not task.preds:
        return 0.0
    vals = [float(finish[p]) for p in task.preds]
    return min(vals) if task.join == ANY else max(vals)


def _called_at(plan: Plan, finish: np.ndarray, arrival: Task) -> float:
    """When the call behind a call-in's ``arrival`` went out: the start of its chain (answer, then travel)."""
    first = plan.tasks[arrival.preds[0]] if arrival.preds else arrival
    return ready_time(plan, finish, first if first.kind == "call-in" else arrival)


def state_at(plan: Plan, start: np.ndarray, finish: np.ndarray, actors: dict[int, str], t: float) -> State:
    """The state of play at ``t``: what had happened by then and what had not.

    Events at exactly ``t`` count as known (a decision taken at ``t`` saw the
    alert that fired at ``t``).
    """
    st = State(time=t)
    eps = 1e-9
    for task in plan.tasks:
        f, s = float(finish[task.index]), float(start[task.index])
        if task.kind == "detect" and f <= t + eps:
            st.alerts.append((f, task.label.removeprefix("alert: ")))
        elif task.kind == "page":
            who = actors.get(task.index, task.key.split(":", 1)[1])
            if f <= t + eps:
                st.acknowledged.append((f, who))
            elif ready_time(plan, finish, task) <= t + eps:
                st.awaiting_ack.append(who)
        elif task.kind == "call-in" and task.adds_role is not None:
            if f <= t + eps:
                st.called_in.append((f, task.label))
            elif (called := _called_at(plan, finish, task)) <= t + eps:
                st.on_the_way.append((called, task.adds_role))
        elif task.role is not None and s <= t + eps < f:
            st.busy.append(Busy(actors.get(task.index, task.role), task.label, s))
        elif task.kind in ("step", "validate", "reconcile", "triage", "break-glass", "communicate") and f <= t + eps:
            st.done.append((f, task.label))
        if task.kind == "declare" and f <= t + eps:
            st.declared = f
    finite = finish[np.isfinite(finish)]
    end = float(finite.max()) if finite.size else 0.0
    st.handovers = [(h.time, h.role, h.text) for h in plan.handovers if h.time <= t + eps and h.time < end]
    times = FinishTimes(np.asarray(finish, dtype=np.float64)[None, :], np.arange(len(plan.tasks)), len(plan.tasks))
    for name, o in plan.outages.items():
        if stays_up(plan, name):
            continue
        # down while no side serves it (a cutover's new system serves until the freeze)
        down_at, up_at = (float(x[0]) for x in outage_window(plan, name, times))
        if up_at <= t + eps:
            st.restored.append((up_at, name))
        elif down_at <= t + eps:
            st.down.append(Down(name, o.tier, down_at, plan.topology.tiers[o.tier].rto))
    for qname, flow in queue_flows(plan, times, until=t).items():
        q = plan.topology.queues[qname]
        consumer = plan.outages[q.consumer]
        down_at, up_at = float(finish[consumer.down_task]), float(finish[consumer.restored_task])
        if down_at <= t < up_at:
            backlog, dropped = float(flow.backlog[0]), float(flow.dropped[0])
            st.backlogs.append(Backlog(qname, q.consumer, backlog, q.buffer, dropped > 0))
    down_names = {d.service: d for d in st.down}
    for wname, w in plan.topology.workflows.items():
        # on paper while a plain need is down or a dependency group has too few members up
        short = any(len(g.members()) - sum(m in down_names for m in g.members()) < g.needed() for g in w.groups())
        if short or any(s in down_names for s in w.needs_all()):
            since = min(float(finish[plan.outages[s].down_task]) for s in w.service_names() if s in plan.outages)
            st.workflows_on_paper.append((wname, t - since, w.tolerance))
    st.alerts.sort()
    st.acknowledged.sort()
    st.done.sort()
    st.restored.sort()
    st.down.sort(key=lambda d: (plan.topology.tiers[d.tier].rto, d.service))
    return st


# ------------------------------------------------------------------ critical path


@dataclass(frozen=True)
class Segment:
    """One task on a critical path: when it became ready, started and finished."""

    task: Task
    ready: float
    start: float
    finish: float


def critical_path(plan: Plan, start: np.ndarray, finish: np.ndarray, index: int) -> list[Segment]:
    """The chain of tasks that decided when task ``index`` finished, earliest first.

    From each task the walk steps to the predecessor that made it ready: the
    last to finish when it waits for all of them, the first when it waits for
    any. Ties go to a service's own recovery over a dependency restored at
    the same instant, then to the predecessor compiled last (further along
    the plan).
    """
    out: list[Segment] = []
    i = index
    seen: set[int] = set()
    while i not in seen:
        seen.add(i)
        task = plan.tasks[i]
        r = ready_time(plan, finish, task)
        out.append(Segment(task, r, float(start[i]), float(finish[i])))
        if not task.preds:
            break
        if task.join == ANY:
            i = min(task.preds, key=lambda p: (finish[p], -p))
        else:
            i = max(task.preds, key=lambda p: _critical_key(plan, finish, p))
    out.reverse()
    return out


def _critical_key(plan: Plan, finish: np.ndarray, p: int):
    return (finish[p], plan.tasks[p].kind != "restored", p)


def root_service(plan: Plan, finish: np.ndarray, service: str) -> str:
    """The service whose own recovery decided when ``service`` came back.

    That is ``service`` itself, unless the last thing it waited for was a
    service it depends on — then that service's root, and so on.
    """
    seen: set[str] = set()
    s = service
    while s not in seen:
        seen.add(s)
        task = plan.tasks[plan.outages[s].restored_task]
        if not task.preds:
            break
        crit = plan.tasks[max(task.preds, key=lambda p: _critical_key(plan, finish, p))]
        if crit.kind != "restored" or crit.service not in plan.outages or crit.service == s:
            break
        s = crit.service
    return s


#: Phases of an outage, in the order they usually occur.
PHASES = (
    "detection",
    "acknowledging the page",
    "triage",
    "the decision",
    "break-glass access",
    "waiting for a free person",
    "runbook work",
    "automatic failover",
    "recovery of a dependency",
    "the fault clearing",
    "restart in place",
)


@dataclass(frozen=True)
class Breakdown:
    """Where one service's outage went: seconds per phase, adding up to its RTO."""

    service: str
    down: float
    restored: float
    phases: dict[str, float]
    #: (role, seconds) of staff waits on the path, and what the person was busy with.
    waits: list[tuple[str, float, str, str]]
    #: (service waited for, seconds) between its own recovery and that service coming back.
    dependency: tuple[str, float] | None
    #: When the decision its recovery waited for was taken (None if it did not wait for one).
    decided: float | None

    @property
    def rto(self) -> float:
        return self.restored - self.down

    @property
    def before_decision(self) -> float:
        """Seconds of the outage that passed before the decision it waited for."""
        return 0.0 if self.decided is None else max(0.0, min(self.decided, self.restored) - self.down)


def _phase_of(task: Task, service: str) -> str | None:
    kind = task.kind
    if kind == "detect":
        return "detection"
    if kind == "page":
        return "acknowledging the page"
    if kind == "triage":
        return "triage"
    if kind == "declare":
        return "the decision"
    if kind == "break-glass":
        return "break-glass access"
    if kind == "fault-end":
        return "the fault clearing"
    if kind == "step" and task.key.endswith(":restart"):
        return "restart in place"
    if kind == "step" and task.key.endswith(":zone-failover"):
        return "automatic failover"
    if kind in ("step", "validate", "reconcile", "communicate"):
        if task.service is not None and task.service != service:
            return "recovery of a dependency"
        return "runbook work"
    return None


def breakdown(plan: Plan, start: np.ndarray, finish: np.ndarray, actors: dict[int, str], service: str) -> Breakdown:
    """Account every second of ``service``'s outage to a phase of its critical path.

    Only restored services have a breakdown; the time of each segment is
    clipped to the outage window, so the phases add up to the achieved RTO.
    """
    o = plan.outages[service]
    times = FinishTimes(np.asarray(finish, dtype=np.float64)[None, :], np.arange(len(plan.tasks)), len(plan.tasks))
    down_at, up_at = outage_window(plan, service, times)
    down, up = float(down_at[0]), float(up_at[0])
    if stays_up(plan, service):  # a drifting service left up is never down
        down = up
    if not math.isfinite(up):
        raise ValueError(f"{service} was never restored")
    path = critical_path(plan, start, finish, o.restored_task)
    phases = dict.fromkeys(PHASES, 0.0)
    waits: list[tuple[str, float, str, str]] = []

    def clip(a: float, b: float) -> float:
        return max(0.0, min(b, up) - max(a, down))

    for seg in path:
        phase = _phase_of(seg.task, service)
        wait = clip(seg.ready, seg.start)
        work = clip(seg.start, seg.finish)
        if wait > 0:
            phases["waiting for a free person"] += wait
            who = _busy_with(plan, start, finish, actors, seg.task, seg.start)
            waits.append((seg.task.role or "", wait, seg.task.label, who))
        if work > 0:
            if phase is None:  # a milestone never takes time; anything else is runbook work
                phase = "runbook work"
            phases[phase] += work
    dependency = None
    if len(path) >= 2 and path[-2].task.kind == "restored":
        mine = plan.tasks[o.restored_task]
        own_done = max(
            (float(finish[p]) for p in mine.preds if plan.tasks[p].kind != "restored"),
            default=down,
        )
        dependency = (path[-2].task.service or "", up - max(own_done, down))
    decided = next((seg.finish for seg in path if seg.task.kind == "declare"), None)
    kept = {k: v for k, v in phases.items() if v > 0}
    return Breakdown(service, down, up, kept, waits, dependency, decided)


def _busy_with(plan: Plan, start, finish, actors, task: Task, t: float) -> str:
    """The task whose person was released just as ``task`` started (what it waited behind)."""
    best = ""
    for other in plan.tasks:
        if other.role == task.role and other.index != task.index and abs(float(finish[other.index]) - t) < 1e-6:
            best = other.label
            if actors.get(other.index) == actors.get(task.index):
                return best
    return best


#: Why a restore never finished, when the replay's result says no more (see :attr:`ServiceResult.rpo_reason`).
NO_CLEAN_BACKUP = "no clean backup within retention to restore from"


def why_never(plan: Plan, start: np.ndarray, finish: np.ndarray, service: str) -> str:
    """Why ``service`` was never restored in this replay, in a facilitator's words."""
    o = plan.outages[service]
    for task in plan.tasks:
        if task.service != service or math.isfinite(float(finish[task.index])):
            continue
        if task.kind == "never":
            return "no way back: its standby is lost with it and the fault does not clear"
        if task.blocked_by_rpo >= 0 and math.isfinite(float(start[task.index])):
            return NO_CLEAN_BACKUP
    mine = plan.tasks[o.restored_task]
    for p in mine.preds:
        dep = plan.tasks[p]
        if dep.kind == "restored" and not math.isfinite(float(finish[p])):
            return f"it depends on {dep.service}, which never came back"
    for task in plan.tasks:
        if task.role is not None and not math.isfinite(float(start[task.index])) and task.service == service:
            return f"nobody of role {task.role} was free to do '{task.label}'"
    return "its recovery never completed"


@dataclass(frozen=True)
class Cause:
    """The largest avoidable share of one service's outage, and the role that could shorten it.

    ``kind`` is ``decision`` (time before the decision it waited for),
    ``wait`` (a task waiting for a free person), ``dependency`` (its own
    recovery done, waiting for a service it depends on), ``runbook`` (hands-on
    work) or ``fault`` (it came back only when the fault cleared).
    ``what`` names the task or service concerned: the step or task waited for,
    the dependency, the longest runbook step.
    """

    kind: str
    seconds: float
    role: str | None
    what: str = ""
    #: for a wait: what the person was busy with instead
    busy: str = ""


def main_cause(plan: Plan, start: np.ndarray, finish: np.ndarray, b: Breakdown) -> Cause:
    """Where most of ``b``'s outage went that was not plain runbook work (else the runbook work itself).

    The shares weighed are the time before the decision, the longest wait for
    a busy person, waiting for a dependency and the fault itself; the
    hands-on runbook work is named instead when none of those is a quarter of
    the outage and the runbook took longer.
    """
    biggest_wait = max(b.waits, key=lambda w: w[1], default=None)
    shares = [
        ("decision", b.before_decision),
        ("wait", biggest_wait[1] if biggest_wait else 0.0),
        ("dependency", b.dependency[1] if b.dependency else 0.0),
        ("fault", b.phases.get("the fault clearing", 0.0) + b.phases.get("restart in place", 0.0)),
    ]
    kind, secs = max(shares, key=lambda x: x[1])  # the first of equal shares
    path = critical_path(plan, start, finish, plan.outages[b.service].restored_task)
    work = [s for s in path if s.task.kind in ("step", "validate") and s.task.role]
    work = [s for s in work if s.task.service == b.service] or work  # its own steps, if any are on the path
    longest = max(work, key=lambda s: s.finish - s.start, default=None)
    if secs < 0.25 * b.rto and b.phases.get("runbook work", 0.0) > secs:
        role = longest.task.role if longest else None
        return Cause("runbook", b.phases["runbook work"], role, longest.task.label if longest else "")
    if kind == "decision":
        return Cause("decision", secs, plan.drill.response.declare.role)
    if kind == "wait" and biggest_wait is not None:
        role, w, label, busy = biggest_wait
        return Cause("wait", w, role or None, label, busy)
    if kind == "dependency" and b.dependency is not None:
        dep, w = b.dependency
        return Cause("dependency", w, longest.task.role if longest else None, dep)
    return Cause("fault", secs, longest.task.role if longest else None)
