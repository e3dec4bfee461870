"""Escalation as policy: levels paged on acknowledgement timeouts, a deputy for the decider,
and decision triggers — each against its closed form at n = 10^5 (4 standard errors) and with
both engines identical replicate by replicate on the first replicates."""

import numpy as np
from builders import base_drill, base_topology, plan_of, role

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

N = 100_000


def times_both(plan, seed: int, n: int, des_n: int = 300):
    """Every task's finish time from the vectorized engine, after checking the SimPy engine
    gives identical times on the first ``des_n`` replicates."""
    draws = Draws.sample(plan.elements(), seed, n)
    finish = vectorized.run_many(plan, draws).finish
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    np.testing.assert_array_equal(des.run_many(plan, head).finish, finish[: head.n])
    return finish


def col(plan, key):
    return next(t.index for t in plan.tasks if t.key == key)


def within_4se(sample, expected):
    se = sample.std(ddof=1) / np.sqrt(len(sample))
    assert abs(sample.mean() - expected) <= 4 * se, (sample.mean(), expected, se)


def proportion_within_4se(hits, p):
    se = np.sqrt(p * (1 - p) / len(hits))
    assert abs(hits.mean() - p) <= 4 * se, (hits.mean(), p, se)


def failover_service():
    """A warm-standby service: it comes back only by failing over, after the declaration."""
    return {
        "tier": "tier0",
        "region": "site",
        "recovery": {
            "strategy": "warm-standby",
            "standby_region": "dr",
            "steps": [{"name": "fail over", "duration": "5m"}],
        },
    }


def escalation_plan(timeout="10m", mean1="6m", mean2="4m", repeat=0):
    staff = {
        "ic": role(acknowledge=f"exponential(mean={mean1})"),
        "manager": role(acknowledge=f"exponential(mean={mean2})"),
    }
    drill = base_drill()
    drill["response"]["escalation"] = {"timeout": timeout, "levels": [["manager"]], "repeat": repeat}
    return plan_of(base_topology({"db": failover_service()}, staff=staff), drill)


def test_the_next_level_is_paged_with_probability_exp_of_minus_timeout_over_mean_ack():
    plan = escalation_plan()
    f = times_both(plan, seed=21, n=N)
    paged = np.isfinite(f[:, col(plan, "escalation:1")])
    proportion_within_4se(paged, np.exp(-10 / 6))


def test_a_level_is_paged_exactly_when_nobody_acknowledged_before_its_timeout():
    plan = escalation_plan()
    f = times_both(plan, seed=22, n=20_000)
    detected, level1 = f[:, col(plan, "detected")], f[:, col(plan, "escalation:acked:0")]
    gate, page2 = f[:, col(plan, "escalation:1")], f[:, col(plan, "page:manager#1@1")]
    np.testing.assert_array_equal(np.isfinite(gate), level1 > detected + 600)
    np.testing.assert_array_equal(gate[np.isfinite(gate)], (detected + 600)[np.isfinite(gate)])
    assert np.all(np.isinf(page2[np.isinf(gate)]))  # a cancelled level pages nobody
    assert np.all(page2[np.isfinite(gate)] > gate[np.isfinite(gate)])


def test_acknowledged_is_the_first_of_level_one_and_timeout_plus_level_two():
    plan = escalation_plan()
    f = times_both(plan, seed=23, n=N)
    ack = f[:, col(plan, "escalation:acked:1")] - f[:, col(plan, "detected")]
    m1, m2, t = 360.0, 240.0, 600.0
    # E[min(A1, T + A2)] = integral of the survival function: e^(-x/m1) before T, times e^(-(x-T)/m2) after
    mean = m1 * (1 - np.exp(-t / m1)) + np.exp(-t / m1) / (1 / m1 + 1 / m2)
    within_4se(ack, mean)
    np.testing.assert_array_equal(f[:, plan.milestones["acknowledged"]], f[:, col(plan, "escalation:acked:1")])


def test_a_repeated_policy_pages_level_one_again_after_every_level_timed_out():
    plan = escalation_plan(repeat=1)
    f = times_both(plan, seed=24, n=N)
    # round 2 (level 1 again) is paged only when nobody answered in 20 minutes
    proportion_within_4se(np.isfinite(f[:, col(plan, "escalation:2")]), np.exp(-1200 / 360 - 600 / 240))


def deputy_plan(after="30m"):
    staff = {"ic": role(acknowledge="1m"), "director": role(acknowledge="exponential(mean=20m)"), "cmo": role()}
    drill = base_drill()
    drill["response"]["declare"] = {
        "role": "director",
        "duration": "1m",
        "deputy": {"role": "cmo", "after": after, "duration": "1m"},
    }
    return plan_of(base_topology({"db": failover_service()}, staff=staff), drill)


