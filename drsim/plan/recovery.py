"""Per-service recovery: every way a directly hit service can come back, raced against each other.

Services are compiled most critical first (:func:`~drsim.plan.order.by_criticality`).
Each directly hit service gets one or more *paths* back, and is *recovered*
when the first of them finishes:

* **down** (region loss, service outage):

  - a region loss that spares the zone of the service's local HA pair fails
    over to it automatically, at once;
  - otherwise the recovery runbook (unless the strategy is ``none`` or the
    standby region is lost too), started at the fault for an active-active
    service and at the decision for everything else, then validated;
  - and, when the fault clears after a while, a **restart in place**;

* **corrupt** and **drift**: the restore runbook (the fault's, the service's
  restore steps, or a backup-restore service's runbook), started at the
  decision (and, for drift, once detected), then validated;
* **cutover**: the **rollback** chain — decided, writes frozen, the runbook
  back to the old system, and reconciling divergent writes unless they are
  discarded — compiled once and shared by every cutover service.

A service with no path at all gets a task that never finishes. Steps that
restore data take the transfer time on top of their duration, and cannot
finish when the service's data-loss item is unrecoverable; each service's base
data-loss item (:func:`~drsim.plan.data_loss.base_loss`) is therefore formed
first, and what its paths mean for the loss is kept for the data phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Fault, Rollback, Service, Step
from ..model.distributions import Fixed
from .affected import AffectedServices, Hit
from .builder import PlanBuilder
from .data_loss import DataLoss, LossPaths, base_loss
from .order import by_criticality
from .response import ResponseTasks
from .tasks import ANY


@dataclass(frozen=True)
class ServiceRecovery:
    """How one directly hit service comes back.

    Attributes
    ----------
    service
        The service.
    hit
        The fault that hit it, and how.
    rpo
        Index of its data-loss item (in :attr:`Plan.rpo_items <drsim.plan.compiled.Plan.rpo_items>`).
    loss
        Its base data-loss item.
    recovered
        The task whose finish marks it recovered: its only path, or the first of its paths.
        None when it has no runbook for its fault (a problem is recorded).
    loss_paths
        What its recovery paths mean for its data loss.
    """

    service: str
    hit: Hit
    rpo: int
    loss: DataLoss
    recovered: int | None
    loss_paths: LossPaths = field(default_factory=LossPaths)


@dataclass(frozen=True)
class RollbackChain:
    """The rollback of a failed cutover: decided, writes frozen, runbook back, maybe reconciled.

    Attributes
    ----------
    decided
        The decision to roll back (needs the declaration and every cutover to have failed).
    freeze
        Writes to the new system stopped.
    done
        The rollback's last task.
    """

    decided: int
    freeze: int
    done: int


@dataclass(frozen=True)
class Recovery:
    """Every directly hit service's recovery, in compile order, and the rollback if there is one."""

    services: dict[str, ServiceRecovery]
    rollback: RollbackChain | None


def compile_recovery(b: PlanBuilder, affected: AffectedServices, response: ResponseTasks) -> Recovery:
    """Add every directly hit service's recovery paths, most critical service first."""
    compiler = _RecoveryCompiler(b, response)
    services: dict[str, ServiceRecovery] = {}
    for s_name in by_criticality(b.topo):
        hit = affected.direct.get(s_name)
        if hit is not None:
            services[s_name] = compiler.service(s_name, hit, rpo=len(services))
    return Recovery(services, compiler.rollback)


