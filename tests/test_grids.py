"""Readable grids: list items by name, one side-by-side table of the grid points, a heatmap of the metric that
varies, and every axis and column labelled in words."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner

import drsim
from drsim.cli import main
from drsim.errors import InputError
from drsim.report import labels
from drsim.report.grid_table import DEFAULT_COLUMNS

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NIGHT = "topology.staff.dba.shifts.night.headcount"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_list_item_is_addressed_by_its_name_as_by_its_index():
    by_name = drsim.sweep("region-loss", n=300, seed=2, grid={NIGHT: [2]})
    by_index = drsim.sweep("region-loss", n=300, seed=2, grid={"topology.staff.dba.shifts.2.headcount": [2]})
    assert by_name.points[0].params == {NIGHT: 2}
    a, b = by_name.to_frame(), by_index.to_frame()
    assert (a["p90_s"].fillna(-1) == b["p90_s"].fillna(-1)).all()


def test_an_unknown_item_name_lists_the_names_there():
    with pytest.raises(InputError, match=r"expected an item's name \(day-weekday, day-weekend, night\) or an index"):
        drsim.sweep("region-loss", n=10, grid={"topology.staff.dba.shifts.nights.headcount": [1]})
    r = cli("sweep", "region-loss", "-n", 10, "--grid", "topology.staff.dba.shifts.nights.headcount=1,2")
    assert r.exit_code == 2
    assert "nights" in r.output


def _readme_grid_command() -> list[str]:
    """The README's grid sweep (the one that draws a heatmap), as arguments."""
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "--grid" in b and "--plot" in b)
    lines = block.replace("\\\n", " ").splitlines()
    line = next(x for x in lines if "--grid" in x and "--plot" in x)
    return shlex.split(line.split("#")[0])[1:]  # without the program's name


def test_the_readme_grid_example_draws_a_heatmap_that_varies_with_labelled_axes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = _readme_grid_command()
    args[args.index("-n") + 1] = "2000"  # the README's replicates, fewer
    r = cli(*args)
    assert r.exit_code in (0, 1), r.output
    png = next(tmp_path.glob("*.png"))
    assert png.stat().st_size > 0
    # the same heatmap, drawn in the test to read its values and labels
    sw = drsim.sweep("region-loss", n=2000, grid=_grid_of(args))
    metric = sw.by_variation()[0]
    ax = drsim.grid_heatmap(sw.to_frame(), *sw.grid_keys, metric)
    values = ax.images[0].get_array()
    assert values.shape == (4, 3)
    assert np.nanmax(values) - np.nanmin(values) > 0.5
    assert ax.get_xlabel() == "dba head-count, night shift (people)"
    assert ax.get_ylabel() == "fault duration (value as written)"
    assert ax.figure.axes[1].get_ylabel().startswith("P(")  # the colour bar
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4h", "12h", "1d", "2d"]  # the grid's order


def _grid_of(args: list[str]) -> dict[str, list]:
    from drsim.sweep import parse_grid_option

    return dict(parse_grid_option(args[i + 1]) for i, a in enumerate(args) if a == "--grid")


def test_the_default_heatmap_metric_is_the_one_whose_p_meet_varies_most():
    sw = drsim.sweep("region-loss", n=1000, seed=1, grid={NIGHT: [1, 2], "drill.faults.0.duration": ["4h", "2d"]})
    frame = sw.to_frame().dropna(subset=["p_meet"])
    spread = frame.groupby("metric")["p_meet"].agg(lambda p: p.max() - p.min())
    first = sw.by_variation()[0]
    assert spread[first] == spread.max()
    assert spread[first] > 0


def test_a_grid_sweep_prints_one_side_by_side_table():
    r = cli("sweep", "region-loss", "-n", 500, "--grid", f"{NIGHT}=1,2,3", "--grid", "drill.faults.0.duration=4h,2d")
    assert r.exit_code in (0, 1), r.output
    lines = r.output.splitlines()
    assert len(lines) < 30, r.output
    rows = [x for x in lines if re.match(r"^│\s+[123] │", x)]
    assert len(rows) == 6  # one row per grid point
    assert "dba head-count, night shift" in r.output
    assert "fault duration" in r.output
    assert rows[0].count("·") == DEFAULT_COLUMNS


def test_show_chooses_the_columns_and_an_unknown_metric_is_refused_before_the_sweep():
    r = cli(
        "sweep",
        "region-loss",
        "-n",
        300,
        "--grid",
        f"{NIGHT}=1,2",
        "--show",
        "tier:tier0:rto",
        "--show",
        "latency:declare",
    )
    assert r.exit_code in (0, 1), r.output
    assert "tier0 RTO" in r.output
    assert "time to declare" in r.output
    rows = [x for x in r.output.splitlines() if re.match(r"^│\s+[12] │", x)]
    assert [row.count("·") for row in rows] == [1, 1]  # latency has no target: its P90 alone
    bad = cli("sweep", "region-loss", "-n", 300, "--show", "tier:tier9:rto")
    assert bad.exit_code == 2
    assert "no metric 'tier:tier9:rto'" in bad.output


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (NIGHT, "dba head-count, night shift"),
        ("topology.staff.dba.shifts.2.headcount", "dba head-count, shift 3"),
        ("drill.faults.0.duration", "fault duration"),
        ("drill.response.declare.duration", "decision to fail over: duration"),
        ("topology.queues.hl7-adt.buffer", "hl7-adt buffer (messages)"),
        ("topology.services.ehr-db.data.backup_interval", "services ehr-db data backup interval"),
    ],
)
def test_a_grid_key_is_labelled_in_words(key, label):
    assert labels.grid_key(key) == label


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("tier:tier0:rto", "tier0 RTO"),
        ("service:ehr-db:rpo", "ehr-db RPO"),
        ("workflow:medication-administration:downtime", "medication-administration downtime"),
        ("latency:declare", "time to declare"),
        ("queue:lab-results:backlog", "lab-results backlog (messages)"),
    ],
)
def test_a_metric_is_labelled_in_words(key, label):
    assert labels.metric(key) == label


def test_p_meet_is_labelled_with_its_bound():
    assert labels.meets("tier:tier0:rto", 900.0) == "P(tier0 RTO ≤ 15m)"
    assert labels.meets("tier:tier2:rto", 86400.0) == "P(tier2 RTO ≤ 1d)"
    assert labels.duration(5400.0) == "1h30m"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("acknowledge:dba", "dba: time to acknowledge a page"),
        ("runbook:ehr-db", "ehr-db runbook"),
        ("decision", "decision to fail over"),
        ("fault-duration", "how long the fault lasts"),
        ("backup-age:ehr-db", "ehr-db age of the last backup"),
    ],
)
def test_a_sensitivity_parameter_is_labelled_in_words(name, label):
    assert labels.parameter(name) == label


def test_a_tornado_chart_names_its_parameters_in_words():
    res = drsim.one_at_a_time("region-loss", n=200, seed=1, groups=["decision", "acknowledge:dba"])
    ax = res.plot_tornado()
    ticks = {t.get_text() for t in ax.get_yticklabels()}
    assert ticks == {"decision to fail over", "dba: time to acknowledge a page"}