def test_the_deputy_decides_with_probability_exp_of_minus_after_over_mean_ack():
    plan = deputy_plan()
    f = times_both(plan, seed=25, n=N)
    deputy = np.isfinite(f[:, col(plan, "declare:deputy")])
    proportion_within_4se(deputy, np.exp(-30 / 20))
    # once the deputy is paged the decision is theirs: the declaration is the deputy's decision, and the
    # director, answering late, is freed at once (no time spent, no decision made twice)
    own = f[:, col(plan, "declare")]
    want = np.where(deputy, f[:, col(plan, "declare:deputy")], own)
    np.testing.assert_array_equal(f[:, plan.milestones["declared"]], want)
    assert np.all(np.isinf(f[deputy, col(plan, "declare:own")]))
    np.testing.assert_array_equal(f[~deputy, col(plan, "declare:own")], own[~deputy])


def test_a_decider_overtaken_by_the_deputy_spends_no_time_deciding_and_the_timeline_says_so():
    plan = deputy_plan()
    draws = Draws.sample(plan.elements(), 25, 400)
    got = des.run_many(plan, draws)
    late = np.isfinite(got.finish_of(col(plan, "declare:deputy")))
    assert late.any()
    own = col(plan, "declare")
    np.testing.assert_array_equal(got.finish_of(own)[late], got.start_of(own)[late])
    np.testing.assert_array_equal(got.finish, vectorized.run_many(plan, draws).finish)
    r = int(np.flatnonzero(late)[0])
    lines = [(e.actor, e.kind, e.event) for e in des.replay(plan, draws, r).timeline]
    decided = [x for x in lines if x[2].endswith("- decided")]
    assert len(decided) == 1, decided  # the deputy's decision only
    assert decided[0][0].startswith("cmo#"), decided
    late_answer = [x for x in lines if "answers late" in x[2]]
    assert [x[:2] for x in late_answer] == [("director#1@am", "deputy")], lines


def trigger_plan(within="20m", decide="exponential(mean=30m)"):
    staff = {"ic": role(acknowledge="1m")}
    drill = base_drill()
    drill["response"]["declare"] = {"role": "ic", "duration": decide}
    drill["response"]["declare_when"] = [{"tier": "tier0", "not_back_within": within}]
    return plan_of(base_topology({"db": failover_service()}, staff=staff), drill)


def test_a_trigger_declares_at_the_first_of_the_trigger_and_the_decision():
    plan = trigger_plan()
    f = times_both(plan, seed=26, n=N)
    declared = f[:, plan.milestones["declared"]] / 60
    # detection 1m, acknowledgement 1m, triage 1m, then an exponential decision of mean 30m; trigger at 20m
    mu, start, t = 30.0, 3.0, 20.0
    within_4se(declared, start + mu * (1 - np.exp(-(t - start) / mu)))
    proportion_within_4se(declared == t, np.exp(-(t - start) / mu))


def test_a_trigger_is_cancelled_when_the_service_is_back_in_time():
    plan = trigger_plan(within="1h", decide="10m")
    f = times_both(plan, seed=27, n=10)
    assert np.all(np.isinf(f[:, col(plan, "trigger:0:db")]))  # declared at 13m, back at 18m
    assert np.all(f[:, plan.milestones["declared"]] == 13 * 60)


def test_a_fault_kind_trigger_declares_at_its_detection():
    staff = {"ic": role(acknowledge="1m")}
    drill = base_drill()
    drill["response"]["declare_when"] = [{"fault_detected": "region-loss"}]
    plan = plan_of(base_topology({"db": failover_service()}, staff=staff), drill)
    f = times_both(plan, seed=28, n=10)
    assert np.all(f[:, plan.milestones["declared"]] == 60.0)


def every_field_plan():
    staff = {
        "ic": role(acknowledge="exponential(mean=8m)"),
        "manager": role(acknowledge="exponential(mean=5m)"),
        "director": role(acknowledge="exponential(mean=15m)"),
        "cmo": role(acknowledge="exponential(mean=5m)"),
    }
    drill = base_drill()
    drill["response"] = {
        "page": ["ic"],
        "triage": {"role": "ic", "duration": "exponential(mean=5m)"},
        "escalation": {"timeout": "5m", "levels": [["manager"], ["director"]], "repeat": 1},
        "declare": {
            "role": "director",
            "duration": "exponential(mean=10m)",
            "deputy": {"role": "cmo", "after": "15m"},
        },
        "declare_when": [{"service": "db", "not_back_within": "30m"}, {"fault_detected": "region-loss"}],
    }
    drill["detection"] = {"delay": "exponential(mean=2m)"}
    return plan_of(base_topology({"db": failover_service()}, staff=staff), drill)


def test_both_engines_agree_on_a_drill_using_every_escalation_field():
    times_both(every_field_plan(), seed=29, n=2000, des_n=2000)


def test_the_timeline_shows_escalations_and_never_a_cancelled_timeout():
    plan = escalation_plan()
    draws = Draws.sample(plan.elements(), 30, 200)
    seen_paged = seen_cancelled = False
    for r in range(200):
        rep = des.replay(plan, draws, r)
        lines = [e.event for e in rep.timeline if e.kind == "escalation"]
        if np.isfinite(rep.finish[col(plan, "escalation:1")]):
            assert lines == ["level 2 paged: manager (no acknowledgement within 10m)"]
            seen_paged = True
        else:
            assert lines == []
            seen_cancelled = True
    assert seen_paged
    assert seen_cancelled
