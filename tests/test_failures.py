"""Steps that fail: retries, alternate paths, a failover falling back to a restore, unusable restore points.

Each statistical check uses n = 10^5 replicates with a fixed seed and a
tolerance of 4 standard errors derived from n. Both engines must give
identical task times on the shared draws (``run_both`` checks the first
replicates with the SimPy engine).
"""

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, run_both, variant

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws, task_durations
from drsim.engine.outcomes import evaluate

N = 100_000


def _retried(p: float, limit: int, duration: str = "10m", **failure) -> dict:
    step = {
        "name": "promote",
        "duration": duration,
        "failure": {"probability": p, "retry": {"limit": limit}, **failure},
    }
    return base_topology({"db": auto_service([step])})


def test_a_step_retried_until_success_takes_the_truncated_geometric_mean():
    p, limit, d = 0.3, 4, 600.0
    plan = plan_of(_retried(p, limit), base_drill())
    rto = run_both(plan, seed=21, n=N)["service:db:rto"]
    ok = np.isfinite(rto)
    # each attempt is a fixed 10 min: the step takes d * (retries + 1); exhausted replicates never finish
    attempts = rto[ok] / d
    np.testing.assert_array_equal(attempts, np.round(attempts))
    k = np.arange(limit + 1)
    probs = p**k * (1 - p)  # the k-th retry succeeds
    mean = float((probs * (k + 1)).sum() / probs.sum())
    sd = float(np.sqrt((probs * (k + 1) ** 2).sum() / probs.sum() - mean**2))
    assert abs(attempts.mean() - mean) <= 4 * sd / np.sqrt(ok.sum()), (attempts.mean(), mean)


def test_with_a_limit_high_enough_the_mean_is_d_over_one_minus_p():
    p, d = 0.25, 600.0
    plan = plan_of(_retried(p, 30), base_drill())
    step = plan.task("svc:db:step:0:promote")
    draws = Draws.sample(plan.elements(), 22, N)
    dur = task_durations(plan, draws)[:, step.index]
    sd = d * np.sqrt(p) / (1 - p)  # a geometric number of attempts, each d long
    assert abs(dur.mean() - d / (1 - p)) <= 4 * sd / np.sqrt(N), dur.mean()
    assert abs(dur.mean() - d * (1 - p**31) / (1 - p)) <= 4 * sd / np.sqrt(N)


def test_every_attempt_fails_with_probability_p_to_the_attempts():
    p, limit = 0.5, 2
    plan = plan_of(_retried(p, limit), base_drill())
    rto = run_both(plan, seed=23, n=N)["service:db:rto"]
    exhausted = np.isinf(rto).mean()
    q = p ** (limit + 1)
    assert abs(exhausted - q) <= 4 * np.sqrt(q * (1 - q) / N), exhausted


def test_the_alternate_path_runs_exactly_when_every_attempt_failed():
    topo = _retried(0.4, 1, otherwise=[{"name": "rebuild by hand", "duration": "2h"}])
    plan = plan_of(topo, base_drill())
    draws = Draws.sample(plan.elements(), 24, 2000)
    fin = vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(des.run_many(plan, draws).finish, fin.finish)
    exhausted = fin.finish[:, plan.task("svc:db:step:0:promote:exhausted").index]
    succeeded = fin.finish[:, plan.task("svc:db:step:0:promote:succeeded").index]
    alternate = fin.finish[:, plan.task("svc:db:step:0:promote:otherwise:0:rebuild by hand").index]
    np.testing.assert_array_equal(np.isfinite(exhausted), ~np.isfinite(succeeded))
    np.testing.assert_array_equal(np.isfinite(alternate), np.isfinite(exhausted))
    rto = evaluate(plan, draws, fin)["service:db:rto"]
    assert np.all(np.isfinite(rto))
    # two failed 10-minute attempts, then two hours by hand
    np.testing.assert_array_equal(rto[np.isfinite(exhausted)], 1200.0 + 7200.0)
    assert 0.1 < np.isfinite(exhausted).mean() < 0.22  # 0.16 expected


def test_a_failure_probability_of_zero_changes_nothing():
    plain = base_topology({"db": auto_service([{"name": "promote", "duration": "exponential(mean=10m)"}])})
    never = variant(plain, "services.db.recovery.steps.0.failure", {"probability": 0, "retry": {"limit": 3}})
    a, b = plan_of(plain, base_drill()), plan_of(never, base_drill())
    ma, mb = run_both(a, seed=25, n=5000), run_both(b, seed=25, n=5000)
    np.testing.assert_array_equal(ma["service:db:rto"], mb["service:db:rto"])


def test_changing_one_steps_probability_leaves_every_other_duration_alone():
    steps = [
        {"name": "a", "duration": "exponential(mean=5m)", "failure": {"probability": 0.1, "retry": {"limit": 2}}},
        {"name": "b", "duration": "exponential(mean=5m)", "failure": {"probability": 0.2, "retry": {"limit": 2}}},
    ]
    topo = base_topology({"db": auto_service(steps)})
    other = variant(topo, "services.db.recovery.steps.0.failure.probability", 0.6)
    p1, p2 = plan_of(topo, base_drill()), plan_of(other, base_drill())
    d1 = task_durations(p1, Draws.sample(p1.elements(), 26, 5000))
    d2 = task_durations(p2, Draws.sample(p2.elements(), 26, 5000))
    a = p1.task("svc:db:step:0:a").index
    assert not np.array_equal(d1[:, a], d2[:, a])
    keep = [t.index for t in p1.tasks if not t.key.startswith("svc:db:step:0:a")]
    np.testing.assert_array_equal(d1[:, keep], d2[:, keep])


