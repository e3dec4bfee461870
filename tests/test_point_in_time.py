"""Clean restore points: corruption restored to just before it began from point-in-time logs.

Each statistical check uses n = 10^5 replicates with a fixed seed and a
tolerance of 4 standard errors derived from n. ``run_both`` checks that the
SimPy engine gives identical task times on the first replicates.
"""

import numpy as np
from builders import base_drill, base_topology, plan_of, run_both, variant

from drsim.engine import des, vectorized
from drsim.engine.draws import Draws
from drsim.engine.outcomes import evaluate

N = 100_000
DAY = 86400.0


def _store(logs: dict | None, **data) -> dict:
    """A database backed up daily, restored from backup when corrupted; ``logs`` its transaction logs."""
    store = {"backup_interval": "24h", "size": "100GB", "restore_throughput": "100MB/s", **data}
    if logs is not None:
        store["logs"] = logs
    svc = {
        "tier": "tier1",
        "region": "site",
        "data": store,
        "recovery": {
            "strategy": "backup-restore",
            "standby_region": "dr",
            "steps": [{"name": "restore", "restore": True, "duration": "10m"}],
            "restore": [{"name": "restore a clean copy", "restore": True, "duration": "30m"}],
        },
    }
    return base_topology({"db": svc})


def _corrupted(dwell: str = "uniform(1d, 5d)") -> dict:
    return base_drill(faults=[{"kind": "data-corruption", "targets": ["db"], "dwell": dwell}])


def _dwell_and_rpo(topo: dict, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    plan = plan_of(topo, _corrupted())
    m = run_both(plan, seed=seed, n=N)
    return Draws.sample(plan.elements(), seed, N)["fault:0:dwell"], m


def test_with_intact_logs_the_loss_is_the_dwell_exactly():
    dwell, m = _dwell_and_rpo(_store({"point_in_time": True, "retention": "7d"}), seed=41)
    np.testing.assert_array_equal(m["service:db:rpo"], dwell)
    # uniform(1d, 5d): mean 3 days, variance (4 days)^2 / 12
    sd = 4 * DAY / np.sqrt(12)
    assert abs(m["service:db:rpo"].mean() - 3 * DAY) <= 4 * sd / np.sqrt(N)


def test_compromised_logs_fall_back_to_the_last_clean_backup():
    c, interval = 0.2, DAY
    dwell, m = _dwell_and_rpo(_store({"point_in_time": True, "retention": "7d", "compromised": c}), seed=42)
    rpo = m["service:db:rpo"]
    extra = rpo - dwell
    fell_back = extra > 0
    # a fallback loses the dwell plus the last clean backup's age, uniform over the interval
    assert np.all((extra >= 0) & (extra < interval))
    assert abs(fell_back.mean() - c) <= 4 * np.sqrt(c * (1 - c) / N)
    mean = 3 * DAY + c * interval / 2
    var = (4 * DAY) ** 2 / 12 + c * interval**2 / 3 - (c * interval / 2) ** 2
    assert abs(rpo.mean() - mean) <= 4 * np.sqrt(var / N), (rpo.mean(), mean)


def test_a_dwell_past_the_log_retention_falls_back_to_the_backups():
    interval, reach = DAY, 2 * DAY
    dwell, m = _dwell_and_rpo(_store({"point_in_time": True, "retention": "2d"}), seed=43)
    rpo = m["service:db:rpo"]
    within = dwell <= reach
    np.testing.assert_array_equal(rpo[within], dwell[within])
    extra = rpo[~within] - dwell[~within]
    assert np.all((extra >= 0) & (extra < interval))
    # P(D > 2d) = 3/4 for D uniform on 1..5 days
    assert abs((~within).mean() - 0.75) <= 4 * np.sqrt(0.75 * 0.25 / N)
    mean = 3 * DAY + 0.75 * interval / 2
    var = (4 * DAY) ** 2 / 12 + 0.75 * interval**2 / 3 - (0.75 * interval / 2) ** 2
    assert abs(rpo.mean() - mean) <= 4 * np.sqrt(var / N), (rpo.mean(), mean)


def test_never_recoverable_only_without_a_clean_backup_before_the_corruption_within_retention():
    logs = {"point_in_time": True, "retention": "30d"}
    dwell, m = _dwell_and_rpo(_store(logs, backup_retention="4d"), seed=44)
    rpo, rto = m["service:db:rpo"], m["service:db:rto"]
    never = np.isinf(rpo)
    np.testing.assert_array_equal(never, np.isinf(rto))
    # the logs roll forward from a backup taken before the corruption began: D + A > 4d leaves none.
    # D ~ U(1d, 5d), A ~ U(0, 1d): P(D + A > 4d) = integral over a of (1 + a)/4 = 3/8
    p = 3 / 8
    assert abs(never.mean() - p) <= 4 * np.sqrt(p * (1 - p) / N), never.mean()
    np.testing.assert_array_equal(rpo[~never], dwell[~never])


def test_logs_off_or_always_compromised_change_nothing():
    plain = _store(None, backup_retention="4d", restore_point_unusable=0.3)
    drill = _corrupted()
    ref = run_both(plan_of(plain, drill), seed=45, n=5000)
    for logs in (
        {"point_in_time": False, "retention": "7d"},
        {"point_in_time": True, "retention": "7d", "compromised": 1},
    ):
        other = variant(plain, "services.db.data.logs", logs)
        m = run_both(plan_of(other, drill), seed=45, n=5000)
        for k in ref:
            np.testing.assert_array_equal(m[k], ref[k], err_msg=k)


def test_engines_agree_replicate_by_replicate_with_logs_unusable_points_and_a_short_retention():
    topo = _store(
        {"point_in_time": True, "retention": "3d", "compromised": 0.3},
        backup_interval="6h",
        backup_retention="4d",
        restore_point_unusable=0.4,
    )
    topo["services"]["db"]["recovery"]["restore"].insert(
        0, {"name": "scan backups", "role": "dba", "duration": "lognormal(p50=1h, p95=4h)"}
    )
    plan = plan_of(topo, _corrupted("lognormal(p50=2d, p95=6d)"))
    draws = Draws.sample(plan.elements(), 46, 3000)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    m_des, m_vec = evaluate(plan, draws, by_des), evaluate(plan, draws, by_vec)
    for k in m_des:
        np.testing.assert_array_equal(m_vec[k], m_des[k], err_msg=k)
    rpo = m_vec["service:db:rpo"]
    assert np.all(rpo >= 0)
    np.testing.assert_array_equal(np.isinf(rpo), np.isinf(m_vec["service:db:rto"]))
    assert 0 < np.isinf(rpo).mean() < 1
    assert 0 < (rpo == draws["fault:0:dwell"]).mean() < 1