class _RecoveryCompiler:
    """The state the services' recoveries share: the fault-cleared tasks and the one rollback chain."""

    def __init__(self, b: PlanBuilder, response: ResponseTasks):
        self.b, self.topo, self.drill = b, b.topo, b.drill
        self.response = response
        self.fault_end: dict[int, int] = {}
        self.rollback: RollbackChain | None = None

    def service(self, s_name: str, hit: Hit, rpo: int) -> ServiceRecovery:
        """Compile one service's paths back and its recovered milestone."""
        b = self.b
        loss = base_loss(self.topo, self.drill, s_name, hit, self.response.detect_tasks[hit.fault])
        if loss.problem is not None:
            b.problems.append(loss.problem)
        s = self.topo.services[s_name]
        f = self.drill.faults[hit.fault]
        ft = self.response.fault_tasks[hit.fault]
        paths: list[int] = []
        loss_paths = LossPaths()
        if hit.mode == "down":
            loss_paths = self.down(s_name, s, hit, f, rpo, paths)
        elif hit.mode in ("corrupt", "drift"):
            last = self.restore(s_name, s, hit, f, rpo)
            if last is None:
                return ServiceRecovery(s_name, hit, rpo, loss, None)
            paths.append(last)
        elif hit.mode == "cutover" and (rb := self.drill.rollback) is not None:
            chain = self.rollback_chain(rb, ft)
            if rb.policy == "discard":
                loss_paths = LossPaths(frozen=chain.freeze, discarded_before=rb.cutover_before)
            paths.append(chain.done)
        elif hit.mode == "cutover":  # an unchecked drill model (check_drill reports it too)
            b.problem("a cutover-failure drill needs a rollback section", ("faults", hit.fault, "kind"))
        if not paths:
            paths.append(
                b.add(
                    f"svc:{s_name}:never", "never", f"{s_name}: no way back", Fixed(float("inf")), [ft], service=s_name
                )
            )
        recovered = (
            paths[0]
            if len(paths) == 1
            else b.add(f"svc:{s_name}:recovered", "milestone", f"{s_name} recovered", Fixed(0.0), paths, join=ANY)
        )
        return ServiceRecovery(s_name, hit, rpo, loss, recovered, loss_paths)

    def down(self, s_name: str, s: Service, hit: Hit, f: Fault, rpo: int, paths: list[int]) -> LossPaths:
        """Append the paths back of a service that is down; return what they mean for its data loss."""
        b, topo = self.b, self.topo
        ft = self.response.fault_tasks[hit.fault]
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
            return LossPaths(zone_failover=True)
        rec = s.recovery
        standby_lost = rec.standby_region is not None and (
            f.kind == "region-loss" and any(topo.region_contains(tg, rec.standby_region) for tg in f.targets)
        )
        if rec.strategy != "none" and not standby_lost:
            trigger = [ft] if rec.strategy == "active-active" else [self.response.declare]
            last = self.runbook(f"svc:{s_name}:step", s_name, list(f.steps or rec.steps), trigger, rpo)
            paths.append(self.validated(s_name, s, last))
        end = self.end_of(hit.fault)
        if end is None:
            return LossPaths()
        failover = paths[0] if paths else -1
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
        return LossPaths(failover=failover, back_in_place=paths[-1])

    def restore(self, s_name: str, s: Service, hit: Hit, f: Fault, rpo: int) -> int | None:
        """The restore runbook of a corrupted or drifted service, validated; None if it has none."""
        rec = s.recovery
        steps = list(f.steps or rec.restore or (rec.steps if rec.strategy == "backup-restore" else []))
        if not steps:
            self.b.problem(f"service {s_name!r} has no runbook for {f.kind}", ("faults", hit.fault))
            return None
        declare = self.response.declare
        trigger = [declare] if hit.mode == "corrupt" else [declare, self.response.detect_tasks[hit.fault]]
        last = self.runbook(f"svc:{s_name}:{hit.mode}", s_name, steps, trigger, rpo)
        return self.validated(s_name, s, last)

    def validated(self, s_name: str, s: Service, last: int) -> int:
        """The service's validation after ``last``, if its recovery has one (else ``last``)."""
        v = s.recovery.validate_
        if v is None:
            return last
        return self.b.add(
            f"svc:{s_name}:validate",
            "validate",
            f"{s_name}: {v.name}",
            v.duration or Fixed(0.0),
            [last, *self.ready(v.role)],
            role=v.role,
            service=s_name,
        )

    def ready(self, role: str | None) -> list[int]:
        """What a person of ``role`` needs before working on the recovery (paged after escalation)."""
        return self.b.called_in(role, self.response.escalated)

    def end_of(self, fi: int) -> int | None:
        """The task of fault ``fi`` clearing by itself (added the first time it is asked for); None if it does not."""
        f = self.drill.faults[fi]
        if f.duration is None:
            return None
        if fi not in self.fault_end:
            self.fault_end[fi] = self.b.add(
                f"fault-end:{fi}",
                "fault-end",
                f"{f.kind} on {', '.join(f.targets)} clears",
                f.duration,
                [self.response.fault_tasks[fi]],
            )
        return self.fault_end[fi]

    def runbook(self, prefix: str, service: str, steps: list[Step], trigger: list[int], rpo: int = -1) -> int:
        """Add ``steps`` one after another from ``trigger``; return the last step (or the trigger)."""
        b = self.b
        prev = trigger
        last = trigger[0]
        for i, st in enumerate(steps):
            dur = st.duration if st.duration is not None else Fixed(0.0)
            offset = 0.0
            blocked = -1
            if st.restore:
                d = self.topo.services[service].data
                if d is None or d.size is None or d.restore_throughput is None:
                    b.problem(
                        f"step {st.name!r} restores data but service {service!r} has no "
                        "data.size and data.restore_throughput",
                        ("faults",),
                    )
                else:
                    offset = d.size / d.restore_throughput
                blocked = rpo
            last = b.add(
                f"{prefix}:{i}:{st.name}",
                "step",
                f"{service}: {st.name}",
                dur,
                [*prev, *self.ready(st.role)],
                role=st.role,
                service=service,
                offset=offset,
                blocked_by_rpo=blocked,
            )
            prev = [last]
        return last

    def rollback_chain(self, rb: Rollback, ft: int) -> RollbackChain:
        """The rollback chain, added the first time a cutover service asks for it (``ft``: its fault)."""
        if self.rollback is not None:
            return self.rollback
        b = self.b
        # the decision to roll back needs the cutover to have failed: another fault may be declared first
        cutovers = [
            self.response.fault_tasks[i] for i, g in enumerate(self.drill.faults) if g.kind == "cutover-failure"
        ]
        decided = b.add(
            "rollback:decided", "milestone", "rollback decided", Fixed(0.0), [self.response.declare, *cutovers]
        )
        freeze = b.add(
            "rollback:freeze",
            "step",
            rb.freeze.name or "freeze writes to the new system",
            rb.freeze.duration,
            [decided, *self.ready(rb.freeze.role)],
            role=rb.freeze.role,
        )
        last = freeze
        for i, st in enumerate(rb.steps):
            last = b.add(
                f"rollback:{i}:{st.name}",
                "step",
                f"rollback: {st.name}",
                st.duration or Fixed(0.0),
                [last, *self.ready(st.role)],
                role=st.role,
            )
        if rb.policy != "discard":
            if rb.reconcile_rate is None:  # an unchecked drill model, as above
                b.problem(f"policy {rb.policy} needs a reconcile_rate", ("rollback", "reconcile_rate"))
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
        self.rollback = RollbackChain(decided, freeze, last)
        return self.rollback
