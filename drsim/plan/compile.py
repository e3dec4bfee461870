"""Compiling a topology and a drill into a plan: a DAG of timed tasks.

Everything that takes time in a recovery is a task: the fault itself, the
monitoring alert, each page to each person on shift, triage, escalation, the
decision to fail over, every runbook step, validation, communication, and the
milestones "service restored". A task has a duration distribution, an optional
staff role it occupies while it runs, and the tasks it waits for — all of them
(``join="all"``) or the first (``join="any"``, e.g. the first of several pages
to be acknowledged, or the first of "failover done" and "site came back").

Both engines execute the same plan on the same draws:

* a task becomes *ready* when its join over predecessors is satisfied;
* a task with no role starts when ready;
* a task with a role waits for a free person of that role; free people take
  the waiting task of the most critical class first (incident command and
  tier-0 work, then each less critical tier), first come first served by
  ready time within a class, ties broken by task index (the order tasks are
  compiled in: most critical services first);
* a staffed task with ``skip_if`` takes no time if that task has finished by
  the moment it starts (break-glass access once the identity provider is back);
* at one instant, every finish and every roster change is processed before
  anybody is dispatched.

**Capacity follows the roster.** A role's capacity over the incident is a step
function: at offset ``t`` from the drill start, the headcount of the shift on
duty at clock time ``start + t`` (:func:`shift_on_duty`; 0 when nobody is
rostered). The instants where it changes, up to :data:`ROSTER_HORIZON` after the
start, are compiled into :attr:`Plan.handovers` (the same for every replicate);
only roles some task needs are listed. When capacity rises, the new people are
free at that instant. When it falls, free people leave at once; if too few are
free, the next busy people to finish leave instead of taking new work (tasks
are never interrupted). Only counts matter: a role's free count may go
negative (departures owed), and a rise first cancels owed departures. The
starting shift's ``acknowledge`` and ``pace`` apply to the whole drill, and
pages go to the starting shift only.

Beyond task times, the plan holds what the outcomes need: which services each
fault takes down and how their data-loss (RPO) is formed, the queues, the
workflows and the milestones of the decision-latency breakdown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, Problem
from ..model import Drill, Step, Topology
from ..model.distributions import Distribution, Fixed, Uniform
from ..model.topology import ALL_DAYS

ALL, ANY = "all", "any"

#: How far past the drill start roster changes are compiled (seconds): 60 days.
ROSTER_HORIZON = 60 * 86400.0


@dataclass
class Task:
    """One timed piece of work or milestone in the recovery."""

    index: int
    key: str
    kind: str
    label: str
    duration: Distribution
    role: str | None = None
    preds: list[int] = field(default_factory=list)
    join: str = ALL
    service: str | None = None
    #: Extra seconds added to every draw (a data transfer of known size).
    offset: float = 0.0
    #: Duration grows with elapsed time: ``coef * (finish[elapsed_to] - finish[elapsed_from])``.
    elapsed_from: int = -1
    elapsed_to: int = -1
    elapsed_coef: float = 0.0
    #: The task can never finish in a replicate whose RPO item of this index is infinite.
    blocked_by_rpo: int = -1
    #: Dispatch class when people are scarce: lower goes first (0 = incident command and
    #: the most critical tier); within a class, first come first served.
    priority: int = 0
    #: A staffed task that takes no time if this task has already finished when it starts
    #: (break-glass access is moot once the identity provider is back).
    skip_if: int = -1

    @property
    def element(self) -> str | None:
        """The name of the random element this task's duration draws from (None if fixed)."""
        return None if self.duration.is_fixed else f"task:{self.key}"


@dataclass
class RpoItem:
    """How a service's window of lost writes is formed in a replicate."""

    service: str
    kind: str  # none | sync | lag | backup | corruption | drift | rollback-discard
    elements: tuple[str, ...] = ()
    retention: float = float("inf")
    fault: int = -1
    task_a: int = -1  # drift: detection task; rollback: freeze task
    offset: float = 0.0
    #: When the service came back in place (its site or fault cleared, data intact) before
    #: its failover path finished, nothing was lost: ``inplace`` finished no later than ``failover``.
    inplace: int = -1
    failover: int = -1


@dataclass
class ServiceOutage:
    """A service taken down in this drill, directly or through what it depends on."""

    service: str
    tier: str
    down_task: int  # the task whose finish marks the start of the outage
    restored_task: int
    direct: bool
    cause: str
    rpo: int = -1  # index into Plan.rpo_items, -1 for dependents (no own loss)


