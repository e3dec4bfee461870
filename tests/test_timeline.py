"""Tabletop facilitator packs: content, formats, the percentile pick, and the CLI."""

from __future__ import annotations

import html
import io
import itertools
import math
import re

import numpy as np
import pypdf
import pytest
from builders import base_drill, base_topology, plan_of
from click.testing import CliRunner

from drsim.analysis.representative import representative
from drsim.cli import main
from drsim.engine import vectorized
from drsim.engine.draws import Draws
from drsim.engine.outcomes import evaluate
from drsim.errors import OutputExistsError
from drsim.model.loader import bundled_names
from drsim.report import evidence as ev
from drsim.report import swimlane
from drsim.report.improvement import improvement_plan
from drsim.report.questions import RECOVERY_ASKS, RECOVERY_OPENINGS
from drsim.report.scripted import fill
from drsim.report.tabletop import Tabletop, tabletop
from drsim.report.timeline import derived_questions, event_rows, is_automated, render_timeline
from drsim.report.wording import dur, tplus

DRILLS = bundled_names("drills")
A4 = (595.3, 841.9)
LETTER = (612.0, 792.0)


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def squash(text: str) -> str:
    """Whitespace collapsed, so text wrapped over lines compares equal to the original."""
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def packs():
    """Each bundled drill's pack (seed 0) in every format, rendered once."""
    cache: dict[str, tuple[Tabletop, dict]] = {}

    def get(name: str):
        if name not in cache:
            tt = tabletop(name, seed=0)
            cache[name] = (tt, {fmt: render_timeline(tt, fmt) for fmt in ("md", "html", "pdf", "png")})
        return cache[name]

    return get


# ------------------------------------------------------------------ every bundled drill, every format


def table_rows(md: str, heading: str) -> list[list[str]]:
    """The cells of the table under ``heading`` in a Markdown pack, header left out, escapes and bold undone."""
    section = md.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| T+ |")]

    def cells(line):
        parts = re.split(r"(?<!\\)\|", line)[1:-1]
        return [re.sub(r"\\(.)", r"\1", p.strip()).removeprefix("**").removesuffix("**") for p in parts]

    return [cells(r) for r in rows]


def event_cells(tt, e) -> list[str]:
    return [tplus(e.time), tt.clock(e.time), e.actor, e.service or "", e.event]


@pytest.mark.parametrize("name", DRILLS)
def test_event_table_lists_what_people_did_in_order_and_the_appendix_the_automation(packs, name):
    tt, out = packs(name)
    md = out["md"]
    parsed = table_rows(md, "## Event timeline")
    events = [r for r in parsed if r[2] != "facilitator"]
    people = [e for e in tt.result.timeline if not is_automated(e)]
    automated = [e for e in tt.result.timeline if is_automated(e)]
    assert events == [event_cells(tt, e) for e in people]
    assert table_rows(md, "## Appendix: automated events") == [event_cells(tt, e) for e in automated]
    assert len(people) + len(automated) == len(tt.result.timeline)
    # nothing a person did or decided is in the appendix
    staff = set(tt.plan.topology.staff)
    assert not [e for e in automated if e.actor.split("#")[0] in staff]
    # injects sit between the events before their minute and those after it
    injects = tt.plan.drill.injects
    inject_rows = [i for i, r in enumerate(parsed) if r[2] == "facilitator"]
    assert len(inject_rows) == len(injects)
    times = []
    k = 0
    for r in parsed:
        if r[2] == "facilitator":
            times.append(None)
        else:
            times.append(people[k].time)
            k += 1
    for i, inj in zip(inject_rows, sorted(injects, key=lambda x: x.at)):
        assert parsed[i][4].endswith(squash(fill(tt, inj.text, inj.at, "")))
        assert all(t <= inj.at for t in times[:i] if t is not None)
        assert all(t > inj.at for t in times[i:] if t is not None)


def test_region_loss_event_table_keeps_people_and_decisions_and_sends_automation_to_the_appendix():
    tt = tabletop("region-loss", percentile=90, n=2000)
    main_rows, _ = event_rows(tt)
    appendix, _ = event_rows(tt, automated=True)
    assert (len(tt.result.timeline), len(tt.plan.drill.injects)) == (131, 6)
    assert (len(main_rows), len(appendix)) == (89, 48)  # 83 events and 6 injects; 48 automated events
    kinds = {e.kind for e in tt.result.timeline if not is_automated(e)}
    assert {"fault", "detect", "ack", "triage", "declare", "communicate", "trigger", "call-in"} <= kinds
    assert {e.kind for e in tt.result.timeline if is_automated(e)} == {"step", "restored", "queue"}


