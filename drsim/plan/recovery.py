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

from dataclasses import dataclass, field, replace

from ..model import Rollback, Step
from ..model.distributions import Fixed
from .affected import AffectedServices, Hit
from .builder import PlanBuilder
from .data_loss import DataLoss, LossPaths, base_loss
from .needs import PendingNeed
from .order import by_criticality
from .response import ResponseTasks
from .tasks import ANY, Attempts, TaskKind


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
    back
        The end of its runbook: the old system serves again (before divergent writes are reconciled).
    """

    decided: int
    freeze: int
    done: int
    back: int


@dataclass(frozen=True)
class Recovery:
    """Every directly hit service's recovery, in compile order, and the rollback if there is one."""

    services: dict[str, ServiceRecovery]
    rollback: RollbackChain | None
    #: What the runbook steps and validations need, linked once the restored milestones exist.
    needs: list[PendingNeed] = field(default_factory=list)
    #: The task of each runbook step compiled in this drill, by (service, step name).
    steps: dict[tuple[str, str], int] = field(default_factory=dict)


def compile_recovery(builder: PlanBuilder, affected: AffectedServices, response: ResponseTasks) -> Recovery:
    """Add every directly hit service's recovery paths, most critical service first."""
    compiler = _RecoveryCompiler(builder, response)
    services: dict[str, ServiceRecovery] = {}
    for name in by_criticality(builder.topo):
        hit = affected.direct.get(name)
        if hit is not None:
            services[name] = compiler.service(name, hit, rpo=len(services))
    return Recovery(services, compiler.rollback, compiler.needs, compiler.steps)


