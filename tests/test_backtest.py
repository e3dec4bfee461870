"""``drsim backtest``: PIT, interval coverage, CRPS and the verdict, checked against theory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as sps

from drsim.calibrate.backtest import assess, crps, pit, score_all
from drsim.calibrate.observed import Observation, load_observations
from drsim.cli import main
from drsim.errors import InputError
from drsim.sweep import sweep


def obs(metric: str, value: object, i: int = 0) -> Observation:
    return Observation(f"drill {i}", None, metric, value, "observed.yaml", i + 1, 1, ("drills", i))


def brute_crps(x: np.ndarray, y: float) -> float:
    return float(np.abs(x - y).mean() - np.abs(x[:, None] - x[None, :]).mean() / 2)


def normal_crps(y: float, mu: float = 0.0, sigma: float = 1.0) -> float:
    z = (y - mu) / sigma
    return sigma * (z * (2 * sps.norm.cdf(z) - 1) + 2 * sps.norm.pdf(z) - 1 / math.sqrt(math.pi))


# ------------------------------------------------------------------ CRPS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crps_equals_the_double_sum_exactly(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(np.round(rng.lognormal(2, 1, 300), 1))  # rounded: ties included
    for y in (0.0, float(np.median(x)), float(x.max()) + 5, 3.3):
        assert crps(x, y) == pytest.approx(brute_crps(x, y), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("y", [0.0, 0.7, -2.5])
def test_crps_of_a_normal_sample_matches_the_closed_form(y):
    n = 100_000
    x = np.sort(np.random.default_rng(7).normal(0.0, 1.0, n))
    # the estimate's standard error from its first-order (Hoeffding) projection,
    # h(x) = |x - y| - E|x - X'|, with E|x - X'| for a standard normal X' in closed form
    e_abs = x * (2 * sps.norm.cdf(x) - 1) + 2 * sps.norm.pdf(x)
    se = float(np.std(np.abs(x - y) - e_abs)) / math.sqrt(n)
    bias = 1 / (math.sqrt(math.pi) * n)  # E|X - X'| / (2n): the empirical distribution's own spread
    assert abs(crps(x, y) - bias - normal_crps(y)) < 4 * se


def test_crps_of_never_is_infinite_unless_both_never():
    assert crps(np.array([1.0, 2.0, np.inf]), 1.5) == math.inf
    assert crps(np.array([1.0, 2.0]), math.inf) == math.inf
    assert crps(np.array([np.inf, np.inf]), math.inf) == 0.0


# ------------------------------------------------------------------ PIT and the verdict


def test_pit_counts_ties_by_the_uniform_draw():
    x = np.array([1.0, 2.0, 2.0, 3.0])
    assert pit(x, 2.0, 0.0) == pytest.approx(1 / 5)
    assert pit(x, 2.0, 1.0) == pytest.approx(4 / 5)
    assert pit(x, 0.5, 0.5) == pytest.approx(0.5 / 5)
    assert pit(x, 9.0, 0.5) == pytest.approx(4.5 / 5)


def synthetic(m: int, shift: float, seed: int = 0):
    """``m`` observations of a lognormal time, ``shift`` times the model's draws, against 5,000 simulated."""
    rng = np.random.default_rng(seed)
    sample = rng.lognormal(math.log(3600), 0.5, 5000)
    observed = rng.lognormal(math.log(3600), 0.5, m) * shift
    o = [obs("tier:tier0:rto", f"{v:.3f}s", i) for i, v in enumerate(observed)]
    return score_all(o, {"tier:tier0:rto": sample}, {"tier:tier0:rto": "s"}, seed)


def test_observations_from_the_model_give_uniform_pits_and_nominal_coverage():
    m = 400
    bt = assess(synthetic(m, 1.0))
    assert bt.uniformity.ks_p > 0.01
    assert abs(bt.uniformity.mean - 0.5) < 4 * math.sqrt(1 / (12 * m))
    for c in bt.coverage:
        assert abs(c.inside - c.level * m) < 4 * math.sqrt(m * c.level * (1 - c.level))
    assert bt.verdict == "well calibrated"


