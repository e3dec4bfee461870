"""Planner charts: every one is written, labelled with units, and carries data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import drsim
from drsim.analysis import sensitivity as sens
from drsim.report import plots

UNITS = (
    "(seconds",
    "(minutes",
    "(hours",
    "(days",
    "(probability",
    "(percentage points",
    "dimensionless",
    "factor",
    "(value as written",
    "(people",
)


@pytest.fixture(scope="module")
def comparison():
    return drsim.compare(["ehr-hybrid", "active-active", "backup-restore"], "region-loss", n=300, seed=4)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(ax):
    assert ax.get_xlabel()
    assert ax.get_ylabel()
    assert any(u in ax.get_xlabel() or u in ax.get_ylabel() for u in UNITS), (ax.get_xlabel(), ax.get_ylabel())


def _written(ax_or_fig, tmp_path, stem):
    for ext in ("png", "svg", "pdf"):
        p = plots.save(ax_or_fig, tmp_path / f"{stem}.{ext}")
        assert p.stat().st_size > 1000


def test_cdf_has_one_curve_per_estate_and_the_target(comparison, tmp_path):
    ax = comparison.plot_cdf()
    _labelled(ax)
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 10]
    assert len(curves) == 3
    assert any(line.get_label().startswith("target 15m") for line in ax.get_lines())
    # curves differ in line style and marker, not only in colour
    assert len({line.get_linestyle() for line in curves}) == 3
    assert len({line.get_marker() for line in curves}) == 3
    _written(ax, tmp_path, "cdf")


def test_cdf_counts_never_restored_replicates_in_the_denominator():
    ax = plots.cdf({"half never": np.array([60.0, np.inf, 120.0, np.inf])}, target=90)
    line = next(line for line in ax.get_lines() if line.get_label().startswith("half never"))
    assert max(line.get_ydata()) == 0.5
    assert "50% never" in line.get_label()


def test_rto_rpo_scatter_has_points_and_the_policy_box(comparison, tmp_path):
    ax = comparison.plot_rto_rpo()
    _labelled(ax)
    assert len(ax.collections) >= 6  # a cloud and a median per estate
    assert sum(len(c.get_offsets()) for c in ax.collections) >= 3 * 300
    boxes = [p for p in ax.patches if p.get_label().startswith("policy")]
    assert len(boxes) == 1
    assert boxes[0].get_hatch()
    _written(ax, tmp_path, "scatter")


def test_difference_forest_plot(comparison, tmp_path):
    ax = comparison.plot_differences(stat="p90")
    _labelled(ax)
    assert len(ax.collections) >= 1
    assert len(ax.get_lines()) >= 2
    ax2 = comparison.plot_differences(stat="p_meet")
    assert "percentage points" in ax2.get_xlabel()
    _written(ax, tmp_path, "forest")


def test_two_panel_figure(comparison, tmp_path):
    fig = comparison.plot()
    assert len(fig.axes) == 2
    _written(fig, tmp_path, "both")


def test_gantt_of_one_replay_has_staff_and_service_lanes(tmp_path):
    result = drsim.run_drill("region-loss", seed=3)
    ax = plots.gantt(result)
    _labelled(ax)
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert any("#" in lane for lane in lanes)  # people
    assert any(lane.startswith("outage: ehr-db") for lane in lanes)
    assert len(ax.patches) >= 10
    hatches = {p.get_hatch() for p in ax.patches if p.get_hatch()}
    assert len(hatches) >= 3
    _written(ax, tmp_path, "gantt")


def test_tornado_sobol_and_heatmap(tmp_path):
    res = sens.one_at_a_time("region-loss", None, "p90_rto:tier0", n=200, seed=1)
    ax = res.plot_tornado(6)
    _labelled(ax)
    assert len(ax.patches) == 12
    assert len(ax.get_yticklabels()) == 6
    _written(ax, tmp_path, "tornado")

    ax = plots.sobol(["a", "b"], [0.6, 0.1], [0.7, 0.2], first_conf=[0.1, 0.1], total_conf=[0.1, 0.1])
    _labelled(ax)
    assert len(ax.patches) == 4
    _written(ax, tmp_path, "sobol")

    g = sens.grid("region-loss", None, x=("decision", [0.5, 1]), y=("runbook:ehr-db", [0.5, 1, 2]), n=200, seed=1)
    ax = g.plot_heatmap()
    _labelled(ax)
    assert ax.images
    assert ax.images[0].get_array().shape == (3, 2)
    assert len(ax.texts) == 6  # every cell carries its value
    _written(ax, tmp_path, "heatmap")


def test_save_refuses_other_formats_and_existing_files(tmp_path):
    ax = plots.cdf({"a": np.array([1.0, 2.0])})
    with pytest.raises(drsim.InputError):
        plots.save(ax, tmp_path / "x.gif")
    plots.save(ax, tmp_path / "x.png")
    from drsim.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        plots.save(ax, tmp_path / "x.png")
    plots.save(ax, tmp_path / "x.png", force=True)


def test_heatmap_of_a_sweep_grid(tmp_path):
    sw = drsim.sweep(
        "interface-outage",
        n=200,
        seed=1,
        grid={
            "topology.staff.network-engineer.shifts.0.headcount": [1, 2],
            "drill.response.declare.duration": ["15m", "45m", "90m"],
        },
    )
    ax = plots.grid_heatmap(
        sw.to_frame(),
        "topology.staff.network-engineer.shifts.0.headcount",
        "drill.response.declare.duration",
        "tier:tier1:rto",
    )
    _labelled(ax)
    values = ax.images[0].get_array()
    assert values.shape == (3, 2)
    assert np.all((values >= 0) & (values <= 1))
    assert len(ax.texts) == 6
    _written(ax, tmp_path, "grid")


def _pdf_text(path):
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_cli_drill_plot_writes_the_gantt_of_the_replay_it_printed(tmp_path):
    from click.testing import CliRunner

    from drsim.cli import main

    out = tmp_path / "gantt.pdf"
    res = CliRunner().invoke(main, ["drill", "region-loss", "--seed", "2", "--plot", str(out)])
    assert res.exit_code == 1, res.output  # region-loss misses targets on the reference estate
    text = _pdf_text(out)
    assert "region-loss on ehr-hybrid: one replay (seed 2)" in text
    assert "time since the drill started (hours)" in text
    assert "dba#1" in text
    assert "outage: ehr-db" in text
    # never clobbers; -n draws distributions, not one replay
    again = CliRunner().invoke(main, ["drill", "region-loss", "--plot", str(out)])
    assert again.exit_code == 4
    assert "--force" in again.output
    many = CliRunner().invoke(main, ["drill", "region-loss", "-n", "10", "--plot", str(tmp_path / "x.png")])
    assert many.exit_code == 2
    assert not (tmp_path / "x.png").exists()


def test_cli_sweep_plot_writes_a_heatmap_over_its_two_grid_keys(tmp_path):
    from click.testing import CliRunner

    from drsim.cli import main

    out = tmp_path / "grid.pdf"
    args = ["sweep", "region-loss", "-n", "200", "--executor", "inline"]
    grid = ["--grid", "topology.staff.dba.shifts.2.headcount=1,2", "--grid", "drill.response.declare.duration=15m,90m"]
    res = CliRunner().invoke(main, [*args, *grid, "--plot", str(out), "--plot-metric", "tier:tier2:rto"])
    assert res.exit_code in (0, 1), res.output
    text = _pdf_text(out)
    assert "P(tier2 RTO ≤ 1d)" in text  # the colour bar
    assert "dba head-count, shift 3 (people)" in text
    assert "decision to fail over: duration (value as written)" in text
    # one key is not a grid to draw; a metric that does not exist is named with the closest one
    one = CliRunner().invoke(main, [*args, grid[0], grid[1], "--plot", str(tmp_path / "one.png")])
    assert one.exit_code == 2
    assert "exactly two --grid keys" in one.output
    typo = CliRunner().invoke(main, [*args, *grid, "--plot", str(tmp_path / "t.png"), "--plot-metric", "tier:tier0:rt"])
    assert typo.exit_code == 2
    assert "did you mean 'tier:tier0:rto'" in typo.output
    assert not (tmp_path / "one.png").exists()
    assert not (tmp_path / "t.png").exists()
