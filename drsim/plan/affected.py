"""Affected services: which services each fault hits, how, and what goes down with them.

The first phase of compiling, and the only one that adds no task. A fault
*hits* a service directly — a region loss every service in the region (or in
a zone of it), any other fault the services it names — and the first fault to
hit a service decides how it is hit (:data:`HitMode`):

* ``down`` (region loss, service outage): the service is unavailable until
  it fails over or comes back in place;
* ``corrupt`` (data corruption): rebuilt from backup;
* ``drift`` (data drift): re-synchronised once detected; the service stays up,
  serving stale data, so it takes nothing down with it;
* ``cutover`` (cutover failure): recovered by rolling the cutover back.

A service not hit but depending, directly or through others, on one that is
unavailable is a *dependent*: down until everything it depends on is back. A
dependency group (``any_of``, ``need`` of ``of``) takes it down only when fewer
of its members are available than it needs; with some down but enough up, the
service is *degraded*, not down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..model import Drill, Topology
from ..model.topology import Service

#: How a fault hits a service directly.
HitMode = Literal["down", "corrupt", "drift", "cutover"]

MODE_OF_FAULT: dict[str, HitMode] = {
    "region-loss": "down",
    "service-outage": "down",
    "data-corruption": "corrupt",
    "data-drift": "drift",
    "cutover-failure": "cutover",
}


@dataclass(frozen=True)
class Hit:
    """A service hit directly by a fault: the fault's index in the drill, and how it is hit."""

    fault: int
    mode: HitMode


@dataclass(frozen=True)
class AffectedServices:
    """What the drill's faults do to the estate.

    Attributes
    ----------
    direct
        Services hit by a fault, by name: the first fault that hits each, and how.
    dependents
        Services down only because something they depend on is unavailable.
    unavailable
        Services that cannot be used during the incident: those hit directly (except by drift)
        and their dependents. Consoles reached through them need break-glass access.
    degraded
        Services that stay up on fewer members of a dependency group than it has (a Mastercard
        path while the Visa gateway is down), with the members that are down.
    """

    direct: dict[str, Hit]
    dependents: set[str]
    unavailable: set[str]
    degraded: dict[str, list[str]] = field(default_factory=dict)


def affected_services(topo: Topology, drill: Drill) -> AffectedServices:
    """Which services the faults of ``drill`` hit on ``topo``, and which go down with them."""
    direct: dict[str, Hit] = {}
    for fi, f in enumerate(drill.faults):
        for s_name, s in sorted(topo.services.items()):
            hit = (
                any(topo.region_contains(tg, s.region) for tg in f.targets)
                if f.kind == "region-loss"
                else s_name in f.targets
            )
            if hit and s_name not in direct:
                direct[s_name] = Hit(fi, MODE_OF_FAULT[f.kind])
    down_like = {s for s, h in direct.items() if h.mode != "drift"}
    dependents: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s_name, s in sorted(topo.services.items()):
            if s_name in direct or s_name in dependents:
                continue
            if missing_dependencies(s, down_like | dependents):
                dependents.add(s_name)
                changed = True
    unavailable = down_like | dependents
    degraded = {
        s_name: sorted(m for g in s.groups() for m in g.members() if m in unavailable)
        for s_name, s in sorted(topo.services.items())
        if s_name not in unavailable and any(m in unavailable for g in s.groups() for m in g.members())
    }
    return AffectedServices(direct, dependents, unavailable, degraded)


def missing_dependencies(service: Service, unavailable: set[str]) -> bool:
    """Whether ``service`` lacks something it needs: a plain dependency that is unavailable, or a
    group with fewer members available than it needs."""
    if any(d in unavailable for d in service.needs_all()):
        return True
    return any(sum(m not in unavailable for m in g.members()) < g.needed() for g in service.groups())
