"""The result of one drill replay: what came back, how fast, what was lost, who decided when."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .engine.des import Replay, TimelineEvent, story_order
from .engine.draws import Draws
from .engine.finish import FinishTimes
from .engine.outcomes import never_reason, queue_flows
from .engine.queues import QueueFlow
from .model.calibrated import CalibratedElement
from .model.vocabulary import GENERIC, Vocabulary
from .plan import Plan


@dataclass(frozen=True)
class ServiceResult:
    """One service's achieved recovery against its tier's targets.

    ``rpo_reason`` says why an affected service lost every write (its RPO is never), else ``""``.
    """

    name: str
    tier: str
    affected: bool
    cause: str
    rto: float | None
    rpo: float | None
    rto_target: float
    rpo_target: float
    #: What the lost writes come from, when any were lost ("replication lag", "hl7-oru buffer overflow").
    rpo_from: tuple[str, ...] = ()
    rpo_reason: str = ""
    #: When people could use it again, from the time it went down (None: it declares no usable milestone).
    usable: float | None = None

    @property
    def restored(self) -> bool:
        """Whether the service came back (an unaffected service never left)."""
        return self.rto is None or math.isfinite(self.rto)

    @property
    def rto_met(self) -> bool:
        """Whether it came back within its tier's recovery time objective."""
        return self.rto is None or self.rto <= self.rto_target

    @property
    def rpo_met(self) -> bool:
        """Whether it lost no more writes than its tier's recovery point objective allows."""
        return self.rpo is None or self.rpo <= self.rpo_target

    @property
    def met(self) -> bool:
        """Whether both objectives were met."""
        return self.rto_met and self.rpo_met


@dataclass(frozen=True)
class WorkflowResult:
    """A workflow's downtime against what its fallback (paper) procedures can absorb."""

    name: str
    downtime: float
    tolerance: float

    @property
    def met(self) -> bool:
        """Whether fallback procedures could absorb the downtime."""
        return self.downtime <= self.tolerance


@dataclass(frozen=True)
class QueueResult:
    """An interface queue's backlog during the outage and after recovery."""

    name: str
    consumer: str
    backlog: float
    dropped: float
    drain: float
    clear: float


@dataclass(frozen=True)
class DriftResult:
    """A drifting service's exposure: how long writes diverged, how many, and the time to reconcile."""

    service: str
    window: float
    writes: float | None
    reconcile: float


@dataclass(frozen=True)
class DegradedResult:
    """A service that stayed up on fewer members of a dependency group: how long, and which were down."""

    service: str
    time: float
    members: tuple[str, ...]


@dataclass(frozen=True)
class FailbackResult:
    """A service's return to its primary, apart from its failover's RTO.

    ``time`` runs from the primary being back until the failback is done, ``downtime`` is the
    switch-back outage, ``exposure`` the window of writes the standby took that a forced failback
    left to copy back; all 0 when the service came back in place before its failover finished.
    """

    service: str
    mode: str
    time: float
    downtime: float
    exposure: float

    @property
    def happened(self) -> bool:
        """Whether the service was moved back (it had failed over)."""
        return self.time > 0 or self.downtime > 0


