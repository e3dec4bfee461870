"""Both engines against results known in closed form.

Each statistical check uses a fixed seed and a tolerance derived from the
sample size: an empirical CDF value p from n replicates has standard error
sqrt(p(1-p)/n); we allow 4 standard errors (plus nothing else).
"""

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, role, run_both
from scipy import stats

N = 100_000


def ecdf_close(sample, cdf, points):
    n = len(sample)
    for x in points:
        p = cdf(x)
        se = np.sqrt(max(p * (1 - p), 1e-12) / n)
        assert abs(np.mean(sample <= x) - p) <= 4 * se + 1e-12, (x, np.mean(sample <= x), p)


def test_serial_chain_of_fixed_steps_takes_their_sum():
    steps = [{"name": f"s{i}", "duration": d} for i, d in enumerate(["2m", "3m", "10m"])]
    plan = plan_of(base_topology({"db": auto_service(steps)}), base_drill())
    m = run_both(plan, seed=1, n=10)
    np.testing.assert_array_equal(m["service:db:rto"], 900.0)


def test_serial_chain_of_exponential_steps_is_erlang():
    k, mean = 4, 300.0
    steps = [{"name": f"s{i}", "duration": "exponential(mean=5m)"} for i in range(k)]
    plan = plan_of(base_topology({"db": auto_service(steps)}), base_drill())
    rto = run_both(plan, seed=2, n=N)["service:db:rto"]
    erlang = stats.gamma(a=k, scale=mean)
    ecdf_close(rto, erlang.cdf, erlang.ppf([0.1, 0.25, 0.5, 0.75, 0.9, 0.99]))
    assert abs(rto.mean() - k * mean) <= 4 * np.sqrt(k) * mean / np.sqrt(N)


@pytest.mark.parametrize(
    ("text", "frozen"),
    [
        ("gamma(shape=2.5, scale=4m)", stats.gamma(a=2.5, scale=240.0)),
        ("weibull(shape=1.5, scale=12m)", stats.weibull_min(c=1.5, scale=720.0)),
        ("weibull(shape=0.7, scale=5m)", stats.weibull_min(c=0.7, scale=300.0)),
    ],
)
def test_a_gamma_or_weibull_step_is_drawn_from_its_distribution(text, frozen):
    """One step on an active-active service: its RTO is the step's own duration."""
    plan = plan_of(base_topology({"db": auto_service([{"name": "s", "duration": text}])}), base_drill())
    rto = run_both(plan, seed=4, n=N)["service:db:rto"]
    ecdf_close(rto, frozen.cdf, frozen.ppf([0.05, 0.25, 0.5, 0.75, 0.95, 0.99]))
    assert abs(rto.mean() - frozen.mean()) <= 4 * frozen.std() / np.sqrt(N)


def test_serial_chain_of_unequal_exponentials_is_hypoexponential():
    m1, m2 = 120.0, 600.0
    steps = [
        {"name": "a", "duration": "exponential(mean=2m)"},
        {"name": "b", "duration": "exponential(mean=10m)"},
    ]
    plan = plan_of(base_topology({"db": auto_service(steps)}), base_drill())
    rto = run_both(plan, seed=3, n=N)["service:db:rto"]
    l1, l2 = 1 / m1, 1 / m2

    def cdf(x):
        return 1 - (l2 * np.exp(-l1 * x) - l1 * np.exp(-l2 * x)) / (l2 - l1)

    ecdf_close(rto, cdf, [60, 300, 600, 1200, 2400])


def test_service_waiting_on_parallel_dependencies_takes_the_max():
    services = {
        "a": auto_service([{"name": "a", "duration": "exponential(mean=10m)"}]),
        "b": auto_service([{"name": "b", "duration": "uniform(5m, 25m)"}]),
        # c lives elsewhere: it is down only because it needs a and b
        "c": auto_service([{"name": "c", "duration": "1m"}], depends_on=["a", "b"], region="elsewhere"),
    }
    plan = plan_of(base_topology(services), base_drill())
    m = run_both(plan, seed=4, n=N)
    np.testing.assert_array_equal(m["service:c:rto"], np.maximum(m["service:a:rto"], m["service:b:rto"]))
    fa, fb = stats.expon(scale=600).cdf, stats.uniform(300, 1200).cdf
    ecdf_close(m["service:c:rto"], lambda x: fa(x) * fb(x), [400, 700, 1000, 1400, 2000])


