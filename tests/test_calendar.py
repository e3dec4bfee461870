"""``drsim calendar``: a programme of exercises planned from rules, the estate and history.

The estate here is two services: ``db`` (tier ``critical``, exercised by the drill
``db-outage``, which pages the DBA) and ``reports`` (tier ``standard``, exercised by
``reports-outage``, which pages the on-call engineer). An exercise's risk is the most
critical tier it takes down, so ``reports-outage`` is the low-risk one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner

from drsim.analysis.calendar import add_months, exercise_days, plan_calendar
from drsim.cli import main
from drsim.history import Store
from drsim.model.loader import calendar_from_text, load_calendar, load_topology, topology_from_text

START = dt.date(2027, 1, 4)  # a Monday

TOPOLOGY = """\
name: two-services
regions:
  a: {kind: datacenter}
  b: {kind: datacenter}
tiers:
  critical: {rto: 1h, rpo: 5m}
  standard: {rto: 24h, rpo: 24h}
staff:
  oncall:
    shifts:
      - {name: always, start: "00:00", end: "00:00", headcount: 2, acknowledge: 5m}
  dba:
    shifts:
      - {name: always, start: "00:00", end: "00:00", headcount: 1, acknowledge: 5m}
services:
  db:
    tier: critical
    region: a
    recovery: {strategy: active-active, standby_region: b}
  reports:
    tier: standard
    region: a
    recovery: {strategy: active-active, standby_region: b}
"""


def drill(name: str, target: str, role: str, kind: str = "service-outage") -> str:
    return textwrap.dedent(f"""\
        name: {name}
        start: "2026-03-11T14:00"
        faults:
          - {{kind: {kind}, targets: [{target}], duration: 1h}}
        detection: {{delay: 5m}}
        response:
          page: [{role}]
          declare: {{role: {role}, duration: 10m}}
        """)


RULES = """\
name: test-programme
start: 2027-01-04
weekdays: [tue, wed, thu]
spacing: 14
exercises:
  - {drill: db-outage.yaml, owner: DBA lead}
  - {drill: reports-outage.yaml, owner: Reporting lead}
rules:
  tiers: {critical: 6, standard: 12}
  fault_kinds: null