@pytest.mark.parametrize("name", DRILLS)
def test_pdf_opens_with_numbered_pages_and_holds_events_injects_and_after_action(packs, name):
    tt, out = packs(name)
    reader = pypdf.PdfReader(io.BytesIO(out["pdf"]))
    n = len(reader.pages)
    texts = [p.extract_text() for p in reader.pages]
    # seven sections, each starting a page; every page numbered "page i of n"
    assert n >= 7
    for i, t in enumerate(texts, 1):
        assert f"page {i} of {n}" in t
    firsts = [t.strip().splitlines()[0] for t in texts]
    heads = ("Exercise structure", "Event timeline", "Injects", "Decision points", "Discussion questions")
    order = [firsts.index(h) for h in (*heads, "After-action review", "Improvement plan", "Participant feedback form")]
    assert order == sorted(order)
    assert order[0] == 1
    assert firsts[0] == f"Tabletop exercise: {tt.plan.drill.name}"
    swim = next(i for i, t in enumerate(texts) if "Swimlane:" in t)
    assert order[0] < swim < order[1]
    # A4: portrait pages, the chart in landscape
    sizes = [(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1)) for p in reader.pages]
    assert sizes[swim] == A4[::-1]
    assert all(s == A4 for i, s in enumerate(sizes) if i != swim)
    body = squash(" ".join(texts))
    for e in tt.result.timeline:
        assert squash(e.event) in body
    assert tt.plan.drill.injects, f"bundled drill {name} has no injects"
    for inj in tt.plan.drill.injects:
        assert squash(fill(tt, inj.text, inj.at, "")) in body
        if inj.prompt:
            assert squash(fill(tt, inj.prompt, inj.at, "")) in body
    for q in tt.plan.drill.questions:
        assert squash(fill(tt, q, 0.0, "")) in body
    assert "After-action review" in body
    assert "Observations" in body


@pytest.mark.parametrize("name", DRILLS)
def test_html_is_one_self_contained_file(packs, name):
    tt, out = packs(name)
    doc = out["html"]
    low = doc.lower()
    for bad in ('src="http', "src='http", "<link", "<script", "@import", "<img", "<iframe", "<object"):
        assert bad not in low, bad
    # references only point inside the file (the chart's clip paths and glyphs)
    assert not re.search(r"url\(\s*['\"]?(?!#)", doc)
    assert all(h.startswith("#") for h in re.findall(r"href=[\"']([^\"']*)", doc))
    assert low.count("<svg") == 1
    assert "@page" in doc
    assert "size: A4" in doc
    assert "page-break-before: always" in doc
    for e in tt.result.timeline:
        assert html.escape(e.event) in doc
    for inj in tt.plan.drill.injects:
        assert html.escape(fill(tt, inj.text.strip(), inj.at, "")) in doc


@pytest.mark.parametrize("name", DRILLS)
def test_png_is_the_swimlane_page(packs, name):
    from PIL import Image

    _, out = packs(name)
    img = Image.open(io.BytesIO(out["png"]))
    # the landscape A4 chart page at 150 dpi
    assert img.size == (int(297 / 25.4 * 150), int(210 / 25.4 * 150))


@pytest.mark.parametrize("name", DRILLS)
def test_bundled_drill_carries_objectives_injects_and_questions(name):
    tt = tabletop(name, seed=0)
    d = tt.plan.drill
    assert d.objectives
    assert d.injects
    assert d.questions
    for inj in d.injects:
        assert inj.text.strip()
        assert inj.audience.strip()


@pytest.mark.parametrize("name", DRILLS)
def test_outage_breakdown_adds_up_to_each_rto(name):
    """Every second of every restored service's outage is counted once, along a contiguous chain."""
    tt = tabletop(name, seed=3)
    plan, rep = tt.plan, tt.replay
    for s in tt.result.services:
        if not s.affected or not s.restored:
            continue
        b = ev.breakdown(plan, rep.start, rep.finish, rep.actors, s.name)
        assert sum(b.phases.values()) == pytest.approx(s.rto, abs=1e-6)
        path = ev.critical_path(plan, rep.start, rep.finish, plan.outages[s.name].restored_task)
        for prev, seg in itertools.pairwise(path):
            assert seg.ready == prev.finish
            assert seg.ready <= seg.start <= seg.finish


