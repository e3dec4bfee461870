"""Long tasks handed over at a shift's end: the incoming shift takes them, after a handover, at its own pace.

The DBAs here work a day shift (08:00-20:00) and a night shift (20:00-08:00),
one or two on duty; a handover takes 15 minutes. Jobs are ready at T+2m (alert
1m, acknowledgement 1m) and taken in service order. A job still running at
20:00 with more than 15 minutes left is handed to the night shift: it ends at
20:00 + 15m + what was left, the people's part of it at the night pace over the
day's. One with 15 minutes or less left is finished by the person who began it.
"""

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, role
from scipy import stats

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

M = 60.0
N = 100_000
EIGHT_PM = 60 * M  # the drills start at 19:00


def shifts(night_pace: float = 1.0, day: int = 1, night: int = 1) -> list[dict]:
    return [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": day, "acknowledge": "1m"},
        {
            "name": "night",
            "start": "20:00",
            "end": "08:00",
            "headcount": night,
            "acknowledge": "1m",
            "pace": night_pace,
        },
    ]


def jobs_plan(steps, start="2026-03-11T19:00", handover="15m", detection="1m", data=None, **dba):
    services = {f"job{i}": auto_service([step], **({"data": data} if data else {})) for i, step in enumerate(steps)}
    dba_role = {"shifts": shifts(**dba), **({"handover": handover} if handover else {})}
    drill = base_drill(
        start=start,
        detection={"delay": detection},
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    return plan_of(base_topology(services, staff={"ic": role(), "dba": dba_role}), drill)


def job_times(plan, n: int, seed: int = 5, des_n: int = 300):
    """Start and finish of each job's step (vectorized), after checking the DES replicate by replicate."""
    draws = Draws.sample(plan.elements(), seed, n)
    got = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    replayed = des.run_many(plan, head)
    np.testing.assert_array_equal(replayed.finish, got.finish[: head.n])
    np.testing.assert_array_equal(replayed.start, got.start[: head.n])
    steps = sorted((t for t in plan.tasks if t.kind == "step" and t.role == "dba"), key=lambda t: t.service)
    return [(got.start_of(t.index), got.finish_of(t.index)) for t in steps]


def test_a_two_hour_job_crossing_the_shift_end_is_handed_over_and_ends_a_handover_later():
    # 19:02 to 21:02 by one person; handed over at 20:00 with 62m left: ends 20:00 + 15m + 62m
    plan = jobs_plan([{"name": "fix", "duration": "2h", "role": "dba"}])
    ((s, f),) = job_times(plan, n=4)
    np.testing.assert_array_equal(s, 2 * M)
    np.testing.assert_array_equal(f, EIGHT_PM + 15 * M + 62 * M)


def test_without_a_handover_time_the_person_who_began_a_task_finishes_it():
    plan = jobs_plan([{"name": "fix", "duration": "2h", "role": "dba"}], handover=None)
    assert plan.shift_changes == []
    ((s, f),) = job_times(plan, n=4)
    np.testing.assert_array_equal(f, s + 120 * M)


def test_the_rest_of_a_handed_over_task_goes_at_the_incoming_shift_s_pace():
    # night pace 2: the 62m left take 124m after the 15m handover
    plan = jobs_plan([{"name": "fix", "duration": "2h", "role": "dba"}], night_pace=2.0)
    ((_, f),) = job_times(plan, n=4)
    np.testing.assert_array_equal(f, EIGHT_PM + 15 * M + 124 * M)


def test_a_task_with_no_more_left_than_the_handover_is_finished_by_its_own_person():
    # 19:02 + 70m = 20:12: 12m left at 20:00, less than the 15m a handover takes
    plan = jobs_plan([{"name": "fix", "duration": "70m", "role": "dba"}], night_pace=2.0)
    ((s, f),) = job_times(plan, n=4)
    np.testing.assert_array_equal(f, s + 70 * M)


def test_the_incoming_shift_takes_no_more_tasks_than_it_has_people():
    # two day DBAs run both jobs from 19:02; one night DBA takes the first (task order), the
    # second is finished by the day DBA who began it
    plan = jobs_plan([{"name": "fix", "duration": "2h", "role": "dba"}] * 2, day=2, night=1)
    (s0, f0), (s1, f1) = job_times(plan, n=4)
    np.testing.assert_array_equal(np.array([s0, s1]), 2 * M)
    np.testing.assert_array_equal(f0, EIGHT_PM + 15 * M + 62 * M)
    np.testing.assert_array_equal(f1, s1 + 120 * M)


def test_a_handover_does_not_scale_a_restore_s_data_transfer():
    # 2h of work and 7200 s of transfer from 19:02 (due 23:02): at 20:00, 182m are left, half of
    # them work; at night pace 2 they become 91m x 2 + 91m = 273m, after the 15m handover
    data = {"size": "720GB", "restore_throughput": "100MB/s"}
    step = {"name": "restore", "duration": "2h", "role": "dba", "restore": True}
    plan = jobs_plan([step], night_pace=2.0, data=data)
    ((s, f),) = job_times(plan, n=4)
    np.testing.assert_array_equal(s, 2 * M)
    np.testing.assert_allclose(f, EIGHT_PM + 15 * M + 273 * M, rtol=1e-12)


def test_a_task_running_for_days_is_handed_over_at_every_shift_change():
    # 30h of work from 19:02 at day pace 1 and night pace 2: handed over at every 08:00 and 20:00 it
    # runs past (with more than 15m left), each costing 15m; night doubles the work left, day halves it
    plan = jobs_plan([{"name": "build", "duration": "30h", "role": "dba"}], night_pace=2.0)
    ((_, f),) = job_times(plan, n=2)
    t, work, pace, b, handed = 2 * M, 30 * 3600.0, 1.0, EIGHT_PM, 0  # clock, work left at pace 1, pace
    while t + work * pace > b + 15 * M:
        work -= (b - t) / pace
        t, pace, b, handed = b + 15 * M, 3.0 - pace, b + 12 * 3600, handed + 1
    np.testing.assert_allclose(f, t + work * pace, rtol=1e-12)
    assert handed == 4  # 20:00, 08:00, 20:00 and 08:00: it ends at 13:47 two days on
    np.testing.assert_allclose(f, (42 * 60 + 47) * M, rtol=1e-12)


def test_a_fixed_job_begun_at_a_random_time_ends_a_handover_plus_its_rest_at_the_night_pace_later():
    """A 1h job begins at s = X + 1m (an exponential detection X, mean 30m, then the acknowledgement): at
    20:00 it has r = s left. It ends at 20:00 + 15m + 2r when 15m < r < 1h, at s + 2h when the night shift
    begins it, else at s + 1h (every replicate, n = 10^5); its mean duration,
    1h + E[(16m + X) 1{14m < X < 59m}] + 1h P(X >= 59m), within 4 standard errors."""
    plan = jobs_plan(
        [{"name": "fix", "duration": "1h", "role": "dba"}], night_pace=2.0, detection="exponential(mean=30m)"
    )
    ((s, f),) = job_times(plan, n=N)
    r = s + 60 * M - EIGHT_PM
    want = np.where((s < EIGHT_PM) & (r > 15 * M), EIGHT_PM + 15 * M + 2 * r, s + 60 * M)
    want = np.where(s >= EIGHT_PM, s + 120 * M, want)
    np.testing.assert_allclose(f, want, rtol=1e-12)
    mu, a, b = 30 * M, 14 * M, 59 * M
    p = np.exp(-a / mu) - np.exp(-b / mu)
    ex = (a + mu) * np.exp(-a / mu) - (b + mu) * np.exp(-b / mu)  # E[X 1{a < X < b}]
    mean = 60 * M + 16 * M * p + ex + 60 * M * np.exp(-b / mu)
    d = f - s
    se = d.std(ddof=1) / np.sqrt(N)
    assert abs(d.mean() - mean) <= 4 * se, (d.mean(), mean, se)
    assert 0.2 < np.mean((s < EIGHT_PM) & (f != s + 60 * M)) < 0.6  # a good share were handed over


def test_an_exponential_job_handed_over_takes_its_closed_form_mean_and_distribution():
    """A job, exponential with a mean of 1h, begins at 19:02; handed over at 20:00 with r = D - 58m left
    when r > 15m, at night pace 2. By memorylessness it then takes 30m + X longer, X exponential with a
    mean of 1h: E = 1h + e^(-73/60) 90m, and P(duration <= x) is known in closed form (n = 10^5, 4 SE)."""
    plan = jobs_plan([{"name": "fix", "duration": "exponential(mean=1h)", "role": "dba"}], night_pace=2.0)
    ((s, f),) = job_times(plan, n=N)
    d = (f - s) / M
    mean = 60 + np.exp(-73 / 60) * 90
    se = d.std(ddof=1) / np.sqrt(N)
    assert abs(d.mean() - mean) <= 4 * se, (d.mean(), mean, se)
    expo = stats.expon(scale=60.0)
    # d = D up to 73m; beyond, handed over, d = 58 + 15 + 2 (D - 58) = 2 D - 43 (at least 103m)
    for x in (30.0, 70.0, 120.0, 240.0):
        p = expo.cdf(x) if x <= 73 else expo.cdf(73) + (expo.cdf((x + 43) / 2) - expo.cdf(73)) * (x >= 103)
        if 73 < x < 103:
            p = expo.cdf(73)  # no handed-over job takes less than 58m + 15m + 30m
        got = np.mean(d <= x)
        assert abs(got - p) <= 4 * np.sqrt(p * (1 - p) / N) + 1e-12, (x, got, p)


def test_the_timeline_says_who_handed_over_to_whom_and_the_incoming_person_finishes():
    plan = jobs_plan([{"name": "fix", "duration": "2h", "role": "dba"}])
    draws = Draws.sample(plan.elements(), 1, 1)
    rep = des.replay(plan, draws)
    lines = [(e.time, e.actor, e.event) for e in rep.timeline if e.service == "job0"]
    handed = [x for x in lines if "hands over" in x[2]]
    assert handed == [(EIGHT_PM, "dba#1@day", "hands over job0: fix to dba#1@night (15m handover)")], lines
    done = [x for x in lines if x[2].endswith("- done")]
    assert done == [(EIGHT_PM + 77 * M, "dba#1@night", done[0][2])], lines
    assert [x[0] for x in lines] == sorted(x[0] for x in lines)
