"""The two editions of a tabletop pack, and the exercise structure around it.

The participant edition is handed round the table, so it must carry no
outcome of the replay: no state of play, no evidence at a decision, no
after-action figures, no chart. The facilitator edition carries everything,
plus an agenda that lays the whole incident over a two-hour session in order.
"""

from __future__ import annotations

import itertools
import re

import pytest
from builders import base_drill, base_topology, plan_of
from click.testing import CliRunner

from drsim.cli import main
from drsim.errors import InputError
from drsim.report import exercise
from drsim.report.document import md_escape
from drsim.report.improvement import DUE_DAYS, improvement_plan
from drsim.report.questions import missed_rto_roots
from drsim.report.scripted import fill
from drsim.report.tabletop import tabletop
from drsim.report.timeline import decision_points, derived_questions, render_timeline, state_lines
from drsim.report.wording import dur, tplus

#: Phrases only the facilitator edition may hold: where the answers sit.
ANSWER_PHRASES = (
    "State of play",
    "in this replay",
    "Expected actions",
    "Evidence at",
    "After-action review",
    "Swimlane",
    "Replay shown",
    "Decision latency",
    "Where the outage went",
    "Event timeline",
    "From this replay",
    "could start at",
    "Exercise structure",
    "Improvement plan",
    "Appendix: automated events",
)

#: A figure a state-of-play line quotes: a clock time, a duration or a percentage.
FIGURE = re.compile(r"(?:\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\b\d{2}:\d{2}\b|\b\d+[dhms](?:\d+[hms])*\b|\b\d+%")


@pytest.fixture(scope="module")
def region_loss():
    """The region-loss P90 replay (the issue's pack) in both editions, md and html."""
    tt = tabletop("region-loss", percentile=90, n=400)
    return tt, {(ed, fmt): render_timeline(tt, fmt, edition=ed) for ed in exercise_editions() for fmt in ("md", "html")}


def exercise_editions():
    return ("facilitator", "participant")


def _replay_figures(tt) -> set[str]:
    """Every figure the facilitator edition's state-of-play lines quote that the drill and estate do not script.

    Figures also written in the scenario itself (an inject's own minute, a
    tier's target, a role's answer time) are not outcomes, so they are left out.
    """
    lines = []
    for inj in tt.plan.drill.injects:
        lines += state_lines(tt, tt.state(inj.at))
    for d in decision_points(tt):
        lines += state_lines(tt, tt.state(d.evidence_at))
    figures = {m.group(0) for line in lines for m in FIGURE.finditer(line)}
    figures |= {f.split(" ")[-1] for f in figures}  # a clock time is checked with and without its weekday
    topo, drill = tt.plan.topology, tt.plan.drill
    allowed = {tt.clock(i.at) for i in drill.injects} | {tplus(i.at).removeprefix("T+") for i in drill.injects}
    allowed |= {dur(t.rto) for t in topo.tiers.values()} | {dur(t.rpo) for t in topo.tiers.values()}
    allowed |= {tt.clock(0.0), f"{tt.result.start:%H:%M}"}
    # the scripted text as written into the pack, its placeholders filled from the replay
    text = " ".join(
        [
            drill.description or "",
            *(fill(tt, i.text, i.at, "") for i in drill.injects),
            *(fill(tt, i.prompt or "", i.at, "") for i in drill.injects),
            *(fill(tt, t, 0.0, "") for t in [*drill.objectives, *drill.questions]),
        ]
    )
    allowed |= {m.group(0) for m in FIGURE.finditer(text)}
    allowed |= {f.split(" ")[-1] for f in allowed}
    return figures - allowed


def test_participant_edition_carries_no_answer_phrase(region_loss):
    _, packs = region_loss
    for fmt in ("md", "html"):
        fac, part = packs["facilitator", fmt], packs["participant", fmt]
        for phrase in ANSWER_PHRASES:
            assert phrase in fac, (fmt, phrase)  # the facilitator has it, so its absence below means something
            assert phrase not in part, (fmt, phrase)


def test_participant_edition_quotes_no_replay_figure(region_loss):
    tt, packs = region_loss
    figures = _replay_figures(tt)
    assert len(figures) >= 10, figures  # a P90 night quotes plenty: alert times, waits, times down
    fac, part = packs["facilitator", "md"], packs["participant", "md"]
    for f in figures:
        assert f in fac, f
        assert not re.search(rf"(?<![\w:]){re.escape(f)}(?![\w:])", part), f
    for q in derived_questions(tt):  # the replay's questions quote its outcomes
        assert q[:60] not in part


def test_participant_edition_keeps_situation_injects_decisions_questions_and_rules(region_loss):
    tt, packs = region_loss
    part = packs["participant", "md"]
    drill = tt.plan.drill
    for inj in drill.injects:
        assert " ".join(fill(tt, inj.text, inj.at, "").split())[:50] in " ".join(part.split())
        assert " ".join(inj.prompt.split())[:50] in " ".join(part.split())
        for action in inj.expected_actions:
            assert action[:40] not in part
    for q in drill.questions:
        assert q[:50] in part
    for d in decision_points(tt):
        assert d.title in part
        assert d.prompt[:50] in part
    for role in ("facilitator", "evaluator", "note-taker"):
        assert f"| {role} |" in part
    assert "Ground rules" in part
    assert "no-fault exercise" in part
    assert "Participant feedback form" in part
    assert "<svg" not in packs["participant", "html"]  # no Gantt of the replay
    assert "<svg" in packs["facilitator", "html"]


