"""The two engines are one model: identical task times on shared draws, on every bundled drill.

Also here: common random numbers (changing one element leaves every other
element's draws untouched), and staff contention checked against what can be
proved about c people working through m jobs.
"""

import math

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, role, run_both
from scipy import stats

from drsim.api import prepare
from drsim.engine import des, vectorized
from drsim.engine.draws import Draws, task_durations
from drsim.engine.outcomes import evaluate
from drsim.model.loader import bundled_dir, bundled_names
from drsim.plan import ALL, ANY

DRILLS = sorted(p.stem for p in bundled_dir("drills").glob("*.yaml"))
N_DES = 300


def test_every_bundled_drill_is_checked():
    assert DRILLS == bundled_names("drills")
    assert len(DRILLS) >= 7


def _waited_for_staff(plan, start, finish) -> np.ndarray:
    """Per replicate, whether some staffed task started after it was ready (a person was busy)."""
    waited = np.zeros(start.shape[0], dtype=bool)
    for t in plan.tasks:
        if t.role is None or not t.preds:
            continue
        pf = finish[:, t.preds]
        ready = pf.max(axis=1) if t.join == ALL else pf.min(axis=1)
        waited |= np.isfinite(ready) & (start[:, t.index] > ready)
    return waited


@pytest.fixture(scope="module")
def bundled_runs():
    out = {}
    for name in DRILLS:
        plan = prepare(name)
        draws = Draws.sample(plan.elements(), 11, N_DES)
        out[name] = (plan, draws, des.run_many(plan, draws), vectorized.run_many(plan, draws))
    return out


@pytest.mark.parametrize("name", DRILLS)
def test_engines_give_identical_task_times_on_shared_draws(bundled_runs, name):
    plan, draws, by_des, by_vec = bundled_runs[name]
    assert by_des.events > 0
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    m_des, m_vec = evaluate(plan, draws, by_des), evaluate(plan, draws, by_vec)
    assert m_des.keys() == m_vec.keys()
    for k in m_des:
        np.testing.assert_array_equal(m_vec[k], m_des[k], err_msg=k)


TOPOLOGIES = sorted(p.stem for p in bundled_dir("topologies").glob("*.yaml"))


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("name", DRILLS)
def test_engines_agree_on_every_bundled_drill_on_every_bundled_topology(name, topology):
    from drsim.errors import InputError

    try:
        plan = prepare(name, topology)
    except InputError as e:  # the drill names something this estate does not have
        pytest.skip(str(e).splitlines()[0])
    draws = Draws.sample(plan.elements(), 17, 60)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)


def test_bundled_drills_exercise_shift_handovers(bundled_runs):
    """Capacity follows the roster: in some bundled drill, the capacity of a role a task needs changes
    before the last restoration, so agreement covers handovers (ransomware runs for days; a data-sync
    drift found at 07:30 on a Thursday can run into the 19:00 night shift)."""
    handed = {}
    for name, (plan, _, by_des, _) in bundled_runs.items():
        last = np.max(np.column_stack([by_des.finish_of(o.restored_task) for o in plan.outages.values()]), axis=1)
        first = plan.handovers[0].time if plan.handovers else np.inf
        handed[name] = float(np.mean(first < last))
    assert handed["ransomware-restore"] == 1.0, handed
    assert sum(v > 0 for v in handed.values()) >= 2, handed


def test_bundled_drills_exercise_long_tasks_handed_over(bundled_runs):
    """The reference estate's technical roles hand running work over at 07:00 and 19:00: in ransomware-restore
    the multi-day clean-room rebuild runs across shift changes in every replicate, so agreement covers
    handovers of running tasks."""
    plan, _, by_des, _ = bundled_runs["ransomware-restore"]
    assert plan.shift_changes
    across = np.zeros(by_des.finish.shape[0], dtype=bool)
    for c in plan.shift_changes:
        staffed = [t.index for t in plan.tasks if t.role == c.role]
        s, f = by_des.start[:, staffed], by_des.finish[:, staffed]
        across |= np.any((s < c.time) & (f > c.time + c.cost) & np.isfinite(f), axis=1)
    assert across.all()


