"""Output for machines and people: what a CI job and a person reading its log get from a run.

* Off a terminal (a pipe, a file, a CI log) tables are never cut to fit 80 columns.
* A missed target says by how much (``+45m00s``), and a closing line says what to run next.
* ``--junit FILE`` is a test report CI servers read; ``--journal FILE`` a JSON record of the run.
* Gates have a severity: a missed ``warn`` gate is reported and does not fail the run.
* Gates read the decision milestones, timed from the fault.
* An output file in the way exits 4, told apart from bad input (2).
"""

import hashlib
import json
import math
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import auto_service, base_drill, base_topology, plan_of
from click.testing import CliRunner

from drsim.cli import main
from drsim.engine import des, vectorized
from drsim.engine.draws import Draws
from drsim.engine.outcomes import evaluate
from drsim.model.gates import GateError, parse_gate
from drsim.model.loader import topology_from_text
from drsim.stats import Summary
from drsim.sweep.gates import evaluate_gate

ROOT = Path(__file__).resolve().parent.parent


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


def write(folder, name, doc) -> str:
    p = folder / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


@pytest.fixture
def slow(tmp_path):
    """A one-service estate whose failover takes an hour against a 15-minute tier-0 target: (drill, topology)."""
    topo = base_topology({"db": auto_service([{"name": "failover", "duration": "1h"}])})
    return write(tmp_path, "d.yaml", base_drill()), write(tmp_path, "slow.yaml", topo)


@pytest.fixture
def gated(tmp_path):
    """The same estate with a drill gated three ways: a fail gate met, a warn gate missed, a milestone gate met."""
    topo = base_topology({"db": auto_service([{"name": "failover", "duration": "1h"}])})
    drill = base_drill(
        gates=[
            "tier0 rto p50 <= 2h",
            {"gate": "P(tier0 rto <= 15m) >= 0.9", "severity": "warn"},
            "declared time p90 <= 10m",
        ]
    )
    return write(tmp_path, "gated.yaml", drill), write(tmp_path, "topo.yaml", topo)


# ------------------------------------------------------------------ tables for people


def test_off_a_terminal_no_table_is_cut_and_the_on_shift_line_is_one_line():
    r = run("drill", "region-loss")  # CliRunner's output is not a terminal, as a pipe or a CI log
    assert r.exit_code == 1, r.output
    assert "…" not in r.stdout, "a cell was cut"
    assert re.search(r"│ hl7-adt\s+│ interface-engine\s+│", r.stdout)
    assert "pharmacy-orders" in r.stdout
    (shift_line,) = [line for line in r.stdout.splitlines() if "on shift:" in line]
    assert shift_line.endswith("service-desk=night, ward-clerks=night")  # the last role, on the same line
    header = next(line for line in r.stdout.splitlines() if "service" in line and "tier" in line)
    assert re.search(r"RTO.*target.*over.*RPO.*target.*over", header)


def test_a_missed_target_says_by_how_much_and_a_met_one_shows_a_dash(slow):
    drill, topo = slow
    r = run("drill", drill, "-t", topo)
    assert r.exit_code == 1
    (row,) = [line for line in r.stdout.splitlines() if line.startswith("│ db ")]
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells == ["db", "tier0", "1h00m", "15m00s", "FAIL", "+45m00s", "0s", "1m00s", "PASS", "—"]


def test_a_missed_target_ends_with_commands_to_run_next_that_run_as_printed(slow, tmp_path, monkeypatch):
    drill, topo = slow
    r = run("drill", drill, "-t", topo)
    last = r.stdout.splitlines()[-1]
    assert last.startswith("next: ")
    advise, timeline = (re.sub(r" \(.*\)$", "", part) for part in last.removeprefix("next: ").split("; "))
    assert advise == f"drsim advise {drill} -t {topo} --metric p90_rto:tier0"
    assert timeline == f"drsim timeline {drill} -t {topo} --percentile 90 -o d-p90.md"
    monkeypatch.chdir(tmp_path)
    for command, few in ((advise, ["-n", "20"]), (timeline, ["--n", "20"])):
        words = shlex.split(command)
        assert words[0] == "drsim"
        done = run(*words[1:], *few)
        assert done.exit_code == 0, (command, done.output)
    assert (tmp_path / "d-p90.md").exists()


def test_every_target_met_needs_no_next_step(tmp_path):
    topo = write(tmp_path, "fast.yaml", base_topology({"db": auto_service([{"name": "failover", "duration": "5m"}])}))
    r = run("drill", write(tmp_path, "d.yaml", base_drill()), "-t", topo)
    assert r.exit_code == 0
    assert "next:" not in r.stdout


