"""Capacity follows the roster: shift handovers during a drill, in closed form, in both engines.

A role's capacity at offset t is the headcount of the shift on duty at clock
time start + t (0 when nobody is rostered). When it rises the new people are
free at once and take waiting work at that instant; when it falls free people
leave, and busy ones finish their task and then leave instead of taking more.
Every finish and roster change of an instant comes before anybody is dispatched.

The estates here: an incident commander round the clock, DBAs on a night and a
day shift, and three active-active services whose only step needs a DBA. The
DBAs are paged at the alert (1 minute) and answer in 1 minute, so every job is
ready at T+2m and they are taken in service order (job0, job1, job2).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, role

from drsim.api import prepare
from drsim.engine import des, vectorized
from drsim.engine.draws import Draws
from drsim.model.loader import bundled_names
from drsim.plan import ROSTER_HORIZON, roster_changes

M = 60.0  # seconds in a minute
READY = 2 * M


def shift(name, start, end, headcount):
    return {"name": name, "start": start, "end": end, "headcount": headcount, "acknowledge": "1m"}


def jobs_plan(dba_shifts: list[dict], durations: list[str], start: str):
    services = {
        f"job{i}": auto_service([{"name": "fix", "duration": d, "role": "dba"}]) for i, d in enumerate(durations)
    }
    staff = {"ic": role(), "dba": {"shifts": dba_shifts}}
    drill = base_drill(
        start=start,
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    return plan_of(base_topology(services, staff=staff), drill)


def times(plan):
    """Start and finish of each job's step, and the DES replay; both engines must agree exactly."""
    draws = Draws.sample(plan.elements(), 1, 4)
    by_vec, by_des = vectorized.run_many(plan, draws), des.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    steps = sorted((t for t in plan.tasks if t.role == "dba" and t.kind == "step"), key=lambda t: t.service)
    rep = des.replay(plan, draws, 0)
    got = [(by_vec.start_of(t.index)[0], by_vec.finish_of(t.index)[0]) for t in steps]
    who = [rep.actors[t.index] for t in steps]
    return got, who, rep


def test_the_day_shift_takes_waiting_jobs_at_the_handover():
    """One night DBA, two on the day shift from 07:00; the drill starts 06:00 and three 90-minute jobs are
    ready at 06:02. The night DBA takes job0 (06:02-07:32). At 07:00 capacity rises to 2: the newcomer,
    dba#1@day, takes job1 at that instant (07:00-08:30). job2 waits for the next person freed at 07:32: the
    night DBA's place, taken by the second of the two on duty (only counts matter), dba#2@day."""
    plan = jobs_plan(
        [shift("night", "19:00", "07:00", 1), shift("day", "07:00", "19:00", 2)],
        ["90m", "90m", "90m"],
        "2026-03-11T06:00",
    )
    assert plan.capacity["dba"] == 1
    assert [(h.time, h.role, h.headcount, h.previous) for h in plan.handovers[:2]] == [
        (3600.0, "dba", 2, 1),
        (13 * 3600.0, "dba", 1, 2),
    ]
    got, who, rep = times(plan)
    assert got == [(READY, READY + 90 * M), (60 * M, 150 * M), (READY + 90 * M, READY + 180 * M)]
    assert who == ["dba#1@night", "dba#1@day", "dba#2@day"]
    hand = [e for e in rep.timeline if e.kind == "handover"]
    assert [(e.time, e.actor, e.service, e.event) for e in hand] == [
        (3600.0, "dba", None, "day shift takes over: 2 on duty (was 1)")
    ]


def test_without_the_handover_the_night_shift_does_everything():
    """The same drill with one DBA round the clock: the three jobs go one after another."""
    plan = jobs_plan(
        [shift("am", "00:00", "12:00", 1), shift("pm", "12:00", "00:00", 1)], ["90m"] * 3, "2026-03-11T06:00"
    )
    assert plan.handovers == []
    got, _, rep = times(plan)
    assert got == [(READY + k * 90 * M, READY + (k + 1) * 90 * M) for k in range(3)]
    assert not [e for e in rep.timeline if e.kind == "handover"]


def test_scaling_durations_does_not_scale_times_across_a_handover():
    """Shift clock times are not durations: halve the jobs of the first test and the handover at 07:00
    falls elsewhere in the recovery. 45-minute jobs: the night DBA does job0 (06:02-06:47) and job1
    (06:47-07:32); the newcomer takes job2 at 07:00 and is done at 07:45 - not half of 08:32."""
    shifts = [shift("night", "19:00", "07:00", 1), shift("day", "07:00", "19:00", 2)]
    half, _, _ = times(jobs_plan(shifts, ["45m"] * 3, "2026-03-11T06:00"))
    full, _, _ = times(jobs_plan(shifts, ["90m"] * 3, "2026-03-11T06:00"))
    assert half == [(READY, READY + 45 * M), (READY + 45 * M, READY + 90 * M), (60 * M, 105 * M)]
    assert max(f for _, f in full) == READY + 180 * M != 2 * max(f for _, f in half)


