"""What a reviewer reads: ``drsim calibrate --report md|html`` and ``drsim backtest --plot``.

The calibration report must carry every number the decision rests on (the
value written, the families it beat, the goodness of fit, the intervals, the
records and the files' hashes), the same numbers the overlay's provenance
holds; the backtest chart must draw exactly the PIT values the tests judged,
with a band that is the Kolmogorov–Smirnov test's own.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from drsim.calibrate.backtest import assess
from drsim.calibrate.observed import Observation
from drsim.calibrate.run import calibrate
from drsim.cli import main
from drsim.model.units import format_duration
from drsim.report.backtest_plots import backtest_figure, ks_band
from drsim.report.calibration_report import calibration_document
from drsim.report.document import to_markdown

matplotlib.use("Agg")

OBSERVED = """drill,metric,observed
2025-03 game day,tier:tier0:rto,3h05m
2025-06 game day,tier:tier0:rto,>=4h
2025-10 game day,milestone:acknowledged:time,22m
"""


@pytest.fixture
def detection(tmp_path: Path) -> tuple[Path, Path]:
    """Sixty timed detections (lognormal, P50 3m), two still running at 400 s, and a mapping to the drill."""
    x = np.random.default_rng(1).lognormal(math.log(180), 0.5, 60)
    steps = tmp_path / "detections.csv"
    steps.write_text("element,duration\n" + "".join(f"detection,{v:.1f}s\n" if v < 400 else "detection,>=400s\n"
                                                    for v in x))  # fmt: skip
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "topology": "ehr-hybrid",
                "drill": "region-loss",
                "bootstrap": 50,
                "elements": [
                    {"element": "drill.detection.delay", "measure": "duration", "where": {"element": "detection"}}
                ],
            }
        )
    )
    return steps, mapping


def test_the_markdown_report_carries_every_number_of_the_fit(detection, tmp_path):
    steps, mapping = detection
    r = CliRunner().invoke(main, ["calibrate", str(steps), "--map", str(mapping), "-o", str(tmp_path / "o.yaml"),
                                  "--report", "md"])  # fmt: skip
    assert r.exit_code == 0, r.output
    report = r.stdout.replace("\\", "")
    (element,) = calibrate([steps], mapping).elements
    fit = element.fit
    assert f"Set to {fit.text}" in report
    assert "60 records (2 censored" in report
    for c in fit.candidates:  # every family tried, with its AIC
        assert f"| {c.family} | {c.aic:.1f} |" in report or f"**{c.family}** | **{c.aic:.1f}**" in report
    assert f"D = {fit.ks_statistic:.3f}" in report
    assert f"p = {fit.ks_pvalue:.2f}" in report
    for p, iv in fit.percentiles.items():
        assert (
            f"| P{p} | {format_duration(iv.estimate)} | {format_duration(iv.low)} | {format_duration(iv.high)} |"
            in report
        )
    assert hashlib.sha256(steps.read_bytes()).hexdigest()[:16] in report
    assert "wrote" in r.stderr  # the overlay is written either way; where it went is said on standard error


def test_the_html_report_is_one_page_with_a_chart_per_element(detection, tmp_path):
    steps, mapping = detection
    r = CliRunner().invoke(main, ["calibrate", str(steps), "--map", str(mapping), "-o", str(tmp_path / "o.yaml"),
                                  "--report", "html"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.stdout.lstrip().lower().startswith("<!doctype html")
    assert r.stdout.count("<svg") == 1
    assert "drill.detection.delay" in r.stdout


def test_the_report_sets_the_fit_beside_the_records_kaplan_meier(detection):
    steps, mapping = detection
    result = calibrate([steps], mapping)
    text = to_markdown(calibration_document(result))
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.count("|") == 4]
    shares = [(float(cells[2]), float(cells[3])) for cells in (line.split("|") for line in rows) if "0." in cells[2]]
    assert [f for f, _ in shares] == [0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    # a good fit (KS p well above 5%): the records' share finished is within the KS distance of the fitted one
    assert result.elements[0].fit.ks_pvalue > 0.05
    assert all(abs(f - km) <= result.elements[0].fit.ks_statistic + 1e-9 for f, km in shares)


@pytest.mark.parametrize("m", [3, 10, 40])
def test_the_calibration_plots_band_is_the_ks_tests_critical_distance(m):
    band = ks_band(m)
    assert stats.kstwo.sf(band, m) == pytest.approx(0.05, rel=1e-6)
    # a sample whose empirical CDF leaves the band by a hair is rejected at 5%, one inside it is not
    for shift, rejected in ((band + 1e-6, True), (band - 1e-3, False)):
        u = np.clip((np.arange(1, m + 1) - 0.5) / m + shift - 0.5 / m, 1e-9, 1)
        assert (stats.kstest(u, "uniform").pvalue < 0.05) == rejected


def test_the_pit_histogram_draws_the_counts_the_backtest_tested():
    pits = np.random.default_rng(4).random(37) ** 1.5
    scored = [_scored(p, i) for i, p in enumerate(pits)]
    bt = assess(scored, "region-loss", "ehr-hybrid", 1000, 0)
    fig = backtest_figure(bt)
    hist = fig.axes[0]
    heights = [int(p.get_height()) for p in hist.patches if p.get_width() == pytest.approx(0.1)]
    assert tuple(heights) == bt.uniformity.histogram
    assert bt.verdict in fig.get_suptitle()
    matplotlib.pyplot.close(fig)


def _scored(pit: float, i: int):
    from drsim.calibrate.backtest import Scored

    obs = Observation(f"drill {i}", None, "tier:tier0:rto", "1h", "observed.csv", i + 2, 3, ("observed",))
    return Scored(obs, 3600.0, "s", float(pit), 1.0, 2.0, 3.0, 4.0, 5.0, 1.0)


def test_backtest_writes_its_plot_and_never_overwrites_one(tmp_path):
    observed = tmp_path / "observed.csv"
    observed.write_text(OBSERVED)
    plot = tmp_path / "backtest.png"
    args = ["backtest", str(observed), "--drill", "region-loss", "-n", "500", "--plot", str(plot)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert plot.read_bytes().startswith(b"\x89PNG")
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 4
    r = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "backtest.txt")])
    assert r.exit_code == 2
    assert "--plot writes .png, .svg or .pdf" in r.stderr