class _RecoveryCompiler:
    """The state the services' recoveries share: the fault-cleared tasks and the one rollback chain."""

    def __init__(self, builder: PlanBuilder, response: ResponseTasks):
        self.builder, self.topo, self.drill = builder, builder.topo, builder.drill
        self.response = response
        #: Each fault's "clears by itself" task, by fault index, added the first time it is asked for.
        self.fault_end: dict[int, int] = {}
        self.rollback: RollbackChain | None = None
        #: Each service's first gate falling back to its restore runbook (a failed failover).
        self.restore_gates: dict[str, int] = {}
        self.needs: list[PendingNeed] = []
        self.steps: dict[tuple[str, str], int] = {}

    def service(self, name: str, hit: Hit, rpo: int) -> ServiceRecovery:
        """Compile one service's paths back and its recovered milestone (``rpo``: its data-loss item)."""
        builder = self.builder
        loss = base_loss(self.topo, self.drill, name, hit, self.response.detect_tasks[hit.fault])
        if loss.problem is not None:
            builder.problems.append(loss.problem)
        struck = self.response.fault_tasks[hit.fault]
        paths: list[int] = []
        loss_paths = LossPaths()
        if hit.mode == "down":
            loss_paths = self.down(name, hit, rpo, paths)
        elif hit.mode in ("corrupt", "drift"):
            last = self.restore(name, hit, rpo)
            if last is None:
                return ServiceRecovery(name, hit, rpo, loss, None)
            paths.append(last)
        elif hit.mode == "cutover" and (rollback := self.drill.rollback) is not None:
            chain = self.rollback_chain(rollback, struck)
            if rollback.policy == "discard":
                loss_paths = LossPaths(frozen=chain.freeze, discarded_before=rollback.cutover_before)
            paths.append(chain.done)
        elif hit.mode == "cutover":  # an unchecked drill model (check_drill reports it too)
            builder.problem("a cutover-failure drill needs a rollback section", ("faults", hit.fault, "kind"))
        if not paths:
            never = Fixed(float("inf"))
            paths.append(
                builder.add(f"svc:{name}:never", "never", f"{name}: no way back", never, [struck], service=name)
            )
        recovered = (
            paths[0]
            if len(paths) == 1
            else builder.add(f"svc:{name}:recovered", "milestone", f"{name} recovered", Fixed(0.0), paths, join=ANY)
        )
        if name in self.restore_gates:
            loss_paths = replace(loss_paths, restore_gate=self.restore_gates[name])
        return ServiceRecovery(name, hit, rpo, loss, recovered, loss_paths)

    def down(self, name: str, hit: Hit, rpo: int, paths: list[int]) -> LossPaths:
        """Append the paths back of a service that is down; return what they mean for its data loss."""
        builder, topo = self.builder, self.topo
        service = topo.services[name]
        fault = self.drill.faults[hit.fault]
        struck = self.response.fault_tasks[hit.fault]
        local_ha = service.local_ha
        if (
            fault.kind == "region-loss"
            and local_ha is not None
            and not any(topo.region_contains(target, local_ha.zone) for target in fault.targets)
        ):
            paths.append(
                builder.add(
                    f"svc:{name}:zone-failover",
                    "step",
                    f"{name}: automatic failover to {local_ha.zone}",
                    local_ha.failover,
                    [struck],
                    service=name,
                )
            )
            return LossPaths(zone_failover=True)
        recovery = service.recovery
        standby_lost = recovery.standby_region is not None and (
            fault.kind == "region-loss"
            and any(topo.region_contains(target, recovery.standby_region) for target in fault.targets)
        )
        if recovery.strategy != "none" and not standby_lost:
            trigger = [struck] if recovery.strategy == "active-active" else [self.response.declare]
            where = ("faults", hit.fault, "steps") if fault.steps else ("services", name, "recovery", "steps")
            last = self.runbook(f"svc:{name}:step", name, list(fault.steps or recovery.steps), trigger, rpo, where)
            paths.append(self.validated(name, last))
        end = self.end_of(hit.fault)
        if end is None:
            return LossPaths()
        failover = paths[0] if paths else -1
        paths.append(
            builder.add(
                f"svc:{name}:restart",
                "step",
                f"{name}: back in place after the fault clears",
                service.restart or Fixed(0.0),
                [end],
                service=name,
            )
        )
        return LossPaths(failover=failover, back_in_place=paths[-1])

    def restore(self, name: str, hit: Hit, rpo: int) -> int | None:
        """The restore runbook of a corrupted or drifted service, validated; None if it has none."""
        recovery = self.topo.services[name].recovery
        fault = self.drill.faults[hit.fault]
        steps = list(
            fault.steps or recovery.restore or (recovery.steps if recovery.strategy == "backup-restore" else [])
        )
        where = ("faults", hit.fault, "steps") if fault.steps else ("services", name, "recovery")
        if not fault.steps:
            where = (*where, "restore" if recovery.restore else "steps")
        if not steps:
            self.builder.problem(f"service {name!r} has no runbook for {fault.kind}", ("faults", hit.fault))
            return None
        declare = self.response.declare
        trigger = [declare] if hit.mode == "corrupt" else [declare, self.response.detect_tasks[hit.fault]]
        last = self.runbook(f"svc:{name}:{hit.mode}", name, steps, trigger, rpo, where, in_restore=True)
        return self.validated(name, last)

    def validated(self, name: str, last: int) -> int:
        """The service's validation after ``last``, if its recovery has one (else ``last``).

        It needs what its ``needs`` say, and by default every service its service depends on. A
        validation that can fail continues through its ``succeeded`` gate, or its alternate path.
        """
        service = self.topo.services[name]
        validation = service.recovery.validate_
        if validation is None:
            return last
        key = f"svc:{name}:validate"
        task = self.step(key, name, validation, [last], -1, kind="validate")
        implied = validation.needs is None
        # by default its plain dependencies; a dependency group (any-of, k of n) is waited for by the
        # service's restored milestone, which knows how many of its members must be back
        needs = service.needs_all() if validation.needs is None else validation.needs
        path = ("services", name, "recovery", "validate", "needs")
        self.needs.append(PendingNeed(task, tuple(needs), path, implied=implied))
        if validation.failure is None:
            self.steps[(name, validation.name)] = task
            return task
        done, alternate = self.outcome(key, name, validation, task, -1, in_restore=False, where=path[:-1])
        self.steps[(name, validation.name)] = done
        if alternate is None:
            return done
        return self.builder.add(
            f"{key}:done", "milestone", f"{name}: validated", Fixed(0.0), [done, alternate], join=ANY, service=name
        )

    def ready(self, role: str | None) -> list[int]:
        """What a person of ``role`` needs before working on the recovery (paged after escalation)."""
        return self.builder.called_in(role, self.response.escalated)

    def end_of(self, fault_index: int) -> int | None:
        """The task of a fault clearing by itself (added the first time it is asked for); None if it does not."""
        fault = self.drill.faults[fault_index]
        if fault.duration is None:
            return None
        if fault_index not in self.fault_end:
            self.fault_end[fault_index] = self.builder.add(
                f"fault-end:{fault_index}",
                "fault-end",
                f"{fault.kind} on {', '.join(fault.targets)} clears",
                fault.duration,
                [self.response.fault_tasks[fault_index]],
            )
        return self.fault_end[fault_index]

    def runbook(
        self,
        prefix: str,
        service: str,
        steps: list[Step],
        trigger: list[int],
        rpo: int = -1,
        where: tuple[str | int, ...] = (),
        in_restore: bool = False,
    ) -> int:
        """Add ``steps`` of ``service`` one after another from ``trigger``; return the last (or the trigger).

        A step that restores data takes the transfer time on top, and is blocked by data-loss item ``rpo``.
        A step that can fail continues through its ``succeeded`` gate; when it has an alternate path
        (``otherwise``), the runbook is done at the first of its normal end and its alternate paths' ends.
        ``in_restore``: the steps are the restore runbook (which cannot fall back to itself).
        Each step's needs are recorded (``where``: the path of the steps in their file); a step another
        step needs is done when it succeeded.
        """
        last = trigger[0]
        prev = trigger
        ends: list[int] = []
        for i, step in enumerate(steps):
            key = f"{prefix}:{i}:{step.name}"
            last = self.step(key, service, step, prev, rpo)
            if step.needs:
                self.needs.append(PendingNeed(last, tuple(step.needs), (*where, i, "needs")))
            if step.failure is not None:
                last, alternate = self.outcome(
                    key, service, step, last, rpo, in_restore, where=(*where, i, "failure", "otherwise")
                )
                if alternate is not None:
                    ends.append(alternate)
            self.steps.setdefault((service, step.name), last)
            prev = [last]
        if not ends:
            return last
        return self.builder.add(
            f"{prefix}:done",
            "milestone",
            f"{service}: runbook done",
            Fixed(0.0),
            [last, *ends],
            join=ANY,
            service=service,
        )

    def step(self, key: str, service: str, step: Step, preds: list[int], rpo: int, kind: TaskKind = "step") -> int:
        """One runbook step of ``service`` after ``preds``: its transfer time and retries included."""
        builder = self.builder
        duration = step.duration if step.duration is not None else Fixed(0.0)
        offset = 0.0
        blocked = -1
        if step.restore:
            data = self.topo.services[service].data
            if data is None or data.size is None or data.restore_throughput is None:
                builder.problem(
                    f"step {step.name!r} restores data but service {service!r} has no "
                    "data.size and data.restore_throughput",
                    ("faults",),
                )
            else:
                offset = data.size / data.restore_throughput
            blocked = rpo
        attempts = Attempts.of(step.failure.probability, step.failure.retry) if step.failure is not None else None
        return builder.add(
            key,
            kind,
            f"{service}: {step.name}",
            duration,
            [*preds, *self.ready(step.role)],
            role=step.role,
            service=service,
            offset=offset,
            blocked_by_rpo=blocked,
            attempts=attempts,
            people=step.people,
        )

    def outcome(
        self,
        key: str,
        service: str,
        step: Step,
        task: int,
        rpo: int,
        in_restore: bool,
        where: tuple[str | int, ...] = (),
    ) -> tuple[int, int | None]:
        """The gates after ``task``, a step that can fail: (succeeded gate, end of the alternate path or None).

        ``where`` is the path of the alternate steps in their file (for their needs).

        The ``exhausted`` gate finishes (and the alternate path starts) only when every attempt failed;
        the ``succeeded`` gate only when one attempt succeeded. Both read the step's outcome element.
        """
        builder = self.builder
        failure = step.failure
        if failure is None:  # pragma: no cover - only called for steps that can fail
            return task, None
        tries = 1 + (failure.retry.limit if failure.retry is not None else 0)
        succeeded = builder.add(
            f"{key}:succeeded",
            "milestone",
            f"{service}: {step.name} succeeded",
            Fixed(0.0),
            [task],
            service=service,
            gate_of=task,
        )
        exhausted = builder.add(
            f"{key}:exhausted",
            "milestone",
            f"{service}: {step.name} FAILED ({tries} attempt{'s' if tries > 1 else ''})"
            + (" - taking the alternate path" if failure.otherwise is not None else " - this path is abandoned"),
            Fixed(0.0),
            [task],
            service=service,
            gate_of=task,
            gate_exhausted=True,
        )
        if failure.otherwise is None:
            return succeeded, None
        if failure.otherwise != "restore":
            return succeeded, self.runbook(
                f"{key}:otherwise", service, list(failure.otherwise), [exhausted], rpo, where, in_restore=in_restore
            )
        restore = self.topo.services[service].recovery.restore
        if in_restore or not restore:
            builder.problem(
                f"step {step.name!r} of service {service!r} falls back to a restore, but "
                + (
                    "it is part of the restore runbook" if in_restore else "the service has no recovery.restore runbook"
                ),
                ("services", service, "recovery"),
            )
            return succeeded, None
        self.restore_gates.setdefault(service, exhausted)
        restore_where = ("services", service, "recovery", "restore")
        end = self.runbook(f"{key}:otherwise", service, list(restore), [exhausted], rpo, restore_where, in_restore=True)
        return succeeded, end

    def rollback_chain(self, rollback: Rollback, struck: int) -> RollbackChain:
        """The rollback chain, added the first time a cutover service asks for it.

        ``struck`` is the task of that service's fault striking: reconciling takes longer the longer
        the new system took writes, from then until the freeze.
        """
        if self.rollback is not None:
            return self.rollback
        builder = self.builder
        # the decision to roll back needs the cutover to have failed: another fault may be declared first
        cutovers = [
            self.response.fault_tasks[i] for i, f in enumerate(self.drill.faults) if f.kind == "cutover-failure"
        ]
        decided = builder.add(
            "rollback:decided", "milestone", "rollback decided", Fixed(0.0), [self.response.declare, *cutovers]
        )
        freeze = builder.add(
            "rollback:freeze",
            "step",
            rollback.freeze.name or "freeze writes to the new system",
            rollback.freeze.duration,
            [decided, *self.ready(rollback.freeze.role)],
            role=rollback.freeze.role,
        )
        last = freeze
        for i, step in enumerate(rollback.steps):
            last = builder.add(
                f"rollback:{i}:{step.name}",
                "step",
                f"rollback: {step.name}",
                step.duration or Fixed(0.0),
                [last, *self.ready(step.role)],
                role=step.role,
                people=step.people,
            )
            if step.needs:
                self.needs.append(PendingNeed(last, tuple(step.needs), ("rollback", "steps", i, "needs")))
        back = last
        if rollback.policy != "discard":
            if rollback.reconcile_rate is None:  # an unchecked drill model, as above
                builder.problem(f"policy {rollback.policy} needs a reconcile_rate", ("rollback", "reconcile_rate"))
            else:
                coef = rollback.write_rate / rollback.reconcile_rate
                last = builder.add(
                    "rollback:reconcile",
                    "reconcile",
                    f"reconcile divergent writes ({rollback.policy})",
                    Fixed(0.0),
                    [last],
                    offset=coef * (rollback.cutover_before),
                    elapsed_from=struck,
                    elapsed_to=freeze,
                    elapsed_coef=coef,
                )
        self.rollback = RollbackChain(decided, freeze, last, back)
        return self.rollback