def test_periodic_backups_give_an_rpo_uniform_over_the_interval():
    svc = {
        "tier": "tier1",
        "region": "site",
        "data": {"backup_interval": "24h", "size": "100GB", "restore_throughput": "100MB/s"},
        "recovery": {
            "strategy": "backup-restore",
            "standby_region": "dr",
            "steps": [{"name": "restore", "restore": True, "role": "dba"}],
        },
    }
    plan = plan_of(base_topology({"db": svc}), base_drill())
    m = run_both(plan, seed=5, n=N)
    rpo = m["service:db:rpo"]
    ks = stats.kstest(rpo, stats.uniform(0, 86400).cdf)
    assert ks.statistic < 1.95 / np.sqrt(N)  # the 0.1% critical value of the KS statistic
    # the restore itself takes size / throughput = 1000 s after the DBA starts
    assert np.all(m["service:db:rto"] >= 1000.0)


def test_async_replication_rpo_is_the_lag_at_the_fault():
    svc = auto_service([{"name": "promote", "duration": "1m"}])
    svc["data"] = {"replication": {"mode": "async", "lag": "exponential(mean=5s)"}}
    plan = plan_of(base_topology({"db": svc}), base_drill())
    rpo = run_both(plan, seed=6, n=N)["service:db:rpo"]
    ecdf_close(rpo, stats.expon(scale=5).cdf, [1, 3, 5, 10, 20])


@pytest.mark.parametrize(
    ("outage_s", "rate", "buffer", "drain"),
    [(7200, 1.0, 3600, 3.0), (1800, 1.0, 3600, 3.0), (600, 0.5, 10**6, 2.5)],
)
def test_fluid_queue_backlog_overflow_and_drain(outage_s, rate, buffer, drain):
    services = {"engine": auto_service([{"name": "restart", "duration": f"{outage_s}s"}])}
    queues = {"feed": {"consumer": "engine", "rate": f"{rate}/s", "buffer": buffer, "drain": f"{drain}/s"}}
    plan = plan_of(base_topology(services, queues=queues), base_drill())
    m = run_both(plan, seed=7, n=5)
    backlog = min(rate * outage_s, buffer)
    dropped = max(0.0, rate * outage_s - buffer)
    np.testing.assert_allclose(m["queue:feed:backlog"], backlog)
    np.testing.assert_allclose(m["queue:feed:dropped"], dropped)
    np.testing.assert_allclose(m["queue:feed:drain"], backlog / (drain - rate))
    np.testing.assert_allclose(m["queue:feed:clear"], outage_s + backlog / (drain - rate))
    # dropped messages are lost writes: they add rate-seconds of data to the consumer's RPO
    np.testing.assert_allclose(m["service:engine:rpo"], dropped / rate)