def _restored(q: float, **data) -> dict:
    svc = {
        "tier": "tier1",
        "region": "site",
        "data": {
            "backup_interval": "24h",
            "size": "100GB",
            "restore_throughput": "100MB/s",
            "restore_point_unusable": q,
            **data,
        },
        "recovery": {
            "strategy": "backup-restore",
            "standby_region": "dr",
            "steps": [{"name": "restore", "restore": True, "duration": "10m"}],
        },
    }
    return base_topology({"db": svc})


def test_unusable_restore_points_add_a_geometric_number_of_backup_intervals():
    q, interval = 0.3, 86400.0
    plan = plan_of(_restored(q), base_drill())
    m = run_both(plan, seed=27, n=N)
    rpo = m["service:db:rpo"]
    mean = interval / 2 + interval * q / (1 - q)
    var = interval**2 / 12 + interval**2 * q / (1 - q) ** 2
    assert abs(rpo.mean() - mean) <= 4 * np.sqrt(var / N), (rpo.mean(), mean)
    # the restore runs once more per unusable point: (10 min + 1000 s) each time
    runs = np.floor(rpo / interval) + 1
    np.testing.assert_allclose(m["service:db:rto"] - m["service:db:rto"].min(), (runs - 1) * 1600.0, atol=1e-6)


def test_no_usable_restore_point_within_the_retention_is_never_recoverable():
    q = 0.5
    plan = plan_of(_restored(q, backup_retention="72h"), base_drill())
    m = run_both(plan, seed=28, n=N)
    lost = np.isinf(m["service:db:rpo"])
    np.testing.assert_array_equal(lost, np.isinf(m["service:db:rto"]))
    # age + F days > 3 days exactly when F >= 3
    assert abs(lost.mean() - q**3) <= 4 * np.sqrt(q**3 * (1 - q**3) / N), lost.mean()


def test_a_failed_failover_falls_back_to_a_restore_and_loses_the_backups_window():
    svc = auto_service(
        [{"name": "fail over", "duration": "5m", "failure": {"probability": 0.3, "otherwise": "restore"}}],
        tier="tier1",
    )
    svc["data"] = {
        "replication": {"mode": "async", "lag": "5s"},
        "backup_interval": "24h",
        "size": "100GB",
        "restore_throughput": "100MB/s",
    }
    svc["recovery"]["restore"] = [{"name": "restore from backup", "restore": True, "duration": "30m"}]
    plan = plan_of(base_topology({"db": svc}), base_drill())
    m = run_both(plan, seed=29, n=N)
    rpo, rto = m["service:db:rpo"], m["service:db:rto"]
    fell_back = rto > 600
    assert abs(fell_back.mean() - 0.3) <= 4 * np.sqrt(0.3 * 0.7 / N)
    np.testing.assert_array_equal(rpo[~fell_back], 5.0)
    np.testing.assert_array_equal(rto[fell_back], 300.0 + 1800.0 + 1000.0)
    assert abs(rpo[fell_back].mean() - 43200.0) <= 4 * 86400 / np.sqrt(12 * fell_back.sum())


def test_engines_agree_replicate_by_replicate_on_a_drill_using_every_failure_field():
    db = auto_service(
        [
            {
                "name": "promote",
                "role": "dba",
                "duration": "lognormal(p50=5m, p95=15m)",
                "failure": {
                    "probability": 0.4,
                    "retry": {"duration": "exponential(mean=3m)", "limit": 2},
                    "otherwise": [
                        {
                            "name": "escalate to vendor",
                            "role": "oncall",
                            "duration": "1h",
                            "failure": {"probability": 0.5, "otherwise": "restore"},
                        }
                    ],
                },
            }
        ],
    )
    db["data"] = {
        "replication": {"mode": "async", "lag": "exponential(mean=5s)"},
        "backup_interval": "6h",
        "backup_retention": "2d",
        "restore_point_unusable": 0.4,
        "size": "100GB",
        "restore_throughput": "100MB/s",
    }
    db["recovery"]["restore"] = [{"name": "restore", "restore": True, "role": "dba", "duration": "uniform(10m, 20m)"}]
    db["recovery"]["validate"] = {
        "name": "smoke test",
        "role": "oncall",
        "duration": "5m",
        "failure": {"probability": 0.2, "retry": {"limit": 1}},
    }
    app = auto_service([{"name": "restart", "role": "dba", "duration": "exponential(mean=10m)"}], depends_on=["db"])
    plan = plan_of(base_topology({"db": db, "app": app}), base_drill())
    draws = Draws.sample(plan.elements(), 30, 3000)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)
    m_des, m_vec = evaluate(plan, draws, by_des), evaluate(plan, draws, by_vec)
    for k in m_des:
        np.testing.assert_array_equal(m_vec[k], m_des[k], err_msg=k)
    assert np.all(m_vec["service:db:rto"] >= 0)
    assert np.all(m_vec["service:db:rpo"] >= 0)
    restored_by_restore = np.isfinite(
        by_vec.finish[:, plan.task("svc:db:step:0:promote:otherwise:0:escalate to vendor:otherwise:0:restore").index]
    )
    assert restored_by_restore.any()
    assert not restored_by_restore.all()


def test_the_timeline_says_which_step_failed():
    plan = plan_of(_retried(1.0, 1), base_drill())
    rep = des.replay(plan, Draws.sample(plan.elements(), 31, 1))
    assert any("promote FAILED (2 attempts) - this path is abandoned" in e.event for e in rep.timeline)
