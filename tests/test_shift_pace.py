"""Each shift's own pace, and fatigue: a staffed task works at the pace of the shift on duty when it starts.

The DBAs here work a day shift (08:00-20:00) at pace 1 and a night shift
(20:00-08:00) at pace 2; one DBA is on duty at a time. Jobs are ready at T+2m
(alert 1m, acknowledgement 1m) and taken in service order. A task keeps the
pace it started at, however long it runs; a restore's data transfer is not
people's work and no shift's pace scales it. A role's ``fatigue`` slows a
shift's people from ``after`` into the shift: a task begun then takes
``fatigue.pace`` times its shift's pace.
"""

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, role
from scipy import stats

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws

M = 60.0
N = 100_000

DAY_NIGHT = [
    {"name": "day", "start": "08:00", "end": "20:00", "headcount": 1, "acknowledge": "1m", "pace": 1.0},
    {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "1m", "pace": 2.0},
]


def jobs_plan(steps: list[dict], start: str, data: dict | None = None, detection: str = "1m"):
    services = {f"job{i}": auto_service([step], **({"data": data} if data else {})) for i, step in enumerate(steps)}
    staff = {"ic": role(), "dba": {"shifts": DAY_NIGHT}}
    drill = base_drill(
        start=start,
        detection={"delay": detection},
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    return plan_of(base_topology(services, staff=staff), drill)


def job_times(plan, n: int, seed: int = 3, des_n: int = 300):
    """Start and finish of each job's step (vectorized), after checking the DES on the first ``des_n``."""
    draws = Draws.sample(plan.elements(), seed, n)
    got = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    replayed = des.run_many(plan, head)
    np.testing.assert_array_equal(replayed.finish, got.finish[: head.n])
    np.testing.assert_array_equal(replayed.start, got.start[: head.n])
    steps = sorted((t for t in plan.tasks if t.kind == "step" and t.role == "dba"), key=lambda t: t.service)
    return [(got.start_of(t.index), got.finish_of(t.index)) for t in steps]


def test_a_job_started_by_the_night_shift_takes_its_pace_even_when_the_drill_started_by_day():
    # job0 (1h) starts at 19:02 by day and ends at 20:02; job1 starts on the night shift at pace 2
    plan = jobs_plan(
        [{"name": "fix", "duration": "1h", "role": "dba"}, {"name": "fix", "duration": "30m", "role": "dba"}],
        "2026-03-11T19:00",
    )
    (s0, f0), (s1, f1) = job_times(plan, n=4)
    np.testing.assert_array_equal(f0 - s0, 60 * M)
    np.testing.assert_array_equal(s1, 62 * M)
    np.testing.assert_array_equal(f1 - s1, 60 * M)


def test_a_job_started_after_the_day_shift_takes_over_loses_the_night_pace():
    # the drill starts at night (pace 2): job0, 3h of work, takes 6h from 02:02 to 08:02;
    # job1 starts by day and takes its duration as written
    plan = jobs_plan(
        [{"name": "fix", "duration": "3h", "role": "dba"}, {"name": "fix", "duration": "30m", "role": "dba"}],
        "2026-03-11T02:00",
    )
    (s0, f0), (s1, f1) = job_times(plan, n=4)
    np.testing.assert_array_equal(f0 - s0, 6 * 3600.0)
    np.testing.assert_array_equal(f1 - s1, 30 * M)


def test_night_pace_doubles_a_random_duration_in_distribution():
    """job1, exponential with a mean of 1h, starts at 20:02 on the night shift: it takes an
    exponential time with a mean of 2h (n = 10^5, mean and CDF within 4 standard errors)."""
    plan = jobs_plan(
        [
            {"name": "fix", "duration": "1h", "role": "dba"},
            {"name": "fix", "duration": "exponential(mean=1h)", "role": "dba"},
        ],
        "2026-03-11T19:00",
    )
    (_, _), (s1, f1) = job_times(plan, n=N)
    d = f1 - s1
    se = d.std(ddof=1) / np.sqrt(N)
    assert abs(d.mean() - 7200.0) <= 4 * se, (d.mean(), se)
    expo = stats.expon(scale=7200.0)
    for x in expo.ppf([0.1, 0.5, 0.9, 0.99]):
        p = expo.cdf(x)
        assert abs(np.mean(d <= x) - p) <= 4 * np.sqrt(p * (1 - p) / N), (x, np.mean(d <= x), p)


def test_a_shift_pace_scales_the_people_s_work_but_not_the_data_transfer():
    # 100 GB at 100 MB/s: 1000 s of transfer; 10m of people's work at night pace 2 is 20m
    data = {"size": "100GB", "restore_throughput": "100MB/s"}
    step = {"name": "restore", "duration": "10m", "role": "dba", "restore": True}
    by_night = jobs_plan([{"name": "fix", "duration": "1h", "role": "dba"}, step], "2026-03-11T19:00", data=data)
    (_, _), (s1, f1) = job_times(by_night, n=4)
    np.testing.assert_allclose(f1 - s1, 20 * M + 1000.0)


def tiring_plan(steps: list[dict], start: str):
    """DBAs on two 12-hour shifts (08:00 and 20:00) at pace 1, slowed to 1.5 from 9 hours into a shift."""
    shifts = [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": 1, "acknowledge": "1m"},
        {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "1m"},
    ]
    services = {f"job{i}": auto_service([step]) for i, step in enumerate(steps)}
    staff = {"ic": role(), "dba": {"shifts": shifts, "fatigue": {"after": "9h", "pace": 1.5}}}
    drill = base_drill(
        start=start,
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    )
    return plan_of(base_topology(services, staff=staff), drill)


def test_a_task_begun_late_in_a_shift_works_at_the_fatigued_pace_and_the_next_shift_is_fresh():
    # the drill starts at 16:00, 8h into the day shift: job0 (30m) starts at 16:02, fresh; job1
    # (1h) starts at 16:32, fresh, ends 17:32; job2 (1h) starts at 17:32, 9.5h in: 1.5h, ends 19:02;
    # job3 (1h) starts at 19:02, tired: 1.5h, ends 20:32; job4 (1h) starts by the fresh night shift
    steps = [{"name": "fix", "duration": d, "role": "dba"} for d in ["30m", "1h", "1h", "1h", "1h"]]
    plan = tiring_plan(steps, "2026-03-11T16:00")
    got = job_times(plan, n=4)
    np.testing.assert_array_equal([f[0] - s[0] for s, f in got], [30 * M, 60 * M, 90 * M, 90 * M, 60 * M])


def test_a_drill_that_starts_late_in_a_shift_is_fatigued_from_its_first_task():
    """An exponential job with a mean of 1h begun 10h into a shift takes 1.5h on average
    (n = 10^5, 4 standard errors)."""
    plan = tiring_plan([{"name": "fix", "duration": "exponential(mean=1h)", "role": "dba"}], "2026-03-11T18:00")
    # 10h into the day shift at the start: slowed from the first instant
    assert (plan.paces[0].time, plan.paces[0].ratio) == (0.0, 1.5)
    ((s0, f0),) = job_times(plan, n=N)
    d = f0 - s0
    se = d.std(ddof=1) / np.sqrt(N)
    assert abs(d.mean() - 5400.0) <= 4 * se, (d.mean(), se)


def test_starting_earlier_on_a_slower_shift_can_finish_later():
    """Not a law any more: an earlier start can finish later. At 07:40 the night shift (pace 2)
    is on: alerted after 1m, a 30m job starts at 07:42 and takes 1h (08:42); alerted after 20m,
    it starts at 08:01 under the day shift and ends at 08:31."""
    ends = []
    for delay in ("1m", "20m"):
        plan = jobs_plan([{"name": "fix", "duration": "30m", "role": "dba"}], "2026-03-11T07:40", detection=delay)
        ((_, f0),) = job_times(plan, n=2)
        ends.append(f0[0])
    assert ends == [62 * M, 51 * M]  # from the drill start at 07:40
