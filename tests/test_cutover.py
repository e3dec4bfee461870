"""Cutover plans: closed forms for the point of no return, completion, rollback and reconciliation.

Each computed quantity is checked at n = 10^5 against its closed form within 4 standard errors;
deterministic ones exactly. Plans are written as YAML and loaded like a user's file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from drsim.analysis.cutover import simulate_cutover
from drsim.cli import main
from drsim.model.loader import cutover_from_text, load_cutover, load_topology

N = 100_000
CORPUS = Path(__file__).parent / "bad_inputs"
TOPO = load_topology(CORPUS / "_topology.yaml")

#: Steps in series: a 10m, b exp(mean 30m), c 5m irreversible, d exp(mean 20m). Decision 5m; a and b
#: undone in 10m and exp(mean 15m). Entities: 120/h replayed at 600/h; 60/h discarded, half of them
#: re-entered at 2m each by dba.
SERIES = """
name: series
freeze: {start: "2026-03-14T22:00", length: 1h}
rollback: {decision: 5m}
waves:
  - name: w
    services: [db]
    steps:
      - {name: a, duration: 10m, undo: 10m, role: dba}
      - {name: b, duration: exponential(mean=30m), undo: exponential(mean=15m)}
      - {name: c, duration: 5m, irreversible: true}
      - {name: d, duration: exponential(mean=20m)}
entities:
  held: {volume: 120/h, rule: replay, replay_rate: 600/h}
  paper: {volume: 60/h, rule: discard, reentry: {effort: 2m, role: dba, share: 0.5}}
"""

M = 60.0


def within(x: np.ndarray, mean: float, sd: float) -> None:
    se = sd / math.sqrt(len(x))
    assert abs(float(np.mean(x)) - mean) < 4 * se, (float(np.mean(x)), mean, se)


def within_p(k: float, n: int, p: float) -> None:
    se = math.sqrt(p * (1 - p) / n)
    assert abs(k - p) < 4 * se, (k, p, se)


@pytest.fixture(scope="module")
def series():
    return simulate_cutover(cutover_from_text(SERIES, TOPO, "series.yaml"), TOPO, N, seed=7)


def test_point_of_no_return_is_the_sum_of_the_steps_before_the_first_irreversible_one(series):
    within(series.point_of_no_return, 10 * M + 30 * M, 30 * M)


def test_completion_is_the_sum_of_every_step(series):
    within(series.completion, 65 * M, math.hypot(30 * M, 20 * M))
    # inside the 60m freeze: Exp(30m) + Exp(20m) <= 45m (hypoexponential CDF)
    survive = (30 * math.exp(-45 / 30) - 20 * math.exp(-45 / 20)) / (30 - 20)
    within_p(series.completes_inside_window(), N, 1 - survive)


def test_rollback_decided_before_the_point_of_no_return_undoes_the_steps_begun(series):
    t = 20 * M  # a and b have begun; b is still running where the point of no return is later
    alive = math.exp(-(10 * M) / (30 * M))  # P(10m + Exp(30m) > 20m)
    within_p(series.reversible_at(t), N, alive)
    rb = series.rollback_time(t)
    ok = ~np.isnan(rb)
    within(rb[ok], 5 * M + 10 * M + 15 * M, 15 * M)
    # done inside the 60m freeze: 20m + 15m + Exp(15m) <= 60m
    within_p(series.rollback_inside_window(t), N, alive * (1 - math.exp(-25 / 15)))


def test_no_rollback_at_or_past_the_point_of_no_return(series):
    t = 5 * M  # only a has begun, and the point of no return is at least 15m
    assert series.reversible_at(t) == 1.0
    assert np.all(series.rollback_time(t) == 5 * M + 10 * M)
    past = series.rollback_time(10 * M + 30 * M * 40)  # beyond any draw of Exp(30m) here
    assert np.all(np.isnan(past))
    assert series.rollback_inside_window(10 * M + 30 * M * 40) == 0.0


def test_reconciliation_replay_duration_is_volume_over_rate(series):
    held = series.reconciliation[0]
    sd_c = math.hypot(30 * M, 20 * M)
    within(held.records, 120 * 65 / 60, 120 / 3600 * sd_c)
    assert np.allclose(held.replay, held.records / (600 / 3600))
    within(held.replay, (120 * 65 / 60) / 600 * 3600, 120 / 600 * sd_c)
    assert held.reentry_role is None
    assert np.all(held.reentry_hours == 0)


def test_reentry_hours_are_records_times_share_times_effort(series):
    paper = series.reconciliation[1]
    assert paper.reentry_role == "dba"
    want = 60 * (65 / 60) * 0.5 * (2 / 60)
    within(paper.reentry_hours, want, 60 / 3600 * 0.5 * (2 / 60) * math.hypot(30 * M, 20 * M))
    assert np.all(paper.replay == 0)


@pytest.mark.parametrize(("step", "people"), [(30, 1), (90, 2)])
def test_reentry_takes_records_times_effort_over_the_head_count_on_duty_at_completion(step, people):
    # oncall: 1 at night, 2 from 07:00; the freeze starts at 06:00, so a 30m cutover ends on the night
    # shift and a 90m one on the day shift; 60/h records re-entered at 2m each
    plan = cutover_from_text(
        f"""