# ------------------------------------------------------------------ a small estate with closed-form times


def _estate(declare="40m", second_service=False):
    steps_a = [{"name": "promote", "duration": "5m" if not second_service else "30m", "role": "dba"}]
    services = {
        "svc-a": {
            "tier": "tier0",
            "region": "site",
            "recovery": {"strategy": "warm-standby", "standby_region": "dr", "steps": steps_a},
        },
    }
    if second_service:
        services["svc-b"] = {
            "tier": "tier0",
            "region": "site",
            "recovery": {
                "strategy": "warm-standby",
                "standby_region": "dr",
                "steps": [{"name": "promote", "duration": "30m", "role": "dba"}],
            },
        }
    topo = base_topology(services)
    drill = base_drill(
        response={
            "page": ["ic"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": declare, "name": "decision: fail over to dr"},
        },
        injects=[
            {
                "at": "10m",
                "audience": "pharmacy",
                "text": "Orders are not reaching the cabinets.",
                "prompt": "What do you tell the ward?",
            }
        ],
        questions=["Who decides?"],
        objectives=["Fail over inside 15m."],
    )
    return plan_of(topo, drill)


def recovery_question(qs: list[str], service: str, rto: str, target: str, tier: str = "tier0") -> tuple[str, str]:
    """The question about ``service``'s recovery, split into its opening and the rest (whichever wording it got)."""
    heads = [
        h.format(service=service, rto=rto, inside=f" against a {target} target", tier=tier) for h in RECOVERY_OPENINGS
    ]
    (q,) = [q for q in qs if any(q.startswith(h) for h in heads)]
    head = next(h for h in heads if q.startswith(h))
    return head, q[len(head) :]


def test_decision_delay_question_in_closed_form():
    # detect 1m, ic acknowledges 1m, triage 1m, decision 40m, dba promote 5m: RTO 48m
    tt = tabletop(_estate(), seed=0)
    (svc,) = [s for s in tt.result.services if s.affected]
    assert svc.rto == 48 * 60
    _, rest = recovery_question(derived_questions(tt), "svc-a", "48m", "15m")
    clause = "43m of that passed before the decision at 10:43 (fail over to dr; deciding took 40m)."
    assert rest in {f"{clause} {ask}" for ask in RECOVERY_ASKS["decision"]}
    b = ev.breakdown(tt.plan, tt.replay.start, tt.replay.finish, tt.replay.actors, "svc-a")
    assert b.phases == {
        "detection": 60.0,
        "acknowledging the page": 60.0,
        "triage": 60.0,
        "the decision": 2400.0,
        "runbook work": 300.0,
    }
    assert ev.main_cause(tt.plan, tt.replay.start, tt.replay.finish, b) == ev.Cause("decision", 43 * 60.0, "ic")


def test_staff_wait_question_in_closed_form():
    # one DBA, two 30m promotions after a 1m decision: svc-b waits 30m behind svc-a
    tt = tabletop(_estate(declare="1m", second_service=True), seed=0)
    rto = {s.name: s.rto for s in tt.result.services if s.affected}
    assert rto == {"svc-a": 34 * 60, "svc-b": 64 * 60}
    qs = derived_questions(tt)
    _, rest = recovery_question(qs, "svc-a", "34m", "15m")
    assert rest in {f"30m of that was hands-on runbook work. {ask}" for ask in RECOVERY_ASKS["runbook"]}
    _, rest = recovery_question(qs, "svc-b", "1h04m", "15m")
    clause = "30m of that was 'svc-b: promote' waiting for a free dba (busy with 'svc-a: promote')."
    assert rest in {f"{clause} {ask}" for ask in RECOVERY_ASKS["wait"]}


def test_improvement_plan_in_closed_form_aims_at_the_decision():
    # svc-a: 43m of its 48m outage passed before the decision; the decision itself took 40m of the ic's time
    tt = tabletop(_estate(), seed=0)
    rows = improvement_plan(tt)
    svc = rows[0]
    assert svc.issue == "svc-a (tier0) back after 48m against a 15m RTO target."
    assert svc.recommendation.startswith("43m passed before the decision (fail over to dr): agree a standing rule")
    assert (svc.owner, svc.due_days, svc.due) == ("ic", 30, "within 30 days")
    decisions = [r for r in rows if r.issue.startswith("D")]
    assert [(r.issue, r.owner, r.due_days) for r in decisions] == [
        ("D1 (Major incident? (triage: confirm scope and impact)) took 1m from when it could start to done.", "ic", 30),
        ("D2 (Decision: fail over to dr) took 40m from when it could start to done.", "ic", 30),
    ]  # the two slowest of its two decisions, in the order they were taken


def test_improvement_plan_in_closed_form_asks_for_a_second_person():
    # one DBA, two 30m promotions: svc-b waited 30m behind svc-a, svc-a was 30m of runbook work
    tt = tabletop(_estate(declare="1m", second_service=True), seed=0)
    by_issue = {r.issue: r for r in improvement_plan(tt)}
    a = by_issue["svc-a (tier0) back after 34m against a 15m RTO target."]
    assert a.recommendation == (
        "Hands-on work took 30m: automate or pre-stage the longest steps starting with 'svc-a: promote', "
        "and rehearse them."
    )
    assert a.owner == "dba"
    b = by_issue["svc-b (tier0) back after 1h04m against a 15m RTO target."]
    assert b.recommendation == (
        "'svc-b: promote' waited 30m for a free dba behind 'svc-a: promote': call in or cross-train a second dba."
    )
    assert b.owner == "dba"


def test_no_missed_target_leaves_only_the_slowest_decisions_in_the_plan():
    tt = tabletop(_estate(declare="1m"), seed=0)
    assert tt.result.passed
    assert all(r.issue.startswith("D") for r in improvement_plan(tt))


def test_state_of_play_at_an_inject():
    tt = tabletop(_estate(), seed=0)
    st = tt.state(10 * 60)  # the inject's minute: decision under way since 10:03
    assert st.alerts == [(60.0, "region-loss on site detected")]
    assert st.acknowledged == [(120.0, "ic#1@am"), (240.0, "dba#1@am")]  # people named by their shift
    assert st.declared is None
    assert [(b.actor, b.since) for b in st.busy] == [("ic#1@am", 180.0)]
    assert [(d.service, d.down_for(st.time)) for d in st.down] == [("svc-a", 600.0)]
    md = render_timeline(tt, "md")
    card = md.split("### I1", 1)[1].split("\n## ", 1)[0]
    assert "Still down: svc-a (tier0, target 15m) down 10m." in card
    assert "Not decided yet: fail over to dr." in card


def test_no_missed_target_suggests_a_bad_night():
    tt = tabletop(_estate(declare="1m"), seed=0)  # 1+1+1+1+5 = 9m, inside 15m
    assert tt.result.passed
    qs = derived_questions(tt)
    assert [q[:4] for q in qs[:-1]] == ["(D1)", "(D2)"]  # triage and the decision, still worth discussing
    assert qs[-1] == (
        "Every target was met in this replay. Rerun the pack with --percentile 90 to rehearse a bad night: what changes?"
    )


def test_a_service_that_never_comes_back():
    services = {
        "svc-a": {"tier": "tier0", "region": "site", "recovery": {"strategy": "none"}},
        "svc-b": {"tier": "tier1", "region": "dr", "depends_on": ["svc-a"], "recovery": {"strategy": "none"}},
    }
    plan = plan_of(base_topology(services), base_drill())
    tt = tabletop(plan, seed=0, percentile=90, n=20)
    assert tt.selection.value == math.inf
    assert [q for q in derived_questions(tt) if not q.startswith("(D")] == [
        "svc-a never came back in this replay (no way back: its standby is lost with it and the fault does not "
        "clear). svc-b was down until it was back. What is the fallback, and who decides to invoke it?"
    ]
    lanes = swimlane.build_lanes(tt)
    assert [b.open_end for b in lanes.bars if b.style == "outage"] == [True, True]
    md = render_timeline(tt, "md")
    assert "| **svc-a** | **tier0** | **never** | **15m** | **0s** | **1m** | **RTO MISSED** |" in md
    reader = pypdf.PdfReader(io.BytesIO(render_timeline(tt, "pdf")))
    assert "never restored (target 15m)" in reader.pages[2].extract_text()  # after the cover and the agenda


# ------------------------------------------------------------------ picking a representative replay


def test_representative_is_an_order_statistic():
    v = np.array([5.0, 1.0, 3.0, 3.0, 9.0, np.inf, 7.0, 2.0, 8.0, 4.0])
    # the p-th percentile is the ceil(p/100 * n)-th smallest value; ties go to the lowest replicate
    for p, want in ((10, 1), (30, 2), (40, 2), (50, 9), (90, 4), (99, 5), (100, 5)):
        assert representative(v, p) == want


def test_percentile_90_replays_the_sweeps_90th_percentile():
    seed, n = 11, 400
    tt = tabletop("region-loss", seed=seed, percentile=90, n=n)
    # draw the same sweep independently and take its empirical 90th percentile
    plan = tt.plan
    draws = Draws.sample(plan.elements(), seed, n)
    finish = vectorized.run_many(plan, draws)
    values = evaluate(plan, draws, finish)["tier:tier0:rto"]
    p90 = np.sort(values)[math.ceil(0.9 * n) - 1]
    r = tt.selection.replicate
    assert values[r] == p90
    # the event-by-event replay of that replicate has exactly that tier-0 RTO
    assert tt.result.metrics["tier:tier0:rto"] == p90
    assert tt.selection.metric == "tier:tier0:rto"
    assert tt.selection.value == p90
    cover = render_timeline(tt, "md").split("## Objectives")[0]
    assert f"replicate {r} of a sweep of 400 drawn with seed {seed}" in cover
    assert f"its tier0 RTO ({dur(p90)}) is the 90th percentile" in cover


def test_cli_percentile_states_the_replicate():
    res = cli("timeline", "az-loss", "--percentile", "50", "--n", "200", "--seed", "4", "--format", "md")
    assert res.exit_code == 0, res.output
    assert "is the 50th percentile of the sweep" in res.output


# ------------------------------------------------------------------ files, paper and the CLI


def test_cli_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "pack.md"
    out.write_text("keep me")
    res = cli("timeline", "region-loss", "-o", str(out))
    assert res.exit_code == 4, res.output
    assert "already exists" in res.output
    assert out.read_text() == "keep me"
    res = cli("timeline", "region-loss", "-o", str(out), "--force")
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("# Tabletop exercise: region-loss")


def test_cli_writes_each_format_from_the_suffix(tmp_path):
    for suffix, magic in ((".pdf", b"%PDF"), (".png", b"\x89PNG"), (".html", b"<!DOCTYPE html>")):
        out = tmp_path / f"pack{suffix}"
        res = cli("timeline", "data-sync-drift", "-o", str(out), "--paper", "letter")
        assert res.exit_code == 0, res.output
        assert out.read_bytes().startswith(magic)
    reader = pypdf.PdfReader(tmp_path / "pack.pdf")
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == LETTER
    assert "size: letter" in (tmp_path / "pack.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "pack.txt"], "cannot tell the format"),
        (["--format", "pdf"], "needs a file"),
        (["--format", "md", "--page", "2"], "png output only"),
        (["--format", "png", "-o", "p.png", "--page", "99"], "expected a page from 1 to"),
        (["--percentile", "0", "--format", "md"], "0<x<=100"),
        (["--format", "docx", "-o", "p.docx"], "'docx' is not one of"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = cli("timeline", "az-loss", *args)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_api_returns_or_writes(tmp_path):
    tt = tabletop("az-loss", seed=2)
    assert isinstance(render_timeline(tt, "md"), str)
    letter = render_timeline(tt, "pdf", paper="letter")
    assert letter.startswith(b"%PDF")
    # US Letter: 8.5 x 11 in portrait pages, the chart page in landscape
    pages = pypdf.PdfReader(io.BytesIO(letter)).pages
    sizes = [(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1)) for p in pages]
    assert sizes.count((792.0, 612.0)) == 1
    assert sizes.count((612.0, 792.0)) == len(sizes) - 1
    p = tmp_path / "x.html"
    assert render_timeline(tt, "html", p) == p
    with pytest.raises(OutputExistsError):
        render_timeline(tt, "html", p)
    render_timeline(tt, "html", p, force=True)
    with pytest.raises(TypeError, match="Tabletop"):
        render_timeline(tt.result, "md")


# ------------------------------------------------------------------ the chart


def test_chart_styles_read_in_greyscale():
    """Every bar style differs from every other by hatching or grey level; every marker by shape or fill."""
    for face, _, edge, _ in swimlane.BAR_STYLES.values():
        for c in (face, edge):
            assert c[1:3] == c[3:5] == c[5:7], f"{c} is not a grey"
    keys = [(face, hatch) for face, hatch, _, _ in swimlane.BAR_STYLES.values()]
    assert len(set(keys)) == len(keys)
    marks = [(m, fill) for m, _, fill, _ in swimlane.MARK_STYLES.values()]
    assert len(set(marks)) == len(marks)


def test_chart_lanes_cover_every_worker_and_service():
    tt = tabletop("region-loss", seed=0)
    lanes = swimlane.build_lanes(tt)
    # a step needing several people at once ("ward-clerks#1+ward-clerks#2") draws a bar for each
    workers = {p for i, a in tt.replay.actors.items() if math.isfinite(tt.replay.start[i]) for p in a.split("+")}
    assert workers <= set(lanes.names)
    services = {n.split(" (")[0] for n, g in zip(lanes.names, lanes.groups) if g == "services"}
    assert services == set(tt.plan.outages)
    staffed = [
        t
        for t in tt.plan.tasks
        if t.role and math.isfinite(tt.replay.start[t.index]) and tt.replay.finish[t.index] > tt.replay.start[t.index]
    ]
    people_bars = [b for b in lanes.bars if lanes.groups[b.lane] == "people"]
    # a task handed to an incoming shift is a bar in each lane it passed through
    assert len(people_bars) == sum(t.people * (1 + len(tt.replay.handed.get(t.index, []))) for t in staffed)


@pytest.mark.parametrize("drill", DRILLS)
def test_every_marker_bar_and_line_on_the_chart_is_in_its_legend(drill):
    from matplotlib.figure import Figure

    tt = tabletop(drill, seed=0)
    lanes = swimlane.build_lanes(tt)
    fig = Figure(figsize=(11.7, 8.3))
    swimlane.draw(fig, (0.05, 0.1, 0.9, 0.8), tt, lanes)
    (legend,) = fig.legends
    shown = {t.get_text() for t in legend.get_texts()}
    want = {swimlane.MARK_STYLES[m.style][3] for m in lanes.marks}
    want |= {swimlane._legend_label(b.style, tt) for b in lanes.bars}
    want |= {f"{label} {tt.clock(t)}" for t, label, _ in lanes.vlines}
    if lanes.target is not None:  # drawn when the target falls on the chart
        want.add(lanes.target[1])
    assert want == shown


def test_the_chart_draws_the_tier0_target_and_where_each_outage_ran_past_its_own():
    tt = tabletop("region-loss", percentile=90, n=2000)
    lanes = swimlane.build_lanes(tt)
    # the fault at 02:10, tier0's RTO target 15m: the line at 02:25
    assert lanes.target == (15 * 60.0, "tier0 RTO target (15m) Sat 02:25")
    topo, finish = tt.plan.topology, tt.replay.finish
    expected = set()
    for s, o in tt.plan.outages.items():
        down = float(finish[o.down_task])
        if down + topo.tiers[o.tier].rto <= lanes.xmax:
            expected.add((lanes.names.index(f"{s} ({o.tier})"), down + topo.tiers[o.tier].rto))
    assert {(m.lane, m.time) for m in lanes.marks if m.style == "target"} == expected
    assert len(expected) == len(tt.plan.outages)  # every target falls inside this long night's chart
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.7, 8.3))
    swimlane.draw(fig, (0.05, 0.1, 0.9, 0.8), tt, lanes)
    colour, width = swimlane.TARGET_LINE
    drawn = [
        ln.get_xdata()[0]
        for ax in fig.axes
        for ln in ax.get_lines()
        if ln.get_color() == colour and ln.get_linewidth() == width
    ]
    assert drawn == [15 * 60.0]  # in the opening panel only


