"""A rolled-back cutover: the service is down only while no side serves it, and a replay or
preserve rollback loses nothing unless a buffer overflows.

The new system serves until writes to it are frozen; the old one serves again once the rollback
runbook is done; replaying the divergent writes afterwards takes nothing down. Closed forms at
10^5 replicates within 4 standard errors; both engines agree on the first few hundred.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, run_both

from drsim.api import prepare, run_drill

N = 100_000


def _cutover(policy: str, buffer: int = 10**9):
    """An engine cut over 36 h ago fails; freeze 10 min, one automated step back ~ Exp(mean 30 min),
    then the 36 h of writes at 50/min are replayed at 600/min (3 h) for replay and preserve."""
    services = {
        "engine": auto_service([{"name": "fail over", "duration": "1m"}]),
        "lab": auto_service([{"name": "fail over", "duration": "1m"}], depends_on=["engine"], region="elsewhere"),
    }
    queues = {"results": {"producer": "lab", "consumer": "engine", "rate": "1/s", "buffer": buffer, "drain": "10/s"}}
    rollback = {
        "cutover_before": "36h",
        "write_rate": "50/min",
        "policy": policy,
        "freeze": {"role": "oncall", "duration": "10m"},
        "steps": [{"name": "repoint to the old engine", "duration": "exponential(mean=30m)"}],
    }
    if policy != "discard":
        rollback["reconcile_rate"] = "600/min"
    drill = base_drill(faults=[{"kind": "cutover-failure", "targets": ["engine"]}], rollback=rollback)
    return plan_of(base_topology(services, queues=queues), drill)


@pytest.mark.parametrize("policy", ["replay", "preserve"])
def test_a_replay_or_preserve_rollback_with_adequate_buffers_loses_nothing(policy):
    """Down from the freeze until the old engine is back: RTO ~ Exp(mean 30 min), not discovery to
    the end of the 3 h replay; the backlog is rate x that time, and nothing is lost."""
    m = run_both(_cutover(policy), seed=41, n=N)
    rto = m["service:engine:rto"]
    se = rto.std(ddof=1) / math.sqrt(N)
    assert abs(rto.mean() - 1800.0) <= 4 * se, (rto.mean(), se)
    assert np.all(m["service:engine:rpo"] == 0)
    # the dependent lab link is down exactly while the engine is: it keeps producing
    np.testing.assert_array_equal(m["service:lab:rto"], rto)
    np.testing.assert_allclose(m["queue:results:backlog"], rto * 1.0)
    # the rollback itself still runs from the decision to the end of the replay
    assert np.all(m["rollback:total:time"] >= 10 * 60 + 3 * 3600)


def test_a_small_buffer_is_the_only_loss_of_a_replay_rollback():
    """With a 600-message buffer at 1/s, loss = (RTO - 10 min)+ seconds of traffic."""
    m = run_both(_cutover("replay", buffer=600), seed=42, n=N)
    np.testing.assert_allclose(m["service:engine:rpo"], np.maximum(m["service:engine:rto"] - 600.0, 0.0), atol=1e-6)


def test_a_discard_rollback_loses_the_writes_since_the_cutover_until_the_freeze():
    m = run_both(_cutover("discard"), seed=43, n=1000)
    assert np.all(m["service:engine:rpo"] >= 36 * 3600)


def test_cutover_rollback_loses_only_what_a_full_buffer_drops_and_says_so():
    """The first model counted the interface engine down from discovery to the end of the replay
    (tier-1 RPO P50 4h09m). Now any loss is what the LIS buffer drops at the Monday-morning peak
    while neither engine serves, and the result names it."""
    plan = prepare("cutover-rollback", "ehr-hybrid")
    m = run_both(plan, seed=5, n=2000, des_n=20)
    lost = m["queue:hl7-oru:dropped"] / plan.topology.queues["hl7-oru"].rate
    assert np.all((m["service:interface-engine:rpo"] > 0) == (lost > 0))
    for seed in range(6):
        r = run_drill("cutover-rollback", "ehr-hybrid", seed=seed)
        engine = next(s for s in r.services if s.name == "interface-engine")
        assert engine.rpo_from == (("hl7-oru buffer overflow",) if engine.rpo else ())
