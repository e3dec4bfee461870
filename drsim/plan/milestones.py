"""Milestones: when each service counts as restored, and the marks of the decision-latency breakdown.

A service is *restored* — usable again, the end of its outage and of its RTO —
once it is recovered itself and everything it depends on that was down is
restored; a dependent is restored once everything it depends on is. So the
restored milestones are compiled in dependency order
(:func:`~drsim.plan.order.dependency_order`), then:

* roles that broke glass get normal access back once the services their
  consoles sit behind are restored (:meth:`~drsim.plan.builder.PlanBuilder.link_access`);
* steps, validations and detection wait for what they need
  (:func:`~drsim.plan.needs.link_needs`), and a need that would make a task
  wait for itself is reported;
* **all restored**: every affected service restored.

The milestone map names the tasks whose finishes split the incident into the
decision-latency breakdown: fault → detected → acknowledged → declared →
restored.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..model import Drill
from ..model.distributions import Fixed
from .affected import AffectedServices
from .builder import PlanBuilder
from .compiled import ServiceOutage
from .needs import link_needs
from .order import dependency_order
from .recovery import Recovery
from .response import ResponseTasks
from .tasks import ANY


@dataclass(frozen=True)
class Restoration:
    """Every outage of the drill, and the task of every affected service restored.

    Attributes
    ----------
    outages
        Each service down in the drill, in dependency order, with the tasks its outage runs between.
    all_restored
        The "every affected service restored" milestone (None when no service is down).
    """

    outages: dict[str, ServiceOutage]
    all_restored: int | None


@dataclass(frozen=True)
class DependencyMark:
    """Something a service needs that is down: a service, or a group short of members.

    ``down`` is the task whose finish takes it down, ``restored`` the one whose finish brings it back.
    """

    name: str
    down: int
    restored: int


def _dependency_marks(
    builder: PlanBuilder,
    s_name: str,
    affected: AffectedServices,
    outages: dict[str, ServiceOutage],
    struck: dict[int, float],
) -> list[DependencyMark]:
    """What ``s_name`` needs that is down: each plain dependency, and each group with fewer members
    up than it needs — down when one member too many has gone down, back when enough have come back
    (any-of: the first back; k of n: the k-th, as the first of every subset to be all back)."""
    s = builder.topo.services[s_name]
    out = [
        DependencyMark(d, outages[d].down_task, outages[d].restored_task)
        for d in s.needs_all()
        if d in outages and d in affected.unavailable
    ]
    for gi, g in enumerate(s.groups()):
        down = sorted(
            (m for m in g.members() if m in outages and m in affected.unavailable),
            key=lambda m: (struck.get(outages[m].down_task, 0.0), m),
        )
        up = len(g.members()) - len(down)
        if up >= g.needed() or not down:
            continue
        back_needed = g.needed() - up
        name = "|".join(g.members()) if g.any_of is not None else f"{g.needed()} of {'|'.join(g.members())}"
        key = f"restored:{s_name}:group{gi}"
        label = f"{s_name}: {back_needed} of {', '.join(down)} back"
        restored = [outages[m].restored_task for m in down]
        if back_needed == 1:
            back = builder.add(key, "milestone", label, Fixed(0.0), restored, join=ANY)
        elif back_needed == len(down):
            back = builder.add(key, "milestone", label, Fixed(0.0), restored)
        else:
            subsets = [
                builder.add(
                    f"{key}:{j}", "milestone", f"{', '.join(c)} back", Fixed(0.0), [outages[m].restored_task for m in c]
                )
                for j, c in enumerate(itertools.combinations(down, back_needed))
            ]
            back = builder.add(key, "milestone", label, Fixed(0.0), subsets, join=ANY)
        # the group goes down with the member that leaves too few up
        out.append(DependencyMark(name, outages[down[len(down) - back_needed]].down_task, back))
    return out


def compile_restoration(
    builder: PlanBuilder, affected: AffectedServices, response: ResponseTasks, recovery: Recovery
) -> Restoration:
    """Add the restored milestones in dependency order, the access links, and "all restored"."""
    topo, drill = builder.topo, builder.drill
    fault_tasks = response.fault_tasks
    struck = {t: drill.faults[i].at for i, t in enumerate(fault_tasks)}
    outages: dict[str, ServiceOutage] = {}
    for s_name in dependency_order(topo):
        s = topo.services[s_name]
        if s_name in affected.direct:
            rec = recovery.services[s_name]
            if rec.recovered is None:
                continue
            deps = [m.restored for m in _dependency_marks(builder, s_name, affected, outages, struck)]
            rt = builder.add(
                f"restored:{s_name}",
                "restored",
                f"{s_name} restored",
                Fixed(0.0),
                [rec.recovered, *deps],
                service=s_name,
            )
            fi = rec.hit.fault
            outages[s_name] = ServiceOutage(s_name, s.tier, fault_tasks[fi], rt, True, drill.faults[fi].kind, rec.rpo)
        elif s_name in affected.dependents:
            marks = _dependency_marks(builder, s_name, affected, outages, struck)
            if not marks:  # its dependencies could not be compiled: their problems are reported
                continue
            rt = builder.add(
                f"restored:{s_name}",
                "restored",
                f"{s_name} restored (its dependencies are back)",
                Fixed(0.0),
                [m.restored for m in marks],
                service=s_name,
            )
            # down with the first of its dependencies to go down (a dependent's own is already its first)
            first = min(marks, key=lambda m: (struck[m.down], m.name))
            cause = f"depends on {', '.join(sorted(m.name for m in marks))}"
            outages[s_name] = ServiceOutage(s_name, s.tier, first.down, rt, False, cause)

    builder.link_access({name: o.restored_task for name, o in outages.items()})
    restored = {name: (o.restored_task, struck[o.down_task]) for name, o in outages.items()}
    builder.problems += link_needs(builder.tasks, [*response.needs, *recovery.needs], restored, recovery.steps)
    restored_all = [o.restored_task for o in outages.values()]
    all_restored = None
    if restored_all:
        all_restored = builder.add(
            "all-restored", "milestone", "every affected service restored", Fixed(0.0), restored_all
        )
    return Restoration(outages, all_restored)


def milestone_map(drill: Drill, response: ResponseTasks, restoration: Restoration) -> dict[str, int]:
    """The tasks marking the decision-latency breakdown, by name.

    ``fault`` is the first fault of ``drill`` to strike; ``restored`` is present only when some
    service is down.
    """
    milestones: dict[str, int] = {
        "fault": response.fault_tasks[int(np.argmin([f.at for f in drill.faults]))],
        "detected": response.detected,
        "acknowledged": response.first_ack,
        "declared": response.declare,
    }
    if restoration.all_restored is not None:
        milestones["restored"] = restoration.all_restored
    return milestones
