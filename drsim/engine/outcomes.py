"""Scoring replays: from task finish times to RTO, RPO, queues, workflows and decisions.

Given the finish time of every task in every replicate (from either engine) and
the draws, this module computes, per replicate:

* **achieved RTO** of each affected service: restored time - time it went down;
* **achieved RPO**: the window of writes lost — replication lag at the fault
  (async), the age of the last usable backup (restore; for corruption the last
  backup taken *before* the corruption began, i.e. dwell + age), the drift
  window until detection, writes discarded by a rollback — plus the seconds of
  traffic dropped by a full interface buffer feeding the service;
* **queues** (fluid model): backlog = min(rate x outage, buffer), dropped =
  overflow, drain time = backlog / (drain - rate);
* **workflow downtime**: from the first needed service going down to the last
  coming back;
* **tier** RTO/RPO: the worst affected service of the tier;
* the **decision-latency** breakdown: fault -> detected -> acknowledged ->
  declared -> restored;
* **rollback time**: from the rollback decision until divergent writes are reconciled.

Metrics are keyed ``kind:subject:metric`` (``service:ehr-db:rto``,
``tier:tier0:rpo``, ``workflow:medication-administration:downtime``,
``queue:hl7-adt:dropped``, ``latency:detect``, ``rollback:total:time``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model.units import format_duration
from ..plan import Plan, RpoItem
from .draws import Draws, data_loss_window, dwell, fallbacks, restore_window
from .finish import TaskFinishes


def rpo_base(plan: Plan, item: RpoItem, draws: Draws, finish: TaskFinishes | None = None) -> np.ndarray:
    """The window of writes lost to a service's own data path (before queue losses).

    A service that came back in place (its site returned with its data) no later
    than its failover finished lost nothing.
    """
    rpo = _rpo_of_path(plan, item, draws, finish)
    if item.inplace >= 0 and finish is not None:
        won = finish.finish_of(item.inplace) <= (finish.finish_of(item.failover) if item.failover >= 0 else np.inf)
        rpo = np.where(won, 0.0, rpo)
    return rpo


def _rpo_of_path(plan: Plan, item: RpoItem, draws: Draws, finish: TaskFinishes | None) -> np.ndarray:
    """The window of writes lost along the service's data path: from the draws, or ending at a finish."""
    if item.kind in ("drift", "rollback-discard"):
        if finish is None:
            raise ValueError(f"a {item.kind} RPO item is scored from finish times; none were given")
        fault_at = plan.drill.faults[item.fault].at
        late = finish.finish_of(item.task_a) - fault_at
        return late if item.kind == "drift" else late + item.offset
    window = data_loss_window(item, draws)
    if item.restore_gate >= 0:
        if finish is None:
            raise ValueError("a failover that can fall back to a restore is scored from finish times; none were given")
        # the failover failed and the restore was started: the restore's window is lost
        fell_back = np.isfinite(finish.finish_of(item.restore_gate))
        window = np.where(fell_back, restore_window(item, draws), window)
    return window


def never_reason(plan: Plan, service: str, draws: Draws, rpo: float) -> str:
    """Why ``service`` lost every write (``rpo`` is infinite) in the one replicate of ``draws``: ``""`` if it did not.

    No clean restore point left within the backup retention, or an interface queue that
    drops its messages for as long as the service is down, and it never comes back.
    """
    if not np.isinf(rpo):
        return ""
    o = plan.outages[service]
    if o.rpo >= 0:
        item = plan.rpo_items[o.rpo]
        if item.interval > 0 and np.isinf(restore_window(item, draws)[0]):
            return _no_restore_point(item, draws)
    fed = sorted(q for q, spec in plan.topology.queues.items() if spec.consumer == service)
    if fed:
        return f"interface {', '.join(fed)} drops messages while it is down, and it never comes back"
    return "its writes are lost for as long as it is down, and it never comes back"


def _no_restore_point(item: RpoItem, draws: Draws) -> str:
    """Why a restore of data-loss ``item`` finds no clean restore point, in the one replicate of ``draws``."""
    why = f"no clean restore point within {format_duration(item.retention)} retention"
    parts = []
    if item.kind == "corruption":
        parts.append(f"the corruption began {format_duration(float(dwell(item, draws)[0]))} before it was found")
    n_unusable = float(fallbacks(item, draws)[0])
    if n_unusable > 0:
        points = "every restore point" if np.isinf(n_unusable) else f"{n_unusable:.0f} restore point(s)"
        parts.append(f"{points} before it unusable")
    if item.point_in_time:
        parts.append("the logs need an older backup to roll forward from")
    return why + (": " + "; ".join(parts) if parts else "")


