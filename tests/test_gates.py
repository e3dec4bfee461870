"""Probabilistic gates judged on sweeps, against distributions known in closed form."""

import math

import numpy as np
import pytest
import yaml
from builders import auto_service, base_drill, base_topology

from drsim.errors import InputError
from drsim.model.gates import parse_gate
from drsim.model.loader import topology_from_text
from drsim.stats import Summary, rank_interval, wilson
from drsim.sweep import sweep
from drsim.sweep.gates import evaluate_gate

N = 100_000
MEAN = 600.0  # the step takes exponential(mean=10m): the service's RTO is that step


def _topo():
    return base_topology(
        {
            "db": auto_service([{"name": "failover", "duration": "exponential(mean=10m)"}]),
            "archive": auto_service([{"name": "restart", "duration": "1m"}], tier="tier1", region="elsewhere"),
        }
    )


def _sweep(tmp_path, gates, n=N, **kw):
    t, d = tmp_path / "t.yaml", tmp_path / "d.yaml"
    t.write_text(yaml.safe_dump(_topo(), sort_keys=False))
    d.write_text(yaml.safe_dump(base_drill(gates=gates), sort_keys=False))
    return sweep(str(d), str(t), n=n, seed=4, **kw)


def _quantile_se(q: float) -> float:
    """Standard error of the empirical q quantile of Exp(MEAN) from N replicates."""
    x = -MEAN * math.log(1 - q)
    density = math.exp(-x / MEAN) / MEAN
    return math.sqrt(q * (1 - q) / N) / density


def test_percentile_gates_on_an_exponential_rto(tmp_path):
    true_p90 = MEAN * math.log(10)
    tol = 4 * _quantile_se(0.9)
    res = _sweep(tmp_path, [f"db rto p90 <= {true_p90 + tol:.0f}s", f"db rto p90 <= {true_p90 - tol:.0f}s"])
    ok, low = res.points[0].gates
    assert abs(ok.value - true_p90) <= tol
    assert ok.passed
    assert not low.passed
    assert ok.lo <= ok.value <= ok.hi
    assert abs(ok.lo - true_p90) <= 2 * tol
    assert abs(ok.hi - true_p90) <= 2 * tol
    assert res.passed is False


def test_probability_gates_on_an_exponential_rto(tmp_path):
    p = 1 - math.exp(-1)  # P(Exp(10m) <= 10m)
    se = math.sqrt(p * (1 - p) / N)
    res = _sweep(tmp_path, [f"P(db rto <= 10m) >= {p - 4 * se:.4f}", f"P(db rto <= 10m) >= {p + 4 * se:.4f}"])
    ok, high = res.points[0].gates
    assert abs(ok.value - p) <= 4 * se
    assert ok.passed
    assert not high.passed
    assert (ok.lo, ok.hi) == wilson(round(ok.value * N), N)


def test_a_subject_the_drill_leaves_alone_reads_zero(tmp_path):
    # tier1's only service lives in the standby region: untouched by this region loss
    res = _sweep(tmp_path, ["tier1 rto p99 <= 1s", "P(tier1 rpo <= 0s) >= 1"], n=100)
    assert all(g.passed and not g.affected and g.value in (0.0, 1.0) for g in res.points[0].gates)
    assert res.passed


def test_a_rollback_gate_without_a_rollback_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="no rollback"):
        _sweep(tmp_path, ["rollback time p90 <= 2h"], n=10)


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("db rto p95 <= 95s", True),
        ("db rto p95 < 95s", False),
        ("db rto p95 >= 95s", True),
        ("db rto p95 > 95s", False),
        ("db rto p95 <= 94s", False),
        ("db rto p96 <= 95s", False),
        ("P(db rto <= 90s) >= 0.9", True),
        ("P(db rto <= 90s) > 0.9", False),
        ("P(db rto < 90s) >= 0.9", False),
        ("P(db rto < 90.5s) >= 0.9", True),
    ],
)
def test_verdicts_rest_on_the_point_estimate_exactly(text, passed, exact):
    """Values 1..100 s: the P95 is the 95th smallest (95 s); P(<= 90 s) is exactly 0.9.

    Verdicts come from exact counts, so a histogram summary judges exactly like
    the kept values — even when the bound falls on a replicate.
    """
    gate = parse_gate(text, topology_from_text(yaml.safe_dump(_topo()), "t.yaml"))
    summary = Summary.of(np.arange(1.0, 101.0), np.array([gate.bound]), exact=exact)
    res = evaluate_gate(gate, summary)
    assert res.passed is passed
    if gate.kind == "probability":
        assert (res.lo, res.hi) == wilson(round(res.value * 100), 100)


def test_rank_interval_covers_the_quantile_about_95_percent_of_the_time():
    """Coverage of the order-statistic interval, over 2000 samples of 200 uniforms (4 SE of 0.95)."""
    rng = np.random.default_rng(0)
    n, q, trials = 200, 0.9, 2000
    lo, hi = rank_interval(q, n)
    x = np.sort(rng.random((trials, n)), axis=1)
    covered = np.mean((x[:, lo - 1] <= q) & (q <= x[:, hi - 1]))
    assert covered >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / trials)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (81, 263), (999, 1000), (10, 10)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    """Each bound p satisfies |k/n - p| = z sqrt(p(1 - p)/n) (or is 0 or 1 at the extremes)."""
    z = 1.959963984540054
    lo, hi = wilson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    for p in (lo, hi):
        if p in (0.0, 1.0):
            assert (p == 0.0 and k == 0) or (p == 1.0 and k == n)
        else:
            assert abs(abs(k / n - p) - z * math.sqrt(p * (1 - p) / n)) < 1e-12
