"""Evidence as a CSV table: read exactly, judged like YAML evidence, bad tables refused at row and column.

Every ``tests/bad_evidence/NAME.csv`` has ``NAME.expected``: the whole of stderr when ``drsim cutover``
is given it as ``--evidence`` for the corpus plan (run inside that folder, so paths are relative). Each
must exit 2 with exactly that message, no traceback and nothing on stdout. To add a case: write
``NAME.csv``, run ``python tests/test_evidence_csv.py --write`` (it writes only missing ``.expected``
files), and read the result before committing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.model.loader import load_cutover, load_evidence, load_topology

HERE = Path(__file__).parent / "bad_evidence"
CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in HERE.glob("*.csv"))


def args(name: str) -> list[str]:
    plan, topo = str(CORPUS / "_cutover.yaml"), str(CORPUS / "_topology.yaml")
    return ["cutover", plan, "-t", topo, "-n", "10", "--evidence", name]


def test_the_corpus_has_its_cases():
    assert len(CASES) >= 10
    assert all((HERE / c.replace(".csv", ".expected")).exists() for c in CASES)


@pytest.mark.parametrize("name", CASES)
def test_a_bad_evidence_table_is_refused_with_the_exact_message(name, monkeypatch):
    monkeypatch.chdir(HERE)
    r = CliRunner().invoke(main, args(name), catch_exceptions=False)
    assert "Traceback" not in r.output
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert r.stderr == (HERE / name.replace(".csv", ".expected")).read_text(encoding="utf-8")


#: Cases whose mistake is in the table itself, not in what the plan's gates measure.
ON_THEIR_OWN = [c for c in CASES if c != "unknown-measure.csv"]


@pytest.mark.parametrize("name", ON_THEIR_OWN)
def test_validate_refuses_a_bad_table_on_its_own_with_the_same_message(name, monkeypatch):
    monkeypatch.chdir(HERE)
    r = CliRunner().invoke(main, ["validate", name], catch_exceptions=False)
    assert r.exit_code == 2, r.output
    assert r.stderr == (HERE / name.replace(".csv", ".expected")).read_text(encoding="utf-8")


def test_validate_accepts_a_good_table_and_leaves_its_measures_to_the_plan(tmp_path):
    (tmp_path / "ev.csv").write_text("measure,value\nanything measured,3\n")
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "ev.csv")])
    assert r.exit_code == 0, r.output
    assert "valid evidence table (1 measure(s)" in r.stdout


GOOD = """Measure , VALUE,unit,When,source
backup restored (1 = yes),1,yes/no,2026-02-28T23:10,restore log
"""


def test_a_table_gives_each_measure_its_value_and_note(tmp_path):
    topo = load_topology(CORPUS / "_topology.yaml")
    plan = load_cutover(CORPUS / "_cutover.yaml", topo)
    (tmp_path / "ev.csv").write_text(GOOD)
    ev = load_evidence(tmp_path / "ev.csv", plan)
    assert ev.measured == {"backup restored (1 = yes)": 1.0}
    note = ev.notes["backup restored (1 = yes)"]
    assert (note.unit, note.when, note.source) == ("yes/no", "2026-02-28T23:10", "restore log")


def test_the_table_and_the_yaml_give_the_same_verdicts_and_the_json_carries_the_note(tmp_path):
    (tmp_path / "ev.csv").write_text(GOOD)
    (tmp_path / "ev.yaml").write_text("measured:\n  backup restored (1 = yes): 1\n")
    out = {}
    for f in ("ev.csv", "ev.yaml"):
        a = args(str(tmp_path / f))
        r = CliRunner().invoke(main, [*a, "--format", "json"])
        assert r.exit_code in (0, 1), r.output
        out[f] = json.loads(r.stdout)
    g_csv, g_yaml = out["ev.csv"]["gates"][0], out["ev.yaml"]["gates"][0]
    assert (g_csv["value"], g_csv["verdict"]) == (g_yaml["value"], g_yaml["verdict"]) == (1.0, "GO")
    assert g_csv["note"] == {"unit": "yes/no", "when": "2026-02-28T23:10", "source": "restore log"}
    assert g_yaml["note"] is None


if __name__ == "__main__" and "--write" in sys.argv:
    import os

    os.chdir(HERE)
    for name in CASES:
        exp = HERE / name.replace(".csv", ".expected")
        if not exp.exists():
            r = CliRunner().invoke(main, args(name))
            exp.write_text(r.stderr, encoding="utf-8")
            print(f"wrote {exp.name}: {r.stderr.strip()}")