@pytest.mark.parametrize("name", DRILLS)
def test_sweep_path_keeps_exactly_the_finish_times_the_outcomes_read(bundled_runs, name):
    """The sweep runs the kernel keeping only some columns; its metrics equal the full run's."""
    from drsim.sweep import build_spec

    plan, draws, by_des, _ = bundled_runs[name]
    pt = build_spec(name, n=10).points[0]
    fin = vectorized.finish_times(pt.plan, draws, pt.columns, pt.kernel)
    assert len(pt.columns) < len(plan.tasks)
    full, part = evaluate(plan, draws, by_des), evaluate(pt.plan, draws, fin)
    for k in full:
        np.testing.assert_array_equal(part[k], full[k], err_msg=k)


@pytest.mark.parametrize("topology", ["ehr-hybrid", "warm-standby", "pilot-light", "backup-restore"])
def test_engines_agree_where_tasks_wait_for_each_other_in_a_cycle(topology):
    """Console access waits for the first of break-glass and the identity provider's restoration,
    whose runbook needs that access: the plan is no DAG, and only running it breaks the cycle."""
    plan = prepare("idp-outage", topology)
    acc = plan.task("access:oncall-engineer")
    assert acc.join == ANY
    seen, todo = set(), [acc.index]  # the access task is among its own predecessors, transitively
    while todo:
        for p in plan.tasks[todo.pop()].preds:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    assert acc.index in seen
    draws = Draws.sample(plan.elements(), 13, 150)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)


def test_bundled_drills_exercise_staff_contention(bundled_runs):
    """At least some bundled drills make tasks queue for a busy person, so agreement covers dispatch."""
    contended = {
        name: _waited_for_staff(plan, by_des.start, by_des.finish).mean()
        for name, (plan, _, by_des, _) in bundled_runs.items()
    }
    assert sum(v > 0 for v in contended.values()) >= 2, contended


def test_engines_agree_under_heavy_contention_and_ties():
    """Six jobs for two DBAs, equal-ready ties, random and fixed durations, a second role."""
    services = {
        f"s{i}": auto_service(
            [
                {"name": "fix", "duration": "exponential(mean=10m)" if i % 2 else "10m", "role": "dba"},
                {"name": "check", "duration": "uniform(1m, 3m)", "role": "oncall"},
            ],
            tier="tier0" if i < 3 else "tier1",
        )
        for i in range(6)
    }
    staff = {"ic": role(), "dba": role(headcount=2, acknowledge="exponential(mean=2m)"), "oncall": role()}
    plan = plan_of(base_topology(services, staff=staff), base_drill())
    draws = Draws.sample(plan.elements(), 5, 400)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    assert _waited_for_staff(plan, by_des.start, by_des.finish).all()


def test_kernel_durations_match_the_shared_duration_matrix():
    """The kernel reads draws directly; task_durations (used by the DES) gives the same durations."""
    plan = prepare("ransomware-restore")
    draws = Draws.sample(plan.elements(), 3, 500)
    kp = vectorized.prepare(plan)
    R = vectorized.duration_rows(plan, kp, draws)
    D = task_durations(plan, draws)
    for t in plan.tasks:
        row = kp.kernel.duration_row[t.index]
        got = R[row] if row >= 0 else np.full(draws.n, kp.kernel.constant_duration[t.index])
        np.testing.assert_array_equal(got, D[:, t.index], err_msg=t.key)


# ------------------------------------------------------------------ common random numbers


def _two_plans(key, values):
    from drsim.sweep import build_spec

    spec = build_spec("region-loss", n=10, grid={key: values})
    return [p.plan for p in spec.points]


def _assert_only_changed(a, b, changed):
    ea, eb = a.elements(), b.elements()
    da, db = Draws.sample(ea, 7, 2000, start=3 * 65536), Draws.sample(eb, 7, 2000, start=3 * 65536)
    common = set(ea) & set(eb)
    same = {k for k in common if np.array_equal(da[k], db[k])}
    assert common - same == changed
    assert len(same) >= 20


def test_changing_one_step_duration_leaves_every_other_draw_untouched():
    key = "topology.services.ehr-db.recovery.steps.0.duration"
    a, b = _two_plans(key, ["lognormal(p50=10m, p95=30m)", "lognormal(p50=20m, p95=60m)"])
    changed = {k for k, d in a.elements().items() if k in b.elements() and str(d) != str(b.elements()[k])}
    assert len(changed) == 1
    assert next(iter(changed)).startswith("task:svc:ehr-db:step:0:")
    _assert_only_changed(a, b, changed)