def _worst(op: Callable[[np.ndarray, np.ndarray], np.ndarray], arrays: list[np.ndarray]) -> np.ndarray:
    """``op`` (``np.maximum`` or ``np.minimum``) of ``arrays``, element by element, folded in order.

    The same values as ``np.max(arrays, axis=0)`` (NaN included), without stacking the arrays first.
    """
    out = arrays[0]
    for a in arrays[1:]:
        out = op(out, a)
    return out


def evaluate(
    plan: Plan, draws: Draws, finish: TaskFinishes, sink: Callable[[str, np.ndarray], None] | None = None
) -> dict[str, np.ndarray]:
    """Every metric of every replicate, as arrays of length ``draws.n`` (seconds).

    ``sink``, if given, is called as ``sink(key, values)`` once per metric, the
    moment its values are final — while they are still in the processor's
    cache, which is where a summary reads them fastest.
    """
    topo = plan.topology
    out: dict[str, np.ndarray] = {}
    emit = sink if sink is not None else (lambda key, values: None)

    def final(key: str, values: np.ndarray) -> None:
        out[key] = values
        emit(key, values)

    down_at: dict[str, np.ndarray] = {}
    up_at: dict[str, np.ndarray] = {}
    for name, o in plan.outages.items():
        down_at[name] = finish.finish_of(o.down_task)
        up_at[name] = finish.finish_of(o.restored_task)
        final(f"service:{name}:rto", up_at[name] - down_at[name])
        # final once the queues feeding the service have added the traffic they dropped
        out[f"service:{name}:rpo"] = (
            rpo_base(plan, plan.rpo_items[o.rpo], draws, finish) if o.rpo >= 0 else np.zeros(draws.n)
        )

    for qname, q in topo.queues.items():
        # a drifting service still takes its messages: only outages back a queue up
        if q.consumer in plan.outages and plan.outages[q.consumer].cause != "data-drift":
            outage = out[f"service:{q.consumer}:rto"]
            arrived = q.rate * outage
            backlog = np.minimum(arrived, q.buffer)
            dropped = np.where(np.isinf(outage), np.inf, arrived - backlog)
            drain = backlog / (q.drain - q.rate)
            final(f"queue:{qname}:backlog", backlog)
            final(f"queue:{qname}:dropped", dropped)
            final(f"queue:{qname}:drain", drain)
            final(f"queue:{qname}:clear", outage + drain)
            if f"service:{q.consumer}:rpo" in out and q.consumer in plan.outages:
                out[f"service:{q.consumer}:rpo"] = out[f"service:{q.consumer}:rpo"] + dropped / q.rate
    for name in plan.outages:
        emit(f"service:{name}:rpo", out[f"service:{name}:rpo"])

    for tier in topo.tiers:
        members = [s for s, o in plan.outages.items() if o.tier == tier]
        if members:
            final(f"tier:{tier}:rto", _worst(np.maximum, [out[f"service:{s}:rto"] for s in members]))
            final(f"tier:{tier}:rpo", _worst(np.maximum, [out[f"service:{s}:rpo"] for s in members]))

    for wname, w in topo.workflows.items():
        hit = [s for s in w.needs if s in plan.outages and plan.outages[s].cause != "data-drift"]
        if hit:
            first_down = _worst(np.minimum, [down_at[s] for s in hit])
            last_up = _worst(np.maximum, [up_at[s] for s in hit])
            final(f"workflow:{wname}:downtime", last_up - first_down)
        else:
            final(f"workflow:{wname}:downtime", np.zeros(draws.n))

    m = plan.milestones
    fault = finish.finish_of(m["fault"])
    detected = finish.finish_of(m["detected"])
    acked = finish.finish_of(m["acknowledged"])
    declared = finish.finish_of(m["declared"])
    final("latency:detect", detected - fault)
    final("latency:acknowledge", acked - detected)
    final("latency:declare", declared - acked)
    if "restored" in m:
        restored = finish.finish_of(m["restored"])
        final("latency:restore", restored - declared)
        final("latency:total", restored - fault)
    if plan.rollback is not None:
        a, b = plan.rollback
        final("rollback:total:time", finish.finish_of(b) - finish.finish_of(a))
    return out


def targets(plan: Plan) -> dict[str, float]:
    """The target each gated metric is held to: tier RTO/RPO per service and tier, workflow tolerance."""
    topo = plan.topology
    t: dict[str, float] = {}
    for name, o in plan.outages.items():
        tier = topo.tiers[o.tier]
        t[f"service:{name}:rto"] = tier.rto
        t[f"service:{name}:rpo"] = tier.rpo
    for tier_name, tier in topo.tiers.items():
        t[f"tier:{tier_name}:rto"] = tier.rto
        t[f"tier:{tier_name}:rpo"] = tier.rpo
    for wname, w in topo.workflows.items():
        t[f"workflow:{wname}:downtime"] = w.tolerance
    return t
