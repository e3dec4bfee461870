"""Advice: which concrete change to the estate buys the most on one drill.

A planner with a budget asks "what should we fix first?". :func:`advise`
weighs concrete changes to the estate (:func:`candidate_changes`) — add a
responder to a role on the shift that is on duty, move a service to the next
better DR strategy, halve a backup interval, double an interface buffer — by
replaying the drill on each changed estate and ranking the changes by their
effect on a metric (:mod:`drsim.analysis.metrics`), each with a 95% interval.

Every changed estate replays the drill on the same seed, so the same random
numbers (:mod:`drsim.engine.draws`): its unchanged elements keep their draws by
name, a change moves only what it changes, and the effects are paired
differences, not noise. A change "improves" the metric when its whole interval
lies on the good side of zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import prepare
from ..errors import InputError
from ..model import Drill, Topology
from ..model.checks import check_topology
from ..model.distributions import parse_distribution
from ..model.loader import bundled_names, load_topology
from ..model.topology import Replication, Step
from ..model.units import format_duration
from ..plan import Plan, compile_plan, shift_on_duty
from ..stats import bootstrap_weights
from .compare import simulate
from .metrics import Metric, metric_values, parse_metric

#: The DR strategies from least to most prepared: advice moves a service one rung up.
STRATEGY_LADDER = ("none", "backup-restore", "pilot-light", "warm-standby", "active-active")


@dataclass(frozen=True)
class Change:
    """A concrete change to the estate a planner could buy."""

    kind: str  # responder | strategy | backup | buffer
    subject: str
    description: str
    topology: Topology = field(repr=False, compare=False)


def _replace(model, **update):
    """A copy of the frozen model ``model`` with the fields in ``update`` changed."""
    return model.model_copy(update=update)


def candidate_changes(plan: Plan, library: Sequence[Topology] = ()) -> list[Change]:
    """The changes :func:`advise` weighs for this drill on this estate.

    * one more person, on the shift on duty, in each role the drill needs;
    * each affected service moved to the next better DR strategy (backup-restore
      -> pilot light -> warm standby -> active-active), its runbook and data
      protection taken from a ``library`` topology that runs the same service
      under that strategy (by default the bundled strategy variants); a move to
      active-active is always possible: health-checked automatic failover and
      sub-second replication;
    * each affected service's backup interval halved;
    * each backed-up interface buffer doubled.
    """
    return [*more_responders(plan), *better_strategies(plan, library), *halved_backups(plan), *doubled_buffers(plan)]


def more_responders(plan: Plan) -> list[Change]:
    """One more person, on the shift on duty when the drill starts, in each role the drill pages or needs."""
    topo = plan.topology
    out: list[Change] = []
    used_roles = sorted(
        {t.role for t in plan.tasks if t.role}
        | {t.key.split(":")[1].split("#")[0] for t in plan.tasks if t.kind == "page"}
    )
    for role in used_roles:
        r = topo.staff[role]
        sh = shift_on_duty(r, plan.drill.start)
        if sh is None:
            continue
        shifts = [_replace(s, headcount=s.headcount + 1) if s is sh else s for s in r.shifts]
        t2 = _replace(topo, staff={**topo.staff, role: _replace(r, shifts=shifts)})
        article = "an" if role[:1] in "aeiou" else "a"
        out.append(
            Change(
                "responder",
                role,
                f"add {article} {role} to the {sh.name} shift ({sh.headcount} -> {sh.headcount + 1})",
                t2,
            )
        )
    return out


def better_strategies(plan: Plan, library: Sequence[Topology]) -> list[Change]:
    """Each service the drill takes down directly, moved one rung up :data:`STRATEGY_LADDER`.

    The runbook and data protection come from a ``library`` topology running the
    same service, in the same region with a standby, under the better strategy; a
    move to active-active is always possible (health-checked automatic failover,
    sub-second replication). A move the estate's checks refuse is left out.
    """
    topo = plan.topology
    out: list[Change] = []
    for name in sorted(plan.outages):
        o = plan.outages[name]
        if not o.direct:
            continue
        svc = topo.services[name]
        cur = svc.recovery.strategy
        if cur not in STRATEGY_LADDER or cur == "active-active":
            continue
        nxt = STRATEGY_LADDER[STRATEGY_LADDER.index(cur) + 1]
        new = None
        for t in library:
            s2 = t.services.get(name)
            if (
                s2 is not None
                and s2.recovery.strategy == nxt
                and s2.region == svc.region
                and s2.recovery.standby_region is not None
            ):
                new = _replace(svc, recovery=s2.recovery, data=s2.data, local_ha=s2.local_ha or svc.local_ha)
                break
        if new is None and nxt == "active-active" and svc.recovery.standby_region is not None:
            data = svc.data
            if data is not None and data.replication is not None and data.replication.mode == "async":
                data = _replace(
                    data, replication=Replication(mode="async", lag=parse_distribution("lognormal(p50=500ms, p95=2s)"))
                )
            rec = _replace(
                svc.recovery,
                strategy="active-active",
                steps=[
                    Step(
                        name="health checks fail and traffic shifts to the live copy",
                        duration=parse_distribution("uniform(1m30s, 2m30s)"),
                        restore=False,
                        people=1,
                    )
                ],
                validate_=None,
            )
            new = _replace(svc, recovery=rec, data=data)
        if new is None:
            continue
        t2 = _replace(topo, services={**topo.services, name: new})
        if check_topology(t2):
            continue
        out.append(Change("strategy", name, f"move {name} from {cur} to {nxt}", t2))
    return out


def halved_backups(plan: Plan) -> list[Change]:
    """Each affected service that recovers from a backup, backed up twice as often."""
    topo = plan.topology
    out: list[Change] = []
    for name in sorted(plan.outages):
        d = topo.services[name].data
        if d is None or d.backup_interval is None:
            continue
        item = plan.rpo_items[plan.outages[name].rpo] if plan.outages[name].rpo >= 0 else None
        if item is None or item.kind not in ("backup", "corruption"):
            continue
        svc = _replace(topo.services[name], data=_replace(d, backup_interval=d.backup_interval / 2))
        t2 = _replace(topo, services={**topo.services, name: svc})
        out.append(
            Change(
                "backup",
                name,
                f"back up {name} every {format_duration(d.backup_interval / 2)} instead of {format_duration(d.backup_interval)}",
                t2,
            )
        )
    return out


def doubled_buffers(plan: Plan) -> list[Change]:
    """Each interface feeding an affected service, with twice the buffer to hold messages while it is down."""
    topo = plan.topology
    out: list[Change] = []
    for qname, q in sorted(topo.queues.items()):
        if q.consumer not in plan.outages:
            continue
        t2 = _replace(topo, queues={**topo.queues, qname: _replace(q, buffer=q.buffer * 2)})
        out.append(
            Change("buffer", qname, f"double the {qname} buffer ({q.buffer:,} -> {q.buffer * 2:,} messages)", t2)
        )
    return out


@dataclass
class AdviceResult:
    """Candidate changes ranked by how much they improve the metric."""

    drill: str
    topology: str
    metric: Metric
    n: int
    seed: int
    base: float
    rows: list[dict[str, Any]]

    def to_frame(self):
        """One row per change, best first: value after the change, effect and its 95% interval."""
        import pandas as pd  # imported on use: pandas loads only when a frame is asked for

        df = pd.DataFrame(self.rows)
        df.insert(0, "metric", self.metric.text)
        return df

    def top(self, k: int = 10) -> list[dict]:
        return self.rows[:k]

    def plot(self, k: int = 10, ax=None):
        """The ``k`` best changes' effects with their 95% intervals; returns the Axes."""
        from ..report import plots  # imported on use: matplotlib loads only when a chart is drawn

        rows = [(r["change"], r["effect"], r["effect_lo"], r["effect_hi"]) for r in self.top(k)]
        return plots.differences(
            rows,
            what=self.metric.describe(),
            baseline=f"{self.topology} as it is",
            probability=self.metric.probability,
            title=f"{self.drill}: what buys the most (n = {self.n})",
            ax=ax,
        )


