"""Scoring replays: from task finish times to RTO, RPO, queues, workflows and decisions.

Given the finish time of every task in every replicate (from either engine) and
the draws, this module computes, per replicate:

* **achieved RTO** of each affected service: restored time - time it went down (a
  drifting service the drill leaves up is not down: RTO and RPO 0);
* **achieved RPO**: the window of writes lost — replication lag at the fault
  (async), the age of the last usable backup (restore; for corruption the last
  backup taken *before* the corruption began, i.e. dwell + age), the drift
  window until detection, writes discarded by a rollback — plus the seconds of
  traffic dropped by a full interface buffer feeding the service;
* **queues** (fluid model, :mod:`drsim.engine.queues`): messages arrive at the
  profiled rate while the producer is up and the consumer down; backlog =
  min(arrived, buffer), dropped = overflow, drain time = backlog / (drain - rate);
* **workflow downtime**: the time while at least one needed service is down (the
  union of their outages, not the span from the first down to the last back), or
  degraded when the workflow cannot run on it degraded (``down_when_degraded``);
* **tier** RTO/RPO: the worst affected service of the tier;
* the **decision-latency** breakdown: fault -> detected -> acknowledged ->
  declared -> restored, and each decision **milestone** timed from the fault
  (what a gate such as ``declared time p90 <= 1h`` reads);
* **rollback time**: from the rollback decision until divergent writes are reconciled;
* **drift exposure** of a drifting service: the divergent-write window (the drift
  until detected), the divergent writes (with the fault's ``write_rate``), the time
  from detection until re-synced and reconciled.

Metrics are keyed ``kind:subject:metric`` (``service:ehr-db:rto``,
``tier:tier0:rpo``, ``workflow:medication-administration:downtime``,
``queue:hl7-adt:dropped``, ``latency:detect``, ``milestone:declared:time``, ``rollback:total:time``,
``drift:chart-viewer:window``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model.units import format_duration
from ..plan import Plan, RpoItem
from .draws import Draws, data_loss_window, dwell, fallbacks, restore_window
from .finish import TaskFinishes
from .queues import Arrivals, QueueFlow, queue_flow


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


def stays_up(plan: Plan, service: str) -> bool:
    """Whether ``service``, hit in this drill, keeps serving throughout: a drifting service the
    drill's policy leaves up (``on_detect: stay-up``) serves stale data but is not down."""
    o = plan.outages[service]
    if o.cause != "data-drift":
        return False
    return plan.drill.faults[plan.rpo_items[o.rpo].fault].on_detect == "stay-up"


def outage_window(plan: Plan, service: str, finish: TaskFinishes) -> tuple[np.ndarray, np.ndarray]:
    """When ``service`` went down and came back, in each replicate: while no side serves it.

    * A drifting service taken down (``on_detect: take-down``) is down from the drift's detection
      until re-synced.
    * A service whose cutover is rolled back is served by the new system until writes to it are
      frozen, and by the old one again once the rollback runbook is done (replaying or exporting
      the divergent writes afterwards does not take it down): down from the freeze to then.
    * A dependent is down from the first of its dependencies going down until the last is back.
    """
    o = plan.outages[service]
    if o.cause == "data-drift":
        return finish.finish_of(plan.rpo_items[o.rpo].task_a), finish.finish_of(o.restored_task)
    if o.cause == "cutover-failure" and plan.rollback is not None:
        freeze, back = rollback_serving(plan)
        return finish.finish_of(freeze), finish.finish_of(back)
    if not o.direct and _behind_cutover(plan, service):
        deps = [d for d in plan.topology.services[service].dependency_names() if d in plan.outages]
        windows = [outage_window(plan, d, finish) for d in deps]
        return _worst(np.minimum, [w[0] for w in windows]), _worst(np.maximum, [w[1] for w in windows])
    return finish.finish_of(o.down_task), finish.finish_of(o.restored_task)


def rollback_serving(plan: Plan) -> tuple[int, int]:
    """The rollback's freeze (the new system stops serving) and the end of its runbook (the old
    system serves again, before divergent writes are reconciled)."""
    assert plan.rollback is not None
    done = plan.tasks[plan.rollback[1]]
    back = done.preds[0] if done.kind == "reconcile" else done.index
    return plan.task("rollback:freeze").index, back


def _behind_cutover(plan: Plan, service: str) -> bool:
    """Whether a dependent is down, directly or through others, because of a rolled-back cutover."""
    o = plan.outages[service]
    if o.direct:
        return o.cause == "cutover-failure"
    return any(
        _behind_cutover(plan, d) for d in plan.topology.services[service].dependency_names() if d in plan.outages
    )


def _drift_exposure(
    plan: Plan, service: str, finish: TaskFinishes, window: np.ndarray, final: Callable[[str, np.ndarray], None]
) -> None:
    """The exposure of a drifting service: the divergent-write window (the drift until it was
    detected), the divergent writes in it (with the fault's ``write_rate``) and the time from
    detection until the service was re-synced and reconciled."""
    o = plan.outages[service]
    item = plan.rpo_items[o.rpo]
    fault = plan.drill.faults[item.fault]
    final(f"drift:{service}:window", window)
    if fault.write_rate is not None:
        final(f"drift:{service}:writes", window * fault.write_rate)
    final(f"drift:{service}:reconcile", finish.finish_of(o.restored_task) - finish.finish_of(item.task_a))