@dataclass(frozen=True)
class Handover:
    """A change of a role's capacity at a shift boundary, ``time`` seconds after the drill starts."""

    time: float
    role: str
    shift: str | None  # the shift taking over (None: nobody rostered)
    headcount: int
    previous: int

    @property
    def text(self) -> str:
        if self.shift is None:
            return f"nobody rostered: 0 on duty (was {self.previous})"
        return f"{self.shift} shift takes over: {self.headcount} on duty (was {self.previous})"


@dataclass
class Plan:
    """The compiled drill: tasks, staff pools and everything needed to score a replay."""

    topology: Topology
    drill: Drill
    tasks: list[Task]
    capacity: dict[str, int]
    shift_of: dict[str, str]
    outages: dict[str, ServiceOutage]
    rpo_items: list[RpoItem]
    rpo_elements: dict[str, Distribution]
    fault_tasks: list[int]
    milestones: dict[str, int]
    rollback: tuple[int, int] | None  # (decision task, done task)
    #: Capacity changes over the incident, by time (then role): see the module docstring.
    handovers: list[Handover] = field(default_factory=list)

    # ---- arrays the engines use
    def roles(self) -> list[str]:
        return sorted(self.capacity)

    def elements(self) -> dict[str, Distribution]:
        """Every random element of the drill, by stable name."""
        out: dict[str, Distribution] = {}
        for t in self.tasks:
            if t.element is not None:
                out[t.element] = t.duration
        out.update(self.rpo_elements)
        return out

    def arrays(self) -> PlanArrays:
        return PlanArrays.from_plan(self)

    def task(self, key: str) -> Task:
        for t in self.tasks:
            if t.key == key:
                return t
        raise KeyError(key)


@dataclass
class PlanArrays:
    """The plan as flat integer/float arrays, for compiled kernels."""

    n: int
    pred_ptr: np.ndarray
    pred_idx: np.ndarray
    succ_ptr: np.ndarray
    succ_idx: np.ndarray
    need: np.ndarray
    role: np.ndarray
    capacity: np.ndarray
    elapsed_from: np.ndarray
    elapsed_to: np.ndarray
    elapsed_coef: np.ndarray
    priority: np.ndarray
    skip_if: np.ndarray
    #: Roster changes, ascending by time: the role and its change of capacity (+ arrive, - leave).
    roster_time: np.ndarray
    roster_role: np.ndarray
    roster_delta: np.ndarray

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanArrays:
        roles = plan.roles()
        rix = {r: i for i, r in enumerate(roles)}
        n = len(plan.tasks)
        preds = [t.preds for t in plan.tasks]
        succs: list[list[int]] = [[] for _ in range(n)]
        for t in plan.tasks:
            for p in t.preds:
                succs[p].append(t.index)

        def csr(lists):
            ptr = np.zeros(n + 1, dtype=np.int64)
            ptr[1:] = np.cumsum([len(x) for x in lists])
            idx = np.array([i for x in lists for i in x], dtype=np.int64)
            return ptr, idx

        pp, pi = csr(preds)
        sp, si = csr(succs)
        need = np.array(
            [0 if not t.preds else (len(t.preds) if t.join == ALL else 1) for t in plan.tasks], dtype=np.int64
        )
        return cls(
            n=n,
            pred_ptr=pp,
            pred_idx=pi,
            succ_ptr=sp,
            succ_idx=si,
            need=need,
            role=np.array([rix[t.role] if t.role else -1 for t in plan.tasks], dtype=np.int64),
            capacity=np.array([plan.capacity[r] for r in roles], dtype=np.int64),
            elapsed_from=np.array([t.elapsed_from for t in plan.tasks], dtype=np.int64),
            elapsed_to=np.array([t.elapsed_to for t in plan.tasks], dtype=np.int64),
            elapsed_coef=np.array([t.elapsed_coef for t in plan.tasks], dtype=float),
            priority=np.array([t.priority for t in plan.tasks], dtype=np.int64),
            skip_if=np.array([t.skip_if for t in plan.tasks], dtype=np.int64),
            roster_time=np.array([h.time for h in plan.handovers], dtype=np.float64),
            roster_role=np.array([rix[h.role] for h in plan.handovers], dtype=np.int64),
            roster_delta=np.array([h.headcount - h.previous for h in plan.handovers], dtype=np.int64),
        )


