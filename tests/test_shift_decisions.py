"""Who answers is decided when the page fires: the shift on duty then, or people called in.

The DBAs work a day shift (08:00-17:00: one person, acknowledging in 2 minutes on
average) and nobody is rostered the rest of the day; a DBA may be called in from home
(answering the call in 15 minutes on average, then logging in in 10). A page that fires
while the day shift is on duty pages it; a page that fires while nobody is on duty calls
someone in instead. Which of the two happens depends on the instant the page fires, not
on the shift on duty when the drill started, so it differs replicate by replicate.

A later shift larger than the starting one has every one of its people paged: a role is
paged once per person of its largest shift, and the ``k``-th page is answered only while
the shift on duty has ``k`` people.

Closed forms at n = 10^5 within 4 standard errors; both engines give identical times on the
first replicates of every plan.
"""

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, role

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

M = 60.0
H = 3600.0
N = 100_000
PAGE_MEAN = 2 * M
RESPOND_MEAN, LOGIN_MEAN = 15 * M, 10 * M
#: Hours of the day nobody of the DBAs is on duty: before 08:00 and from 17:00.
OFF_HOURS = 24 - 9

DAY_ONLY = {
    "shifts": [
        {"name": "day", "start": "08:00", "end": "17:00", "headcount": 1, "acknowledge": "exponential(mean=2m)"}
    ],
    "call_in": {"available": 1, "respond": "exponential(mean=15m)", "remote_login": "exponential(mean=10m)"},
}