@pytest.mark.parametrize("drill", DRILLS)
def test_the_first_to_acknowledge_is_the_one_shown_triaging(drill):
    from drsim.api import prepare
    from drsim.engine import des

    plan = prepare(drill)
    triage = next(t for t in plan.tasks if t.kind == "triage")
    draws = Draws.sample(plan.elements(), 0, 4)
    checked = 0
    for r in range(draws.n):
        rep = des.replay(plan, draws, r)
        if any(h.role == triage.role and h.time <= rep.start[triage.index] for h in plan.handovers):
            continue  # a shift change renumbers the people on duty (free people leave, lowest first)
        checked += 1
        acks = [e for e in rep.timeline if e.kind == "ack" and e.actor.split("#")[0] == triage.role]
        shift = plan.shift_of[triage.role]
        numbered = [f"{triage.role}#{k + 1}@{shift}" for k in range(len(acks))]
        assert [e.actor for e in acks] == numbered, "numbered in order, by the shift on duty"
        started = next(e for e in rep.timeline if e.phase == "start" and e.kind == "triage")
        assert started.actor == acks[0].actor
        assert rep.timeline.index(acks[0]) < rep.timeline.index(started)
    assert checked > 0


def _story_plan():
    """An IC slow to answer (level 2 pages the manager), a DBA called in, a restore that fails twice and is
    replaced by a rebuild from scratch, which runs past 20:00 and is handed to the night shift."""
    from builders import auto_service, base_drill, base_topology, plan_of, role

    shifts = [
        {"name": "day", "start": "08:00", "end": "20:00", "headcount": 1, "acknowledge": "1m"},
        {"name": "night", "start": "20:00", "end": "08:00", "headcount": 1, "acknowledge": "1m", "pace": 1.5},
    ]
    staff = {
        "ic": role(acknowledge="20m"),
        "manager": role(acknowledge="2m"),
        "dba": {
            "shifts": shifts,
            "handover": "15m",
            "call_in": {"available": 1, "respond": "10m", "remote_login": "20m"},
        },
    }
    failure = {
        "probability": 1.0,
        "retry": {"limit": 1, "duration": "20m"},
        "otherwise": [{"name": "rebuild from scratch", "duration": "3h", "role": "dba"}],
    }
    services = {"db": auto_service([{"name": "restore", "duration": "30m", "role": "dba", "failure": failure}])}
    drill = base_drill(
        start="2026-03-11T18:00",
        response={
            "page": ["ic"],
            "escalation": {"timeout": "5m", "levels": [["manager"]]},
            "triage": {"role": "ic", "duration": "2m"},
            "declare": {"role": "manager", "duration": "1m"},
            "call_in": [{"role": "dba", "count": 1, "when": "detected"}],
        },
    )
    return plan_of(base_topology(services, staff=staff), drill)