# ------------------------------------------------------------------ compiling

_DAYS = ALL_DAYS


def shift_on_duty(role, when: dt.datetime):
    """The shift of ``role`` covering clock time ``when`` (None if nobody is rostered)."""
    minute = when.hour * 60 + when.minute
    day = _DAYS[when.weekday()]
    prev_day = _DAYS[(when.weekday() - 1) % 7]
    for sh in role.shifts:
        if sh.start < sh.end:
            if day in sh.days and sh.start <= minute < sh.end:
                return sh
        else:  # runs past midnight: the part before midnight belongs to its start day
            if (day in sh.days and minute >= sh.start) or (prev_day in sh.days and minute < sh.end):
                return sh
    return None


def roster_changes(role, name: str, start: dt.datetime, horizon: float = ROSTER_HORIZON) -> list[Handover]:
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


class _Builder:
    def __init__(self, topo: Topology, drill: Drill):
        self.topo, self.drill = topo, drill
        self.tasks: list[Task] = []
        self.keys: dict[str, int] = {}
        self.capacity: dict[str, int] = {}
        self.shift_of: dict[str, str] = {}
        self.pace: dict[str, float] = {}
        self.ack: dict[str, int] = {}
        self.access: dict[str, tuple[int, int, list[str]]] = {}  # role -> (break-glass, access, services)
        self.unavailable: set[str] = set()
        ranks = sorted(topo.tiers, key=lambda name: _tier_rank(topo, name))
        self.tier_rank = {name: i for i, name in enumerate(ranks)}
        self.rpo_items: list[RpoItem] = []
        self.rpo_elements: dict[str, Distribution] = {}
        self.problems: list[Problem] = []

    def add(self, key, kind, label, duration, preds=(), role=None, join=ALL, service=None, **kw) -> int:
        if key in self.keys:
            raise AssertionError(f"duplicate task key {key}")
        if role is not None and self.pace.get(role, 1.0) != 1.0:
            duration = duration.scaled(self.pace[role])
        preds = sorted(set(preds))
        if join == ANY and len(preds) == 1:
            join = ALL
        if service is not None and "priority" not in kw:
            kw["priority"] = self.tier_rank[self.topo.services[service].tier]
        t = Task(len(self.tasks), key, kind, label, duration, role, preds, join, service, **kw)
        self.tasks.append(t)
        self.keys[key] = t.index
        return t.index

    # -- staff
    def roster(self):
        when = self.drill.start
        for name, role in self.topo.staff.items():
            sh = shift_on_duty(role, when)
            self.capacity[name] = sh.headcount if sh else 0
            self.shift_of[name] = sh.name if sh else "off"
            self.pace[name] = sh.pace if sh else 1.0

    def page(self, role: str, after: int, why: str) -> int:
        """Page everyone of ``role`` on shift; the first acknowledgement starts their work."""
        if role in self.ack:
            return self.ack[role]
        sh = shift_on_duty(self.topo.staff[role], self.drill.start)
        n = self.capacity.get(role, 0)
        if n == 0 or sh is None:
            self.problems.append(
                Problem(
                    f"the drill needs role {role!r} ({why}) but nobody is on duty at "
                    f"{self.drill.start:%a %H:%M}; add a shift with a headcount",
                    ("start",),
                )
            )
            return after
        pages = [
            self.add(
                f"page:{role}#{k + 1}",
                "page",
                f"{role}#{k + 1} acknowledges the page",
                sh.acknowledge,
                [after],
                role=None,
            )
            for k in range(n)
        ]
        self.ack[role] = self.add(f"ack:{role}", "ack", f"{role} acknowledged", Fixed(0.0), pages, join=ANY)
        return self.ack[role]

    def ready_for(self, role: str | None, escalation: int) -> list[int]:
        """Tasks a person of ``role`` must have done before working: acknowledge, maybe break glass."""
        if role is None:
            return []
        ack = self.page(role, escalation, "a runbook step")
        self.add_break_glass(role)
        out = [ack]
        if role in self.access:
            out.append(self.access[role][1])
        return out

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
        bg = self.add(
            f"break-glass:{role_name}",
            "break-glass",
            f"{role_name} gets break-glass access ({', '.join(lost)} down)",
            role.break_glass,
            [self.ack[role_name]],
            role=role_name,
        )
        acc = self.add(f"access:{role_name}", "milestone", f"{role_name} has console access", Fixed(0.0), [bg])
        self.access[role_name] = (bg, acc, lost)

    def link_access(self, restored: dict[str, int]) -> None:
        for role_name, (bg, acc, lost) in self.access.items():
            if not all(s in restored for s in lost):
                continue
            back = self.add(
                f"access-restored:{role_name}",
                "milestone",
                f"{', '.join(lost)} back: {role_name} logs in normally",
                Fixed(0.0),
                [restored[s] for s in lost],
            )
            self.tasks[acc].preds = sorted([bg, back])
            self.tasks[acc].join = ANY
            self.tasks[bg].skip_if = back