def plan_for(detection: str, start: str, dba: dict | None = None, response: dict | None = None):
    staff = {"ic": role(acknowledge="1m"), "dba": dba or DAY_ONLY}
    drill = base_drill(
        start=start,
        detection={"delay": detection},
        response=response
        or {
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    services = {"db": auto_service([{"name": "fix", "duration": "30m", "role": "dba"}])}
    return plan_of(base_topology(services, staff=staff), drill)


def times_both(plan, seed: int, n: int = N, des_n: int = 300):
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
    return plan.task(key).index


def within_4se(sample, expected):
    se = sample.std(ddof=1) / np.sqrt(len(sample))
    assert abs(sample.mean() - expected) <= 4 * se, (sample.mean(), expected, se)


def share_within_4se(hits, p):
    assert abs(hits.mean() - p) <= 4 * np.sqrt(p * (1 - p) / len(hits)), (hits.mean(), p)


def test_with_detection_spread_evenly_over_a_day_p_call_in_is_the_share_of_the_day_nobody_is_on_duty():
    # from 00:00, detection uniform over 24 h: the page fires off duty 15 h of the 24
    plan = plan_for("uniform(0s, 24h)", "2026-03-11T00:00")
    start, finish = times_both(plan, seed=3)
    fired = start[:, col(plan, "page:dba#1")]
    off = (fired < 8 * H) | (fired >= 17 * H)
    called = np.isfinite(finish[:, col(plan, "call-in:dba:if-off-duty:arrive")])
    paged = np.isfinite(finish[:, col(plan, "page:dba#1")])
    share_within_4se(called, OFF_HOURS / 24)
    # exactly one of the two, by the instant the page fires
    np.testing.assert_array_equal(called, off)
    np.testing.assert_array_equal(paged, ~off)


def test_a_page_fired_after_the_day_shift_ends_calls_a_dba_in_and_their_arrival_is_the_acknowledgement():
    # the drill starts at 16:00 with the day shift on duty; the page fires at 17:30, after it left
    plan = plan_for("90m", "2026-03-11T16:00")
    start, finish = times_both(plan, seed=4)
    assert np.isinf(finish[:, col(plan, "page:dba#1")]).all()  # nobody on duty answers
    arrive = finish[:, col(plan, "call-in:dba:if-off-duty:arrive")]
    np.testing.assert_array_equal(finish[:, col(plan, "ack:dba")], arrive)
    within_4se(arrive - 90 * M, RESPOND_MEAN + LOGIN_MEAN)
    # the fix waits for the person called in
    np.testing.assert_array_equal(start[:, col(plan, "svc:db:step:0:fix")], arrive)


def test_a_page_fired_while_the_shift_is_on_duty_pages_it_and_calls_nobody_in():
    # the drill starts at 06:00 with nobody on duty; the page fires at 08:30, after the day shift began
    plan = plan_for("150m", "2026-03-11T06:00")
    start, finish = times_both(plan, seed=5)
    page = col(plan, "page:dba#1")
    np.testing.assert_array_equal(start[:, page], 150 * M)
    within_4se(finish[:, page] - start[:, page], PAGE_MEAN)
    assert np.isinf(finish[:, col(plan, "call-in:dba:if-off-duty:respond")]).all()
    np.testing.assert_array_equal(finish[:, col(plan, "ack:dba")], finish[:, page])


def test_a_drill_starting_with_nobody_on_duty_calls_in_for_a_page_fired_before_the_shift_begins():
    plan = plan_for("30m", "2026-03-11T06:00")
    _, finish = times_both(plan, seed=6)
    assert np.isinf(finish[:, col(plan, "page:dba#1")]).all()
    within_4se(finish[:, col(plan, "ack:dba")] - 30 * M, RESPOND_MEAN + LOGIN_MEAN)


def test_an_escalation_policy_s_first_level_is_paged_or_called_in_by_when_it_fires():
    # level 1 (the incident commander and the DBAs) fires at detection, uniform over the day
    response = {
        "page": ["ic", "dba"],
        "escalation": {"timeout": "10m", "levels": [["ic"]], "repeat": 0},
        "triage": {"role": "ic", "duration": "1m"},
        "declare": {"role": "ic", "duration": "1m"},
    }
    plan = plan_for("uniform(0s, 24h)", "2026-03-11T00:00", response=response)
    start, finish = times_both(plan, seed=7)
    fired = start[:, col(plan, "page:dba#1")]
    off = (fired < 8 * H) | (fired >= 17 * H)
    called = np.isfinite(finish[:, col(plan, "call-in:dba:if-off-duty:arrive")])
    np.testing.assert_array_equal(called, off)
    share_within_4se(called, OFF_HOURS / 24)


def test_a_role_never_on_duty_is_called_in_as_before_and_one_always_on_duty_is_only_paged():
    never = role(headcount=0, call_in=DAY_ONLY["call_in"])
    plan = plan_for("uniform(0s, 24h)", "2026-03-11T00:00", dba=never)
    keys = {t.key for t in plan.tasks}
    assert "call-in:dba:arrive" in keys
    assert not any(k.startswith("page:dba") or "if-off-duty" in k for k in keys)
    always = role(acknowledge="exponential(mean=2m)", call_in=DAY_ONLY["call_in"])
    keys = {t.key for t in plan_for("uniform(0s, 24h)", "2026-03-11T00:00", dba=always).tasks}
    assert "page:dba#1" in keys
    assert not any(k.startswith("call-in:dba") for k in keys)


# -- a later shift larger than the starting one

DAY_NIGHT = {
    "shifts": [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": 2, "acknowledge": "exponential(mean=2m)"},
        {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "exponential(mean=10m)"},
    ]
}


def test_a_larger_later_shift_has_every_one_of_its_people_paged():
    # the drill starts at 22:00 (one DBA on duty); the page fires at 09:00, when the day shift's two are on
    plan = plan_for("11h", "2026-03-11T22:00", dba=DAY_NIGHT)
    start, finish = times_both(plan, seed=8)
    first, second = col(plan, "page:dba#1"), col(plan, "page:dba#2")
    np.testing.assert_array_equal(start[:, second], 11 * H)
    within_4se(finish[:, second] - start[:, second], PAGE_MEAN)
    # the role acknowledges at the first of the two: the minimum of two exponentials of mean 2m
    within_4se(finish[:, col(plan, "ack:dba")] - 11 * H, PAGE_MEAN / 2)
    assert np.isfinite(finish[:, first]).all()


def test_the_larger_shift_s_extra_person_is_not_paged_while_the_smaller_shift_is_on_duty():
    plan = plan_for("1h", "2026-03-11T22:00", dba=DAY_NIGHT)
    _, finish = times_both(plan, seed=9, n=2000, des_n=2000)
    assert np.isinf(finish[:, col(plan, "page:dba#2")]).all()
    within_4se(finish[:, col(plan, "ack:dba")] - 1 * H, 10 * M)


# -- people named by their shift, in an order an incident commander can follow


def test_a_person_called_in_is_named_as_called_in_and_a_shift_s_person_by_their_shift():
    called = plan_for("90m", "2026-03-11T16:00")  # the page fires at 17:30: a DBA is called in
    rep = des.replay(called, Draws.sample(called.elements(), 1, 1))
    assert rep.actors[col(called, "svc:db:step:0:fix")] == "dba#1@called-in"
    paged = plan_for("11h", "2026-03-11T22:00", dba=DAY_NIGHT)  # the page fires at 09:00, by day
    rep = des.replay(paged, Draws.sample(paged.elements(), 1, 1))
    acks = [e.actor for e in rep.timeline if e.kind == "ack" and e.actor.startswith("dba")]
    assert acks == ["dba#1@day", "dba#2@day"]
    assert rep.actors[col(paged, "svc:db:step:0:fix")] == "dba#1@day"


def _on_duty_then(plan, role: str, t: float) -> str | None:
    spans = plan.shift_spans[role]
    return next(name for x, name in reversed(spans) if x <= t)


@pytest.mark.parametrize("drill", ["ransomware-restore", "region-loss"])
def test_everyone_in_a_timeline_is_of_the_shift_on_duty_when_they_act_or_has_been_called_in(drill):
    from drsim.api import prepare

    plan = prepare(drill)
    draws = Draws.sample(plan.elements(), 0, 5)
    checked = 0
    for r in range(draws.n):
        rep = des.replay(plan, draws, r)
        arrived = {
            t.adds_role: float(rep.finish[t.index])
            for t in plan.tasks
            if t.adds_role and np.isfinite(rep.finish[t.index])
        }
        for t in plan.tasks:
            if t.index not in rep.actors or not np.isfinite(rep.start[t.index]):
                continue
            for person in rep.actors[t.index].split("+"):
                role, shift = person.split("#")[0], person.split("@")[1]
                # a page is answered by the shift on duty when it fires; work is taken by whoever is on then
                if shift == "called-in":
                    assert rep.start[t.index] >= arrived[role], (person, t.key)
                else:
                    assert shift == _on_duty_then(plan, role, float(rep.start[t.index])), (person, t.key)
                checked += 1
        for line in rep.timeline:
            if line.kind == "hand-off":  # to the incoming shift
                incoming = line.event.rsplit(" to ", 1)[1].split(" (")[0]
                role = incoming.split("#")[0]
                assert incoming.split("@")[1] == _on_duty_then(plan, role, line.time), line
    assert checked > 100


def test_a_task_handed_over_is_drawn_in_each_person_s_lane_for_the_part_they_worked():
    from drsim.report import swimlane
    from drsim.report.tabletop import tabletop
    from drsim.report.timeline import render_timeline

    dba = {"shifts": DAY_NIGHT["shifts"], "handover": "15m"}
    staff = {"ic": role(acknowledge="1m"), "dba": dba}
    drill = base_drill(
        start="2026-03-11T19:00",
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    services = {"db": auto_service([{"name": "rebuild", "duration": "3h", "role": "dba"}])}
    plan = plan_of(base_topology(services, staff=staff), drill)
    tt = tabletop(plan, seed=0)
    fix = col(plan, "svc:db:step:0:rebuild")
    assert tt.replay.actors[fix] == "dba#1@day"
    [(at, to)] = tt.replay.handed[fix]
    assert (at, to) == (H, "dba#1@night")  # 20:00
    lanes = swimlane.build_lanes(tt)
    bars = sorted((b.start, b.end, lanes.names[b.lane]) for b in lanes.bars if b.label.endswith("rebuild"))
    assert [(s, lane) for s, _, lane in bars] == [(tt.replay.start[fix], "dba#1@day"), (H, "dba#1@night")]
    assert bars[0][1] == bars[1][0] == H
    # the cover's on-shift table says who is on at the start and who takes over when
    md = render_timeline(tt, "md")
    row = next(line for line in md.splitlines() if line.startswith("| dba |"))
    assert "day: 2 on shift" in row
    assert "then night (1) from Wed 20:00, day (2) from Thu 08:00" in row