def test_a_sweep_shows_each_gate_s_miss_and_names_the_missed_gate_s_metric(gated):
    drill, topo = gated
    r = run("sweep", drill, "-t", topo, "-n", 2000)
    assert r.exit_code == 0, r.output  # only the warn gate missed
    (warn_row,) = [line for line in r.stdout.splitlines() if "P(tier0 rto <= 15m)" in line]
    assert re.search(r"WARN\s*│.*\(warn\).*│\s*-90 pts\s*│", warn_row)
    assert re.search(r"PASS\s*│\s*tier0 rto p50 <= 2h\s*│.*│\s*—\s*│", r.stdout)
    assert "--metric p_meet_rto:tier0@15m00s " in r.stdout.splitlines()[-1]


# ------------------------------------------------------------------ gate severities and milestones


def test_a_missed_warn_gate_warns_on_stderr_and_leaves_the_exit_status(gated):
    drill, topo = gated
    r = run("sweep", drill, "-t", topo, "-n", 2000, "--format", "json")
    assert r.exit_code == 0
    assert "warning: gate 'P(tier0 rto <= 15m) >= 0.9' missed: measured 0%" in r.stderr
    assert "severity warn, so the exit status is unchanged" in r.stderr
    gates = json.loads(r.stdout)["points"][0]["gates"]
    assert [(g["severity"], g["verdict"]) for g in gates] == [("fail", "PASS"), ("warn", "WARN"), ("fail", "PASS")]


def test_the_same_gate_as_fail_fails_the_run(gated, tmp_path):
    _, topo = gated
    drill = write(tmp_path, "strict.yaml", base_drill(gates=[{"gate": "P(tier0 rto <= 15m) >= 0.9"}]))
    r = run("drill", drill, "-t", topo, "-n", 500)
    assert r.exit_code == 1
    assert re.search(r"FAIL\s*│\s*P\(tier0 rto <= 15m\) >= 0.9\s*│", r.stdout)


def test_a_severity_other_than_fail_or_warn_is_bad_input(gated, tmp_path):
    _, topo = gated
    drill = write(tmp_path, "bad.yaml", base_drill(gates=[{"gate": "tier0 rto p50 <= 2h", "severity": "error"}]))
    r = run("validate", "-t", topo, drill)
    assert r.exit_code == 2
    assert "at gates[0].severity: expected one of fail, warn, found 'error'" in r.stderr


def _topology():
    return topology_from_text(
        yaml.safe_dump(base_topology({"db": auto_service([{"name": "f", "duration": "5m"}])})), "t.yaml"
    )


@pytest.mark.parametrize("milestone", ["detected", "acknowledged", "declared"])
def test_a_gate_reads_a_decision_milestone_timed_from_the_fault(milestone):
    g = parse_gate(f"{milestone} time p90 <= 1h", _topology())
    assert (g.subject_kind, g.metric_key, g.bound) == ("milestone", f"milestone:{milestone}:time", 3600.0)
    with pytest.raises(GateError, match=f"the {milestone} milestone is gated on its time"):
        parse_gate(f"{milestone} rto p90 <= 1h", _topology())


def test_declared_time_is_the_detection_delay_plus_the_fixed_steps_in_closed_form():
    """Detection exponential (mean 10 min); acknowledging, triage and the decision take a minute each,
    nobody waits: the declaration comes Exp(10 min) + 3 min after the fault."""
    svc = {"db": auto_service([{"name": "promote", "duration": "5m", "role": "dba"}])}
    plan = plan_of(base_topology(svc), base_drill(detection={"delay": "exponential(mean=10m)"}))
    n, mean = 100_000, 600.0
    draws = Draws.sample(plan.elements(), 3, n)
    by_vec = evaluate(plan, draws, vectorized.run_many(plan, draws))
    head = Draws(draws.seed, draws.start, 300, {k: v[:300] for k, v in draws.values.items()})
    by_des = evaluate(plan, head, des.run_many(plan, head))
    for name in ("detected", "acknowledged", "declared"):  # the two engines agree replicate by replicate
        np.testing.assert_array_equal(by_des[f"milestone:{name}:time"], by_vec[f"milestone:{name}:time"][:300])
    declared = by_vec["milestone:declared:time"]
    assert abs(declared.mean() - (mean + 180)) < 4 * mean / math.sqrt(n)
    np.testing.assert_allclose(declared - by_vec["milestone:detected:time"], 180.0)
    # the gate's percentile: 600 ln 10 + 180 s; its standard error sqrt(q(1-q)/n) / f(q), f(q) = (1-q)/mean
    gate = parse_gate("declared time p90 <= 45m", plan.topology)
    res = evaluate_gate(gate, Summary.of(declared, np.array([gate.bound]), exact=True))
    se = math.sqrt(0.9 * 0.1 / n) / (0.1 / mean)
    assert abs(res.value - (mean * math.log(10) + 180)) < 4 * se
    assert res.passed  # 1562 s <= 2700 s