def test_the_event_table_tells_timeouts_call_ins_failures_and_handovers_in_the_order_they_happen():
    tt = tabletop(_story_plan(), seed=0)
    md = render_timeline(tt, "md")
    main_table, appendix = md.split("## Appendix: automated events")
    rows = [line for line in main_table.splitlines() if line.startswith("| T+")]
    assert "| 23:36 | automation | db | db restored |" in appendix
    # the rebuild (3h from 19:14, due 22:14) has 134m left at 20:00: 15m + 134m x 1.5 at night, ends 23:36
    story = [
        ("18:06", "level 2 paged: manager (no acknowledgement within 5m)"),
        ("18:08", "manager#1@pm acknowledges the page"),
        ("18:11", "1 dba called in off shift: answers the call"),
        ("18:31", "1 dba called in: logged in from home"),
        ("18:54", "db: restore: attempt 1 failed - trying again (retry 1 of 1)"),
        ("19:14", "db: restore - attempt 2 failed: no retries left"),
        ("19:14", "db: restore FAILED (2 attempts) - taking the alternate path"),
        ("19:14", "db: rebuild from scratch"),
        ("20:00", "hands over db: rebuild from scratch to dba#1@night (15m handover)"),
        ("23:36", "db: rebuild from scratch - done"),
    ]
    where = []
    for clock, text in story:
        hits = [i for i, r in enumerate(rows) if f"| {clock} |" in r and r.rstrip(" |").endswith(text)]
        assert hits, (clock, text, rows)
        where.append(hits[0])
    assert where == sorted(where), [rows[i] for i in where]
    # who: the person who began the rebuild hands it over, and the one it went to finishes it
    assert "| dba#1@day | db | hands over" in rows[where[8]]
    assert "| dba#1@night | db | db: rebuild from scratch - done" in rows[where[9]]
    # the triage starts only once its person has acknowledged (acknowledgement first at one instant)
    ack = next(i for i, r in enumerate(rows) if "ic#1@pm acknowledges the page" in r)
    triage = next(i for i, r in enumerate(rows) if r.rstrip(" |").endswith("triage: confirm scope and impact"))
    assert ack < triage