@dataclass(frozen=True)
class DrillResult:
    """Everything one replay of a drill tells: per service, per workflow, per decision."""

    drill: str
    topology: str
    seed: int
    start: dt.datetime
    shifts: dict[str, str]
    services: list[ServiceResult]
    workflows: list[WorkflowResult]
    queues: list[QueueResult]
    latency: dict[str, float]
    milestones: dict[str, float]
    rollback_time: float | None
    timeline: list[TimelineEvent] = field(repr=False)
    metrics: dict[str, float] = field(repr=False)
    drift: list[DriftResult] = field(default_factory=list)
    degraded: list[DegradedResult] = field(default_factory=list)
    failbacks: list[FailbackResult] = field(default_factory=list)
    #: The words reports use for the estate (its declared vocabulary): "Clinical workflows" or "Workflows".
    words: Vocabulary = field(default=GENERIC, repr=False, compare=False)
    #: The elements a calibration overlay set, with what each was fitted from (empty without one).
    calibrated: tuple[CalibratedElement, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every affected service and every workflow met its target."""
        return all(s.met for s in self.services if s.affected) and all(w.met for w in self.workflows)

    @property
    def missed(self) -> list[str]:
        """The targets missed, as short phrases (``"ehr-db RTO"``, ``"medication-administration downtime"``)."""
        out = []
        for s in self.services:
            if s.affected and not s.rto_met:
                out.append(f"{s.name} RTO")
            if s.affected and not s.rpo_met:
                out.append(f"{s.name} RPO")
        out += [f"{w.name} downtime" for w in self.workflows if not w.met]
        return out

    def clock(self, seconds: float) -> dt.datetime:
        """Wall-clock time of a moment ``seconds`` after the drill starts."""
        return self.start + dt.timedelta(seconds=float(seconds))

    def to_dict(self) -> dict:
        """A JSON-ready dictionary; every duration is in seconds (``null`` = never)."""

        def num(x):
            if x is None:
                return None
            x = float(x)
            return None if not math.isfinite(x) else round(x, 6)

        return {
            "drill": self.drill,
            "topology": self.topology,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "passed": self.passed,
            **({"calibrated": [e.to_dict() for e in self.calibrated]} if self.calibrated else {}),
            "shifts": self.shifts,
            "services": [
                {
                    "name": s.name,
                    "tier": s.tier,
                    "affected": s.affected,
                    "cause": s.cause,
                    "restored": s.restored,
                    "rto": num(s.rto),
                    "rto_target": s.rto_target,
                    "rto_met": s.rto_met,
                    "rpo": num(s.rpo),
                    "rpo_target": s.rpo_target,
                    "rpo_met": s.rpo_met,
                    **({"rpo_from": list(s.rpo_from)} if s.rpo_from else {}),
                    **({"rpo_reason": s.rpo_reason} if s.rpo_reason else {}),
                    **({"usable": num(s.usable)} if s.usable is not None else {}),
                }
                for s in self.services
            ],
            "workflows": [
                {"name": w.name, "downtime": num(w.downtime), "tolerance": w.tolerance, "met": w.met}
                for w in self.workflows
            ],
            "queues": [{k: (num(v) if isinstance(v, float) else v) for k, v in asdict(q).items()} for q in self.queues],
            "decision_latency": {k: num(v) for k, v in self.latency.items()},
            "milestones": {k: num(v) for k, v in self.milestones.items()},
            "rollback_time": num(self.rollback_time),
            **(
                {
                    "drift": [
                        {k: (num(v) if isinstance(v, float) else v) for k, v in asdict(d).items()} for d in self.drift
                    ]
                }
                if self.drift
                else {}
            ),
            **(
                {
                    "degraded": [
                        {"service": d.service, "time": num(d.time), "members": list(d.members)} for d in self.degraded
                    ]
                }
                if self.degraded
                else {}
            ),
            **(
                {
                    "failback": [
                        {k: (num(v) if isinstance(v, float) else v) for k, v in asdict(f).items()}
                        for f in self.failbacks
                    ]
                }
                if self.failbacks
                else {}
            ),
            "timeline": [
                {
                    "t": num(e.time),
                    "clock": self.clock(e.time).isoformat(timespec="seconds"),
                    "actor": e.actor,
                    "service": e.service,
                    "event": e.event,
                    "kind": e.kind,
                    "phase": e.phase,
                }
                for e in self.timeline
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_frame(self):
        """Per-service results as a pandas DataFrame (seconds)."""
        import pandas as pd  # start-up time: pandas loads only when a frame is asked for

        return pd.DataFrame(
            [
                {
                    "service": s.name,
                    "tier": s.tier,
                    "affected": s.affected,
                    "rto": s.rto,
                    "rto_target": s.rto_target,
                    "rto_met": s.rto_met,
                    "rpo": s.rpo,
                    "rpo_target": s.rpo_target,
                    "rpo_met": s.rpo_met,
                    **({"rpo_from": list(s.rpo_from)} if s.rpo_from else {}),
                    **({"usable": s.usable} if s.usable is not None else {}),
                }
                for s in self.services
            ]
        )


def build_result(plan: Plan, draws: Draws, replay: Replay, metrics: dict[str, np.ndarray]) -> DrillResult:
    """Assemble a :class:`DrillResult` from one replay and its metrics (replicate 0)."""
    topo = plan.topology
    m = {k: float(v[0]) for k, v in metrics.items()}
    flows = queue_flows(
        plan, FinishTimes(replay.finish[None, :], np.arange(len(plan.tasks)), len(plan.tasks)), full_at=True
    )
    services = []
    for name, s in topo.services.items():
        tier = topo.tiers[s.tier]
        o = plan.outages.get(name)
        services.append(
            ServiceResult(
                name=name,
                tier=s.tier,
                affected=o is not None,
                cause=o.cause if o else "",
                rto=m.get(f"service:{name}:rto"),
                rpo=m.get(f"service:{name}:rpo"),
                rto_target=tier.rto,
                rpo_target=tier.rpo,
                rpo_from=_rpo_sources(plan, name, m, flows),
                rpo_reason=never_reason(plan, name, draws, m[f"service:{name}:rpo"]) if o else "",
                usable=m.get(f"service:{name}:usable"),
            )
        )
    services.sort(key=lambda s: (not s.affected, list(topo.tiers).index(s.tier), s.name))
    workflows = [WorkflowResult(w, m[f"workflow:{w}:downtime"], wf.tolerance) for w, wf in topo.workflows.items()]
    queues = [
        QueueResult(
            q,
            topo.queues[q].consumer,
            m[f"queue:{q}:backlog"],
            m[f"queue:{q}:dropped"],
            m[f"queue:{q}:drain"],
            m[f"queue:{q}:clear"],
        )
        for q in topo.queues
        if f"queue:{q}:backlog" in m
    ]
    latency = {k.split(":", 1)[1]: v for k, v in m.items() if k.startswith("latency:")}
    milestones = {k: float(replay.finish[i]) for k, i in plan.milestones.items()}
    timeline = list(replay.timeline)
    timeline += _queue_events(plan, queues, replay, flows)
    timeline.sort(key=story_order)
    return DrillResult(
        drill=plan.drill.name,
        topology=topo.name,
        seed=draws.seed,
        start=plan.drill.start,
        shifts=dict(plan.shift_of),
        services=services,
        workflows=workflows,
        queues=queues,
        latency=latency,
        milestones=milestones,
        rollback_time=m.get("rollback:total:time"),
        timeline=timeline,
        metrics=m,
        words=topo.words(),
        drift=[
            DriftResult(s, m[f"drift:{s}:window"], m.get(f"drift:{s}:writes"), m[f"drift:{s}:reconcile"])
            for s in plan.outages
            if f"drift:{s}:window" in m
        ],
        degraded=[DegradedResult(s, m[f"degraded:{s}:time"], tuple(ms)) for s, ms in plan.degraded.items()],
        failbacks=[
            FailbackResult(
                s, fb.mode, m[f"failback:{s}:time"], m[f"failback:{s}:downtime"], m[f"failback:{s}:exposure"]
            )
            for s, fb in plan.failbacks.items()
        ],
    )


#: How a service's own data path loses writes, in words (see :data:`drsim.plan.compiled.LossKind`).
OWN_LOSS = {
    "lag": "replication lag",
    "backup": "age of the last backup",
    "corruption": "age of the last clean backup",
    "drift": "drift window",
    "rollback-discard": "writes discarded by the rollback",
}


def _rpo_sources(plan: Plan, service: str, m: dict[str, float], flows: dict[str, QueueFlow]) -> tuple[str, ...]:
    """What a service's lost writes come from in this replay: its own data path, full buffers."""
    rpo = m.get(f"service:{service}:rpo", 0.0)
    if not rpo > 0:
        return ()
    overflow = {q: float(f.lost[0]) for q, f in flows.items() if plan.topology.queues[q].consumer == service}
    out = []
    o = plan.outages[service]
    own = rpo - sum(overflow.values()) if math.isfinite(rpo) else rpo
    if o.rpo >= 0 and own > 1e-9:
        kind = plan.rpo_items[o.rpo].kind
        out.append(OWN_LOSS.get(kind, kind))
    out += [f"{q} buffer overflow" for q, lost in overflow.items() if lost > 0]
    return tuple(out)


def _queue_events(
    plan: Plan, queues: list[QueueResult], replay: Replay, flows: dict[str, QueueFlow]
) -> list[TimelineEvent]:
    """Timeline moments of the interface queues: when a buffer filled and when its backlog cleared."""
    out = []
    for q in queues:
        o = plan.outages[q.consumer]
        full_at = float(flows[q.name].full_at[0])
        if q.dropped > 0 and math.isfinite(full_at):
            out.append(
                TimelineEvent(
                    full_at,
                    "interface engine",
                    q.consumer,
                    f"{q.name}: buffer full, messages now dropped",
                    "queue",
                    "instant",
                )
            )
        if math.isfinite(q.clear) and q.backlog > 0:
            out.append(
                TimelineEvent(
                    float(replay.finish[o.down_task]) + q.clear,
                    "interface engine",
                    q.consumer,
                    f"{q.name}: backlog of {q.backlog:,.0f} messages cleared",
                    "queue",
                    "instant",
                )
            )
    return out