def test_both_editions_render_html_whole(region_loss):
    _, packs = region_loss
    for ed in exercise_editions():
        html = packs[ed, "html"]
        assert html.startswith("<!DOCTYPE html>")
        assert html.rstrip().endswith("</html>")
        assert "Participant feedback form" in html


def test_facilitator_edition_adds_structure_roles_rules_and_feedback(region_loss):
    _, packs = region_loss
    fac = packs["facilitator", "md"]
    order = ["# Tabletop exercise", "## Exercise structure", "### Roles in the room", "### Ground rules"]
    order += ["## Injects", "## After-action review", "## Participant feedback form"]
    at = [fac.index(h) for h in order]
    assert at == sorted(at)


def test_agenda_covers_the_incident_in_order(region_loss):
    tt, _ = region_loss
    span = exercise.incident_span(tt)
    decisions = [d.finish for d in decision_points(tt)]
    modules = exercise.agenda(tt, decisions)
    assert len(modules) == 3  # this replay reaches its decision and restores every service inside the span
    assert modules[0].start == 0.0
    assert modules[-1].end == span
    for a, b in itertools.pairwise(modules):
        assert a.end == b.start
        assert a.start < a.end
        assert a.session_end == b.session_start
        assert a.jump is not None
        assert a.jump >= 0
    assert modules[-1].jump is None
    assert modules[0].session_start == exercise.OPENING
    assert modules[-1].session_end + exercise.CLOSING == 120
    assert all(m.session_end - m.session_start >= exercise.SHORTEST_MODULE for m in modules)
    # every inject and decision point falls in exactly one module, the one whose window holds it
    held = [i for m in modules for i in m.injects]
    assert held == list(range(1, len(tt.plan.drill.injects) + 1))
    assert sum(m.decisions for m in modules) == len(decisions)
    declare = float(tt.replay.finish[tt.plan.task("declare").index])
    assert modules[1].start == declare
    assert modules[2].start == tt.result.milestones["restored"]


@pytest.mark.parametrize("session", [45 * 60, 90 * 60, 4 * 3600])
def test_agenda_fills_the_session(region_loss, session):
    tt, _ = region_loss
    modules = exercise.agenda(tt, [d.finish for d in decision_points(tt)], session)
    assert modules[-1].session_end + exercise.CLOSING == max(
        session / 60, exercise.OPENING + exercise.CLOSING + exercise.SHORTEST_MODULE * len(modules)
    )


def test_generic_estate_pack_has_no_hospital_words():
    topo = base_topology(
        {
            "payments-api": {
                "tier": "tier0",
                "region": "site",
                "recovery": {
                    "strategy": "warm-standby",
                    "standby_region": "dr",
                    "steps": [{"name": "promote", "duration": "5m", "role": "dba"}],
                },
            }
        }
    )
    drill = base_drill(
        response={
            "page": ["ic"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "20m", "name": "decision: fail over to dr"},
            "communicate": {"role": "ic", "duration": "5m"},
        },
        injects=[{"at": "10m", "audience": "merchant support", "text": "Card payments fail.", "prompt": "Who?"}],
        questions=["Who decides?"],
        objectives=["Fail over inside 15m."],
    )
    tt = tabletop(plan_of(topo, drill), seed=0)
    assert tt.plan.topology.words().users == "users"
    for ed in exercise_editions():
        md = render_timeline(tt, "md", edition=ed).lower()
        for word in ("ward", "clinic", "patient", "hospital", "nurse", "downtime procedure"):
            assert word not in md, (ed, word)