# ------------------------------------------------------------------ JUnit XML


def _junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    for el in [root, *root.findall("testsuite")]:
        for attr in ("tests", "failures", "errors", "time"):
            assert attr in el.attrib, (el.tag, attr)
    for tc in root.iter("testcase"):
        assert tc.get("name")
        assert tc.get("classname")
        assert set(child.tag for child in tc) <= {"failure", "system-out"}
    return root


def test_junit_of_a_replay_has_one_case_per_target_failures_carrying_measured_and_threshold(slow, tmp_path):
    drill, topo = slow
    out = tmp_path / "report.xml"
    r = run("drill", drill, "-t", topo, "--junit", out)
    assert r.exit_code == 1
    root = _junit(out)
    (suite,) = root.findall("testsuite")
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {tc.get("name"): tc for tc in suite.findall("testcase")}
    assert set(cases) == {"db RTO", "db RPO"}
    assert {tc.get("classname") for tc in cases.values()} == {"test-drill.targets"}
    failure = cases["db RTO"].find("failure")
    assert failure is not None
    assert failure.get("message") == "measured 1h00m, threshold <= 15m00s (tier0), over by 45m00s"
    assert cases["db RPO"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "0"


def test_junit_of_a_sweep_has_one_case_per_gate_and_a_missed_warn_gate_is_not_a_failure(gated, tmp_path):
    drill, topo = gated
    out = tmp_path / "report.xml"
    r = run("sweep", drill, "-t", topo, "-n", 1000, "--junit", out)
    assert r.exit_code == 0
    root = _junit(out)
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "0")
    names = [tc.get("name") for tc in suite.findall("testcase")]
    assert names == ["tier0 rto p50 <= 2h", "P(tier0 rto <= 15m) >= 0.9", "declared time p90 <= 10m"]
    warned = suite.findall("testcase")[1]
    assert warned.find("failure") is None
    assert "WARN" in (warned.findtext("system-out") or "")
    assert "severity warn" in (warned.findtext("system-out") or "")


def test_junit_of_a_grid_has_a_suite_per_point_and_counts_the_fail_gates_missed(gated, tmp_path):
    _, topo = gated
    drill = write(tmp_path, "one.yaml", base_drill(gates=["tier0 rto p50 <= 30m"]))
    out = tmp_path / "grid.xml"
    grid = "topology.services.db.recovery.steps.0.duration=10m,1h"
    r = run("sweep", drill, "-t", topo, "-n", 200, "--grid", grid, "--junit", out)
    assert r.exit_code == 1
    root = _junit(out)
    suites = root.findall("testsuite")
    assert [s.get("failures") for s in suites] == ["0", "1"]
    assert root.get("failures") == "1"
    assert root.get("tests") == "2"
    assert "topology.services.db.recovery.steps.0.duration=1h" in suites[1].get("name")
    failure = suites[1].find("testcase/failure")
    assert failure is not None
    assert "threshold <= 30m00s, over by 30m00s" in failure.get("message")


# ------------------------------------------------------------------ the journal


