"""People beyond the starting shift: off-shift staff called in, external responders engaged.

A call-in is a chain of role-free tasks (answer, then travel or log in) whose
last task adds people to the role for the rest of the incident, at a time that
differs replicate by replicate; an external role's engagement is one task (the
contractual response time) that adds its headcount. Both engines must agree
replicate by replicate, and the arrival time is the sum of its parts.
"""

import numpy as np
from builders import ROUND_THE_CLOCK, auto_service, base_drill, base_topology, plan_of, role
from scipy import stats

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws
from drsim.model.distributions import parse_distribution

N = 100_000
#: Detection 1m, the incident commander's acknowledgement 1m, triage 1m: escalation at 3m.
ESCALATED = 180.0


def off_shift(call_in: dict, headcount: int = 0) -> dict:
    """A role with ``headcount`` on duty round the clock who may call people in."""
    return role(headcount=headcount, acknowledge="1m", call_in=call_in)


def times(plan, seed: int, n: int, des_n: int = 300):
    """Vectorized task times for ``n`` replicates, after checking the SimPy engine's on the first ``des_n``."""
    draws = Draws.sample(plan.elements(), seed, n)
    got = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    replayed = des.run_many(plan, head)
    np.testing.assert_array_equal(replayed.finish, got.finish[: head.n])
    np.testing.assert_array_equal(replayed.start, got.start[: head.n])
    return got


def within_4_se(sample: np.ndarray, mean: float) -> None:
    se = sample.std(ddof=1) / np.sqrt(len(sample))
    assert abs(sample.mean() - mean) <= 4 * se, (sample.mean(), mean, se)


def ecdf_close(sample, cdf, points):
    n = len(sample)
    for x in points:
        p = cdf(x)
        se = np.sqrt(max(p * (1 - p), 1e-12) / n)
        assert abs(np.mean(sample <= x) - p) <= 4 * se + 1e-12, (x, np.mean(sample <= x), p)


def _dba_nobody_on_duty(call_in: dict):
    services = {"db": auto_service([{"name": "fix", "duration": "1m", "role": "dba"}])}
    staff = {"ic": role(acknowledge="1m"), "dba": off_shift(call_in)}
    return plan_of(base_topology(services, staff=staff), base_drill())


def test_a_role_nobody_is_on_duty_for_is_called_in_at_escalation_and_arrives_after_answer_plus_travel():
    respond = "lognormal(p50=10m, p95=30m)"
    plan = _dba_nobody_on_duty({"available": 2, "respond": respond, "travel": "45m"})
    got = times(plan, seed=21, n=N)
    arrive = got.finish[:, plan.task("call-in:dba:arrive").index]
    fix = _step(plan)
    # the step waits for the person called in: it starts the instant they arrive
    np.testing.assert_array_equal(got.start[:, fix], arrive)
    answer = parse_distribution(respond)
    sigma = np.log(3.0) / stats.norm.ppf(0.95)
    shifted = stats.lognorm(s=sigma, scale=600.0, loc=ESCALATED + 45 * 60.0)
    within_4_se(arrive, ESCALATED + answer.mean + 45 * 60.0)
    ecdf_close(arrive, shifted.cdf, shifted.ppf([0.1, 0.5, 0.9, 0.95, 0.99]))


def test_a_remote_login_adds_its_own_time_to_the_answer():
    plan = _dba_nobody_on_duty(
        {"available": 1, "respond": "exponential(mean=15m)", "remote_login": "exponential(mean=10m)"}
    )
    arrive = times(plan, seed=22, n=N).finish[:, plan.task("call-in:dba:arrive").index]
    within_4_se(arrive, ESCALATED + 900.0 + 600.0)
    # the sum of two exponentials of rates a and b: P(S <= x) = 1 - (b e^{-a x} - a e^{-b x}) / (b - a)
    a, b = 1 / 900.0, 1 / 600.0

    def cdf(x):
        x = np.asarray(x) - ESCALATED
        return 1 - (b * np.exp(-a * x) - a * np.exp(-b * x)) / (b - a)

    ecdf_close(arrive, cdf, ESCALATED + np.array([300.0, 900.0, 1800.0, 3600.0, 7200.0]))


def _step(plan, name="fix", service="db"):
    return next(t.index for t in plan.tasks if t.kind == "step" and t.service == service and name in t.key)


def test_a_second_dba_task_starts_when_the_called_in_dba_arrives_while_the_one_on_duty_is_busy():
    services = {
        "alpha": auto_service([{"name": "rebuild", "duration": "10h", "role": "dba"}]),
        "beta": auto_service([{"name": "repair", "duration": "1h", "role": "dba"}]),
    }
    staff = {
        "ic": role(acknowledge="1m"),
        "dba": off_shift({"available": 1, "respond": "lognormal(p50=10m, p95=30m)", "travel": "45m"}, headcount=1),
    }
    drill = base_drill(
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
            "call_in": [{"role": "dba", "count": 1, "when": "detected"}],
        }
    )
    plan = plan_of(base_topology(services, staff=staff), drill)
    got = times(plan, seed=23, n=N, des_n=500)
    arrive = got.finish[:, plan.task("call-in:dba:arrive").index]
    rebuild, repair = _step(plan, "rebuild", "alpha"), _step(plan, "repair", "beta")
    # the on-duty DBA acknowledges at 2m and takes the rebuild; the repair waits for the second DBA
    np.testing.assert_array_equal(got.start[:, rebuild], 120.0)
    assert np.all(arrive < 10 * 3600.0)
    np.testing.assert_array_equal(got.start[:, repair], arrive)
    within_4_se(arrive, 60.0 + parse_distribution("lognormal(p50=10m, p95=30m)").mean + 45 * 60.0)


