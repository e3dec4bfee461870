"""The run history: every drill and sweep remembered, and read back side by side and over time.

* ``drsim drill``, ``drsim drill -n`` and ``drsim sweep`` each record their journal in the history;
  ``--no-history`` (or ``DRSIM_HISTORY=off``) records nothing; ``--history PATH`` names the database.
* A history that cannot be written never fails a run: one warning line, the same exit status.
* A corrupt file, a SQLite database that is not drsim's, or one from a newer drsim is refused in one line
  (exit 2 when read) and left byte for byte as it was.
* Two processes recording at once lose nothing.
* ``drsim history compare`` names the inputs that changed (by SHA-256) and the figures that moved, with
  their 95% intervals; ``drsim history trend`` follows each tier's P90 RTO and P(meet) over the runs.
"""

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from builders import auto_service, base_drill, base_topology
from click.testing import CliRunner

from drsim.cli import main
from drsim.history import Store
from drsim.history.store import APPLICATION_ID, SCHEMA_VERSION


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


def estate(folder: Path, failover: str = "1h") -> tuple[str, str]:
    """A one-service estate whose failover takes ``failover`` against a 15-minute tier-0 target: (drill, topology)."""
    topo = base_topology({"db": auto_service([{"name": "failover", "duration": failover}])})
    (folder / "t.yaml").write_text(yaml.safe_dump(topo, sort_keys=False))
    (folder / "d.yaml").write_text(yaml.safe_dump(base_drill(), sort_keys=False))
    return str(folder / "d.yaml"), str(folder / "t.yaml")


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "history.sqlite"


def runs_in(path: Path) -> list:
    return Store(path).runs()


# ------------------------------------------------------------------ recording


def test_a_replay_is_recorded_with_the_journal_it_writes(tmp_path, db):
    drill, topo = estate(tmp_path)
    r = run("drill", drill, "-t", topo, "--journal", tmp_path / "j.json", "--history", db)
    assert r.exit_code == 1  # the hour-long failover misses the 15-minute target
    [recorded] = runs_in(db)
    assert recorded.journal == json.loads((tmp_path / "j.json").read_text())
    assert (recorded["command"], recorded["n"], recorded["passed"]) == ("drill", 1, False)


def test_drill_n_and_sweep_are_recorded_in_order_and_listed(tmp_path, db):
    drill, topo = estate(tmp_path)
    run("drill", drill, "-t", topo, "-n", 200, "--seed", 5, "--history", db)
    run("sweep", drill, "-t", topo, "-n", 300, "--history", db)
    assert [(x.id, x["command"], x["seed"], x["n"]) for x in runs_in(db)] == [
        (1, "sweep", 5, 200),
        (2, "sweep", 0, 300),
    ]
    listed = run("history", "list", "--history", db)
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["id", "time", "(UTC)", "command", "drill", "topology", "seed", "n", "passed"]
    assert lines[1].split()[0] == "1"
    assert lines[1].split()[-3:] == ["5", "200", "yes"]
    assert lines[2].split()[-3:] == ["0", "300", "yes"]


def test_the_environment_variable_names_the_database_and_off_or_no_history_records_nothing(tmp_path, db):
    drill, topo = estate(tmp_path)
    run("drill", drill, "-t", topo, env={"DRSIM_HISTORY": str(db)})
    assert len(runs_in(db)) == 1
    run("drill", drill, "-t", topo, "--no-history", env={"DRSIM_HISTORY": str(db)})
    run("drill", drill, "-t", topo, env={"DRSIM_HISTORY": "off"})
    assert len(runs_in(db)) == 1


def test_the_default_location_is_under_xdg_data_home(tmp_path, monkeypatch):
    from drsim.history import resolve_path

    monkeypatch.delenv("DRSIM_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_path() == tmp_path / "drsim" / "history.sqlite"
    assert resolve_path(tmp_path / "mine.sqlite") == tmp_path / "mine.sqlite"


def test_a_history_that_cannot_be_written_is_a_warning_and_never_a_failed_run(tmp_path):
    drill, topo = estate(tmp_path, failover="5m")  # meets its target: exit 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = run("drill", drill, "-t", topo, "--history", blocker / "history.sqlite")
    assert r.exit_code == 0
    warnings = [line for line in r.output.splitlines() if "not recorded" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: ")


# ------------------------------------------------------------------ files drsim cannot use, left untouched


def newer(path: Path) -> None:
    with sqlite3.connect(path) as c:
        c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        c.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, future TEXT)")
    c.close()


def foreign(path: Path) -> None:
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    c.close()


def corrupt(path: Path) -> None:
    path.write_bytes(b"this was a history once\n" * 100)


def torn(path: Path) -> None:
    """A real history whose pages after the header were overwritten."""
    Store(path).record(json.loads(_journal()))
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))


