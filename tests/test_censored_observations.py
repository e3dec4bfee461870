""" "At least" observations (``>=2h``): a step still running, a milestone not reached, when timing stopped.

A drill stopped at the two-hour mark with the database still restoring says the
restore took *at least* two hours. Dropping that record biases a fit short, and
so does reading it as exactly two hours; scoring a backtest as if the milestone
happened at the stop biases the verdict towards "too pessimistic". Written
``>=2h`` in a step CSV or an observed-drills file, it is right-censored: a fit
uses the survival function, a backtest the PIT's range above the bound.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from drsim.calibrate.backtest import censored_pit, pit, score_all
from drsim.calibrate.observed import Observation, load_observations
from drsim.calibrate.run import calibrate
from drsim.calibrate.sources import read_source
from drsim.cli import main
from drsim.errors import InputError

Z95 = 1.6448536269514722
#: A runbook step: lognormal with P50 20m and P95 1h, timed in a window that closed at 30m.
P50, P95, WINDOW = 1200.0, 3600.0, 1800.0
SIGMA = math.log(P95 / P50) / Z95
STEP = "topology.services.ehr-db.recovery.steps.0.duration"


def step_times(n: int, seed: int) -> np.ndarray:
    return P50 * np.exp(SIGMA * np.random.default_rng(seed).standard_normal(n))


def write_steps(path: Path, seconds: np.ndarray, layout: str = "at-least") -> Path:
    """Timed steps: beyond the window, ``>=30m`` (``at-least``), a censored column (``column``) or left out."""
    if layout == "column":
        rows = ["element,duration,censored"]
        rows += [f"promote,{min(v, WINDOW):.1f}s,{'true' if v > WINDOW else 'false'}" for v in seconds]
    else:
        rows = ["element,duration"]
        for v in seconds:
            if v <= WINDOW:
                rows.append(f"promote,{v:.1f}s")
            elif layout == "at-least":
                rows.append("promote,>=30m")
    path.write_text("\n".join(rows) + "\n")
    return path


def fit_step(tmp_path: Path, source: Path, bootstrap: int = 0):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "topology": "ehr-hybrid",
                "bootstrap": bootstrap,
                "elements": [
                    {"element": STEP, "measure": "duration", "where": {"element": "promote"}, "families": ["lognormal"]}
                ],
            }
        )
    )
    (element,) = calibrate([source], mapping).elements
    return element.fit


# ------------------------------------------------------------------ fits


def test_an_at_least_duration_is_a_censored_record_at_its_bound(tmp_path):
    path = tmp_path / "steps.csv"
    path.write_text("element,duration\npromote,12m\npromote,>=2h\npromote,>= 45m\n")
    _, records = read_source(path)
    assert [r.durations["duration"] for r in records] == [720.0, 7200.0, 2700.0]
    assert [r.censored for r in records] == [frozenset(), {"duration"}, {"duration"}]


def test_at_least_rows_fit_exactly_as_a_censored_column_says(tmp_path):
    x = step_times(200, seed=1)
    a = fit_step(tmp_path, write_steps(tmp_path / "a.csv", x, "at-least"))
    b = fit_step(tmp_path, write_steps(tmp_path / "b.csv", np.round(x, 1), "column"))
    assert a.censored == b.censored == int((x > WINDOW).sum()) > 0
    assert a.text == b.text
    assert a.candidates[0].loglik == pytest.approx(b.candidates[0].loglik, rel=1e-9)


@pytest.mark.slow
def test_steps_timed_until_the_window_closed_recover_the_true_percentiles(tmp_path):
    """A quarter of 400 steps were still running when the 30-minute window closed. With them written as
    >=30m the true P50 and P95 lie inside their bootstrap intervals; left out, the fit is short by far."""
    x = step_times(400, seed=2)
    assert 0.15 < (x > WINDOW).mean() < 0.35
    fit = fit_step(tmp_path, write_steps(tmp_path / "s.csv", x), bootstrap=100)
    for p, true in ((50, P50), (95, P95)):
        iv = fit.percentiles[p]
        assert iv.low <= true <= iv.high, (p, iv)
    dropped = fit_step(tmp_path, write_steps(tmp_path / "d.csv", x, "dropped"), bootstrap=40)
    assert dropped.percentiles[95].high < P95 * 0.8  # the slow steps were the ones left out
    assert dropped.percentiles[50].high < P50


def test_an_at_least_row_marked_not_censored_is_refused_at_its_cell(tmp_path):
    path = tmp_path / "steps.csv"
    path.write_text("element,duration,censored\npromote,12m,false\npromote,>=2h,false\n")
    with pytest.raises(InputError, match=r"line 3, column 3, at censored: censored is false but the duration"):
        read_source(path)


# ------------------------------------------------------------------ backtests


def test_the_pit_of_censored_observations_stays_uniform_under_the_model():
    """Observations drawn from the model, each stopped at an independent time: the censored PIT keeps
    the mean at 1/2 within 4 standard errors (sqrt(1/12m)); reading the bounds as values does not."""
    rng = np.random.default_rng(3)
    sample = np.sort(rng.lognormal(8.0, 0.6, 20_000))
    m = 20_000
    y = rng.lognormal(8.0, 0.6, m)
    stop = rng.lognormal(8.2, 0.6, m)  # when each drill was stopped, independent of how it went
    u = rng.random(m)
    cens = y > stop
    assert 0.3 < cens.mean() < 0.5
    pits = np.array([censored_pit(sample, s, w) if c else pit(sample, v, w) for v, s, c, w in zip(y, stop, cens, u)])
    se = math.sqrt(1 / 12 / m)
    assert abs(pits.mean() - 0.5) < 4 * se
    assert stats.kstest(pits, "uniform").pvalue > 1e-3
    naive = np.array([pit(sample, min(v, s), w) for v, s, w in zip(y, stop, u)])
    assert 0.5 - naive.mean() > 20 * se  # the bound read as the value: "too pessimistic" for nothing


def test_a_censored_pit_lies_above_the_simulated_probability_of_the_bound():
    sample = np.arange(1.0, 101.0)  # 100 values
    assert censored_pit(sample, 90.5, 0.0) == pytest.approx(90 / 101)
    assert censored_pit(sample, 90.5, 1.0) == pytest.approx(1.0)
    assert censored_pit(sample, 0.5, 0.5) == pytest.approx(0.5)  # a bound below everything says nothing


def obs(metric: str, written: str, i: int = 0) -> Observation:
    return Observation(f"drill {i}", None, metric, written, "observed.csv", i + 2, 4, ("observed",))


def test_a_censored_observation_has_no_crps_and_its_coverage_follows_its_pit():
    sample = np.arange(1.0, 101.0) * 60
    (late, early) = score_all(
        [obs("x:y:time", ">=99m", 0), obs("x:y:time", ">=1m", 1)], {"x:y:time": sample}, {"x:y:time": "s"}
    )
    assert late.censored
    assert late.value == 99 * 60
    assert math.isnan(late.crps)
    assert late.pit > 0.97
    assert not late.inside(0.8)  # at least P98: above both intervals
    assert not late.inside(0.9)
    assert early.inside(0.8) == (0.1 < early.pit < 0.9)


OBSERVED = """drill,metric,observed
2025-03 game day,tier:tier0:rto,3h05m
2025-06 game day,tier:tier0:rto,>=4h
"""


def test_backtest_reads_at_least_observations_from_csv_and_yaml(tmp_path):
    csv_path = tmp_path / "observed.csv"
    csv_path.write_text(OBSERVED)
    yaml_path = tmp_path / "observed.yaml"
    yaml_path.write_text(
        "drills:\n"
        "  - name: 2025-03 game day\n    observed: {tier:tier0:rto: 3h05m}\n"
        '  - name: 2025-06 game day\n    observed: {tier:tier0:rto: ">=4h"}\n'
    )
    for path in (csv_path, yaml_path):
        assert [o.censored for o in load_observations([path])] == [False, True]
    r = CliRunner().invoke(main, ["backtest", str(csv_path), "--drill", "region-loss", "-n", "500", "--format", "json"])
    assert r.exit_code == 0, r.output
    first, second = json.loads(r.stdout)["observations"]
    assert (first["censored"], second["censored"]) == (False, True)
    assert second["observed"] == 4 * 3600
    assert second["crps"] is None
    r = CliRunner().invoke(main, ["backtest", str(csv_path), "--drill", "region-loss", "-n", "500"])
    assert ">=4h" in r.stdout
    assert "1 censored observation(s)" in r.stdout


def test_an_at_least_without_a_value_is_refused_at_its_line(tmp_path):
    path = tmp_path / "observed.csv"
    path.write_text("drill,metric,observed\n2025-03 game day,tier:tier0:rto,>=never\n")
    r = CliRunner().invoke(main, ["backtest", str(path), "--drill", "region-loss", "-n", "200"])
    assert r.exit_code == 2
    assert "line 2, column 3" in r.stderr
    assert "expected a value after '>=' (e.g. >=2h)" in r.stderr
