"""Candidate changes to an estate, what each costs, and several made together.

A **change** is something concrete a planner could buy: one more person in a role on the shift
on duty, a service moved one rung up the DR-strategy ladder, a backup interval halved, an
interface buffer doubled (:func:`candidate_changes`). Each knows how to apply itself to an
estate (:meth:`Change.apply`), so changes compose: :func:`apply_all` makes several at once, in
the order :func:`candidate_changes` lists them (a strategy move before a backup change of the
same service, which then halves the new arrangement's interval).

**What a change costs** (:mod:`drsim.model.costs`) comes from the estate, most specific first:

1. ``change_costs["KIND:SUBJECT"]`` — a price for exactly this change (``backup:ehr-db``);
2. what the estate says of the thing bought: the ``cost`` of the shift the person joins, else of
   the role; for a strategy move, the better strategy's ``recovery.cost`` in the library topology
   the runbook comes from, less what the current arrangement costs a year (one-off in full);
3. ``change_costs["KIND"]`` — a price for any change of that kind;

and otherwise it is unknown (``None``): the change is still weighed, but never bought within a budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..model import Topology
from ..model.checks import check_topology
from ..model.costs import Cost
from ..model.distributions import parse_distribution
from ..model.topology import Replication, Step
from ..model.units import format_duration
from ..plan import Plan, shift_on_duty

#: The DR strategies from least to most prepared: advice moves a service one rung up.
STRATEGY_LADDER = ("none", "backup-restore", "pilot-light", "warm-standby", "active-active")


@dataclass(frozen=True)
class Change:
    """A concrete change to the estate a planner could buy, and what it costs (None: not known)."""

    kind: str  # responder | strategy | backup | buffer (drsim.model.costs.CHANGE_KINDS)
    subject: str
    description: str
    edit: Callable[[Topology], Topology] = field(repr=False, compare=False)
    cost: Cost | None = None
    priced_by: str = ""
    label: str = ""  # a few words for a chart: "+1 dba (night)", "ehr-app -> active-active"

    def apply(self, topology: Topology) -> Topology:
        """``topology`` with this change made."""
        return self.edit(topology)

    @property
    def key(self) -> str:
        """``KIND:SUBJECT``, as a ``change_costs`` key names this change."""
        return f"{self.kind}:{self.subject}"


def apply_all(changes: Sequence[Change], topology: Topology) -> Topology | None:
    """``topology`` with every change made, in order; None if the estate's checks refuse the result."""
    t = topology
    for ch in changes:
        t = ch.apply(t)
    return None if check_topology(t) else t


def combined_cost(changes: Sequence[Change]) -> Cost | None:
    """What several changes cost together (their sum); None if any one's cost is unknown."""
    if any(ch.cost is None for ch in changes):
        return None
    costs = [ch.cost for ch in changes if ch.cost is not None]
    currency = next((c.currency for c in costs if c.currency), None)
    return Cost(currency=currency, one_off=sum(c.one_off for c in costs), per_year=sum(c.per_year for c in costs))


def _replace(model, **update):
    """A copy of the frozen model ``model`` with the fields in ``update`` changed."""
    return model.model_copy(update=update)


def listed_cost(
    topology: Topology, kind: str, subject: str, own: tuple[Cost | None, str] = (None, "")
) -> tuple[Cost | None, str]:
    """``(cost, where it comes from)`` of a change, most specific first (see the module docstring):
    ``change_costs[KIND:SUBJECT]``, then ``own`` (what the estate says of the thing bought), then
    ``change_costs[KIND]``; ``(None, "")`` when nothing prices it."""
    specific = topology.change_costs.get(f"{kind}:{subject}")
    if specific is not None:
        return specific, f"change_costs.{kind}:{subject}"
    if own[0] is not None:
        return own
    general = topology.change_costs.get(kind)
    if general is not None:
        return general, f"change_costs.{kind}"
    return None, ""