def _journal() -> str:
    return json.dumps(
        {
            "created_utc": "2026-01-01T00:00:00Z",
            "command": "drill",
            "drill": "d",
            "topology": "t",
            "seed": 0,
            "n": 1,
            "engine": "des",
            "passed": True,
            "drsim_version": "0",
            "inputs": [],
            "figures": [],
        }
    )


@pytest.mark.parametrize(
    ("spoil", "says"),
    [(corrupt, "not a SQLite database"), (foreign, "not a drsim history"), (newer, "newer drsim"), (torn, "malformed")],
)
def test_a_corrupt_foreign_or_newer_database_is_refused_in_one_line_and_left_untouched(tmp_path, db, spoil, says):
    spoil(db)
    before = db.read_bytes()
    listed = run("history", "list", "--history", db)
    assert listed.exit_code == 2
    assert len(listed.output.strip().splitlines()) == 1
    assert str(db) in listed.output
    assert says in listed.output
    drill, topo = estate(tmp_path, failover="5m")
    r = run("drill", drill, "-t", topo, "--history", db)
    assert r.exit_code == 0
    assert sum("warning: run not recorded in history" in line for line in r.output.splitlines()) == 1
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_a_new_database_is_migrated_to_the_current_schema_in_wal_mode(db):
    Store(db).record(json.loads(_journal()))
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.close()


# ------------------------------------------------------------------ two writers


