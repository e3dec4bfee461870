"""Pages after a shift change: a page fired at ``t`` reaches the shift of its role on duty at ``t``.

The DBAs work a day shift (08:00-20:00: two people, acknowledging in 2 minutes on
average) and a night shift (20:00-08:00: one person, 10 minutes on average). A drill
starting by day whose page fires after 20:00 is answered by the night shift: its
acknowledgement mean, and only its one person (the page to the day shift's second DBA is
not answered). Each page has one random element per shift, so the day shift's draws are
those it had before nights existed. Closed forms at n = 10^5 within 4 standard errors;
both engines identical replicate by replicate on the first replicates.
"""

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, role

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

M = 60.0
N = 100_000
DAY_MEAN, NIGHT_MEAN = 2 * M, 10 * M

DAY_NIGHT = [
    {"name": "day", "start": "08:00", "end": "20:00", "headcount": 2, "acknowledge": "exponential(mean=2m)"},
    {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "exponential(mean=10m)"},
]


def pages_plan(detection: str, start: str = "2026-03-11T19:00", night=None):
    staff = {"ic": role(), "dba": {"shifts": [DAY_NIGHT[0], night or DAY_NIGHT[1]]}}
    response = {
        "page": ["ic", "dba"],
        "triage": {"role": "ic", "duration": "1m"},
        "declare": {"role": "ic", "duration": "1m"},
    }
    drill = base_drill(start=start, detection={"delay": detection}, response=response)
    services = {"job": auto_service([{"name": "fix", "duration": "30m", "role": "dba"}])}
    return plan_of(base_topology(services, staff=staff), drill)


def times_both(plan, seed: int, n: int, des_n: int = 300):
    """(start, finish) of every task from the vectorized engine, after checking the SimPy engine gives
    identical times on the first ``des_n`` replicates."""
    draws = Draws.sample(plan.elements(), seed, n)
    got = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    replayed = des.run_many(plan, head)
    np.testing.assert_array_equal(replayed.finish, got.finish[: head.n])
    np.testing.assert_array_equal(replayed.start, got.start[: head.n])
    return got.start, got.finish


def col(plan, key):
    return next(t.index for t in plan.tasks if t.key == key)


def within_4se(sample, expected):
    se = sample.std(ddof=1) / np.sqrt(len(sample))
    assert abs(sample.mean() - expected) <= 4 * se, (sample.mean(), expected, se)


def test_a_page_fired_after_the_shift_change_takes_the_incoming_shift_s_acknowledgement_mean():
    # detected at 20:30 (90 min after a 19:00 start): the night shift answers
    plan = pages_plan("90m")
    start, finish = times_both(plan, seed=5, n=N)
    i = col(plan, "page:dba#1")
    np.testing.assert_array_equal(start[:, i], 90 * M)
    within_4se(finish[:, i] - start[:, i], NIGHT_MEAN)
    # the day shift's second DBA is not on duty at night: that page is never answered
    assert np.isinf(finish[:, col(plan, "page:dba#2")]).all()


def test_a_page_fired_before_the_shift_change_keeps_the_starting_shift_s_mean():
    plan = pages_plan("30m")
    start, finish = times_both(plan, seed=5, n=N)
    for k in (1, 2):
        i = col(plan, f"page:dba#{k}")
        within_4se(finish[:, i] - start[:, i], DAY_MEAN)


def test_the_shift_on_duty_when_a_page_fires_decides_replicate_by_replicate():
    # detection exponential with a mean of 1h from 19:00: pages from 20:00 to 08:00 (1 h to 13 h in) go to
    # the night shift, the others to the day shift; P(night) = e^-1 - e^-13
    plan = pages_plan("exponential(mean=1h)")
    start, finish = times_both(plan, seed=11, n=N)
    i = col(plan, "page:dba#1")
    late = (start[:, i] >= 60 * M) & (start[:, i] < 13 * 60 * M)
    within_4se(finish[late, i] - start[late, i], NIGHT_MEAN)
    within_4se(finish[~late, i] - start[~late, i], DAY_MEAN)
    p = np.exp(-1.0) - np.exp(-13.0)
    assert abs(late.mean() - p) <= 4 * np.sqrt(p * (1 - p) / N)
    assert np.isinf(finish[late, col(plan, "page:dba#2")]).all()
    assert np.isfinite(finish[~late, col(plan, "page:dba#2")]).all()


def test_an_escalation_level_paged_after_the_shift_change_reaches_the_incoming_shift():
    # the DBAs are level 2, paged after a 2 h timeout the incident commander never meets
    # (acknowledgement fixed at 3 h): paged at 21:01, answered by the night shift
    plan = slow_ic_plan()
    start, finish = times_both(plan, seed=2, n=N)
    i = col(plan, "page:dba#1@1")
    np.testing.assert_array_equal(start[:, i], 121 * M)
    within_4se(finish[:, i] - start[:, i], NIGHT_MEAN)
    assert np.isinf(finish[:, col(plan, "page:dba#2@1")]).all()


def slow_ic_plan():
    staff = {"ic": role(acknowledge="3h"), "dba": {"shifts": DAY_NIGHT}}
    response = {
        "page": ["ic"],
        "escalation": {"timeout": "2h", "levels": [["dba"]], "repeat": 0},
        "triage": {"role": "ic", "duration": "1m"},
        "declare": {"role": "ic", "duration": "1m"},
    }
    drill = base_drill(start="2026-03-11T19:00", detection={"delay": "1m"}, response=response)
    services = {"job": auto_service([{"name": "fix", "duration": "30m", "role": "dba"}])}
    return plan_of(base_topology(services, staff=staff), drill)


def test_nobody_rostered_when_a_page_fires_leaves_it_unanswered():
    # a night with nobody rostered: the page fired at 20:30 is never answered, nor anything after it
    # that needs the DBAs
    plan = pages_plan("90m", night={**DAY_NIGHT[1], "headcount": 0})
    _, finish = times_both(plan, seed=1, n=1000)
    assert np.isinf(finish[:, col(plan, "page:dba#1")]).all()
    assert np.isinf(finish[:, col(plan, "ack:dba")]).all()


def test_each_shift_is_its_own_stream_and_the_starting_shift_keeps_its_draws():
    night = pages_plan("30m")
    elements = night.elements()
    assert {"task:page:dba#1", "task:page:dba#1@night", "task:page:dba#2"} <= set(elements)
    assert "task:page:dba#2@night" not in elements  # the night shift has one person
    assert not any(k.startswith("task:page:ic#1") for k in elements)  # fixed acknowledgements draw nothing
    # the starting shift's page draws what it drew before the roster had a night shift
    day_only = plan_of(
        base_topology(
            {"job": auto_service([{"name": "fix", "duration": "30m", "role": "dba"}])},
            staff={"ic": role(), "dba": {"shifts": [{**DAY_NIGHT[0], "start": "00:00", "end": "00:00"}]}},
        ),
        base_drill(
            start="2026-03-11T19:00",
            detection={"delay": "30m"},
            response={
                "page": ["ic", "dba"],
                "triage": {"role": "ic", "duration": "1m"},
                "declare": {"role": "ic", "duration": "1m"},
            },
        ),
    )
    a = Draws.sample(night.elements(), 4, 1000)
    b = Draws.sample(day_only.elements(), 4, 1000)
    shared = set(a.values) & set(b.values)
    assert {"task:page:dba#1", "task:page:dba#2"} <= shared
    for k in shared:
        np.testing.assert_array_equal(a[k], b[k])