def test_the_journal_records_version_time_input_hashes_settings_verdicts_and_figures(gated, tmp_path):
    drill, topo = gated
    out = tmp_path / "run.json"
    r = run("sweep", drill, "-t", topo, "-n", 1000, "--seed", 7, "--journal", out)
    assert r.exit_code == 0
    j = json.loads(out.read_text())
    assert j["format"] == 1
    assert re.fullmatch(r"\d+\.\d+.*", j["drsim_version"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", j["created_utc"])
    assert [(i["role"], i["sha256"]) for i in j["inputs"]] == [
        ("topology", hashlib.sha256(Path(topo).read_bytes()).hexdigest()),
        ("drill", hashlib.sha256(Path(drill).read_bytes()).hexdigest()),
    ]
    assert (j["command"], j["seed"], j["n"], j["engine"]) == ("sweep", 7, 1000, "vectorized")
    assert (j["passed"], j["exit_status"]) == (True, 0)
    assert [(v["name"], v["severity"], v["verdict"]) for v in j["verdicts"]] == [
        ("tier0 rto p50 <= 2h", "fail", "PASS"),
        ("P(tier0 rto <= 15m) >= 0.9", "warn", "WARN"),
        ("declared time p90 <= 10m", "fail", "PASS"),
    ]
    warned = j["verdicts"][1]
    assert (warned["measured"], warned["threshold"], warned["unit"]) == (0.0, 0.9, "probability")
    figures = {(f["metric"], f["statistic"]): f["value"] for f in j["figures"]}
    assert figures[("tier:tier0:rto", "p90")] == 3600.0
    assert figures[("tier:tier0:rto", "p_meet")] == 0.0
    assert ("milestone:declared:time", "p50") in figures


def test_the_journal_of_a_bundled_replay_hashes_the_bundled_files(tmp_path):
    out = tmp_path / "run.json"
    r = run("drill", "az-loss", "--journal", out)
    assert r.exit_code in (0, 1)
    j = json.loads(out.read_text())
    assert (j["command"], j["n"], j["drill"], j["topology"]) == ("drill", 1, "az-loss", "ehr-hybrid")
    for i in j["inputs"]:
        assert i["sha256"] == hashlib.sha256(Path(i["path"]).read_bytes()).hexdigest()
    assert {v["kind"] for v in j["verdicts"]} == {"target"}
    assert j["passed"] is all(v["passed"] for v in j["verdicts"])


# ------------------------------------------------------------------ output files and exit statuses


@pytest.mark.parametrize("option", ["--junit", "--journal"])
def test_an_existing_file_is_refused_with_exit_4_before_any_work(slow, tmp_path, option):
    drill, topo = slow
    out = tmp_path / "mine.out"
    out.write_text("the user's own file\n")
    r = run("sweep", drill, "-t", topo, "-n", 100, option, out)
    assert r.exit_code == 4, r.output
    assert r.stdout == ""  # refused before the sweep ran
    assert r.stderr == f"error: {out} already exists; pass --force to overwrite it\n"
    assert out.read_text() == "the user's own file\n"
    forced = run("sweep", drill, "-t", topo, "-n", 100, option, out, "--force")
    assert forced.exit_code == 0, forced.output  # the drill has no gates
    assert out.read_text() != "the user's own file\n"


def test_a_file_that_cannot_be_written_exits_3_before_any_work(slow, tmp_path):
    drill, topo = slow
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = run("drill", drill, "-t", topo, "--journal", blocker / "run.json")
    assert r.exit_code == 3, r.output
    assert r.stdout == ""


def test_one_file_named_for_two_outputs_is_bad_input(slow, tmp_path):
    drill, topo = slow
    same = tmp_path / "same.xml"
    r = run("drill", drill, "-t", topo, "--junit", same, "--journal", same)
    assert r.exit_code == 2
    assert "the same file is named for two outputs" in r.stderr
    assert not same.exists()


def test_an_existing_plot_exits_4_and_bad_input_still_exits_2(slow, tmp_path):
    drill, topo = slow
    plot = tmp_path / "g.png"
    plot.write_bytes(b"mine")
    assert run("drill", drill, "-t", topo, "--plot", plot).exit_code == 4
    assert run("drill", drill, "-t", topo, "--plot", tmp_path / "g.gif").exit_code == 2


# ------------------------------------------------------------------ the README's CI example


@pytest.mark.parametrize("page", ["README.md", "docs/ci.md"])
def test_the_documented_ci_example_is_green_on_a_bundled_drill(page, tmp_path, monkeypatch):
    text = (ROOT / page).read_text()
    (block,) = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "--junit" in b]
    command = block.replace("\\\n", " ").split(">>")[0]
    words = shlex.split(command)
    assert words[:2] == ["drsim", "sweep"]
    args = [str(ROOT / w) if w.startswith(("drills/", "topologies/")) else w for w in words[1:]]
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "warning: gate" in r.stderr  # the warn gate still shows
    root = ET.parse(tmp_path / "drsim-junit.xml").getroot()
    assert root.get("failures") == "0"
    assert json.loads((tmp_path / "drsim-journal.json").read_text())["passed"] is True


def test_many_missed_targets_are_counted_by_kind_not_listed():
    """The tables above the verdict already name each miss and its overrun; the closing verdict counts them."""
    r = run("drill", "region-loss")
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("targets missed:")]
    counted = re.fullmatch(r"targets missed: (\d+): RTO of (\d+) services, downtime of (\d+) workflows \(.*\)", line)
    assert counted, line
    result = json.loads(run("drill", "region-loss", "--format", "json").stdout)
    rto_missed = sum(1 for s in result["services"] if s["affected"] and not s["rto_met"])
    downtime_missed = sum(1 for w in result["workflows"] if not w["met"])
    assert not any(s["affected"] and not s["rpo_met"] for s in result["services"])  # so no RPO part
    assert tuple(map(int, counted.groups())) == (rto_missed + downtime_missed, rto_missed, downtime_missed)