def test_pits_from_the_model_are_uniform_over_many_seeds():
    # 200 backtests of 50 observations each: the KS p-value is itself uniform under the model
    ps = [assess(synthetic(50, 1.0, seed)).uniformity.ks_p for seed in range(200)]
    rejected = sum(p < 0.05 for p in ps)
    assert abs(rejected - 10) < 4 * math.sqrt(200 * 0.05 * 0.95)


def test_pit_histogram_counts_tenths():
    bt = assess(synthetic(400, 1.0))
    assert sum(bt.uniformity.histogram) == 400
    # each tenth holds Binomial(400, 0.1) observations under the model
    assert all(abs(c - 40) < 4 * math.sqrt(400 * 0.1 * 0.9) for c in bt.uniformity.histogram)
    later = assess(synthetic(400, 1.4)).uniformity.histogram
    assert sum(later[5:]) > sum(later[:5])


def test_observations_later_than_the_model_say_too_optimistic():
    bt = assess(synthetic(40, 1.4))
    assert bt.verdict == "too optimistic"
    assert bt.uniformity.mean > 0.5
    assert "too optimistic" in bt.explanation


def test_observations_earlier_than_the_model_say_too_pessimistic():
    assert assess(synthetic(40, 0.7)).verdict == "too pessimistic"


def test_observations_more_spread_than_the_model_say_too_confident():
    rng = np.random.default_rng(3)
    sample = rng.normal(10_000, 500, 5000)
    observed = rng.normal(10_000, 2000, 200)
    o = [obs("tier:tier0:rto", f"{v:.3f}s", i) for i, v in enumerate(observed)]
    bt = assess(score_all(o, {"tier:tier0:rto": sample}, {"tier:tier0:rto": "s"}))
    assert bt.verdict == "too confident"


def test_a_point_mass_observed_exactly_gives_uniform_pits():
    # a milestone the drill fixes (declared at 30m): the randomized PIT spreads the ties uniformly
    o = [obs("milestone:declared:time", "30m", i) for i in range(300)]
    scored = score_all(o, {"milestone:declared:time": np.full(1000, 1800.0)}, {"milestone:declared:time": "s"})
    assert sps.kstest([s.pit for s in scored], "uniform").pvalue > 0.01
    assert all(s.crps == 0.0 for s in scored)


def test_replicates_of_the_real_drill_are_judged_well_calibrated():
    # observations drawn from the model itself: replicates the scored sample does not hold
    result = sweep("region-loss", n=10_300, seed=5, keep_replicates=True, executor="inline")
    values = result.points[0].metrics["tier:tier0:rto"].values
    sample, held = values[:10_000], values[10_000:]
    o = [obs("tier:tier0:rto", f"{float(v)!r}s", i) for i, v in enumerate(held)]
    bt = assess(score_all(o, {"tier:tier0:rto": sample}, {"tier:tier0:rto": "s"}))
    assert bt.uniformity.ks_p > 0.01
    for c in bt.coverage:
        assert abs(c.inside - c.level * c.n) < 4 * math.sqrt(c.n * c.level * (1 - c.level))
    assert bt.verdict == "well calibrated"


# ------------------------------------------------------------------ files and the command line

OBSERVED = """\
drills:
  - name: 2025-03 game day
    date: "2025-03-14"
    observed:
      "milestone:declared:time": 42m
      "tier:tier0:rto": 2h40m
  - name: 2025-06 game day
    observed:
      "tier:tier0:rto": 2h55m
      "queue:hl7-adt:backlog": 400
"""


def test_backtest_command_prints_percentiles_and_a_verdict(tmp_path):
    path = tmp_path / "observed.yaml"
    path.write_text(OBSERVED)
    r = CliRunner().invoke(main, ["backtest", str(path), "--drill", "region-loss", "-n", "2000"])
    assert r.exit_code == 0, r.output
    assert "2025-03 game day (2025-03-14)" in r.output
    assert "coverage of the central 80% interval" in r.output
    assert "verdict: the model is" in r.output
    r = CliRunner().invoke(main, ["backtest", str(path), "--drill", "region-loss", "-n", "2000", "--format", "json"])
    data = json.loads(r.output)
    assert [o["metric"] for o in data["observations"]] == [
        "milestone:declared:time",
        "tier:tier0:rto",
        "tier:tier0:rto",
        "queue:hl7-adt:backlog",
    ]
    assert data["observations"][0]["observed"] == 42 * 60
    assert data["observations"][0]["in_80"] is False  # declared is fixed at 30m in region-loss
    assert 0 < data["pit"]["ks_p"] <= 1
    assert sum(data["pit"]["histogram"]) == 4