def compile_plan(topo: Topology, drill: Drill) -> Plan:
    """Compile a validated topology and drill into a :class:`Plan`."""
    b = _Builder(topo, drill)
    b.roster()
    resp = drill.response

    # ---- which services each fault hits, and how
    direct: dict[str, tuple[int, str]] = {}
    for fi, f in enumerate(drill.faults):
        for s_name, s in sorted(topo.services.items()):
            hit = (
                any(topo.region_contains(tg, s.region) for tg in f.targets)
                if f.kind == "region-loss"
                else s_name in f.targets
            )
            if hit and s_name not in direct:
                mode = {
                    "region-loss": "down",
                    "service-outage": "down",
                    "data-corruption": "corrupt",
                    "data-drift": "drift",
                    "cutover-failure": "cutover",
                }[f.kind]
                direct[s_name] = (fi, mode)
    down_like = {s for s, (_, m) in direct.items() if m != "drift"}
    dependents: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s_name, s in sorted(topo.services.items()):
            if s_name in direct or s_name in dependents:
                continue
            if any(d in down_like or d in dependents for d in s.depends_on):
                dependents.add(s_name)
                changed = True
    unavailable = down_like | dependents
    b.unavailable = unavailable

    # ---- fault, detection, paging, triage, escalation, decision
    fault_tasks, detect_tasks = [], []
    for fi, f in enumerate(drill.faults):
        what = ", ".join(f.targets)
        ft = b.add(f"fault:{fi}", "fault", f"{f.kind} strikes {what}", Fixed(f.at))
        fault_tasks.append(ft)
        detect = f.detect if f.detect is not None else drill.detection.delay
        detect_tasks.append(b.add(f"detect:{fi}", "detect", f"alert: {f.kind} on {what} detected", detect, [ft]))
    detected = b.add("detected", "milestone", "incident detected", Fixed(0.0), detect_tasks, join=ANY)

    # the first role paged is the first response (a drill pages at least one role)
    acks = [b.page(r, detected, "first response") for r in resp.page]
    first_ack = acks[0]

    for r in resp.page:
        b.add_break_glass(r)
    tri = resp.triage
    triage = b.add(
        "triage",
        "triage",
        tri.name or "triage: confirm scope and impact",
        tri.duration,
        [detected, *b.ready_for(tri.role, detected)],
        role=tri.role,
    )
    escalated = b.add("escalate", "escalate", "major incident: escalate", Fixed(0.0), [triage])
    for r in resp.escalate:
        b.page(r, escalated, "escalation")
        b.add_break_glass(r)

    def ready(role):
        if role is not None and role not in b.ack:
            b.page(role, escalated, "a runbook step")
        return b.ready_for(role, escalated)

    dec = resp.declare
    is_rollback = any(f.kind == "cutover-failure" for f in drill.faults)
    declare = b.add(
        "declare",
        "declare",
        dec.name or ("decision: roll back the cutover" if is_rollback else "decision: declare disaster, fail over"),
        dec.duration,
        [triage, *ready(dec.role)],
        role=dec.role,
    )
    if resp.communicate is not None:
        c = resp.communicate
        b.add(
            "communicate",
            "communicate",
            c.name or "tell wards: switch to downtime procedures",
            c.duration,
            [triage, *ready(c.role)],
            role=c.role,
        )

    # ---- per-service recovery
    fault_end: dict[int, int] = {}

    def end_of(fi: int) -> int | None:
        f = drill.faults[fi]
        if f.duration is None:
            return None
        if fi not in fault_end:
            fault_end[fi] = b.add(
                f"fault-end:{fi}",
                "fault-end",
                f"{f.kind} on {', '.join(f.targets)} clears",
                f.duration,
                [fault_tasks[fi]],
            )
        return fault_end[fi]

    def runbook(prefix: str, service: str, steps: list[Step], trigger: list[int], rpo: int = -1) -> int:
        prev = trigger
        last = trigger[0]
        for i, st in enumerate(steps):
            dur = st.duration if st.duration is not None else Fixed(0.0)
            offset = 0.0
            blocked = -1
            if st.restore:
                d = topo.services[service].data
                if d is None or d.size is None or d.restore_throughput is None:
                    b.problems.append(
                        Problem(
                            f"step {st.name!r} restores data but service {service!r} has no "
                            "data.size and data.restore_throughput",
                            ("faults",),
                        )
                    )
                else:
                    offset = d.size / d.restore_throughput
                blocked = rpo
            last = b.add(
                f"{prefix}:{i}:{st.name}",
                "step",
                f"{service}: {st.name}",
                dur,
                [*prev, *ready(st.role)],
                role=st.role,
                service=service,
                offset=offset,
                blocked_by_rpo=blocked,
            )
            prev = [last]
        return last

    def unscorable(s_name: str, fi: int, message: str) -> int:
        # A drill model handed to the API unchecked (check_drill and check_topology report
        # these too): a problem, and a placeholder item so compiling goes on to find the rest.
        b.problems.append(Problem(message, ("faults", fi)))
        b.rpo_items.append(RpoItem(s_name, "none", (), fault=fi))
        return len(b.rpo_items) - 1

    def rpo_item(s_name: str, fi: int, mode: str) -> int:
        s = topo.services[s_name]
        f = drill.faults[fi]
        d = s.data
        item: RpoItem
        if mode == "corrupt":
            if d is None or d.backup_interval is None:
                return unscorable(
                    s_name, fi, f"service {s_name!r} cannot be rebuilt from backup: it has no data.backup_interval"
                )
            dwell_key = f"fault:{fi}:dwell"
            if f.dwell is not None:
                b.rpo_elements.setdefault(dwell_key, f.dwell)
            age_key = f"data:{s_name}:backup-age"
            b.rpo_elements[age_key] = Uniform(0.0, d.backup_interval)
            item = RpoItem(
                s_name,
                "corruption",
                ((dwell_key,) if f.dwell is not None else ()) + (age_key,),
                retention=d.backup_retention if d.backup_retention is not None else float("inf"),
                fault=fi,
            )
        elif mode == "drift":
            item = RpoItem(s_name, "drift", (), fault=fi, task_a=detect_tasks[fi])
        elif mode == "cutover":
            item = RpoItem(s_name, "none", (), fault=fi)
        elif s.recovery.strategy == "backup-restore":
            if d is None or d.backup_interval is None:
                return unscorable(s_name, fi, f"service {s_name!r}: strategy backup-restore needs data.backup_interval")
            age_key = f"data:{s_name}:backup-age"
            b.rpo_elements[age_key] = Uniform(0.0, d.backup_interval)
            item = RpoItem(s_name, "backup", (age_key,), fault=fi)
        elif d is not None and d.replication is not None and d.replication.mode == "async":
            if d.replication.lag is None:
                return unscorable(s_name, fi, f"service {s_name!r}: async replication needs a lag distribution")
            key = f"data:{s_name}:replication-lag"
            b.rpo_elements[key] = d.replication.lag
            item = RpoItem(s_name, "lag", (key,), fault=fi)
        elif d is not None and d.replication is not None:
            item = RpoItem(s_name, "sync", (), fault=fi)
        else:
            item = RpoItem(s_name, "none", (), fault=fi)
        b.rpo_items.append(item)
        return len(b.rpo_items) - 1

    recovered: dict[str, int] = {}
    rpo_of: dict[str, int] = {}
    rollback_span = None
    rollback_chain: int | None = None
    for s_name in sorted(topo.services, key=lambda n: (_tier_rank(topo, topo.services[n].tier), n)):
        if s_name not in direct:
            continue
        s = topo.services[s_name]
        fi, mode = direct[s_name]
        f = drill.faults[fi]
        ft = fault_tasks[fi]
        rpo_of[s_name] = rpo_item(s_name, fi, mode)
        paths: list[int] = []
        if mode == "down":
            ha = s.local_ha
            if (
                f.kind == "region-loss"
                and ha is not None
                and not any(topo.region_contains(tg, ha.zone) for tg in f.targets)
            ):
                paths.append(
                    b.add(
                        f"svc:{s_name}:zone-failover",
                        "step",
                        f"{s_name}: automatic failover to {ha.zone}",
                        ha.failover,
                        [ft],
                        service=s_name,
                    )
                )
                # zone replicas are written synchronously (multi-AZ): nothing is lost
                b.rpo_items[rpo_of[s_name]] = RpoItem(s_name, "sync", (), fault=fi)
            else:
                rec = s.recovery
                standby_lost = rec.standby_region is not None and (
                    f.kind == "region-loss" and any(topo.region_contains(tg, rec.standby_region) for tg in f.targets)
                )
                if rec.strategy != "none" and not standby_lost:
                    trigger = [ft] if rec.strategy == "active-active" else [declare]
                    last = runbook(f"svc:{s_name}:step", s_name, list(f.steps or rec.steps), trigger, rpo_of[s_name])
                    v = rec.validate_
                    if v is not None:
                        last = b.add(
                            f"svc:{s_name}:validate",
                            "validate",
                            f"{s_name}: {v.name}",
                            v.duration or Fixed(0.0),
                            [last, *ready(v.role)],
                            role=v.role,
                            service=s_name,
                        )
                    paths.append(last)
                end = end_of(fi)
                if end is not None:
                    item = b.rpo_items[rpo_of[s_name]]
                    item.failover = paths[0] if paths else -1
                    paths.append(
                        b.add(
                            f"svc:{s_name}:restart",
                            "step",
                            f"{s_name}: back in place after the fault clears",
                            s.restart or Fixed(0.0),
                            [end],
                            service=s_name,
                        )
                    )
                    item.inplace = paths[-1]
        elif mode in ("corrupt", "drift"):
            steps = list(
                f.steps or s.recovery.restore or (s.recovery.steps if s.recovery.strategy == "backup-restore" else [])
            )
            if not steps:
                b.problems.append(Problem(f"service {s_name!r} has no runbook for {f.kind}", ("faults", fi)))
                continue
            trigger = [declare] if mode == "corrupt" else [declare, detect_tasks[fi]]
            last = runbook(f"svc:{s_name}:{mode}", s_name, steps, trigger, rpo_of[s_name])
            v = s.recovery.validate_
            if v is not None:
                last = b.add(
                    f"svc:{s_name}:validate",
                    "validate",
                    f"{s_name}: {v.name}",
                    v.duration or Fixed(0.0),
                    [last, *ready(v.role)],
                    role=v.role,
                    service=s_name,
                )
            paths.append(last)
        elif mode == "cutover" and (rb := drill.rollback) is not None:
            if rollback_chain is None:
                # the decision to roll back needs the cutover to have failed: another fault may be declared first
                cutovers = [fault_tasks[i] for i, g in enumerate(drill.faults) if g.kind == "cutover-failure"]
                decided = b.add("rollback:decided", "milestone", "rollback decided", Fixed(0.0), [declare, *cutovers])
                freeze = b.add(
                    "rollback:freeze",
                    "step",
                    rb.freeze.name or "freeze writes to the new system",
                    rb.freeze.duration,
                    [decided, *ready(rb.freeze.role)],
                    role=rb.freeze.role,
                )
                last = freeze
                for i, st in enumerate(rb.steps):
                    last = b.add(
                        f"rollback:{i}:{st.name}",
                        "step",
                        f"rollback: {st.name}",
                        st.duration or Fixed(0.0),
                        [last, *ready(st.role)],
                        role=st.role,
                    )
                if rb.policy != "discard":
                    if rb.reconcile_rate is None:  # an unchecked drill model, as above
                        b.problems.append(
                            Problem(f"policy {rb.policy} needs a reconcile_rate", ("rollback", "reconcile_rate"))
                        )
                    else:
                        coef = rb.write_rate / rb.reconcile_rate
                        last = b.add(
                            "rollback:reconcile",
                            "reconcile",
                            f"reconcile divergent writes ({rb.policy})",
                            Fixed(0.0),
                            [last],
                            offset=coef * (rb.cutover_before),
                            elapsed_from=ft,
                            elapsed_to=freeze,
                            elapsed_coef=coef,
                        )
                rollback_chain = last
                rollback_span = (decided, last)
            if rb.policy == "discard":
                b.rpo_items[rpo_of[s_name]].kind = "rollback-discard"
                b.rpo_items[rpo_of[s_name]].task_a = b.keys["rollback:freeze"]
                b.rpo_items[rpo_of[s_name]].offset = rb.cutover_before
            paths.append(rollback_chain)
        elif mode == "cutover":  # an unchecked drill model (check_drill reports it too)
            b.problems.append(Problem("a cutover-failure drill needs a rollback section", ("faults", fi, "kind")))
        if not paths:
            paths.append(
                b.add(
                    f"svc:{s_name}:never", "never", f"{s_name}: no way back", Fixed(float("inf")), [ft], service=s_name
                )
            )
        recovered[s_name] = (
            paths[0]
            if len(paths) == 1
            else b.add(f"svc:{s_name}:recovered", "milestone", f"{s_name} recovered", Fixed(0.0), paths, join=ANY)
        )

    # ---- restored milestones, in dependency order
    outages: dict[str, ServiceOutage] = {}
    order = _topological(topo)
    down_task: dict[str, int] = {}
    for s_name in order:
        s = topo.services[s_name]
        if s_name in direct:
            fi, mode = direct[s_name]
            if s_name not in recovered:
                continue
            deps = [outages[d].restored_task for d in s.depends_on if d in outages and d in unavailable]
            rt = b.add(
                f"restored:{s_name}",
                "restored",
                f"{s_name} restored",
                Fixed(0.0),
                [recovered[s_name], *deps],
                service=s_name,
            )
            down_task[s_name] = fault_tasks[fi]
            outages[s_name] = ServiceOutage(
                s_name, s.tier, fault_tasks[fi], rt, True, drill.faults[fi].kind, rpo_of[s_name]
            )
        elif s_name in dependents:
            dep_names = [d for d in s.depends_on if d in outages and d in unavailable]
            if not dep_names:  # its dependencies could not be compiled: their problems are reported
                continue
            rt = b.add(
                f"restored:{s_name}",
                "restored",
                f"{s_name} restored (its dependencies are back)",
                Fixed(0.0),
                [outages[d].restored_task for d in dep_names],
                service=s_name,
            )
            # down with the first of its dependencies to go down (a dependent's own is already its first)
            struck = {t: drill.faults[i].at for i, t in enumerate(fault_tasks)}
            first = min(dep_names, key=lambda d: (struck[outages[d].down_task], d))
            cause = f"depends on {', '.join(sorted(dep_names))}"
            outages[s_name] = ServiceOutage(s_name, s.tier, outages[first].down_task, rt, False, cause)

    b.link_access({name: o.restored_task for name, o in outages.items()})
    restored_all = [o.restored_task for o in outages.values()]
    if restored_all:
        b.add("all-restored", "milestone", "every affected service restored", Fixed(0.0), restored_all)
    if b.problems:
        raise InputError(f"drill {drill.name!r} on topology {topo.name!r}", b.problems)
    milestones: dict[str, int] = {
        "fault": fault_tasks[int(np.argmin([f.at for f in drill.faults]))],
        "detected": detected,
        "acknowledged": first_ack,
        "declared": declare,
    }
    if "all-restored" in b.keys:
        milestones["restored"] = b.keys["all-restored"]
    return Plan(
        topology=topo,
        drill=drill,
        tasks=b.tasks,
        capacity=b.capacity,
        shift_of=b.shift_of,
        outages=outages,
        rpo_items=b.rpo_items,
        rpo_elements=b.rpo_elements,
        fault_tasks=fault_tasks,
        milestones=milestones,
        rollback=rollback_span,
        handovers=_handovers(topo, drill, b.tasks),
    )


def _handovers(topo: Topology, drill: Drill, tasks: list[Task]) -> list[Handover]:
    """Roster changes of every role some task needs, by time then role."""
    needed = sorted({t.role for t in tasks if t.role is not None})
    out = [h for r in needed for h in roster_changes(topo.staff[r], r, drill.start)]
    out.sort(key=lambda h: (h.time, h.role))
    return out


def _tier_rank(topo: Topology, tier: str) -> tuple[float, float, str]:
    """Most critical first: shortest RTO, then shortest RPO, then name.

    Services are compiled in this order, so when people are scarce the
    tie-break between equally old tasks favours the more critical service.
    """
    t = topo.tiers[tier]
    return (t.rto, t.rpo, tier)


def _topological(topo: Topology) -> list[str]:
    """Services ordered so each comes after everything it depends on (file order otherwise)."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for d in sorted(topo.services[n].depends_on):
            visit(d)
        out.append(n)

    for n in sorted(topo.services):
        visit(n)
    return out
