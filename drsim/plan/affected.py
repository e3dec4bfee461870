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
unavailable is a *dependent*: down until everything it depends on is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..model import Drill, Topology

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
    """

    direct: dict[str, Hit]
    dependents: set[str]
    unavailable: set[str]


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
            if any(d in down_like or d in dependents for d in s.depends_on):
                dependents.add(s_name)
                changed = True
    return AffectedServices(direct, dependents, down_like | dependents)