def test_csv_observations_are_read_with_their_lines(tmp_path):
    path = tmp_path / "observed.csv"
    path.write_text(
        "drill,date,metric,observed\ngame day,2025-03-14,tier:tier0:rto,2h40m\n\nlater,,latency:detect,3m\n"
    )
    got = load_observations([path])
    assert [(o.drill, o.date, o.metric, o.written, o.line) for o in got] == [
        ("game day", "2025-03-14", "tier:tier0:rto", "2h40m", 2),
        ("later", None, "latency:detect", "3m", 4),
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("unknown.yaml", OBSERVED.replace("tier:tier0:rto", "tier:tier9:rto", 1), "line 6"),
        ("unit.yaml", OBSERVED.replace("2h40m", "160"), "line 6"),
        ("count.yaml", OBSERVED.replace(": 400", ": lots"), "line 10"),
        ("field.yaml", OBSERVED.replace("observed:", "observd:", 1), "line 4"),
        ("missing.csv", "drill,metric\ngame day,tier:tier0:rto\n", "line 1"),
        ("empty.csv", "drill,metric,observed\ngame day,tier:tier0:rto,\n", "line 2"),
        ("ragged.csv", "drill,metric,observed\ngame day,tier:tier0:rto\n", "line 2"),
        ("suffix.txt", "", "observed drills are read from"),
        ("twice.csv", "drill,metric,observed\nday,latency:detect,3m\nday,latency:detect,4m\n", "line 3"),
        ("negative.csv", "drill,metric,observed\nday,latency:detect,-3m\n", "line 2"),
    ],
)
def test_bad_observations_name_file_and_line_and_exit_2(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    r = CliRunner().invoke(main, ["backtest", str(path), "--drill", "region-loss", "-n", "500"])
    assert r.exit_code == 2, r.output
    assert str(path) in r.output
    assert expected in r.output
    assert "Traceback" not in r.output


def test_the_worked_example_in_the_docs_prints_what_the_docs_say(tmp_path):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "calibrate.md").read_text()
    section = doc[doc.index("## Backtesting") :]
    observed = section[section.index("```yaml\n") + 8 :]
    observed = observed[: observed.index("```")]
    shown = section[section.index("coverage of the central 80%") :]
    shown = shown[: shown.index("```")].strip().splitlines()
    path = tmp_path / "observed.yaml"
    path.write_text(observed)
    r = CliRunner().invoke(main, ["backtest", str(path), "--drill", "region-loss"])
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-len(shown) :] == shown


def test_an_unknown_metric_is_refused_before_anything_is_simulated(monkeypatch):
    import drsim.calibrate.backtest as bt

    def never(*args, **kwargs):
        raise AssertionError("simulated")

    monkeypatch.setattr(bt, "execute", never)
    with pytest.raises(InputError, match="no metric 'tier:tier9:rto'"):
        bt.backtest([obs("tier:tier9:rto", "1h")], "region-loss", n=100)


def test_an_overlay_is_applied_before_scoring(tmp_path):
    path = tmp_path / "observed.yaml"
    path.write_text(OBSERVED)
    overlay = tmp_path / "slow-dba.yaml"
    overlay.write_text(
        "set:\n"
        + "".join(f'  topology.staff.dba.shifts.{i}.acknowledge: "lognormal(p50=40m, p95=90m)"\n' for i in range(3))
    )
    args = ["backtest", str(path), "--drill", "region-loss", "-n", "2000", "--format", "json"]
    plain = json.loads(CliRunner().invoke(main, args).stdout)
    r = CliRunner().invoke(main, [*args, "--overlay", str(overlay)])
    assert r.exit_code == 0, r.output
    slow = json.loads(r.stdout)
    assert slow["observations"][1]["p50"] > plain["observations"][1]["p50"] + 600  # tier0 RTO waits on the DBA
    assert slow["observations"][1]["pit"] < plain["observations"][1]["pit"]