def test_adding_a_person_adds_one_page_and_leaves_the_others_untouched():
    # region-loss starts on a Saturday night: the DBA night shift is shifts[2]. The second DBA is
    # paged either way (the weekday day shift has two, answering on a stream of its own); a second
    # night DBA adds the starting shift's stream of that page
    a, b = _two_plans("topology.staff.dba.shifts.2.headcount", [1, 2])
    assert a.capacity["dba"] == 1
    assert b.capacity["dba"] == 2
    assert "task:page:dba#2@day-weekday" in set(a.elements())
    assert set(b.elements()) - set(a.elements()) == {"task:page:dba#2"}
    _assert_only_changed(a, b, set())


# ------------------------------------------------------------------ staff contention in closed form

N = 100_000


def _jobs(m: int, c: int, duration: str):
    """m services whose only step needs a DBA; c DBAs; all jobs ready at once (t = 2 min)."""
    services = {f"job{i:02d}": auto_service([{"name": "fix", "duration": duration, "role": "dba"}]) for i in range(m)}
    staff = {"ic": role(acknowledge="1m"), "dba": role(headcount=c, acknowledge="1m")}
    drill = base_drill(
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        }
    )
    return plan_of(base_topology(services, staff=staff), drill)


@pytest.mark.parametrize(("m", "c"), [(7, 3), (6, 2), (5, 5), (4, 1)])
def test_c_people_finish_m_equal_jobs_in_ceil_m_over_c_rounds(m, c):
    metrics = run_both(_jobs(m, c, "10m"), seed=1, n=20, des_n=20)
    rto = np.sort([metrics[f"service:job{i:02d}:rto"][0] for i in range(m)])
    ready = 120.0  # detection 1m + acknowledgement 1m
    np.testing.assert_array_equal(metrics["tier:tier0:rto"], ready + math.ceil(m / c) * 600.0)
    # first come, first served by index: jobs go out c at a time
    np.testing.assert_array_equal(rto, [ready + 600.0 * (i // c + 1) for i in range(m)])


def test_exponential_jobs_complete_as_the_order_statistics_say():
    """m Exp(mu) jobs, c people. While jobs wait, completions come at rate c*mu, so the k-th
    completion (k <= m - c) is Erlang(k, c*mu); after m - c completions the last c run
    together and the rest is the maximum of c exponentials, sum over j of Exp(j*mu)."""
    m, c, mean = 6, 2, 600.0
    mu = 1 / mean
    metrics = run_both(_jobs(m, c, "exponential(mean=10m)"), seed=2, n=N)
    done = np.sort(np.column_stack([metrics[f"service:job{i:02d}:rto"] for i in range(m)]), axis=1) - 120.0
    for k in (1, m - c):
        erl = stats.gamma(a=k, scale=1 / (c * mu))
        x = done[:, k - 1]
        for q in (0.1, 0.5, 0.9):
            p = erl.cdf(erl.ppf(q))
            se = math.sqrt(p * (1 - p) / N)
            assert abs(np.mean(x <= erl.ppf(q)) - p) <= 4 * se, (k, q)
    makespan = done[:, -1]
    exp_mean = (m - c) / (c * mu) + sum(1 / (j * mu) for j in range(1, c + 1))
    exp_var = (m - c) / (c * mu) ** 2 + sum(1 / (j * mu) ** 2 for j in range(1, c + 1))
    assert abs(makespan.mean() - exp_mean) <= 4 * math.sqrt(exp_var / N)
    # standard error of the sample variance, from the sample's fourth central moment
    se_var = np.std((makespan - makespan.mean()) ** 2) / math.sqrt(N)
    assert abs(makespan.var() - exp_var) <= 4 * se_var


def test_engines_agree_where_call_ins_meet_escalation_timeouts_and_decision_triggers():
    """Call-ins (a role nobody is on duty for paged in the first response, requests at detection
    and at the declaration, an external role) in the same drill as an escalation policy, a deputy
    and a "not back within" trigger: a call-in's arrival and a cancel check can fall at one instant
    (the DBAs called in at detection arrive exactly when the trigger's timer runs out), and both
    engines must give identical start and finish times on 2,000 replicates."""
    staff = {
        "ic": role(acknowledge="exponential(mean=6m)"),
        "manager": role(acknowledge="exponential(mean=4m)"),
        "cmo": role(acknowledge="exponential(mean=5m)"),
        "oncall": role(
            headcount=0,
            acknowledge="1m",
            call_in={"available": 2, "respond": "exponential(mean=10m)", "remote_login": "uniform(5m, 15m)"},
        ),
        "dba": role(headcount=2, acknowledge="2m", call_in={"available": 2, "respond": "10m", "remote_login": "20m"}),
        "ir": {"external": {"response": "lognormal(p50=1h, p95=3h)", "headcount": 1}},
    }
    services = {
        "db": {
            "tier": "tier0",
            "region": "site",
            "recovery": {
                "strategy": "warm-standby",
                "standby_region": "dr",
                "steps": [{"name": "promote", "duration": "exponential(mean=15m)", "role": "dba", "people": 2}],
            },
        },
        "app": auto_service(
            [
                {"name": "rebuild", "duration": "exponential(mean=20m)", "role": "dba"},
                {"name": "restart", "duration": "exponential(mean=20m)", "role": "oncall"},
                {"name": "scan", "duration": "exponential(mean=1h)", "role": "ir"},
            ]
        ),
    }
    drill = base_drill(
        response={
            "page": ["ic", "oncall"],
            "triage": {"role": "ic", "duration": "exponential(mean=5m)"},
            "escalation": {"timeout": "5m", "levels": [["manager"]], "repeat": 1},
            "declare": {
                "role": "ic",
                "duration": "exponential(mean=10m)",
                "deputy": {"role": "cmo", "after": "10m"},
            },
            "declare_when": [{"service": "db", "not_back_within": "31m"}],
            "call_in": [{"role": "dba", "count": 2, "when": "detected"}, {"role": "ir", "when": "declared"}],
        }
    )
    plan = plan_of(base_topology(services, staff=staff), drill)
    kinds = {t.kind for t in plan.tasks}
    assert {"call-in", "escalation", "deputy", "trigger"} <= kinds
    assert any(t.adds_role == "oncall" for t in plan.tasks), "the first response calls in a role nobody is on duty for"
    draws = Draws.sample(plan.elements(), 31, 2000)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    trigger = next(t.index for t in plan.tasks if t.kind == "trigger")
    arrive = next(t.index for t in plan.tasks if t.key == "call-in:dba:arrive")
    tied = np.isfinite(by_vec.finish[:, trigger]) & (by_vec.finish[:, trigger] == by_vec.finish[:, arrive])
    assert tied.any(), "some replicates have a call-in arriving at the instant a trigger is checked"
    assert np.isinf(by_vec.finish[:, trigger]).any(), "and some have the trigger cancelled"
    assert np.all(np.isfinite(by_vec.finish[:, plan.milestones["restored"]]))


def test_engines_agree_where_long_tasks_are_handed_over_under_contention():
    """Long tasks handed over at every shift start (a 20m handover), with three day DBAs and one at night
    (so the incoming shift cannot take every running task), dual control, a restore's data transfer, a night
    pace and fatigue, and DBAs called in at detection: identical start and finish times on 2,000 replicates,
    and some replicates hand over more tasks than the night shift can take."""
    shifts = [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": 3, "acknowledge": "exponential(mean=3m)"},
        {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "10m", "pace": 1.4},
    ]
    dba = {
        "shifts": shifts,
        "handover": "20m",
        "fatigue": {"after": "10h", "pace": 1.2},
        "call_in": {"available": 1, "respond": "exponential(mean=15m)", "travel": "30m"},
    }
    services = {
        f"s{i}": auto_service(
            [
                {"name": "rebuild", "duration": "lognormal(p50=2h, p95=8h)", "role": "dba", "people": 1 + (i == 1)},
                {"name": "restore", "duration": "exponential(mean=1h)", "role": "dba", "restore": True},
            ],
            tier="tier0" if i < 2 else "tier1",
            data={"size": "500GB", "restore_throughput": "100MB/s"},
        )
        for i in range(4)
    }
    drill = base_drill(
        start="2026-03-11T17:30",
        detection={"delay": "exponential(mean=20m)"},
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "5m"},
            "declare": {"role": "ic", "duration": "5m"},
            "call_in": [{"role": "dba", "count": 1, "when": "detected"}],
        },
    )
    plan = plan_of(base_topology(services, staff={"ic": role(), "dba": dba}), drill)
    assert [c.role for c in plan.shift_changes[:2]] == ["dba", "dba"]
    draws = Draws.sample(plan.elements(), 17, 2000)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    night = plan.shift_changes[0].time  # 20:00
    staffed = [t.index for t in plan.tasks if t.role == "dba" and t.kind == "step"]
    across = (by_vec.start[:, staffed] < night) & (by_vec.finish[:, staffed] > night + 20 * 60)
    assert (across.sum(axis=1) > 1).any(), "some replicates run more tasks at 20:00 than the night shift can take"
