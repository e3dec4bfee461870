"""Failback: returning to the primary after its site is back, a phase of its own after the failover.

A service that failed over runs on its standby until someone moves it back.
Once the fault clears and the service could run in place again (its restart
done), a service whose recovery declares ``failback`` is moved back:

* only if the failover won: a service whose restart in place finished no later
  than its failover never left, and has nothing to fail back (a role-free gate
  on the failover's end, cancelled by the restart: :attr:`~drsim.plan.tasks.Task.cancel_if`);
* **planned**: from the primary being back, the change window (``after``),
  then the standby's writes copied back (``resync``: ``duration`` plus
  ``per_hour`` for each hour the standby took writes, from the failover's end
  until the resync starts), then writes frozen (``freeze``) and the switch-back
  runbook (``steps``). Nothing is lost: the switch waits for the resync;
* **forced**: the freeze starts as soon as the primary is back; every write the
  standby took (from the failover's end until the freeze) is exposed, copied
  back after the switch (``resync``, if given).

The service is down for the switch, from the end of the freeze until its last
step is done. The failback is scored apart from the failover's RTO
(:func:`drsim.engine.outcomes.evaluate`): its time (primary back → done), its
downtime and its exposure.
"""

from __future__ import annotations

from ..model.distributions import Fixed
from .builder import PlanBuilder
from .compiled import FailbackTasks
from .response import ResponseTasks
from .usable import proportional, work_step


def compile_failback(
    builder: PlanBuilder, response: ResponseTasks, paths: dict[str, tuple[int, int]]
) -> dict[str, FailbackTasks]:
    """The failback of every service declaring one that can fail over and come back in place.

    ``paths``: per service, its failover path's last task and its back-in-place (restart) task.
    """
    out: dict[str, FailbackTasks] = {}
    for name, (failover, restart) in paths.items():
        fb = builder.topo.services[name].recovery.failback
        if fb is None:
            continue
        key = f"failback:{name}"
        standby = builder.add(
            f"{key}:on-standby", "milestone", f"{name} serving from its standby", Fixed(0.0), [failover], service=name
        )
        builder.tasks[standby].cancel_if = restart  # back in place first: nothing to fail back
        # due once it serves from its standby and could run in place again
        last: int | list[int] = [standby, restart]
        if fb.mode == "planned":
            if fb.after is not None:
                last = builder.add(
                    f"{key}:window", "milestone", f"{name}: failback window opens", fb.after, [standby, restart]
                )
            if fb.resync is not None:
                last = proportional(
                    builder,
                    response,
                    f"{key}:resync",
                    f"{name}: copy the standby's writes back",
                    fb.resync,
                    last,
                    (standby, last if isinstance(last, int) else restart),
                    name,
                )
        freeze = work_step(builder, response, f"{key}:freeze", f"{name}: {fb.freeze.name}", fb.freeze, last, name)
        last = freeze
        for i, st in enumerate(fb.steps):
            last = work_step(builder, response, f"{key}:step:{i}:{st.name}", f"{name}: {st.name}", st, last, name)
        switched = last
        if fb.mode == "forced" and fb.resync is not None:
            last = proportional(
                builder,
                response,
                f"{key}:resync",
                f"{name}: copy the standby's writes back",
                fb.resync,
                last,
                (standby, freeze),
                name,
            )
        done = last
        out[name] = FailbackTasks(name, fb.mode, standby, restart, freeze, switched, done)
    return out