def _two_dba_jobs(dbas: int):
    services = {name: auto_service([{"name": "fix", "duration": "10m", "role": "dba"}]) for name in ("alpha", "beta")}
    staff = {"ic": role(acknowledge="1m"), "dba": role(headcount=dbas, acknowledge="1m")}
    drill = base_drill(
        response={
            "page": ["ic", "dba"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        }
    )
    return plan_of(base_topology(services, staff=staff), drill)


def test_a_single_dba_serialises_two_jobs():
    m = run_both(_two_dba_jobs(1), seed=8, n=3)
    # detection 1m + acknowledgement 1m, then 10m each, one after the other
    np.testing.assert_array_equal(m["service:alpha:rto"], 12 * 60.0)
    np.testing.assert_array_equal(m["service:beta:rto"], 22 * 60.0)


def test_two_dbas_work_in_parallel():
    m = run_both(_two_dba_jobs(2), seed=8, n=3)
    np.testing.assert_array_equal(m["service:alpha:rto"], 12 * 60.0)
    np.testing.assert_array_equal(m["service:beta:rto"], 12 * 60.0)


@pytest.mark.parametrize("k", [1, 3])
def test_first_of_k_pages_acknowledged_is_exponential_with_k_times_the_rate(k):
    staff = {"ic": role(headcount=k, acknowledge="exponential(mean=6m)")}
    services = {"db": auto_service([{"name": "x", "duration": "1m"}])}
    plan = plan_of(base_topology(services, staff=staff), base_drill())
    ack = run_both(plan, seed=9, n=N)["latency:acknowledge"]
    first = stats.expon(scale=360 / k)
    ecdf_close(ack, first.cdf, first.ppf([0.1, 0.5, 0.9, 0.99]))


def _queue_of_jobs(c: int, jobs: int, mean_gap: float, mean_work: float):
    """A plan in which jobs arrive as a Poisson process (a chain of exponential gaps) and each
    needs one of ``c`` clerks for an exponential time: the M/M/c queue, started empty."""
    from dataclasses import replace

    from drsim.model.distributions import parse_distribution
    from drsim.plan import Task

    base = plan_of(base_topology({"db": auto_service([{"name": "s", "duration": "1m"}])}), base_drill())
    gap = parse_distribution(f"exponential(mean={mean_gap:g}s)")
    work = parse_distribution(f"exponential(mean={mean_work:g}s)")
    tasks = []
    for i in range(jobs):
        tasks.append(
            Task(2 * i, f"arrive:{i:04d}", "milestone", f"job {i} arrives", gap, preds=[2 * i - 2] if i else [])
        )
        tasks.append(Task(2 * i + 1, f"job:{i:04d}", "step", f"job {i}", work, role="clerk", preds=[2 * i]))
    return replace(
        base,
        tasks=tasks,
        capacity={"clerk": c},
        shift_of={"clerk": "day"},
        outages={},
        rpo_items=[],
        rpo_elements={},
        fault_tasks=[],
        milestones={},
        rollback=None,
        handovers=[],
    )


def test_staffing_waits_follow_erlang_c():
    """Jobs arriving at rate lam for c clerks who each finish at rate mu: once the queue has
    forgotten its empty start, a job waits with the Erlang C probability and for
    C / (c mu - lam) on average. Both engines, 10^5 replicates, job 120 of a queue with a
    relaxation time of about a dozen arrivals."""
    import math

    from drsim.engine import des, vectorized
    from drsim.engine.draws import Draws

    c, lam, mu = 2, 1 / 100.0, 1 / 100.0  # offered load a = 1: two clerks, each busy half the time
    jobs, k = 121, 120
    plan = _queue_of_jobs(c, jobs, 1 / lam, 1 / mu)
    a = lam / mu
    top = a**c / math.factorial(c) / (1 - a / c)
    erlang_c = top / (sum(a**j / math.factorial(j) for j in range(c)) + top)
    mean_wait = erlang_c / (c * mu - lam)

    arrive, job = 2 * k, 2 * k + 1
    waits = []
    for chunk in range(4):  # 4 x 25,000 replicates keeps the draws of 242 tasks small
        draws = Draws.sample(plan.elements(), 8, 25_000, start=chunk * 25_000)
        times = vectorized.finish_times(plan, draws, np.array([arrive, job]), starts=True)
        waits.append(times.start_of(job) - times.finish_of(arrive))
        if chunk == 0:  # the reference engine, replicate by replicate, on the same draws
            by_des = des.run_many(plan, draws.replicate(0))
            d_start, d_finish = by_des.start, by_des.finish
            for r in range(1, 150):
                by_des = des.run_many(plan, draws.replicate(r))
                d_start, d_finish = np.vstack([d_start, by_des.start]), np.vstack([d_finish, by_des.finish])
            np.testing.assert_array_equal(d_start[:, job] - d_finish[:, arrive], waits[0][:150])
    w = np.concatenate(waits)
    n = len(w)
    assert n == 100_000
    assert np.all(w >= 0)
    p = float(np.mean(w > 0))
    assert abs(p - erlang_c) <= 4 * math.sqrt(erlang_c * (1 - erlang_c) / n), (p, erlang_c)
    assert abs(w.mean() - mean_wait) <= 4 * w.std() / math.sqrt(n), (w.mean(), mean_wait)