def queue_flows(
    plan: Plan, finish: TaskFinishes, until: float | None = None, full_at: bool = False
) -> dict[str, QueueFlow]:
    """The fluid queue (:mod:`drsim.engine.queues`) of every queue whose consumer is down, by name.

    A drifting consumer still takes its messages: only outages back a queue up. ``until``, if
    given, stops the clock there (the backlog at that moment: the consumer counts as back);
    ``full_at`` asks for the instant each buffer filled (NaN otherwise: it costs time).
    """
    out: dict[str, QueueFlow] = {}
    for qname, q in plan.topology.queues.items():
        if q.consumer not in plan.outages or stays_up(plan, q.consumer):
            continue
        down, up = outage_window(plan, q.consumer, finish)
        if until is not None:
            up = np.minimum(up, until)
        window = (down, up)
        out[qname] = queue_flow(
            Arrivals.of(plan.topology, plan.drill, qname),
            q.buffer,
            q.drain,
            window,
            producer_window(plan, qname, finish),
        )
    return out


def producer_window(plan: Plan, queue: str, finish: TaskFinishes) -> tuple[np.ndarray, np.ndarray] | None:
    """When the producer of ``queue`` is down (down, up) in each replicate; None if it never is.

    A service is down over its outage, unless :func:`stops_sending` says it keeps sending; an
    external system over its fault, until the fault clears (never, if it does not).
    """
    q = plan.topology.queues[queue]
    producer = q.producer
    if producer in plan.outages and stops_sending(plan, producer, q.consumer):
        return outage_window(plan, producer, finish)
    if producer in plan.externals:
        e = plan.externals[producer]
        down = finish.finish_of(e.down_task)
        return down, finish.finish_of(e.up_task) if e.up_task >= 0 else np.full_like(down, np.inf)
    return None


def stops_sending(plan: Plan, producer: str, consumer: str) -> bool:
    """Whether ``producer``'s outage stops it sending to ``consumer``.

    A service hit directly stops (a drifting one stays up and keeps sending). A dependent stops
    only if something it depends on other than the consumer is down: an LIS that is "down"
    because the interface engine it sends to is down still produces its results.
    """

    def stops(name: str, seen: frozenset[str]) -> bool:
        o = plan.outages.get(name)
        if o is None or stays_up(plan, name) or name in seen:
            return False
        if o.direct:
            return True
        deps = plan.topology.services[name].dependency_names()
        return any(stops(d, seen | {name}) for d in deps if d != consumer)

    return stops(producer, frozenset())


def union_length(downs: list[np.ndarray], ups: list[np.ndarray]) -> np.ndarray:
    """The time covered by the union of the intervals ``[downs[i], ups[i]]``, element by element.

    A gap while every service is back (one back before another goes down) is not counted, and an
    interval inside another counts once.
    """
    if all(np.array_equal(d, downs[0]) for d in downs[1:]):
        # every interval starts together (one fault): the union runs to the last back
        return _worst(np.maximum, ups) - downs[0]
    d, u = np.stack(downs), np.stack(ups)
    order = np.argsort(d, axis=0, kind="stable")
    d, u = np.take_along_axis(d, order, axis=0), np.take_along_axis(u, order, axis=0)
    total = np.zeros(d.shape[1])
    covered = d[0]
    with np.errstate(invalid="ignore"):
        for i in range(d.shape[0]):
            start = np.maximum(d[i], covered)
            total = total + np.where(u[i] > start, u[i] - start, 0.0)
            covered = np.maximum(covered, u[i])
    return total


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
        down_at[name], up_at[name] = outage_window(plan, name, finish)
        # final once the queues feeding the service have added the traffic they dropped
        rpo = rpo_base(plan, plan.rpo_items[o.rpo], draws, finish) if o.rpo >= 0 else np.zeros(draws.n)
        if o.cause == "data-drift":
            _drift_exposure(plan, name, finish, rpo, final)
        if stays_up(plan, name):
            final(f"service:{name}:rto", np.zeros(draws.n))
            out[f"service:{name}:rpo"] = np.zeros(draws.n)
        else:
            final(f"service:{name}:rto", up_at[name] - down_at[name])
            out[f"service:{name}:rpo"] = rpo

    for qname, flow in queue_flows(plan, finish).items():
        consumer = topo.queues[qname].consumer
        final(f"queue:{qname}:backlog", flow.backlog)
        final(f"queue:{qname}:dropped", flow.dropped)
        final(f"queue:{qname}:drain", flow.drain)
        final(f"queue:{qname}:clear", out[f"service:{consumer}:rto"] + flow.drain)
        out[f"service:{consumer}:rpo"] = out[f"service:{consumer}:rpo"] + flow.lost
    for name in plan.outages:
        emit(f"service:{name}:rpo", out[f"service:{name}:rpo"])

    for tier in topo.tiers:
        members = [s for s, o in plan.outages.items() if o.tier == tier]
        if members:
            final(f"tier:{tier}:rto", _worst(np.maximum, [out[f"service:{s}:rto"] for s in members]))
            final(f"tier:{tier}:rpo", _worst(np.maximum, [out[f"service:{s}:rpo"] for s in members]))

    for wname, w in topo.workflows.items():
        hit = [s for s in w.needs if s in plan.outages and not stays_up(plan, s)]
        # a service it cannot use degraded counts as down while a member of its groups is
        hit += [m for s in w.down_when_degraded for m in plan.degraded.get(s, [])]
        if hit:
            final(f"workflow:{wname}:downtime", union_length([down_at[s] for s in hit], [up_at[s] for s in hit]))
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
    for name, at in (("detected", detected), ("acknowledged", acked), ("declared", declared)):
        final(f"milestone:{name}:time", at - fault)
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
