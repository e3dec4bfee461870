"""The two orders compiling follows: most critical first, and dependencies first.

**Criticality.** Tiers rank by their recovery objectives: shortest RTO, then
shortest RPO, then name. A service's tier rank is the dispatch class of its
tasks (lower goes first when people are scarce), and services are compiled
most critical first — so task indices, the last tie-break of dispatch, favour
the more critical service too.

**Dependencies.** A service counts as restored only once everything it depends
on is restored, so restored milestones are compiled in dependency order: each
service after everything it depends on.
"""

from __future__ import annotations

from ..model import Topology


def tier_rank(topo: Topology, tier: str) -> tuple[float, float, str]:
    """Most critical first: shortest RTO, then shortest RPO, then name.

    Services are compiled in this order, so when people are scarce the
    tie-break between equally old tasks favours the more critical service.
    """
    return topo.tier_rank(tier)


def tier_classes(topo: Topology) -> dict[str, int]:
    """Each tier's dispatch class: 0 for the most critical tier, then 1, 2, … (see :func:`tier_rank`)."""
    ranks = sorted(topo.tiers, key=lambda name: tier_rank(topo, name))
    return {name: i for i, name in enumerate(ranks)}


def by_criticality(topo: Topology) -> list[str]:
    """Every service, most critical tier first, then by name."""
    return sorted(topo.services, key=lambda n: (tier_rank(topo, topo.services[n].tier), n))


def dependency_order(topo: Topology) -> list[str]:
    """Services ordered so each comes after everything it depends on (by name otherwise)."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(n: str) -> None:
        if n in seen:
            return
        seen.add(n)
        for d in sorted(topo.services[n].dependency_names()):
            visit(d)
        out.append(n)

    for n in sorted(topo.services):
        visit(n)
    return out
