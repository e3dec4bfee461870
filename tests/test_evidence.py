"""``drsim evidence --hipaa``: the contingency-plan evidence pack (45 CFR 164.308(a)(7)).

The estate is the two-service one of ``test_calendar`` with backups added: ``db``
(tier ``critical``, backed up daily, restored from backup after corruption) and
``reports`` (tier ``standard``). Runs are real ``drsim drill`` replays recorded in
a history of the test's own.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from click.testing import CliRunner
from test_calendar import RULES, TOPOLOGY, drill

from drsim.analysis.contingency import SPECIFICATIONS, Exercised, evidence_pack
from drsim.cli import main
from drsim.history import Store
from drsim.model.loader import topology_from_text

TODAY = dt.datetime.now(dt.UTC).date()

BACKED_UP = TOPOLOGY.replace(
    """  db:
    tier: critical
    region: a
    recovery: {strategy: active-active, standby_region: b}
""",
    """  db:
    tier: critical
    region: a
    data: {size: 100GB, restore_throughput: 100MB/s, backup_interval: 24h, immutable_backups: true}
    recovery:
      strategy: active-active
      standby_region: b
      restore:
        - {name: restore from backup, restore: true, duration: 30m, role: dba}
""",
)


@pytest.fixture
def estate(tmp_path, monkeypatch):
    (tmp_path / "topology.yaml").write_text(BACKED_UP)
    (tmp_path / "db-outage.yaml").write_text(drill("db-outage", "db", "dba"))
    (tmp_path / "reports-outage.yaml").write_text(drill("reports-outage", "reports", "oncall"))
    (tmp_path / "db-corruption.yaml").write_text(drill("db-corruption", "db", "dba", kind="data-corruption"))
    (tmp_path / "rules.yaml").write_text(RULES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRSIM_HISTORY", str(tmp_path / "history.sqlite"))
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def pack_text(*extra: str) -> str:
    r = run("evidence", "--hipaa", "-t", "topology.yaml", "--format", "md", *extra)
    assert r.exit_code == 0, r.output
    return r.stdout


def section(text: str, letter: str) -> str:
    """The part of the Markdown pack about specification ``letter``."""
    start = text.index(f"## ({letter}) ")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_with_empty_history_the_pack_names_each_specification_and_what_it_cannot_evidence(estate):
    text = pack_text()
    for spec in SPECIFICATIONS:
        assert f"## ({spec.letter}) {spec.name} - {spec.status}" in text
        assert spec.citation in text
    assert [s.name for s in SPECIFICATIONS] == [
        "Data backup plan",
        "Disaster recovery plan",
        "Emergency mode operation plan",
        "Testing and revision procedures",
        "Applications and data criticality analysis",
    ]
    assert "No backup restore test in history in the last 12 months" in section(text, "A")
    assert "No disaster recovery exercise in history in the last 12 months." in section(text, "B")
    assert "History holds no exercise in the last 12 months: periodic testing cannot be evidenced." in text
    assert "NOT EVIDENCED: no test in the last 12 months" in text
    assert "tier critical has never been exercised" in section(text, "D")
    assert "tier standard has never been exercised" in section(text, "D")
    assert "## Sign-off" in text


def test_a_backup_restore_drill_in_history_is_evidence_for_the_data_backup_plan(estate):
    r = run("drill", "db-corruption.yaml", "-t", "topology.yaml")
    assert r.exit_code in (0, 1), r.output
    text = section(pack_text(), "A")
    assert "No backup restore test" not in text
    assert f"| 1 | {TODAY.isoformat()} | db-corruption | one replay | data-corruption |" in text
    assert "db (critical): backup every 24h, immutable" in text


def test_a_tier_never_exercised_is_named_as_a_gap(estate):
    r = run("drill", "reports-outage.yaml", "-t", "topology.yaml")
    assert r.exit_code in (0, 1), r.output
    text = pack_text()
    testing = section(text, "D")
    assert "tier critical has never been exercised" in testing
    assert "tier standard has never been exercised" not in testing
    assert f"tier standard last exercised {TODAY.isoformat()}" in testing
    assert "db (critical) was not taken down by any exercise in the last 12 months" in section(text, "B")


def test_runs_older_than_twelve_months_are_not_current_evidence(estate):
    assert run("drill", "db-corruption.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    later = (TODAY + dt.timedelta(days=400)).isoformat()
    text = pack_text("--as-of", later)
    assert "No backup restore test in history in the last 12 months" in section(text, "A")
    assert f"tier critical not exercised in the last 12 months (last {TODAY.isoformat()})" in section(text, "D")


def test_a_drill_changed_since_its_run_counts_as_a_test_but_not_for_what_it_took_down(estate):
    assert run("drill", "db-outage.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    (estate / "db-outage.yaml").write_text(drill("db-outage", "reports", "oncall"))  # now a different drill
    text = pack_text()
    assert "1 run(s) (1) ran a drill file that has since changed or gone" in section(text, "B")
    assert "| 1 |" in section(text, "D")
    assert "tier critical has never been exercised" in section(text, "D")  # not claimed


def test_a_drill_re_run_after_its_estate_changed_is_a_revision(estate):
    assert run("drill", "db-outage.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    (estate / "topology.yaml").write_text(BACKED_UP.replace("headcount: 1", "headcount: 2"))
    assert run("drill", "db-outage.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    assert f"revision: db-outage re-run as run 2 ({TODAY.isoformat()}) after its topology changed since run 1" in (
        section(pack_text(), "D")
    )


def test_the_criticality_analysis_flags_a_critical_service_depending_on_a_less_critical_one():
    inverted = (
        BACKED_UP.replace("    data: {size: 100GB", "    depends_on: [reports]\n    data: {size: 100GB")
        + "workflows:\n  dispensing: {needs: [db], tolerance: 30m}\n"
    )
    topo = topology_from_text(inverted, "inverted.yaml")
    pack = evidence_pack(topo, [], TODAY)
    e = pack.findings[4]
    assert e.spec.name == "Applications and data criticality analysis"
    gaps = [g.what for g in e.gaps]
    assert "db (critical) depends on reports (standard): reports is tiered below what relies on it" in gaps
    assert "workflow dispensing can run on paper for 30m but needs reports, whose tier allows 24h down" in gaps
    (db,) = [c for c in pack.criticality if c.service == "db"]
    assert db.workflows == ("dispensing",)
    (reports,) = [c for c in pack.criticality if c.service == "reports"]
    assert reports.needed_by == ("db",)
    assert reports.workflows == ("dispensing",)  # through db


def test_a_dependency_group_member_is_not_an_inversion():
    """``any_of: [reports, db2]``: either will do, so neither alone is needed by what relies on the group."""
    either = (
        BACKED_UP.replace(
            "    data: {size: 100GB", "    depends_on: [{any_of: [reports, db2]}]\n    data: {size: 100GB"
        )
        + """  db2:
    tier: standard
    region: b
    recovery: {strategy: active-active, standby_region: a}