def test_a_person_whose_shift_ends_mid_task_finishes_it_and_then_leaves():
    """Two DBAs on the day shift, one at night from 19:00; the drill starts 18:00. job0 (90m) and job1
    (70m) start at 18:02 and job2 (10m) waits. At 19:00 capacity falls to 1 with both busy: a departure
    is owed. job1's DBA finishes at 19:12 and leaves instead of taking job2, which waits for job0's DBA
    (free at 19:32), in the place of the night DBA, dba#1@night. With the roster fixed it would have started at
    19:12."""
    plan = jobs_plan(
        [shift("day", "07:00", "19:00", 2), shift("night", "19:00", "07:00", 1)],
        ["90m", "70m", "10m"],
        "2026-03-11T18:00",
    )
    assert plan.capacity["dba"] == 2
    assert (plan.handovers[0].time, plan.handovers[0].headcount, plan.handovers[0].previous) == (3600.0, 1, 2)
    got, who, rep = times(plan)
    assert got == [(READY, READY + 90 * M), (READY, READY + 70 * M), (READY + 90 * M, READY + 100 * M)]
    assert who == ["dba#1@day", "dba#2@day", "dba#1@night"]
    hand = [e for e in rep.timeline if e.kind == "handover"]
    assert [(e.time, e.event) for e in hand] == [(3600.0, "night shift takes over: 1 on duty (was 2)")]


def test_a_job_waits_for_a_shift_that_has_not_started_yet():
    """One night DBA until 07:00, nobody 07:00-08:00, two from 08:00; the drill starts 06:00 with a
    60-minute job0 and two 10-minute jobs. The night DBA takes job0 (06:02-07:02) and, the shift being
    over, leaves when it is done; job1 and job2 wait with nobody on duty and both start at 08:00 with
    the two newcomers (dba#1@day, dba#2@day). Nothing else is pending after 07:02: the kernel's loop must go on
    to the next roster change because tasks are waiting."""
    plan = jobs_plan(
        [shift("night", "19:00", "07:00", 1), shift("day", "08:00", "19:00", 2)],
        ["60m", "10m", "10m"],
        "2026-03-11T06:00",
    )
    assert [(h.time, h.shift, h.headcount, h.previous) for h in plan.handovers[:2]] == [
        (3600.0, None, 0, 1),
        (7200.0, "day", 2, 0),
    ]
    got, who, rep = times(plan)
    assert got == [(READY, READY + 60 * M), (120 * M, 130 * M), (120 * M, 130 * M)]
    assert who == ["dba#1@night", "dba#1@day", "dba#2@day"]
    hand = [(e.time, e.event) for e in rep.timeline if e.kind == "handover"]
    assert hand == [
        (3600.0, "nobody rostered: 0 on duty (was 1)"),
        (7200.0, "day shift takes over: 2 on duty (was 0)"),
    ]


def test_a_job_waits_over_the_weekend_for_the_next_rostered_shift():
    """DBAs on weekday nights only (Monday to Thursday nights); the drill starts Friday 06:00, on
    Thursday's night shift. The night DBA does job0 (06:02-07:02) and leaves; job1 waits with nobody on
    duty until Monday 19:00, three and a half days of pending nothing but roster changes."""
    week = ["mon", "tue", "wed", "thu"]
    plan = jobs_plan(
        [{**shift("night", "19:00", "07:00", 1), "days": week}],
        ["60m", "10m"],
        "2026-03-13T06:00",  # Friday: Thursday's night shift is on until 07:00
    )
    got, _, _ = times(plan)
    # job1 waits from 07:02 (the night DBA leaves when job0 is done) until Monday 19:00
    monday_19 = (3 * 24 + 13) * 3600.0
    assert got == [(READY, READY + 60 * M), (monday_19, monday_19 + 10 * M)]


def test_roster_changes_are_compiled_over_a_bounded_horizon():
    plan = prepare("region-loss")
    for r in {h.role for h in plan.handovers}:
        mine = [h for h in plan.handovers if h.role == r]
        assert mine == roster_changes(plan.topology.staff[r], r, plan.drill.start)
        assert all(0 < h.time <= ROSTER_HORIZON for h in mine)
        assert all(a.headcount == b.previous for a, b in itertools.pairwise(mine))
        assert mine[0].previous == plan.capacity[r]
    times_ = [h.time for h in plan.handovers]
    assert times_ == sorted(times_)
    # only roles some task needs
    assert {h.role for h in plan.handovers} <= {t.role for t in plan.tasks if t.role is not None}


@pytest.mark.parametrize("name", bundled_names("drills"))
def test_bundled_timelines_show_only_handovers_before_the_incident_ends(name):
    plan = prepare(name)
    rep = des.replay(plan, Draws.sample(plan.elements(), 3, 1), 0)
    end = np.max(rep.finish[np.isfinite(rep.finish)])
    hand = [e for e in rep.timeline if e.kind == "handover"]
    assert all(e.time < end and e.service is None and e.actor in plan.capacity for e in hand)
    assert [(e.time, e.actor) for e in hand] == [(h.time, h.role) for h in plan.handovers if h.time < end]


@pytest.mark.parametrize("clock", ["00:00", "07:00"])
def test_a_shift_that_ends_when_it_starts_runs_all_day(clock):
    plan = jobs_plan([shift("all", clock, clock, 2)], ["30m", "30m", "30m"], "2026-03-14T06:50")
    assert plan.capacity["dba"] == 2
    assert [h for h in plan.handovers if h.role == "dba"] == []


def test_a_roster_gap_of_a_few_minutes_is_refused_as_a_typo():
    from drsim.errors import InputError

    with pytest.raises(InputError, match=r"nobody is on duty from mon 23:59 for 1 minute: a gap that short is a typo"):
        jobs_plan([shift("all", "00:00", "23:59", 1)], ["30m"], "2026-03-14T02:10")
    # a real gap (nobody rostered overnight) is a rota, not a typo
    plan = jobs_plan([shift("day", "08:00", "20:00", 1)], ["30m"], "2026-03-14T10:00")
    assert [h.headcount for h in plan.handovers if h.role == "dba"][:2] == [0, 1]