def test_ten_runs_recorded_by_two_processes_at_once_are_all_in_history(tmp_path, db):
    drill, topo = estate(tmp_path)
    script = textwrap.dedent(
        f"""
        import sys
        from click.testing import CliRunner
        from drsim.cli import main
        for seed in range(int(sys.argv[1]), int(sys.argv[1]) + 5):
            r = CliRunner().invoke(main, ["drill", {drill!r}, "-t", {topo!r}, "-n", "50", "--seed", str(seed),
                                          "--history", {str(db)!r}])
            assert "not recorded" not in r.output, r.output
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(first)]) for first in (0, 100)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    recorded = runs_in(db)
    assert sorted(x["seed"] for x in recorded) == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]
    assert sorted(x.id for x in recorded) == list(range(1, 11))


# ------------------------------------------------------------------ reading runs back


def test_show_prints_the_recorded_journal_and_an_unknown_id_is_bad_input(tmp_path, db):
    drill, topo = estate(tmp_path)
    run("drill", drill, "-t", topo, "--history", db)
    shown = run("history", "show", "1", "--history", db)
    assert json.loads(shown.output) == runs_in(db)[0].journal
    missing = run("history", "show", "7", "--history", db)
    assert missing.exit_code == 2
    assert "no run 7" in missing.output


def test_compare_names_the_changed_input_and_the_figures_that_moved_with_intervals(tmp_path, db):
    drill, topo = estate(tmp_path, failover="1h")
    run("drill", drill, "-t", topo, "-n", 400, "--history", db)
    run("drill", drill, "-t", topo, "-n", 400, "--history", db)
    estate(tmp_path, failover="2h")  # the same files, the topology edited
    run("drill", drill, "-t", topo, "-n", 400, "--history", db)

    same = run("history", "compare", "1", "2", "--history", db)
    assert "topology " in same.output
    assert ": same (" in same.output
    assert "figures: none moved" in same.output  # same inputs, same seed: the same numbers

    edited = run("history", "compare", "1", "3", "--history", db)
    assert edited.exit_code == 0
    assert f"topology {topo}: changed" in edited.output
    assert f"drill {drill}: same" in edited.output
    [p90] = [line for line in edited.output.splitlines() if line.split()[1:3] == ["tier:tier0:rto", "p90"]]
    assert "1h [" in p90
    assert "2h [" in p90
    assert "+1h *" in p90


def test_trend_follows_each_tiers_p90_rto_and_p_meet_and_plots_them(tmp_path, db):
    drill, topo = estate(tmp_path, failover="1h")
    run("drill", drill, "-t", topo, "-n", 300, "--history", db)
    estate(tmp_path, failover="10m")
    run("drill", drill, "-t", topo, "-n", 300, "--history", db)
    name = runs_in(db)[0]["drill"]
    r = run("history", "trend", name, "--history", db, "--plot", tmp_path / "trend.png")
    assert r.exit_code == 0
    rows = [line.split() for line in r.output.splitlines() if line[:1].isdigit()]
    assert [(row[0], row[-2], row[-1]) for row in rows] == [("1", "1h", "0.000"), ("2", "10m", "1.000")]
    assert (tmp_path / "trend.png").stat().st_size > 0
    unknown = run("history", "trend", "no-such-drill", "--history", db)
    assert unknown.exit_code == 2


# ------------------------------------------------------------------ machine-readable listings and pruning


def test_list_and_show_give_json_for_machines_and_show_a_table_for_people(tmp_path, db):
    drill, topo = estate(tmp_path)
    run("drill", drill, "-t", topo, "--history", db)
    run("drill", drill, "-t", topo, "-n", 200, "--seed", 3, "--history", db)
    listed = run("history", "list", "--history", db, "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(x["id"], x["command"], x["seed"], x["n"], x["passed"]) for x in rows] == [
        (1, "drill", 0, 1, False),
        (2, "sweep", 3, 200, True),  # the replay misses its target; the sweep has no gate to miss
    ]
    assert rows[0]["created_utc"] == runs_in(db)[0].created_utc
    shown = run("history", "show", "2", "--history", db, "--format", "json")
    assert json.loads(shown.stdout) == runs_in(db)[1].journal
    table = run("history", "show", "1", "--history", db, "--format", "table")
    assert table.exit_code == 0, table.output
    assert table.stdout.startswith(f"run 1: drill of {runs_in(db)[0]['drill']} on ")
    assert "\nnot passed\n" in table.stdout
    assert "FAIL" in table.stdout
    assert "tier:tier0:rto" in table.stdout


def _record_on(path: Path, day: str) -> None:
    Store(path).record(
        {
            "created_utc": f"{day}T12:00:00Z",
            "command": "drill",
            "drill": "d",
            "topology": "t",
            "seed": 0,
            "n": 1,
            "engine": "des",
            "passed": True,
            "drsim_version": "test",
        }
    )


def test_prune_removes_only_runs_before_the_day_and_says_how_many(db):
    for day in ("2025-06-30", "2025-12-31", "2026-01-01", "2026-03-01"):
        _record_on(db, day)
    r = run("history", "prune", "--before", "2026-01-01", "--history", db)
    assert r.exit_code == 0, r.output
    assert r.stdout == f"removed 2 run(s) recorded before 2026-01-01; 2 kept in {db}\n"
    assert [x.created_utc[:10] for x in runs_in(db)] == ["2026-01-01", "2026-03-01"]
    again = run("history", "prune", "--before", "2026-01-01", "--history", db)
    assert again.stdout == f"removed 0 run(s) recorded before 2026-01-01; 2 kept in {db}\n"


def test_prune_never_deletes_without_before_and_refuses_a_bad_day(db):
    _record_on(db, "2025-06-30")
    r = run("history", "prune", "--history", db)
    assert r.exit_code == 2
    assert "Missing option '--before'" in r.output
    bad = run("history", "prune", "--before", "last year", "--history", db)
    assert bad.exit_code == 2
    assert bad.stderr == "error: --before: expected a day like 2026-01-01, found 'last year'\n"
    assert len(runs_in(db)) == 1


def test_prune_leaves_a_missing_history_missing_and_a_corrupt_one_untouched(tmp_path, db):
    r = run("history", "prune", "--before", "2026-01-01", "--history", db)
    assert r.exit_code == 0, r.output
    assert not db.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"garbage" * 100)
    bad = run("history", "prune", "--before", "2026-01-01", "--history", junk)
    assert bad.exit_code == 2
    assert junk.read_bytes() == b"garbage" * 100
