"""Usable: when people can work again, after the technical restore.

*Restored* ends a service's outage as the estate sees it; the people using it
are back in service later. Clients reconnect once DNS and connection-pool
lifetimes run out, a login storm ramps up, data is re-validated, and what was
recorded on paper while the service was down is entered back. A service or a
workflow declaring ``usable`` gets, after its restored milestone:

* its ``steps``, one after another (each staffed or automated);
* its **back-entry** (``backlog_entry``): staffed work of ``duration`` plus
  ``per_hour`` for every hour of downtime — compiled as one task whose
  duration grows with the time between two finishes
  (:attr:`~drsim.plan.tasks.Task.elapsed_from`), so both engines scale it
  replicate by replicate;
* the **usable** milestone.

A service's downtime, for its back-entry, is its outage: from going down until
restored (a drift taken down: from detection; a rolled-back cutover: from the
freeze until the old system serves again). A workflow's is the time its
downtime procedures ran: from the first thing it needs going down (a service,
or a dependency group left short of members) until the last is usable again;
a gap while everything happened to be back still counts, since wards stay on
paper until the all-clear. The workflow's own ``usable`` work starts then.

Compiled after every restored milestone exists; adds tasks only for what
declares ``usable``, so estates without it compile exactly as before.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..model import ProportionalWork, Usable, WorkStep
from ..model.distributions import Fixed
from .builder import PlanBuilder
from .compiled import RpoItem, ServiceOutage, UsableMark
from .recovery import RollbackChain
from .response import ResponseTasks
from .tasks import ANY

HOUR = 3600.0


@dataclass(frozen=True)
class UsableContext:
    """What compiling the usable milestones reads from the phases before."""

    outages: dict[str, ServiceOutage]
    rpo_items: list[RpoItem]
    rollback: RollbackChain | None
    response: ResponseTasks


def outage_tasks(ctx: UsableContext, service: str) -> tuple[int, int]:
    """The tasks whose finishes bound ``service``'s outage for its back-entry: (down, back).

    A drift taken down is down from its detection; a rolled-back cutover from the freeze until the
    old system serves again; anything else from its down task until restored.
    """
    o = ctx.outages[service]
    if o.cause == "data-drift":
        return ctx.rpo_items[o.rpo].task_a, o.restored_task
    if o.cause == "cutover-failure" and ctx.rollback is not None:
        return ctx.rollback.freeze, ctx.rollback.back
    return o.down_task, o.restored_task


def _work(
    builder: PlanBuilder,
    ctx: UsableContext,
    key: str,
    label: str,
    usable: Usable,
    after: int,
    window: tuple[int, int],
    service: str | None,
) -> int:
    """The steps and back-entry of ``usable`` after ``after``; the back-entry scales with ``window``."""
    last = after
    for i, st in enumerate(usable.steps):
        last = work_step(builder, ctx.response, f"{key}:step:{i}:{st.name}", f"{label}: {st.name}", st, last, service)
    if usable.backlog_entry is not None:
        last = proportional(
            builder,
            ctx.response,
            f"{key}:backlog-entry",
            f"{label}: enter back the records kept on paper",
            usable.backlog_entry,
            last,
            window,
            service,
        )
    return last


def work_step(
    builder: PlanBuilder,
    response: ResponseTasks,
    key: str,
    label: str,
    st: WorkStep,
    after: int | list[int],
    service: str | None,
) -> int:
    """One staffed or automated step after ``after`` (a task, or every one of several)."""
    return builder.add(
        key,
        "step",
        label,
        st.duration,
        [*_tasks(after), *builder.called_in(st.role, response.escalated)],
        role=st.role,
        service=service,
        people=st.people,
    )


def proportional(
    builder: PlanBuilder,
    response: ResponseTasks,
    key: str,
    label: str,
    work: ProportionalWork,
    after: int | list[int],
    window: tuple[int, int],
    service: str | None,
) -> int:
    """Work of ``work.duration`` plus ``work.per_hour`` per hour between the finishes of ``window``,
    after ``after`` (a task, or every one of several)."""
    return builder.add(
        key,
        "step",
        label,
        work.duration if work.duration is not None else Fixed(0.0),
        # the window's ends have finished by then; named, so that each engine knows it reads them
        [*_tasks(after), *window, *builder.called_in(work.role, response.escalated)],
        role=work.role,
        service=service,
        people=work.people,
        elapsed_from=window[0],
        elapsed_to=window[1],
        elapsed_coef=work.per_hour / HOUR,
    )


def _tasks(after: int | list[int]) -> list[int]:
    return [after] if isinstance(after, int) else after


def compile_usable(builder: PlanBuilder, ctx: UsableContext, stays_up: set[str]) -> UsableMark:
    """The usable milestones of every service and workflow that declares ``usable`` and is hit.

    ``stays_up``: drifting services the drill leaves serving (never down, so nothing to enter back).
    """
    topo = builder.topo
    services: dict[str, int] = {}
    for name, o in ctx.outages.items():
        u = topo.services[name].usable
        if u is None or name in stays_up:
            continue
        # usable when its last piece of work is done (restored, if it declares none)
        services[name] = _work(builder, ctx, f"usable:{name}", name, u, o.restored_task, outage_tasks(ctx, name), name)
    workflows: dict[str, tuple[int, int]] = {}
    for wname, w in topo.workflows.items():
        if w.usable is None:
            continue
        marks = _workflow_marks(builder, ctx, wname, services, stays_up)
        if not marks:
            continue
        downs, backs = zip(*marks, strict=True)
        down = builder.add(
            f"usable:workflow:{wname}:down", "milestone", f"{wname} on paper", Fixed(0.0), downs, join=ANY
        )
        back = builder.add(f"usable:workflow:{wname}:back", "milestone", f"{wname}: systems back", Fixed(0.0), backs)
        last = _work(builder, ctx, f"usable:workflow:{wname}", wname, w.usable, back, (down, back), None)
        done = builder.add(f"usable:workflow:{wname}:done", "milestone", f"{wname} usable", Fixed(0.0), [last])
        workflows[wname] = (back, done)
    return UsableMark(services, workflows)


def _workflow_marks(
    builder: PlanBuilder, ctx: UsableContext, wname: str, usable: dict[str, int], stays_up: set[str]
) -> list[tuple[int, int]]:
    """What workflow ``wname`` needs that goes down: (task it goes down at, task it is usable again at).

    A plain need is down over its outage and back when usable (or restored); a dependency group
    short of members goes down with the member that leaves too few and is back when enough are.
    """
    topo = builder.topo
    w = topo.workflows[wname]
    down = {s for s in ctx.outages if s not in stays_up}

    def back_of(s: str) -> int:
        return usable.get(s, ctx.outages[s].restored_task)

    out = [(outage_tasks(ctx, s)[0], back_of(s)) for s in w.needs_all() if s in down]
    out += [(outage_tasks(ctx, m)[0], back_of(m)) for s in w.down_when_degraded for m in _members_down(topo, s, down)]
    for gi, g in enumerate(w.groups()):
        gone = sorted((m for m in g.members() if m in down), key=lambda m: (outage_tasks(ctx, m)[0], m))
        short = g.needed() - (len(g.members()) - len(gone))
        if short <= 0:
            continue
        key = f"usable:workflow:{wname}:group{gi}"
        # short when the (len(gone) - short + 1)-th member goes down, back when the short-th is back:
        # order statistics, as the first of every subset of that size to be all down (all back)
        back = _order_statistic(
            builder, f"{key}:back", f"{wname}: {short} of {', '.join(gone)} back", [back_of(m) for m in gone], short
        )
        first_short = _order_statistic(
            builder,
            f"{key}:down",
            f"{wname}: too few of {', '.join(g.members())} up",
            [outage_tasks(ctx, m)[0] for m in gone],
            len(gone) - short + 1,
        )
        out.append((first_short, back))
    return out


def _order_statistic(builder: PlanBuilder, key: str, label: str, tasks: list[int], k: int) -> int:
    """A milestone finishing when the ``k``-th of ``tasks`` finishes: the first of every ``k``-subset to be all done."""
    if k == 1:
        return builder.add(key, "milestone", label, Fixed(0.0), tasks, join=ANY)
    if k == len(tasks):
        return builder.add(key, "milestone", label, Fixed(0.0), tasks)
    subsets = [
        builder.add(f"{key}:{j}", "milestone", label, Fixed(0.0), list(c))
        for j, c in enumerate(itertools.combinations(tasks, k))
    ]
    return builder.add(key, "milestone", label, Fixed(0.0), subsets, join=ANY)


def _members_down(topo, service: str, down: set[str]) -> list[str]:
    """The members of ``service``'s dependency groups that are down."""
    return sorted({m for g in topo.services[service].groups() for m in g.members() if m in down})