def candidate_changes(plan: Plan, library: Sequence[Topology] = ()) -> list[Change]:
    """The changes advice weighs for this drill on this estate, each priced from the estate.

    * one more person, on the shift on duty, in each role the drill needs;
    * each affected service moved to the next better DR strategy (backup-restore
      -> pilot light -> warm standby -> active-active), its runbook, data
      protection and cost taken from a ``library`` topology that runs the same
      service under that strategy (by default the bundled strategy variants); a
      move to active-active is always possible: health-checked automatic
      failover and sub-second replication;
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
        index = r.shifts.index(sh)

        def edit(t: Topology, role=role, index=index) -> Topology:
            rr = t.staff[role]
            shifts = [_replace(s, headcount=s.headcount + 1) if i == index else s for i, s in enumerate(rr.shifts)]
            return _replace(t, staff={**t.staff, role: _replace(rr, shifts=shifts)})

        own: tuple[Cost | None, str] = (None, "")
        if sh.cost is not None:
            own = (sh.cost, f"staff.{role}.shifts[{sh.name}].cost")
        else:
            own = (r.cost, f"staff.{role}.cost") if r.cost is not None else (None, "")
        cost, source = listed_cost(topo, "responder", role, own)
        article = "an" if role[:1] in "aeiou" else "a"
        description = f"add {article} {role} to the {sh.name} shift ({sh.headcount} -> {sh.headcount + 1})"
        out.append(Change("responder", role, description, edit, cost, source, f"+1 {role} ({sh.name})"))
    return out


def _active_active(svc):
    """``svc`` live in its standby region too: health-checked failover, sub-second replication."""
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
        cost=None,
    )
    return _replace(svc, recovery=rec, data=data)


def _move_cost(old: Cost | None, new: Cost | None) -> Cost | None:
    """A move between DR arrangements: the new one's set-up, and what it costs a year more than the old."""
    if new is None:
        return None
    if old is not None and old.currency and new.currency and old.currency != new.currency:
        return None
    more = new.per_year - (old.per_year if old is not None else 0.0)
    return Cost(currency=new.currency or (old.currency if old else None), one_off=new.one_off, per_year=max(0.0, more))


def better_strategies(plan: Plan, library: Sequence[Topology]) -> list[Change]:
    """Each service the drill takes down directly, moved one rung up :data:`STRATEGY_LADDER`.

    The runbook, data protection and cost come from a ``library`` topology running the same
    service, in the same region with a standby, under the better strategy; a move to
    active-active is always possible (health-checked automatic failover, sub-second
    replication), priced by ``change_costs`` only. A move the estate's checks refuse is left out.
    """
    topo = plan.topology
    currency = topo.currency()
    out: list[Change] = []
    for name in sorted(plan.outages):
        if not plan.outages[name].direct:
            continue
        svc = topo.services[name]
        cur = svc.recovery.strategy
        if cur not in STRATEGY_LADDER or cur == "active-active":
            continue
        nxt = STRATEGY_LADDER[STRATEGY_LADDER.index(cur) + 1]
        new = None
        own: tuple[Cost | None, str] = (None, "")
        for t in library:
            s2 = t.services.get(name)
            if (
                s2 is not None
                and s2.recovery.strategy == nxt
                and s2.region == svc.region
                and s2.recovery.standby_region is not None
            ):
                new = _replace(svc, recovery=s2.recovery, data=s2.data, local_ha=s2.local_ha or svc.local_ha)
                moved = _move_cost(svc.recovery.cost, s2.recovery.cost)
                if moved is not None and (currency is None or moved.currency in (None, currency)):
                    own = (moved, f"{t.name}: services.{name}.recovery.cost")
                break
        if new is None and nxt == "active-active" and svc.recovery.standby_region is not None:
            new = _active_active(svc)
        if new is None or check_topology(_replace(topo, services={**topo.services, name: new})):
            continue

        def edit(t: Topology, name=name, new=new) -> Topology:
            return _replace(t, services={**t.services, name: new})

        cost, source = listed_cost(topo, "strategy", name, own)
        out.append(Change("strategy", name, f"move {name} from {cur} to {nxt}", edit, cost, source, f"{name} -> {nxt}"))
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

        def edit(t: Topology, name=name) -> Topology:
            s = t.services[name]
            if s.data is None or s.data.backup_interval is None:
                return t
            data = _replace(s.data, backup_interval=s.data.backup_interval / 2)
            return _replace(t, services={**t.services, name: _replace(s, data=data)})

        cost, source = listed_cost(topo, "backup", name)
        description = f"back up {name} every {format_duration(d.backup_interval / 2)} instead of {format_duration(d.backup_interval)}"
        out.append(Change("backup", name, description, edit, cost, source, f"{name} backups x2"))
    return out


def doubled_buffers(plan: Plan) -> list[Change]:
    """Each interface feeding an affected service, with twice the buffer to hold messages while it is down."""
    topo = plan.topology
    out: list[Change] = []
    for qname, q in sorted(topo.queues.items()):
        if q.consumer not in plan.outages:
            continue

        def edit(t: Topology, qname=qname) -> Topology:
            qq = t.queues[qname]
            return _replace(t, queues={**t.queues, qname: _replace(qq, buffer=qq.buffer * 2)})

        cost, source = listed_cost(topo, "buffer", qname)
        description = f"double the {qname} buffer ({q.buffer:,} -> {q.buffer * 2:,} messages)"
        out.append(Change("buffer", qname, description, edit, cost, source, f"{qname} buffer x2"))
    return out