workflows:
  dispensing: {needs: [db], tolerance: 30m}
"""
    )
    pack = evidence_pack(topology_from_text(either, "either.yaml"), [], TODAY)
    gaps = [g.what for g in pack.findings[4].gaps]
    assert not [g for g in gaps if "reports" in g or "db2" in g], gaps
    assert "workflow dispensing can run on paper for 30m but needs db, whose tier allows 1h down" in gaps


def test_owners_come_from_the_calendar_rules(estate):
    assert run("drill", "db-corruption.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    text = pack_text("--calendar", "rules.yaml")
    assert "| DBA lead |" in section(text, "B")
    assert "| to be assigned |" not in section(text, "B")


def test_the_pack_renders_as_html_and_as_a_pdf_naming_the_five_specifications(estate):
    pypdf = pytest.importorskip("pypdf")
    assert run("evidence", "--hipaa", "-t", "topology.yaml", "-o", "pack.html").exit_code == 0
    html = (estate / "pack.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<section id="spec-') == 5
    r = run("evidence", "--hipaa", "-t", "topology.yaml", "-o", "pack.pdf")
    assert r.exit_code == 0, r.output
    reader = pypdf.PdfReader(io.BytesIO((estate / "pack.pdf").read_bytes()))
    text = " ".join(p.extract_text() for p in reader.pages)
    for spec in SPECIFICATIONS:
        assert spec.name in text


def test_an_existing_pack_exits_4_and_is_left_alone(estate):
    (estate / "pack.html").write_text("mine\n")
    r = run("evidence", "--hipaa", "-t", "topology.yaml", "-o", "pack.html")
    assert r.exit_code == 4, r.output
    assert r.stderr == "error: pack.html already exists; pass --force to overwrite it\n"
    assert (estate / "pack.html").read_text() == "mine\n"


def test_an_unwritable_pack_exits_3_with_one_line(estate):
    r = run("evidence", "--hipaa", "-t", "topology.yaml", "-o", "/proc/no-such-folder/pack.html")
    assert r.exit_code == 3, r.output
    assert len(r.stderr.splitlines()) == 1


def test_without_a_standard_it_is_bad_input(estate):
    r = run("evidence", "-t", "topology.yaml")
    assert r.exit_code == 2
    assert r.stderr == "error: --hipaa: name the standard to map the evidence to: only --hipaa is supported\n"


def test_a_history_that_is_not_drsims_is_refused_and_left_untouched(estate, monkeypatch):
    junk = estate / "junk.sqlite"
    junk.write_bytes(b"not a database at all\n" * 10)
    r = run("evidence", "--hipaa", "-t", "topology.yaml", "--history", str(junk))
    assert r.exit_code == 2
    assert "is not a SQLite database (corrupt?); left untouched" in r.stderr
    assert junk.read_bytes() == b"not a database at all\n" * 10


def test_the_analysis_reads_runs_as_exercises(estate):
    assert run("drill", "db-corruption.yaml", "-t", "topology.yaml").exit_code in (0, 1)
    (only,) = Store(estate / "history.sqlite").runs()
    topo = topology_from_text(BACKED_UP, "topology.yaml")
    pack = evidence_pack(topo, [Exercised(only.id, only.journal, None)], TODAY)
    assert pack.runs_in_window == 1
    assert pack.findings[0].tests == ()  # the drill not known: not claimed as a restore test
    assert len(pack.findings[3].tests) == 1
