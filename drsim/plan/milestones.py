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
            deps = [outages[d].restored_task for d in s.depends_on if d in outages and d in affected.unavailable]
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
            dep_names = [d for d in s.depends_on if d in outages and d in affected.unavailable]
            if not dep_names:  # its dependencies could not be compiled: their problems are reported
                continue
            rt = builder.add(
                f"restored:{s_name}",
                "restored",
                f"{s_name} restored (its dependencies are back)",
                Fixed(0.0),
                [outages[d].restored_task for d in dep_names],
                service=s_name,
            )
            # down with the first of its dependencies to go down (a dependent's own is already its first)
            first = min(dep_names, key=lambda d: (struck[outages[d].down_task], d))
            cause = f"depends on {', '.join(sorted(dep_names))}"
            outages[s_name] = ServiceOutage(s_name, s.tier, outages[first].down_task, rt, False, cause)

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