"""


@pytest.fixture
def estate(tmp_path, monkeypatch):
    """The two-service estate, its two drills and the calendar rules, in a folder of their own."""
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    (tmp_path / "db-outage.yaml").write_text(drill("db-outage", "db", "dba"))
    (tmp_path / "reports-outage.yaml").write_text(drill("reports-outage", "reports", "oncall"))
    (tmp_path / "rules.yaml").write_text(RULES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRSIM_HISTORY", str(tmp_path / "history.sqlite"))
    return tmp_path


def plan(folder: Path, rules: str = RULES, tested=None, start=START):
    topo = topology_from_text((folder / "topology.yaml").read_text(), "topology.yaml")
    cal = calendar_from_text(rules, topo, "rules.yaml", folder)
    return plan_calendar(topo, cal.rules, cal.drills, tested or {}, start)


def record(folder: Path, drill_name: str, day: dt.date) -> None:
    """A run of ``drill_name`` on the two-service estate, recorded in history as finished on ``day``."""
    Store(folder / "history.sqlite").record(
        {
            "created_utc": f"{day.isoformat()}T10:00:00Z",
            "command": "drill",
            "drill": drill_name,
            "topology": "two-services",
            "seed": 0,
            "n": 1,
            "engine": "des",
            "passed": True,
            "drsim_version": "test",
            "inputs": [],
            "verdicts": [],
            "figures": [],
        }
    )


def invoke(*args: str):
    return CliRunner().invoke(main, ["calendar", *args], catch_exceptions=False)


# ---------------------------------------------------------------- the rules of the plan


def test_a_tier0_service_last_drilled_11_months_ago_with_a_6_month_rule_is_first_and_a_gap(estate):
    eleven_months_ago = add_months(START, -11)
    cal = plan(estate, tested={"db-outage": [eleven_months_ago]})
    first = cal.exercises[0]
    assert first.drill == "db-outage"  # before the lower-risk reports-outage
    assert first.urgent
    assert "service db" in first.reasons
    (gap,) = [g for g in cal.gaps if g.subject == "service db"]
    assert gap.last_tested == eleven_months_ago
    assert gap.due == add_months(eleven_months_ago, 6)  # five months before the plan starts
    assert gap.planned == first.day
    assert gap.why.startswith("overdue when the plan starts")
    assert gap.owner == "DBA lead"


def test_the_same_through_the_command_line_reading_history(estate):
    record(estate, "db-outage", add_months(START, -11))
    record(estate, "db-outage", add_months(START, -20))  # an older run does not count
    r = invoke("rules.yaml", "-t", "topology.yaml")
    assert r.exit_code == 1, r.output  # gaps remain
    lines = [line for line in r.stdout.splitlines() if line.startswith("| 20")]
    assert "db-outage" in lines[0]
    assert "overdue when the plan starts: last exercised 2026-02-04, fell due 2026-08-04" in r.stdout


def test_without_history_the_low_risk_exercise_comes_first(estate):
    cal = plan(estate)
    assert [p.drill for p in cal.exercises[:2]] == ["reports-outage", "db-outage"]
    assert [p.risk for p in cal.exercises[:2]] == ["standard", "critical"]
    assert {g.subject: g.why for g in cal.gaps if g.planned is not None} == {
        "service reports": "never exercised",
        "service db": "never exercised",
    }


def test_a_requirement_tested_recently_is_not_repeated_before_half_its_interval(estate):
    cal = plan(estate, tested={"db-outage": [START - dt.timedelta(days=7)], "reports-outage": [START]})
    db_days = cal.planned_days["service db"]
    assert db_days, "a 6-month rule falls due within a 12-month plan"
    assert all(d >= add_months(START - dt.timedelta(days=7), 3) for d in db_days)
    assert all(d <= add_months(START - dt.timedelta(days=7), 6) for d in db_days[:1])  # in time: no gap
    assert [g for g in cal.gaps if g.subject == "service db"] == []


def test_every_requirement_is_exercised_within_its_interval_when_days_allow(estate):
    cal = plan(estate)
    for r in cal.requirements:
        days = cal.planned_days[r.subject]
        for a, b in itertools.pairwise(days):
            assert b <= add_months(a, r.every), (r.subject, a, b)
        assert add_months(days[-1], r.every) >= cal.end or r.every >= 12


def test_blackout_dates_are_never_scheduled(estate):
    rules = RULES + textwrap.dedent("""\
        blackouts:
          - {start: 2027-01-04, end: 2027-02-28, reason: winter}
          - {start: 2027-06-01, end: 2027-07-15, reason: go-live}
          - {start: 2027-09-09, reason: one day}
        """)
    cal = plan(estate, rules)
    assert cal.exercises
    blackouts = [(dt.date(2027, 1, 4), dt.date(2027, 2, 28)), (dt.date(2027, 6, 1), dt.date(2027, 7, 15))]
    blackouts.append((dt.date(2027, 9, 9), dt.date(2027, 9, 9)))
    for p in cal.exercises:
        assert not any(a <= p.day <= b for a, b in blackouts), p
    assert cal.exercises[0].day == dt.date(2027, 3, 2)  # the first allowed weekday after the winter


@pytest.mark.parametrize("start", [dt.date(2026, 1, 1) + dt.timedelta(days=37 * i) for i in range(10)])
def test_the_bundled_hospital_calendar_never_lands_in_a_blackout_or_on_a_disallowed_weekday(start):
    topo = load_topology("ehr-hybrid")
    cal_file = load_calendar("hospital", topo)
    cal = plan_calendar(topo, cal_file.rules, cal_file.drills, {}, start)
    assert cal.exercises
    allowed = set(exercise_days(cal_file.rules, cal.start, cal.end))
    for p in cal.exercises:
        assert p.day in allowed
        assert not any(p.day in b for b in cal_file.rules.blackouts)
        assert p.day.strftime("%a").lower() in cal_file.rules.weekdays
    for a, b in zip(cal.exercises, cal.exercises[1:]):
        assert (b.day - a.day).days >= cal_file.rules.spacing


def test_an_exercise_waits_while_a_role_it_needs_is_unavailable(estate):
    rules = RULES + "unavailable:\n  - {role: dba, start: 2027-01-04, end: 2027-03-31, reason: leave}\n"
    cal = plan(estate, rules, tested={"db-outage": [add_months(START, -11)]})
    db = [p for p in cal.exercises if p.drill == "db-outage"]
    assert db[0].day > dt.date(2027, 3, 31)
    assert cal.exercises[0].drill == "reports-outage"  # the free day is not wasted
    (gap,) = [g for g in cal.gaps if g.subject == "service db"]
    assert gap.planned == db[0].day


def test_a_service_no_exercise_covers_is_a_gap_with_no_day(estate):
    rules = RULES.replace("  - {drill: db-outage.yaml, owner: DBA lead}\n", "")
    cal = plan(estate, rules)
    (gap,) = [g for g in cal.gaps if g.subject == "service db"]
    assert gap.planned is None
    assert "no exercise on offer covers it" in gap.why
    assert cal.planned_days["service db"] == ()


def test_each_kind_of_fault_rule_names_the_kinds_no_exercise_injects(estate):
    rules = RULES.replace("  fault_kinds: null\n", "  fault_kinds: {every: 12, kinds: [service-outage, data-drift]}\n")
    cal = plan(estate, rules)
    subjects = {g.subject: g for g in cal.gaps}
    assert subjects["fault kind data-drift"].planned is None
    assert subjects["fault kind service-outage"].planned == cal.exercises[0].day


# ---------------------------------------------------------------- outputs


def test_the_icalendar_file_parses_back_with_one_event_per_exercise(estate):
    r = invoke("rules.yaml", "-t", "topology.yaml", "--ics", "plan.ics", "-o", "plan.md")
    assert r.exit_code == 1, r.output
    cal = plan(estate)
    parsed = icalendar.Calendar.from_ical((estate / "plan.ics").read_bytes())
    events = parsed.walk("VEVENT")
    assert len(events) == len(cal.exercises) >= 3
    assert [(e.decoded("dtstart"), str(e["summary"])) for e in events] == [
        (p.day, f"DR exercise: {p.drill}") for p in cal.exercises
    ]
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert all(e.decoded("dtend") - e.decoded("dtstart") == dt.timedelta(days=1) for e in events)
    text = (estate / "plan.md").read_text()
    assert "## Coverage gaps" in text
    assert "never exercised" in text


@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_the_printable_plan_renders_as_html_and_pdf(estate, suffix):
    r = invoke("rules.yaml", "-t", "topology.yaml", "-o", f"plan{suffix}")
    assert r.exit_code == 1, r.output
    data = (estate / f"plan{suffix}").read_bytes()
    assert data.startswith(b"%PDF" if suffix == ".pdf" else b"<!DOCTYPE html>")


def test_an_existing_output_exits_4_and_is_left_alone(estate):
    (estate / "plan.ics").write_text("mine\n")
    r = invoke("rules.yaml", "-t", "topology.yaml", "--ics", "plan.ics")
    assert r.exit_code == 4, r.output
    assert r.stderr == "error: plan.ics already exists; pass --force to overwrite it\n"
    assert (estate / "plan.ics").read_text() == "mine\n"
    r = invoke("rules.yaml", "-t", "topology.yaml", "--ics", "plan.ics", "--force")
    assert r.exit_code == 1, r.output
    assert (estate / "plan.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_an_unwritable_output_exits_3_with_one_line(estate):
    r = invoke("rules.yaml", "-t", "topology.yaml", "-o", "/proc/no-such-folder/plan.md")
    assert r.exit_code == 3, r.output
    assert len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("error: /proc/no-such-folder/plan.md")


def test_a_start_that_is_not_a_day_is_bad_input(estate):
    r = invoke("rules.yaml", "-t", "topology.yaml", "--start", "next monday")
    assert r.exit_code == 2
    assert r.stderr == "error: --start: expected a day like 2027-01-04, found 'next monday'\n"


def test_an_unknown_drill_is_reported_at_its_line(estate):
    (estate / "rules.yaml").write_text(RULES.replace("db-outage.yaml", "db-outgae.yaml"))
    r = invoke("rules.yaml", "-t", "topology.yaml")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: rules.yaml: line 6, column 13, at exercises[0].drill: no drill file")


def test_the_bundled_calendar_validates_against_the_bundled_estate():
    path = str(Path(__file__).parent.parent / "drsim" / "data" / "calendars" / "hospital.yaml")
    r = CliRunner().invoke(main, ["validate", path], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "valid exercise calendar (7 exercise(s)) on topology ehr-hybrid" in r.stdout