name: clerks
freeze: {{start: "2026-03-16T06:00", length: 4h}}
waves: [{{name: w, services: [db], steps: [{{name: a, duration: {step}m}}]}}]
entities:
  paper: {{volume: 60/h, rule: discard, reentry: {{effort: 2m, role: oncall}}}}
""",
        TOPO,
        "clerks.yaml",
    )
    (paper,) = simulate_cutover(plan, TOPO, 5).reconciliation
    person_hours = step * 2 / 60
    assert np.allclose(paper.reentry_hours, person_hours)
    assert np.allclose(paper.reentry_elapsed, person_hours / people)


def test_an_entity_follows_its_hour_of_day_profile_exactly():
    plan = cutover_from_text(
        """
name: profiled
freeze: {start: "2026-03-16T00:00", length: 4h}
waves:
  - {name: w, services: [db], steps: [{name: a, duration: 90m}]}
entities:
  e: {volume: 100/h, rule: preserve, profile: {hours: [2, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}}
""",
        TOPO,
        "profiled.yaml",
    )
    run = simulate_cutover(plan, TOPO, 3)
    assert np.allclose(run.reconciliation[0].records, 200 + 25)  # 1h at 2x, then 30m at 0.5x


def test_parallel_waves_close_the_window_at_the_first_irreversible_start():
    plan = cutover_from_text(
        """
name: parallel
freeze: {start: "2026-03-14T22:00", length: 6h}
waves:
  - {name: a, services: [db], steps: [{name: s, duration: 40m}, {name: x, duration: 1m, irreversible: true}]}
  - {name: b, after: [], services: [app], steps: [{name: s, duration: 25m}, {name: x, duration: 1m, irreversible: true}]}
  - {name: c, after: [a, b], services: [sso], steps: [{name: s, duration: 10m}]}
""",
        TOPO,
        "parallel.yaml",
    )
    run = simulate_cutover(plan, TOPO, 4)
    assert np.all(run.point_of_no_return == 25 * M)
    assert np.all(run.completion == 51 * M)


def test_a_plan_without_an_irreversible_step_can_always_be_rolled_back():
    plan = cutover_from_text(
        'name: soft\nfreeze: {start: "2026-03-14T22:00", length: 1h}\n'
        "waves: [{name: w, services: [db], steps: [{name: s, duration: 2h, undo: 30m}]}]\n",
        TOPO,
        "soft.yaml",
    )
    run = simulate_cutover(plan, TOPO, 5)
    assert np.all(np.isinf(run.point_of_no_return))
    assert run.reversible_at(100 * 3600) == 1.0
    assert np.all(run.rollback_time(10 * M) == 30 * M)
    assert run.completes_inside_window() == 0.0


def test_the_same_seed_gives_the_same_draws_and_another_step_leaves_them_alone():
    base = cutover_from_text(SERIES, TOPO, "series.yaml")
    more = cutover_from_text(
        SERIES.replace("      - {name: d,", "      - {name: e, duration: exponential(mean=1h)}\n      - {name: d,"),
        TOPO,
        "more.yaml",
    )
    r1, r2 = simulate_cutover(base, TOPO, 1000, 3), simulate_cutover(more, TOPO, 1000, 3)
    assert np.array_equal(r1.point_of_no_return, r2.point_of_no_return)
    assert not np.array_equal(r1.completion, simulate_cutover(base, TOPO, 1000, 4).completion)


def test_the_bundled_plan_loads_and_runs_on_the_reference_estate():
    topo = load_topology()
    plan = load_cutover("ehr-core-to-cloud", topo)
    assert {e for e in plan.entities} == {"adt", "orders", "results", "medications", "notes", "charges"}
    assert any(s.irreversible for w in plan.waves for s in w.steps)
    r = CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "-n", "2000", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    ponr, done = data["point_of_no_return"], data["completion"]
    assert 0 < ponr["p50"] < done["p50"] <= done["p90"]
    assert [x["decided_at"] for x in data["rollback"]] == [h * 3600.0 for h in range(len(data["rollback"]))]
    assert data["reentry_person_hours_by_role"]["ward-clerks"] > 0


def test_the_table_names_the_point_of_no_return_and_each_decision_time():
    r = CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "-n", "500", "--rollback-at", "90m"])
    assert r.exit_code == 0, r.output
    assert "point of no return" in r.stdout
    assert "\n  1h30m " in r.stdout


def test_a_bad_decision_time_is_refused():
    r = CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "--rollback-at", "soon"])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: --rollback-at: ")
    assert "Traceback" not in r.output


# ---------------------------------------------------------------- point of no return at confidence q, gates


def test_the_point_of_no_return_at_q_is_the_latest_safe_decision_within_the_grid():
    # SERIES with q = 0.5: for 10m < t < 45m, P(done inside 60m | decided at t)
    # = P(b still running) x P(20m... undo of a 10m + decision 5m + Exp(15m) undo of b <= 60m - t)
    # = exp(-(t-10)/30) x (1 - exp(-(45-t)/15)), t in minutes; decreasing, so bisect for P = 0.5.
    plan = cutover_from_text(
        SERIES.replace("rollback: {decision: 5m}", "rollback: {decision: 5m, confidence: 0.5}"), TOPO, "series.yaml"
    )
    run = simulate_cutover(plan, TOPO, N, seed=11)

    def p(t: float) -> float:
        return math.exp(-(t - 10) / 30) * (1 - math.exp(-(45 - t) / 15))

    lo, hi = 10.0, 45.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if p(mid) >= 0.5 else (lo, mid)
    exact = lo * M
    slope = abs(p(lo + 0.5) - p(lo - 0.5)) / M  # per second
    tol = 60.0 + 4 * math.sqrt(0.25 / N) / slope  # the grid's resolution + 4 SE of the probability
    t, prob = run.latest_safe_rollback(0.5)
    assert t is not None
    assert abs(t - exact) < tol, (t, exact, tol)
    assert prob >= 0.5
    assert run.rollback_inside_window(t + 60.0) < 0.5
    # at the default q = 0.95 the curve jumps from 1 to 0.903 when b starts (10m): the answer is 10m
    t95, p95 = simulate_cutover(cutover_from_text(SERIES, TOPO, "series.yaml"), TOPO, 2000, 1).latest_safe_rollback(
        0.95
    )
    assert t95 == 10 * M
    assert p95 == 1.0


def test_no_safe_decision_when_even_an_immediate_rollback_overruns():
    plan = cutover_from_text(
        'name: slow\nfreeze: {start: "2026-03-14T22:00", length: 1h}\nrollback: {decision: 2h}\n'
        "waves: [{name: w, services: [db], steps: [{name: s, duration: 10m, undo: 1m}]}]\n",
        TOPO,
        "slow.yaml",
    )
    assert simulate_cutover(plan, TOPO, 10).latest_safe_rollback(0.95) == (None, 0.0)


GATED = SERIES.replace(
    "waves:",
    """gates:
  - {name: backup, measure: backup verified (1 = yes), at_least: 1}
  - {name: p1, measure: open P1 defects, at_most: 0, before: w}
  - {name: latency, measure: order latency p95 (s), at_most: 30}
  - {name: fits, measure: p_completes_inside_freeze, simulated: true, at_least: 0.5}
waves:""",
)


def _cli(tmp_path, evidence: str, *extra: str):
    (tmp_path / "topo.yaml").write_text((CORPUS / "_topology.yaml").read_text())
    (tmp_path / "plan.yaml").write_text(GATED)
    (tmp_path / "ev.yaml").write_text(evidence)
    args = ["cutover", str(tmp_path / "plan.yaml"), "-t", str(tmp_path / "topo.yaml"), "-n", "4000"]
    return CliRunner().invoke(main, [*args, "--evidence", str(tmp_path / "ev.yaml"), *extra])


def test_gates_are_judged_exactly_on_the_evidence_and_a_missing_measure_is_no_go(tmp_path):
    # P(completes inside 60m) = 1 - P(Exp(30m) + Exp(20m) > 45m) = 0.541 >= 0.5: the simulated gate holds
    fits = 1 - (30 * math.exp(-45 / 30) - 20 * math.exp(-45 / 20)) / (30 - 20)
    ev = "measured:\n  backup verified (1 = yes): 1\n  open P1 defects: 0\n  order latency p95 (s): 30\n"
    r = _cli(tmp_path, ev, "--format", "json")
    assert r.exit_code == 0, r.output
    gates = {g["name"]: g for g in json.loads(r.stdout)["gates"]}
    assert [g["verdict"] for g in gates.values()] == ["GO"] * 4
    assert gates["latency"]["value"] == 30
    assert gates["latency"]["source"] == "evidence"
    assert gates["fits"]["source"] == "simulation"
    assert abs(gates["fits"]["value"] - fits) < 4 * math.sqrt(0.25 / 4000)
    r = _cli(tmp_path, ev.replace(": 30", ": 30.01"), "--format", "json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    assert data["go"] is False
    assert [g["verdict"] for g in data["gates"]] == ["GO", "GO", "NO-GO", "GO"]
    r = _cli(tmp_path, "measured:\n  backup verified (1 = yes): 1\n  order latency p95 (s): 3\n")
    assert r.exit_code == 1, r.output
    assert "NO-GO p1: open P1 defects <= 0; no evidence" in r.stdout


def test_an_evidence_file_measuring_what_no_gate_measures_is_refused_at_its_line(tmp_path):
    r = _cli(tmp_path, "measured:\n  backup verified (1 = yes): 1\n  open P1 defect: 0\n")
    assert r.exit_code == 2, r.output
    assert "ev.yaml: line 3" in r.stderr
    assert "measured" in r.stderr
    assert "did you mean 'open P1 defects'?" in r.stderr
    assert "Traceback" not in r.output
    r = _cli(tmp_path, '{"measured": {"open P1 defects": "none"}}')
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_a_simulated_gate_must_name_a_simulated_quantity():
    from drsim.errors import InputError

    with pytest.raises(InputError, match=r"gates\[0\].*p_completes_inside_freeze"):
        cutover_from_text(
            GATED.replace("measure: backup verified (1 = yes)", "measure: backup, simulated: true"), TOPO, "g.yaml"
        )


def test_the_bundled_plan_is_no_go_on_the_bundled_rehearsal_and_prints_a_markdown_sheet():
    r = CliRunner().invoke(
        main,
        [
            "cutover",
            "ehr-core-to-cloud",
            "--evidence",
            "ehr-core-to-cloud-rehearsal",
            "-n",
            "2000",
            "--format",
            "markdown",
        ],
    )
    # every evidence gate holds, but with the night shift's pace and the steps' failures the plan does not
    # fit the freeze often enough: the simulated gate says NO-GO and the command exits 1
    assert r.exit_code == 1, r.output
    assert r.stdout.startswith("# Go/no-go: cutover ehr-core-to-cloud\n")
    assert "**Verdict: NO-GO**" in r.stdout
    assert "| **completes-inside-freeze** | **p\\_completes\\_inside\\_freeze \\>= 0.95** |" in r.stdout
    assert r.stdout.count(" | GO | ") == 6
    assert "| rollback-margin | safe\\_rollback\\_hours \\>= 2 |" in r.stdout  # names escaped
    assert "## Rollback by decision time" in r.stdout


def test_validate_schema_and_list_know_cutover_plans():
    from drsim.model.loader import bundled_dir

    plan = str(bundled_dir("cutovers") / "ehr-core-to-cloud.yaml")
    r = CliRunner().invoke(main, ["validate", plan])
    assert r.exit_code == 0, r.output
    assert "valid cutover plan (3 wave(s)" in r.stdout
    schema = json.loads(CliRunner().invoke(main, ["schema", "cutover"]).stdout)
    assert {"freeze", "waves", "gates", "entities"} <= set(schema["properties"])
    assert "ehr-core-to-cloud" in CliRunner().invoke(main, ["list"]).stdout
    r = CliRunner().invoke(main, ["cutover", str(bundled_dir("drills") / "region-loss.yaml")])
    assert r.exit_code == 2
    assert "expected a cutover plan" in r.stderr


def test_validate_reads_an_evidence_file_on_its_own_and_cutover_refuses_a_plan_as_evidence():
    from drsim.model.loader import bundled_dir

    ev = str(bundled_dir("cutovers/evidence") / "ehr-core-to-cloud-rehearsal.yaml")
    r = CliRunner().invoke(main, ["validate", ev])
    assert r.exit_code == 0, r.output
    assert "valid evidence file (5 measure(s)" in r.stdout
    plan = str(bundled_dir("cutovers") / "ehr-core-to-cloud.yaml")
    r = CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "-n", "10", "--evidence", plan])
    assert r.exit_code == 2, r.output
    assert "expected an evidence file (measured, ...), but this file is a cutover plan" in r.stderr


def test_the_bundled_plan_on_its_rehearsal_takes_under_3_cpu_seconds():
    import time

    CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "-n", "10"])  # imports and the kernel loaded once
    before = time.process_time()
    r = CliRunner().invoke(main, ["cutover", "ehr-core-to-cloud", "--evidence", "ehr-core-to-cloud-rehearsal"])
    assert r.exit_code == 1, r.output
    assert time.process_time() - before < 3.0
