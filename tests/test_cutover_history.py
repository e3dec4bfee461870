"""Cutover runs in the history: recorded with their journal, read back, and never counted as exercises.

* ``drsim cutover`` records its journal (command ``cutover``, the plan's name in ``drill``, the plan and
  evidence files by SHA-256, each judged gate's verdict and the headline figures); ``--no-history``
  records nothing; ``--journal FILE`` writes the same record.
* The exercise calendar and the evidence pack read only drills and sweeps from the history: a cutover
  judged on the estate exercises nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.history import Store, tested

ARGS = ["cutover", "ehr-core-to-cloud", "--evidence", "ehr-core-to-cloud-rehearsal", "-n", "500", "--seed", "3"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "history.sqlite"


def test_a_cutover_is_recorded_with_the_journal_it_writes(tmp_path, db):
    r = run(*ARGS, "--history", db, "--journal", tmp_path / "j.json", "--format", "json")
    assert r.exit_code == 1, r.output  # NO-GO: recorded all the same
    data = json.loads(r.stdout)
    (recorded,) = Store(db).runs()
    journal = json.loads((tmp_path / "j.json").read_text())
    assert recorded.journal == journal
    assert (journal["command"], journal["drill"], journal["topology"]) == ("cutover", "ehr-core-to-cloud", "ehr-hybrid")
    assert (journal["seed"], journal["n"], journal["engine"], journal["passed"]) == (3, 500, "vectorized", False)
    assert [i["role"] for i in journal["inputs"]] == ["topology", "cutover", "evidence"]
    assert all(len(i["sha256"]) == 64 for i in journal["inputs"])
    verdicts = {v["name"]: v for v in journal["verdicts"]}
    assert verdicts.keys() == {g["name"] for g in data["gates"]}
    assert verdicts["completes-inside-freeze"]["verdict"] == "NO-GO"
    assert verdicts["completes-inside-freeze"]["threshold"] == 0.95
    assert verdicts["backup-validated"]["passed"] is True
    figures = {(f["metric"], f["statistic"]): f["value"] for f in journal["figures"]}
    assert figures[("cutover:complete", "p_inside_freeze")] == round(data["p_completes_inside_freeze"], 6)
    assert figures[("cutover:safe_rollback", "q0.95")] == data["safe_rollback"]["latest_decision"]
    assert figures[("cutover:point_of_no_return", "p50")] == round(data["point_of_no_return"]["p50"], 6)


def test_no_history_records_nothing(db):
    assert run(*ARGS, "--history", db, "--no-history").exit_code == 1
    assert not db.exists()


def test_history_list_and_show_read_a_cutover_back(db):
    run(*ARGS, "--history", db)
    listed = run("history", "list", "--history", db)
    assert listed.exit_code == 0, listed.output
    assert "cutover  ehr-core-to-cloud  ehr-hybrid" in listed.stdout
    shown = run("history", "show", "1", "--history", db, "--format", "table")
    assert shown.exit_code == 0, shown.output
    assert "NO-GO    completes-inside-freeze" in shown.stdout
    assert "0.95" in shown.stdout  # a gate's threshold as a number, not a duration


def test_only_drills_and_sweeps_count_as_exercises(tmp_path, db):
    assert tested.EXERCISES == ("drill", "sweep")
    run(*ARGS, "--history", db)
    run("drill", "region-loss", "--history", db)
    everything = Store(db).runs()
    assert [r["command"] for r in everything] == ["cutover", "drill"]
    exercised = tested.recorded_runs(db)
    assert [r["command"] for r in exercised] == ["drill"]
    assert list(tested.tested_days(everything)) == ["region-loss"]  # the cutover's plan is not a drill tested
