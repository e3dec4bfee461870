"""External outages: the systems outside the estate a drill's faults take down.

A topology's ``externals`` (a card network, a reference lab) are not services:
nobody recovers them and they have no RTO of their own. A ``service-outage``
fault may name one; it is down from the fault until the fault clears by itself
(never, without a ``duration``). The only thing an external's outage changes is
what reaches the queues it produces into (:mod:`drsim.engine.queues`).

The fault's clearing is the same random element however many targets it has:
the task ``fault-end:<fault>`` the services' recovery adds when it needs it, or
added here with that key when no service of the fault asked for it.
"""

from __future__ import annotations

from .builder import PlanBuilder
from .compiled import ExternalOutage
from .response import ResponseTasks


def compile_externals(builder: PlanBuilder, response: ResponseTasks) -> dict[str, ExternalOutage]:
    """The outage of every external a fault names (the first fault naming it decides), by name."""
    out: dict[str, ExternalOutage] = {}
    for fi, f in enumerate(builder.drill.faults):
        if f.kind != "service-outage":
            continue
        for name in f.targets:
            if name not in builder.topo.externals or name in out:
                continue
            up = -1
            if f.duration is not None:
                key = f"fault-end:{fi}"
                up = builder.keys[key] if key in builder.keys else _fault_end(builder, response, fi)
            out[name] = ExternalOutage(name, response.fault_tasks[fi], up)
    return out


def _fault_end(builder: PlanBuilder, response: ResponseTasks, fi: int) -> int:
    """Add fault ``fi``'s clearing, under the key and wording the services' recovery uses for it."""
    f = builder.drill.faults[fi]
    assert f.duration is not None
    return builder.add(
        f"fault-end:{fi}",
        "fault-end",
        f"{f.kind} on {', '.join(f.targets)} clears",
        f.duration,
        [response.fault_tasks[fi]],
    )
