"""Dual control: a step that needs several people of its role at once.

A step with ``people: 2`` (two key custodians unsealing an HSM) starts only when
two people of its role are free, holds both to its end and frees both. Waiting
tasks are taken strictly in order: while it waits for its second person, no
task queued behind it overtakes it.
"""

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, role
from scipy import stats

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

N = 100_000
READY = 120.0  # alert 1m, acknowledgement 1m


def custodians_plan(steps_by_service: dict[str, list[dict]], custodians: int = 2):
    services = {name: auto_service(steps) for name, steps in steps_by_service.items()}
    staff = {"ic": role(), "custodian": role(headcount=custodians, acknowledge="1m")}
    drill = base_drill(
        response={
            "page": ["ic", "custodian"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        }
    )
    return plan_of(base_topology(services, staff=staff), drill)


def both_engines(plan, n: int, seed: int = 5, des_n: int = 300):
    draws = Draws.sample(plan.elements(), seed, n)
    got = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    replayed = des.run_many(plan, head)
    np.testing.assert_array_equal(replayed.finish, got.finish[: head.n])
    np.testing.assert_array_equal(replayed.start, got.start[: head.n])
    return got


def step_of(plan, service):
    return next(t.index for t in plan.tasks if t.kind == "step" and t.service == service)


def test_with_exactly_two_people_a_dual_control_step_starts_when_both_are_free():
    """Two custodians each take an exponential job (means 1h and 2h) at T+2m; the dual-control
    step behind them starts at the later finish: T+2m + max(X, Y), whose CDF is the product of
    the two exponential CDFs and whose mean is a + b - ab/(a+b) (n = 10^5, 4 standard errors)."""
    plan = custodians_plan(
        {
            "alpha": [{"name": "audit", "duration": "exponential(mean=1h)", "role": "custodian"}],
            "beta": [{"name": "audit", "duration": "exponential(mean=2h)", "role": "custodian"}],
            "gamma": [{"name": "unseal the HSM", "duration": "10m", "role": "custodian", "people": 2}],
        }
    )
    got = both_engines(plan, N)
    a_fin = got.finish_of(step_of(plan, "alpha"))
    b_fin = got.finish_of(step_of(plan, "beta"))
    unseal = got.start_of(step_of(plan, "gamma"))
    np.testing.assert_array_equal(unseal, np.maximum(a_fin, b_fin))
    np.testing.assert_array_equal(got.finish_of(step_of(plan, "gamma")), unseal + 600.0)
    wait = unseal - READY
    a, b = 3600.0, 7200.0
    se = wait.std(ddof=1) / np.sqrt(N)
    assert abs(wait.mean() - (a + b - a * b / (a + b))) <= 4 * se
    for x in [1800.0, 3600.0, 7200.0, 14400.0]:
        p = stats.expon(scale=a).cdf(x) * stats.expon(scale=b).cdf(x)
        assert abs(np.mean(wait <= x) - p) <= 4 * np.sqrt(p * (1 - p) / N), (x, np.mean(wait <= x), p)


def test_a_dual_control_step_holds_the_queue_and_frees_both_people_at_its_end():
    # alpha takes one custodian for 1h; beta's dual step (30m) waits for both; gamma's single-person
    # step, queued behind it, does not overtake it although one custodian is free
    plan = custodians_plan(
        {
            "alpha": [{"name": "audit", "duration": "1h", "role": "custodian"}],
            "beta": [{"name": "unseal", "duration": "30m", "role": "custodian", "people": 2}],
            "gamma": [{"name": "rotate", "duration": "20m", "role": "custodian"}],
        }
    )
    got = both_engines(plan, 4)
    np.testing.assert_array_equal(got.start_of(step_of(plan, "beta")), READY + 3600.0)
    np.testing.assert_array_equal(got.start_of(step_of(plan, "gamma")), READY + 3600.0 + 1800.0)
    rep = des.replay(plan, Draws.sample(plan.elements(), 5, 1))
    assert rep.actors[step_of(plan, "beta")] == "custodian#1@am+custodian#2@am"


def test_a_called_in_custodian_completes_the_pair():
    # one custodian on duty, the second called in from home: the dual step starts at the arrival
    services = {"vault": auto_service([{"name": "unseal", "duration": "10m", "role": "custodian", "people": 2}])}
    staff = {
        "ic": role(),
        "custodian": role(
            headcount=1,
            acknowledge="1m",
            call_in={"available": 1, "respond": "exponential(mean=10m)", "remote_login": "5m"},
        ),
    }
    drill = base_drill(
        response={
            "page": ["ic", "custodian"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
            "call_in": [{"role": "custodian", "when": "detected"}],
        }
    )
    plan = plan_of(base_topology(services, staff=staff), drill)
    got = both_engines(plan, 2000, des_n=2000)
    arrive = got.finish_of(plan.task("call-in:custodian:arrive").index)
    np.testing.assert_array_equal(got.start_of(step_of(plan, "vault")), np.maximum(arrive, READY))
