"""Data loss: how each directly hit service's window of lost writes (its RPO) is formed.

A service hit by a fault loses the writes it had not yet protected elsewhere.
How much depends first on how its data is protected:

* synchronous replication (or a zone replica) loses nothing; asynchronous
  replication loses the replication lag at the instant of the fault;
* a service restored from backup loses everything since the last backup,
  uniform over the backup interval;
* corruption loses what was written since the last clean backup: the time it
  dwelt unnoticed plus the backup's age — and everything, if that reaches past
  the backup retention (no clean copy is left, so the restore never finishes);
* drift loses everything written from the fault until it was detected.

and then on how the service comes back (:func:`settle`):

* a zone failover keeps a synchronous replica: nothing is lost;
* a service that comes back in place, its data intact, before its failover
  finishes loses nothing;
* a rolled-back cutover that discards the new system's writes loses those
  written from the cutover until writes were frozen.

Each service gets one :class:`~drsim.plan.compiled.RpoItem`. Its *base*
(:func:`base_loss`) is formed as the service's recovery is compiled, because
the service's restore steps are blocked by it and its problems are reported in
that order; :func:`settle_data_loss` finalises every item once all recovery
paths exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..errors import Problem
from ..model import Drill, Topology
from ..model.distributions import Distribution, Uniform
from .affected import Hit
from .compiled import RpoItem


@dataclass(frozen=True)
class DataLoss:
    """A service's data-loss item as its data protection forms it, before its recovery paths are known.

    Attributes
    ----------
    item
        The base item.
    elements
        Random elements the item draws from, by name (a fault's dwell is shared by the services it hits).
    problem
        Why the loss cannot be scored (an unchecked model); ``item`` is then a placeholder.
    """

    item: RpoItem
    elements: dict[str, Distribution] = field(default_factory=dict)
    problem: Problem | None = None


@dataclass(frozen=True)
class LossPaths:
    """What a service's recovery paths mean for its data loss (see :func:`settle`).

    Attributes
    ----------
    zone_failover
        The service fails over to a synchronous zone replica: nothing is lost.
    failover, back_in_place
        The failover path's last task and the back-in-place task, when the service can come back
        in place once its fault clears (-1 otherwise).
    frozen
        The rollback's freeze task when the new system's writes are discarded (-1 otherwise).
    discarded_before
        Seconds the cutover ran before the fault, when writes are discarded.
    restore_gate
        The gate that finishes when a failed failover falls back to the restore runbook (-1: none).
    """

    zone_failover: bool = False
    failover: int = -1
    back_in_place: int = -1
    frozen: int = -1
    discarded_before: float = 0.0
    restore_gate: int = -1


@dataclass(frozen=True)
class DataLossItems:
    """The plan's data-loss items and the random elements they draw from."""

    items: list[RpoItem]
    elements: dict[str, Distribution]


def unscorable(service: str, hit: Hit, message: str) -> DataLoss:
    """A placeholder loss and the problem that makes it unscorable (an unchecked model).

    Compiling goes on, to find the rest of the problems; check_drill and check_topology report these too.
    """
    return DataLoss(RpoItem(service, "none", (), fault=hit.fault), problem=Problem(message, ("faults", hit.fault)))


def base_loss(topo: Topology, drill: Drill, service: str, hit: Hit, detect_task: int) -> DataLoss:
    """The data-loss item of ``service`` hit by ``hit``, from its data protection alone.

    ``detect_task`` is the task detecting the service's fault (the end of a drift's window).
    A service with backups keeps its backup interval and retention on the item, and, when
    its restore points can be unusable, the element drawing how many a restore falls back past.
    """
    loss = _protection_loss(topo, drill, service, hit, detect_task)
    d = topo.services[service].data
    if loss.problem is not None or d is None or d.backup_interval is None:
        return loss
    item = replace(loss.item, interval=d.backup_interval)
    if d.backup_retention is not None:
        item = replace(item, retention=d.backup_retention)
    elements = dict(loss.elements)
    if d.restore_point_unusable > 0:
        key = f"data:{service}:unusable-points"
        item = replace(item, unusable=key, unusable_p=d.restore_point_unusable)
        elements[key] = Uniform(0.0, 1.0)
    return DataLoss(item, elements)


def _protection_loss(topo: Topology, drill: Drill, service: str, hit: Hit, detect_task: int) -> DataLoss:
    """The data-loss item of ``service`` hit by ``hit`` as its protection (replication, backups) forms it."""
    s = topo.services[service]
    f = drill.faults[hit.fault]
    d = s.data
    if hit.mode == "corrupt":
        if d is None or d.backup_interval is None:
            return unscorable(
                service, hit, f"service {service!r} cannot be rebuilt from backup: it has no data.backup_interval"
            )
        elements: dict[str, Distribution] = {}
        dwell_key = f"fault:{hit.fault}:dwell"
        if f.dwell is not None:
            elements[dwell_key] = f.dwell
        age_key = f"data:{service}:backup-age"
        elements[age_key] = Uniform(0.0, d.backup_interval)
        retention = d.backup_retention if d.backup_retention is not None else float("inf")
        return DataLoss(RpoItem(service, "corruption", tuple(elements), retention=retention, fault=hit.fault), elements)
    if hit.mode == "drift":
        return DataLoss(RpoItem(service, "drift", (), fault=hit.fault, task_a=detect_task))
    if hit.mode == "cutover":
        return DataLoss(RpoItem(service, "none", (), fault=hit.fault))
    if s.recovery.strategy == "backup-restore":
        if d is None or d.backup_interval is None:
            return unscorable(service, hit, f"service {service!r}: strategy backup-restore needs data.backup_interval")
        age_key = f"data:{service}:backup-age"
        return DataLoss(
            RpoItem(service, "backup", (age_key,), fault=hit.fault), {age_key: Uniform(0.0, d.backup_interval)}
        )
    if d is not None and d.replication is not None and d.replication.mode == "async":
        if d.replication.lag is None:
            return unscorable(service, hit, f"service {service!r}: async replication needs a lag distribution")
        key = f"data:{service}:replication-lag"
        return DataLoss(RpoItem(service, "lag", (key,), fault=hit.fault), {key: d.replication.lag})
    if d is not None and d.replication is not None:
        return DataLoss(RpoItem(service, "sync", (), fault=hit.fault))
    return DataLoss(RpoItem(service, "none", (), fault=hit.fault))


def settle(loss: DataLoss, paths: LossPaths) -> RpoItem:
    """The final data-loss item of a service: its base, adjusted for how the service comes back.

    A failover that falls back to a restore loses, in the replicates where it does, the restore's
    window: the age of the last usable backup.
    """
    item = loss.item
    if paths.restore_gate >= 0 and item.interval > 0:
        item = replace(item, restore_gate=paths.restore_gate)
        if item.kind not in ("backup", "corruption"):
            item = replace(item, backup_age=f"data:{item.service}:backup-age")
    if paths.zone_failover:
        # zone replicas are written synchronously (multi-AZ): nothing is lost
        return RpoItem(item.service, "sync", (), fault=item.fault)
    item = replace(item, failover=paths.failover, inplace=paths.back_in_place)
    if paths.frozen >= 0:
        item = replace(item, kind="rollback-discard", task_a=paths.frozen, offset=paths.discarded_before)
    return item


def settle_data_loss(services: Iterable[tuple[DataLoss, LossPaths]]) -> DataLossItems:
    """Every service's final data-loss item, in compile order, and the elements they draw from.

    The elements are listed in the order the services were compiled; one kept by a base item
    stays even when the recovery path makes the loss nothing (a zone failover).
    """
    items: list[RpoItem] = []
    elements: dict[str, Distribution] = {}
    for loss, paths in services:
        for name, dist in loss.elements.items():
            elements.setdefault(name, dist)
        item = settle(loss, paths)
        if item.backup_age:
            elements.setdefault(item.backup_age, Uniform(0.0, item.interval))
        items.append(item)
    return DataLossItems(items, elements)