def test_an_external_role_is_engaged_when_first_needed_and_sends_its_headcount_after_its_response_time():
    services = {
        "alpha": auto_service([{"name": "forensics", "duration": "3h", "role": "ir"}]),
        "beta": auto_service([{"name": "forensics", "duration": "3h", "role": "ir"}]),
        "gamma": auto_service([{"name": "forensics", "duration": "3h", "role": "ir"}]),
    }
    staff = {
        "ic": role(acknowledge="1m"),
        "ir": {"external": {"response": "lognormal(p50=2h, p95=4h)", "headcount": 2}},
    }
    plan = plan_of(base_topology(services, staff=staff), base_drill())
    assert plan.capacity["ir"] == 0
    got = times(plan, seed=24, n=N)
    arrive = got.finish[:, plan.task("external:ir").index]
    starts = [got.start[:, _step(plan, "forensics", s)] for s in ("alpha", "beta", "gamma")]
    # two responders: two of the three jobs start at their arrival, the third when the first is done
    np.testing.assert_array_equal(starts[0], arrive)
    np.testing.assert_array_equal(starts[1], arrive)
    np.testing.assert_array_equal(starts[2], arrive + 3 * 3600.0)
    within_4_se(arrive, ESCALATED + parse_distribution("lognormal(p50=2h, p95=4h)").mean)


def test_engines_agree_on_a_drill_using_every_new_staffing_field_across_a_handover():
    """Call-in by travel and by remote login, an external role, requests at every response
    milestone, a role nobody is on duty for, a shift change of headcount and pace during the
    incident, fatigue, and a dual-control step."""
    day_night = [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": 1, "acknowledge": "exponential(mean=3m)"},
        {"name": "night", "start": "20:00", "end": "08:00", "headcount": 0, "acknowledge": "5m", "pace": 1.4},
    ]
    staff = {
        "ic": role(acknowledge="exponential(mean=2m)"),
        "oncall": {
            "shifts": day_night,
            "fatigue": {"after": "10h", "pace": 1.25},
            "call_in": {"available": 3, "respond": "exponential(mean=15m)", "remote_login": "uniform(5m, 20m)"},
        },
        "dba": {
            "shifts": [dict(s, headcount=1, acknowledge="2m") for s in ROUND_THE_CLOCK],
            "call_in": {
                "available": 2,
                "respond": "lognormal(p50=10m, p95=30m)",
                "travel": "triangular(20m, 40m, 90m)",
            },
        },
        "ir": {"external": {"response": "lognormal(p50=2h, p95=4h)", "headcount": 2}},
    }
    services = {
        f"s{i}": auto_service(
            [
                {"name": "a", "duration": "exponential(mean=2h)", "role": r1},
                {"name": "b", "duration": "exponential(mean=1h)", "role": r2},
            ]
        )
        for i, (r1, r2) in enumerate([("dba", "oncall"), ("oncall", "ir"), ("ir", "dba"), ("dba", "dba")])
    }
    services["vault"] = auto_service(
        [{"name": "unseal", "duration": "exponential(mean=20m)", "role": "dba", "people": 2}]
    )
    drill = base_drill(
        start="2026-03-11T17:30",
        response={
            "page": ["ic"],
            "triage": {"role": "ic", "duration": "exponential(mean=10m)"},
            "declare": {"role": "ic", "duration": "1m"},
            "call_in": [
                {"role": "dba", "count": 2, "when": "detected"},
                {"role": "ir", "when": "declared"},
                {"role": "oncall", "count": 2, "when": "escalated"},
            ],
        },
    )
    plan = plan_of(base_topology(services, staff=staff), drill)
    assert plan.handovers, "the day shift ends during the incident"
    assert {p.role for p in plan.paces} == {"oncall"}, "its pace changes with the shift and with fatigue"
    got = times(plan, seed=25, n=2000, des_n=2000)
    assert np.all(np.isfinite(got.finish[:, plan.milestones["restored"]]))


def test_the_replay_and_the_tabletop_say_who_was_called_in_and_when():
    from drsim.report import evidence

    staff = {
        "ic": role(acknowledge="1m"),
        "dba": off_shift({"available": 1, "respond": "10m", "remote_login": "15m"}),
        "ir": {"external": {"response": "2h", "headcount": 2}},
    }
    steps = [{"name": "fix", "duration": "1h", "role": "dba"}, {"name": "scan", "duration": "1h", "role": "ir"}]
    plan = plan_of(base_topology({"db": auto_service(steps)}, staff=staff), base_drill())
    rep = des.replay(plan, Draws.sample(plan.elements(), 1, 1))
    calls = [(e.time, e.actor, e.event) for e in rep.timeline if e.kind == "call-in"]
    assert calls == [
        (ESCALATED + 600, "dba", "dba called in off shift: answers the call"),
        (ESCALATED + 1500, "dba", "1 dba called in: logged in from home"),
        (ESCALATED + 7200, "ir", "2 ir (external, engaged on contract) arrive"),
    ]
    early = evidence.state_at(plan, rep.start, rep.finish, rep.actors, ESCALATED + 60)
    assert early.on_the_way == [(ESCALATED, "dba"), (ESCALATED, "ir")]
    assert early.called_in == []
    later = evidence.state_at(plan, rep.start, rep.finish, rep.actors, ESCALATED + 3600)
    assert later.called_in == [(ESCALATED + 1500, "1 dba called in: logged in from home")]
    assert later.on_the_way == [(ESCALATED, "ir")]