def advise(
    drill: str | Path | Drill,
    topology: str | Path | Topology | None = None,
    metric: str | None = None,
    n: int = 2000,
    seed: int = 0,
    library: Sequence[str | Path | Topology] | None = None,
) -> AdviceResult:
    """Rank :func:`candidate_changes` by their effect on ``metric``, on common random numbers.

    ``library`` lists topologies to borrow a service's runbook under a better
    DR strategy from (default: the bundled strategy variants). Changes that do
    not move the metric are listed last.
    """
    topo = topology if isinstance(topology, Topology) else load_topology(topology)
    plan = prepare(drill, topo)
    d = plan.drill
    m = parse_metric(metric, plan)
    if library is None:
        names = [s for s in STRATEGY_LADDER if s in bundled_names("topologies")]
        library = [load_topology(s) for s in names]
    lib = [t if isinstance(t, Topology) else load_topology(t) for t in library]
    base_x = metric_values(simulate(plan, n, seed), m.key, n)
    base = m.value(base_x)
    weights = bootstrap_weights(n, seed, f"advise:{d.name}")
    rows: list[dict[str, Any]] = []
    for ch in candidate_changes(plan, lib):
        try:
            p2 = compile_plan(ch.topology, d)
        except InputError:
            continue
        x = metric_values(simulate(p2, n, seed), m.key, n)
        eff, lo, hi = m.effect(base_x, x, weights)
        gain = eff if m.higher_is_better else -eff
        rows.append(
            {
                "change": ch.description,
                "kind": ch.kind,
                "subject": ch.subject,
                "value": m.value(x),
                "effect": eff,
                "effect_lo": lo,
                "effect_hi": hi,
                "improves": bool(
                    math.isfinite(lo) and math.isfinite(hi) and (lo > 0 if m.higher_is_better else hi < 0)
                ),
                "_gain": gain,
            }
        )
    rows.sort(key=lambda r: (-(r["_gain"] if math.isfinite(r["_gain"]) else -math.inf), r["change"]))
    for r in rows:
        del r["_gain"]
    return AdviceResult(d.name, topo.name, m, int(n), int(seed), base, rows)
