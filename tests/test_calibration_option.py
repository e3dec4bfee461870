"""``--calibration OVERLAY.yaml``: every command that simulates runs on the calibrated model and says so.

A result computed on calibrated durations must say which elements were
calibrated and from what, in every form it is written: the table, Markdown,
JSON, the tidy CSV and Parquet summaries, a tabletop pack. ``--overlay`` is
the same option under its older name.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.sweep import sweep
from drsim.sweep.overlay import Overlay

#: The on-call DBA takes far longer to acknowledge than the bundled estate says, on every shift.
SLOW_DBA = "lognormal(p50=40m, p95=90m)"
NOTE = "lognormal fitted to 212 records (9 censored) from pagerduty.csv, 2025-01-02..2025-11-30; KS D=0.041 p=0.38"


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "calibrated.yaml"
    lines = ["set:"]
    lines += [f'  topology.staff.dba.shifts.{i}.acknowledge: "{SLOW_DBA}"' for i in range(3)]
    lines += ["  drill.detection.delay: 4m", "notes:"]
    lines += [f'  topology.staff.dba.shifts.{i}.acknowledge: "{NOTE}"' for i in range(3)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def assert_lists_calibration(text: str, overlay: Path) -> None:
    """The output names each calibrated element, its value, what it was fitted from and the overlay."""
    assert "Calibrated elements" in text
    for i in range(3):
        assert f"topology.staff.dba.shifts.{i}.acknowledge" in text
    assert SLOW_DBA in text
    assert "fitted to 212 records (9 censored) from pagerduty.csv" in text
    assert "drill.detection.delay" in text
    assert str(overlay) in text


def assert_json_lists_calibration(data: dict, overlay: Path) -> None:
    elements = {e["element"]: e for e in data["calibrated"]}
    assert set(elements) == {f"topology.staff.dba.shifts.{i}.acknowledge" for i in range(3)} | {"drill.detection.delay"}
    assert elements["topology.staff.dba.shifts.2.acknowledge"] == {
        "element": "topology.staff.dba.shifts.2.acknowledge",
        "value": SLOW_DBA,
        "overlay": str(overlay),
        "basis": NOTE,
    }
    assert elements["drill.detection.delay"]["basis"] == ""  # set by hand: the overlay says nothing about it


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_drill_replay_lists_the_calibrated_elements(overlay, fmt):
    code, out, _ = run("drill", "region-loss", "--calibration", overlay, "--format", fmt)
    assert code in (0, 1)
    assert_lists_calibration(out.replace("\\", ""), overlay)  # Markdown escapes the underscores


def test_a_drill_replay_in_json_carries_the_calibration_and_runs_on_it(overlay):
    _, plain, _ = run("drill", "region-loss", "--format", "json")
    code, out, _ = run("drill", "region-loss", "--calibration", overlay, "--format", "json")
    assert code in (0, 1)
    data = json.loads(out)
    assert_json_lists_calibration(data, overlay)
    assert "calibrated" not in json.loads(plain)  # a run without a calibration is as before
    # the overlay's drill value is the one used: detection takes exactly 4m
    assert data["decision_latency"]["detect"] == pytest.approx(240.0)


def test_overlay_is_the_same_option_as_calibration(overlay):
    a = run("drill", "region-loss", "--calibration", overlay, "--format", "json")
    b = run("drill", "region-loss", "--overlay", overlay, "--format", "json")
    assert a == b


def test_a_sweep_lists_the_calibration_in_every_format_and_summary_file(overlay, tmp_path):
    args = ["sweep", "region-loss", "-n", "300", "--executor", "inline", "--calibration", overlay]
    code, out, _ = run(*args)
    assert code in (0, 1)
    assert_lists_calibration(out, overlay)
    _, out, _ = run(*args, "--format", "markdown")
    assert_lists_calibration(out.replace("\\", ""), overlay)
    _, out, _ = run(*args, "--format", "json")
    assert_json_lists_calibration(json.loads(out), overlay)
    csv, parquet, folder = tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "checkpointed"
    for target in (csv, parquet, folder):
        code, _, _ = run(*args, "--out", target)
        assert code in (0, 1)
    for frame in (pd.read_csv(csv), pd.read_parquet(parquet), pd.read_parquet(folder / "summary.parquet")):
        (listed,) = set(frame["calibrated"])  # the same on every row
        assert_lists_calibration("Calibrated elements " + listed, overlay)
    for path in (parquet, folder / "summary.parquet"):
        meta = json.loads(pd.read_parquet(path).attrs["drsim"])
        assert_json_lists_calibration(meta, overlay)


def test_a_sweep_runs_on_the_calibrated_model():
    slow = {f"topology.staff.dba.shifts.{i}.acknowledge": SLOW_DBA for i in range(3)}
    calibrated = Overlay("by hand", tuple(slow.items()), {})  # the library takes loaded overlays as well as files
    plain = sweep("region-loss", n=500, executor="inline")
    slowed = sweep("region-loss", n=500, executor="inline", calibration=[calibrated])
    p50 = [r.points[0].percentile("tier:tier0:rto", 50) for r in (plain, slowed)]
    assert p50[1] > p50[0] + 10 * 60  # the tier-0 recovery waits on the DBA's acknowledgement
    assert [e.element for e in slowed.calibrated] == list(slow)
    assert plain.calibrated == ()


def test_a_grid_key_replacing_a_calibrated_value_is_warned_about_and_not_listed(overlay):
    code, out, err = run(
        *["sweep", "region-loss", "-n", "200", "--executor", "inline", "--format", "json"],
        *["--calibration", overlay, "--grid", "drill.detection.delay=2m,6m"],
    )
    assert code in (0, 1)
    assert "a grid key replaces this calibrated value at every point" in err
    assert "set.drill.detection.delay" in err
    listed = [e["element"] for e in json.loads(out)["calibrated"]]
    assert "drill.detection.delay" not in listed
    assert len(listed) == 3


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_compare_lists_the_calibration_applied_to_every_estate(overlay, fmt):
    code, out, _ = run(
        "compare", "region-loss", "-t", "ehr-hybrid", "-t", "warm-standby", "-n", "200", "--calibration", overlay,
        "--format", fmt,
    )  # fmt: skip
    assert code == 0
    if fmt != "table":
        rows = pd.read_csv(io.StringIO(out)) if fmt == "csv" else pd.DataFrame(json.loads(out))
        assert set(rows["estate"]) == {"ehr-hybrid", "warm-standby"}
        (listed,) = set(rows["calibrated"])  # the same on every row
        out = "Calibrated elements " + listed
    assert_lists_calibration(out, overlay)


def test_a_tabletop_pack_lists_the_calibration(overlay):
    code, out, _ = run("timeline", "region-loss", "--calibration", overlay, "--format", "md")
    assert code == 0
    section = out[out.index("## Calibrated elements") :]
    assert_lists_calibration(section.replace("\\", ""), overlay)
    _, participants, _ = run(
        "timeline", "region-loss", "--calibration", overlay, "--format", "md", "--edition", "participant"
    )
    assert "Calibrated elements" not in participants  # the hand-out holds the situation, not the model


def test_the_facilitator_console_lists_the_calibration_on_the_facilitator_panel(overlay, tmp_path):
    page = tmp_path / "console.html"
    code, _, _ = run("timeline", "region-loss", "--calibration", overlay, "--format", "console", "-o", page)
    assert code == 0
    text = page.read_text()
    facilitator = text[text.index('<section id="facilitator"') :]
    assert "<h3>Calibrated elements</h3>" in facilitator
    assert "topology.staff.dba.shifts.2.acknowledge" in facilitator
    assert "fitted to 212 records (9 censored) from pagerduty.csv" in facilitator


def test_a_cutover_journal_records_the_calibration_it_ran_with(overlay, tmp_path):
    journal = tmp_path / "journal.json"
    code, _, _ = run("cutover", "ehr-core-to-cloud", "-n", "200", "--calibration", overlay, "--journal", journal)
    assert code == 0
    inputs = json.loads(journal.read_text())["inputs"]
    assert [i["role"] for i in inputs] == ["topology", "cutover", "overlay"]
    assert inputs[-1]["given"] == str(overlay)


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_a_cutover_applies_the_topology_values_and_says_the_drill_values_do_not_apply(overlay, fmt):
    code, out, err = run("cutover", "ehr-core-to-cloud", "-n", "300", "--calibration", overlay, "--format", fmt)
    assert code == 0
    assert "set.drill.detection.delay: this command runs no drill, so this value is not applied" in err
    text = out.replace("\\", "")
    if fmt == "json":
        text = "Calibrated elements " + json.dumps(json.loads(out)["calibrated"])
    assert "Calibrated elements" in text
    assert "topology.staff.dba.shifts.2.acknowledge" in text
    assert "drill.detection.delay" not in text


def test_a_backtest_scores_against_the_calibrated_model_and_says_so(overlay, tmp_path):
    observed = tmp_path / "observed.csv"
    observed.write_text("drill,metric,observed\n2025-03 game day,tier:tier0:rto,3h05m\n")
    args = ["backtest", observed, "--drill", "region-loss", "-n", "500", "--calibration", overlay]
    code, out, _ = run(*args)
    assert code == 0
    assert_lists_calibration(out, overlay)
    _, out, _ = run(*args, "--format", "json")
    assert_json_lists_calibration(json.loads(out), overlay)


def test_a_path_the_estate_lacks_is_refused_against_the_overlay(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('set:\n  topology.staff.dbas.shifts.0.acknowledge: "10m"\n')
    for command in (["drill", "region-loss"], ["timeline", "region-loss", "--format", "md"]):
        code, out, err = run(*command, "--calibration", bad)
        assert code == 2
        assert f"{bad}: at set.topology.staff.dbas.shifts.0.acknowledge: no 'dbas' in topology.staff" in err
        assert out == ""