def test_cli_edition_and_session(tmp_path):
    runner = CliRunner()
    out = tmp_path / "p.md"
    res = runner.invoke(main, ["timeline", "az-loss", "--edition", "participant", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "participant edition" in res.output
    assert "State of play" not in out.read_text()
    res = runner.invoke(main, ["timeline", "az-loss", "--session", "90m", "--format", "md"])
    assert res.exit_code == 0, res.output
    assert "| 1:25-1:30 | Feedback forms |" in res.output  # 90 minutes, the last five for the forms
    for bad, message in (("2 hours", "expected a duration"), ("10m", "from 30m to 8h")):
        res = runner.invoke(main, ["timeline", "az-loss", "--session", bad, "--format", "md"])
        assert res.exit_code == 2, res.output
        assert message in res.output
        assert "--session" in res.output
    res = runner.invoke(main, ["timeline", "az-loss", "--edition", "judge", "--format", "md"])
    assert res.exit_code == 2


def test_scripted_figures_come_from_the_replay_and_the_estate(region_loss):
    tt, packs = region_loss
    drill, topo = tt.plan.drill, tt.plan.topology
    lab = next(i for i in drill.injects if "{queue:hl7-oru}" in i.text)
    at_that_minute = next(b for b in tt.state(lab.at).backlogs if b.queue == "hl7-oru")
    expected = "full" if at_that_minute.dropping else f"{100 * at_that_minute.messages / at_that_minute.buffer:.0f}%"
    for ed in exercise_editions():
        md = " ".join(packs[ed, "md"].split())
        assert f"The LIS outbound queue is at {expected}." in md
        assert "{queue:" not in md
        assert f"within the tier0 RTO ({dur(topo.tiers['tier0'].rto)})" in md
        assert f"within the tier0 RPO ({dur(topo.tiers['tier0'].rpo)})" in md
    fac = packs["facilitator", "md"]
    assert f"hl7-oru {expected}" in fac  # the state of play beside the inject says the same


def test_unknown_placeholder_names_the_drill_field(region_loss):
    tt, _ = region_loss
    with pytest.raises(InputError) as exc:
        fill(tt, "The queue is at {queue:telex}.", 0.0, "injects[4].text")
    assert exc.value.source == "injects[4].text"
    assert "unknown queue 'telex'" in str(exc.value.problems[0])
    with pytest.raises(InputError, match="tier9"):
        fill(tt, "back within {rto:tier9}", 0.0, "objectives[1]")
    assert fill(tt, "no figures {here}", 0.0, "x") == "no figures {here}"


def test_participant_pdf_holds_text_and_no_answers(region_loss):
    import io

    import pypdf

    tt, _ = region_loss
    reader = pypdf.PdfReader(io.BytesIO(render_timeline(tt, "pdf", edition="participant")))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Participant situation manual" in text
    assert "Participant feedback form" in text
    for phrase in ANSWER_PHRASES:
        assert phrase not in text, phrase
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert len(sizes) == 1  # no landscape chart page


# ------------------------------------------------------------------ the replay's questions and the improvement plan


def _opening(q: str) -> str:
    """The first four words of a question after its decision label: what a table hears as its template."""
    return " ".join(re.sub(r"^\(D\d+\) ", "", q).split()[:4])


def test_replay_questions_follow_each_decision_point_with_varied_wording(region_loss):
    tt, packs = region_loss
    qs = derived_questions(tt)
    points = decision_points(tt)
    assert len(points) >= 3
    for k, (q, d) in enumerate(zip(qs, points, strict=False), 1):
        assert q.startswith(f"(D{k}) ")
        assert tt.clock(d.finish) in q  # quotes this replay's minute
    assert not [q for q in qs[len(points) :] if q.startswith("(D")]
    # read out in order, no question opens like the one before it, nor ends with the same ask
    for a, b in itertools.pairwise(qs):
        assert _opening(a) != _opening(b), (a, b)
        assert a.rsplit(". ", 1)[-1] != b.rsplit(". ", 1)[-1], (a, b)
    fac = " ".join(packs["facilitator", "md"].split())
    for k, q in enumerate(qs, 1):
        assert f"R{k}. {q}" in fac


def test_replay_questions_are_fixed_by_the_seed_and_vary_between_seeds():
    packs = [tabletop("region-loss", seed=s) for s in range(4)]
    first = [derived_questions(tt) for tt in packs]
    assert derived_questions(tabletop("region-loss", seed=0)) == first[0]

    def declare_opening(tt, qs):
        k = next(i for i, d in enumerate(decision_points(tt)) if d.kind == "declare")
        return _opening(qs[k])

    # seeds 0-3 word the declaration in more than one way
    assert len({declare_opening(tt, qs) for tt, qs in zip(packs, first, strict=True)}) > 1


def test_improvement_plan_starts_from_the_missed_targets_and_slowest_decisions(region_loss):
    tt, packs = region_loss
    rows = improvement_plan(tt)
    roots, _ = missed_rto_roots(tt)
    assert roots
    for r in roots:  # every service whose own recovery decided a missed RTO has a row
        assert sum(row.issue.startswith(f"{r} (") for row in rows) == 1
    decisions = [row for row in rows if row.issue.startswith("D")]
    slowest = sorted(decision_points(tt), key=lambda d: -d.took)[:2]
    assert sorted(row.issue.split(" took ")[1].split(" ")[0] for row in decisions) == sorted(
        dur(d.took) for d in slowest
    )
    staff = set(tt.plan.topology.staff)
    for row in rows:
        assert row.owner in staff, row
        assert row.due_days in DUE_DAYS
        assert row.recommendation.endswith(".")
    tiers = {s.name: s.tier for s in tt.result.services}
    assert {row.due_days for row in rows if tiers.get(row.issue.split(" ")[0]) == "tier0"} == {30}
    fac = packs["facilitator", "md"]
    section = fac.split("## Improvement plan", 1)[1].split("\n## ", 1)[0]
    assert "| issue | recommendation | owner | due |" in section
    table = [line for line in section.splitlines() if line.startswith("| ") and "| issue |" not in line]
    assert len(table) == len(rows) + 3  # three spare rows for the hot wash
    assert table[0].startswith(f"| {md_escape(rows[0].issue)} |")
    assert all(line.replace(" ", "") == "|||||" for line in table[-3:])
