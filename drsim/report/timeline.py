"""Tabletop facilitator packs: a printable timeline of one replay of a drill.

A tabletop exercise puts the people who use the services (in a hospital,
clinicians), IT, compliance and executives around a
table and walks them through a failure minute by minute. The facilitator needs
paper: what happens when, who acts, where the decisions fall, which injects to
read out at which minute and what to ask. This module writes that pack from a
replay of the very drill the engineers run, in the order a facilitator uses it:

1. a cover — the drill, the estate, the clock time it starts and who is on
   shift, the objectives and the participants;
2. a one-page swimlane chart (:mod:`drsim.report.swimlane`);
3. the event table — every event of the replay, with the injects placed at
   their times;
4. the injects, each with its prompt, expected actions and the state of play
   in the replay at that minute;
5. the decision points with the evidence available at each;
6. discussion questions: the drill's own, and ones derived from where this
   replay missed its targets;
7. an after-action section: targets met and missed, the decision-latency
   breakdown, and ruled lines for observations.

The facilitator edition adds an agenda, the roles in the room, ground rules
and a feedback form (:mod:`drsim.report.exercise`); the participant edition
keeps only what can be handed round — the situation, injects, decisions and
the drill's questions, with no outcome of the replay.

The replay shown is either replicate 0 of a seed (as ``drsim drill`` replays)
or, with a percentile, the replicate of a sweep whose most critical tier's RTO
sits at that percentile ("show us a bad night"); choosing and replaying it is
:mod:`drsim.analysis.representative`'s job, and this module only writes up the
:class:`~drsim.report.tabletop.Tabletop` it is given. The pack renders to
Markdown, one self-contained HTML file, PDF (A4 or US Letter) and PNG. Errors
name the parameter at fault (``format``, ``paper``, ``page``); the command
line words them as its options.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..io import atomic_write
from ..plan import Plan, shift_on_duty
from ..version import __version__
from . import evidence as ev
from . import exercise, improvement, swimlane
from .calibration import calibration_section
from .decisions import decision_points, decision_words
from .document import Bullets, Chart, Document, Heading, Keep, Para, Ruled, Section, Table, to_html, to_markdown
from .pages import first_page_of, layout, render_pdf, render_png
from .questions import derived_questions
from .scripted import fill
from .tabletop import Tabletop, describe_selection, label_selection
from .wording import comma_list, dur, share, tplus

#: The formats a pack renders to.
FORMATS = ("md", "html", "pdf", "png")
#: The paper sizes a pack prints on.
PAPERS = ("a4", "letter")
#: The editions of a pack: the facilitator's (everything, answers included) and the participants' (no answers).
EDITIONS = ("facilitator", "participant")

# ------------------------------------------------------------------ the state of play


def state_lines(tt: Tabletop, st: ev.State) -> list[str]:
    """The state of play as short sentences a facilitator can read from."""
    c = tt.clock
    out = []
    if st.alerts:
        out.append("Alerts: " + comma_list([f"{what} ({c(t)})" for t, what in st.alerts]))
    else:
        out.append("No alert has fired yet.")
    # by role: people of a role are interchangeable, the first to acknowledge starts the work
    acked: dict[str, list[float]] = {}
    for t, who in st.acknowledged:
        acked.setdefault(who.split("#")[0], []).append(t)
    waiting: dict[str, int] = {}
    for who in st.awaiting_ack:
        waiting[who.split("#")[0]] = waiting.get(who.split("#")[0], 0) + 1
    cap = tt.plan.capacity
    if acked:
        out.append(
            "Acknowledged their page: "
            + "; ".join(
                f"{r} ({c(ts[0])})" if cap.get(r, 1) == 1 else f"{r} {len(ts)} of {cap[r]} (first at {c(ts[0])})"
                for r, ts in acked.items()
            )
        )
    if waiting:
        out.append(
            "Paged, not yet acknowledged: "
            + "; ".join(r if cap.get(r, 1) == 1 else f"{r} {k} of {cap[r]}" for r, k in waiting.items())
        )
    if st.busy:
        out.append("Working: " + "; ".join(f"{b.actor} on '{b.task}' since {c(b.since)}" for b in st.busy))
    if st.handovers:
        latest = {r: (t, text) for t, r, text in st.handovers}  # in time order: the last one per role
        out.append("Roster since the start: " + "; ".join(f"{r} at {c(t)}, {x}" for r, (t, x) in latest.items()) + ".")
    if st.called_in:
        out.append("Called in and arrived: " + "; ".join(f"{x} ({c(t)})" for t, x in st.called_in) + ".")
    if st.on_the_way:
        out.append("Called in, on the way: " + "; ".join(f"{r} (called {c(t)})" for t, r in st.on_the_way) + ".")
    decision = decision_words(tt.plan)
    if st.declared is not None:
        out.append(f"Decided at {c(st.declared)}: {decision}.")
    elif st.alerts:
        out.append(f"Not decided yet: {decision}.")
    if st.down:
        groups: dict[tuple[str, float], list[str]] = {}
        for d in st.down:
            groups.setdefault((d.tier, d.since), []).append(d.service)
        parts = []
        for (tier, since), names in groups.items():
            target = tt.plan.topology.tiers[tier].rto
            over = ", over target" if st.time - since > target else ""
            parts.append(f"{', '.join(names)} ({tier}, target {dur(target)}) down {dur(st.time - since)}{over}")
        out.append("Still down: " + "; ".join(parts) + ".")
    elif not st.restored:
        out.append("Nothing is down yet.")
    if st.restored:
        out.append("Restored: " + comma_list([f"{s} ({c(t)})" for t, s in st.restored]) + ".")
    full = [b.queue for b in st.backlogs if b.dropping]
    filling = [f"{b.queue} {share(b.messages, b.buffer)}" for b in st.backlogs if not b.dropping and b.buffer]
    if full:
        out.append("Interface buffers full, messages being dropped: " + ", ".join(full) + ".")
    if filling:
        out.append("Interface buffers filling: " + ", ".join(filling) + ".")
    if st.workflows_on_paper:
        fallback = tt.plan.topology.words().fallback
        out.append(
            f"On {fallback} (time so far / can absorb): "
            + "; ".join(
                f"{w} {dur(d)} / {dur(tol)}{' EXCEEDED' if d > tol else ''}" for w, d, tol in st.workflows_on_paper
            )
            + "."
        )
    return out


def _role_parts(plan: Plan) -> dict[str, list[str]]:
    resp = plan.drill.response
    parts: dict[str, list[str]] = {}

    def add(role, what):
        if role and what not in parts.setdefault(role, []):
            parts[role].append(what)

    for r in resp.page:
        add(r, "paged at detection")
    if resp.triage is not None:
        add(resp.triage.role, "triages")
    for r in resp.escalate:
        add(r, "paged at escalation")
    add(resp.declare.role, f"decides ({decision_words(plan)})")
    if resp.communicate is not None:
        add(resp.communicate.role, f"tells {plan.topology.words().told}")
    for t in plan.tasks:
        if t.kind == "break-glass":
            add(t.role, "needs break-glass access")
    runbook: dict[str, list[str]] = {}
    for t in plan.tasks:
        if t.role and t.kind in ("step", "validate"):
            what = t.service or "rollback"
            if what not in runbook.setdefault(t.role, []):
                runbook[t.role].append(what)
    for role, svcs in runbook.items():
        add(role, "runbook: " + ", ".join(svcs))
    return parts


# ------------------------------------------------------------------ sections


def _cover(tt: Tabletop, participant: bool = False) -> Section:
    plan, res, drill, topo = tt.plan, tt.result, tt.plan.drill, tt.plan.topology
    edition = "participant situation manual" if participant else "facilitator and evaluator handbook"
    blocks: list = [Heading(f"Tabletop exercise: {drill.name}", 1), Para(edition[0].upper() + edition[1:], "note")]
    if drill.description:
        blocks.append(Para(drill.description.strip()))
    faults = []
    for f in drill.faults:
        line = f"{tplus(f.at)} ({tt.clock(f.at)}): {f.kind} of {', '.join(f.targets)}"
        if f.duration is not None:
            line += f", clearing by itself after about {dur(float(f.duration.ppf(np.array([0.5]))[0]))}"
        faults.append(line)
    missed = res.missed
    verdict = "every target met"
    if missed:
        verdict = f"{len(missed)} targets missed, among them {', '.join(missed[:3])} (see the after-action review)"
        if len(missed) <= 3:
            verdict = f"targets missed: {', '.join(missed)} (see the after-action review)"
    facts = [
        ["Estate", topo.name + (f" - {topo.description.strip()}" if topo.description else "")],
        ["Starts", f"{res.start:%A %d %B %Y, %H:%M}"],
        ["What fails", "; ".join(faults)],
    ]
    if not participant:  # how the replay went is the facilitator's to know
        facts += [["Replay shown", describe_selection(tt.selection)], ["In this replay", verdict]]
    blocks.append(Table(["", ""], facts, weights=[1, 5], header=False))
    blocks.append(Heading("Objectives"))
    if drill.objectives:
        blocks.append(Bullets([fill(tt, o, 0.0, f"objectives[{i}]") for i, o in enumerate(drill.objectives)]))
    else:
        blocks.append(Para("The drill file lists no objectives (add them under objectives:).", "note"))
    tiers = sorted({o.tier for o in plan.outages.values()}, key=lambda t: (topo.tiers[t].rto, topo.tiers[t].rpo, t))
    if tiers:
        blocks.append(
            Table(
                ["recovery target", "RTO", "RPO", "services affected in this drill"],
                [
                    [
                        t,
                        dur(topo.tiers[t].rto),
                        dur(topo.tiers[t].rpo),
                        ", ".join(sorted(s for s, o in plan.outages.items() if o.tier == t)),
                    ]
                    for t in tiers
                ],
                weights=[1.2, 0.7, 0.7, 5],
            )
        )
    blocks.append(Heading("Participants on shift"))
    parts = _role_parts(plan)
    rows, idle = [], []
    for r in [*parts, *(r for r in topo.staff if r not in parts)]:
        if r not in topo.staff:
            continue
        role = topo.staff[r]
        sh = shift_on_duty(role, drill.start)
        if r not in parts:
            idle.append(f"{r} ({sh.name}, {sh.headcount} on shift)" if sh else f"{r} (nobody on shift)")
            continue
        on = "nobody on shift"
        if sh:
            ack = dur(float(sh.acknowledge.ppf(np.array([0.5]))[0]))
            on = f"{sh.name}: {sh.headcount} on shift; answers a page in about {ack}"
        if later := _takes_over(plan, r):
            on += "; then " + ", ".join(later)
        rows.append([r, role.description.strip() or "-", on, "; ".join(parts[r])])
    blocks.append(Table(["role", "who", "on shift", "part in this drill"], rows, weights=[1.3, 2.6, 1.6, 2.2]))
    if idle:
        blocks.append(Para("On shift but not involved: " + ", ".join(idle) + "."))
    audiences = []
    for inj in drill.injects:
        if inj.audience not in topo.staff and inj.audience not in audiences:
            audiences.append(inj.audience)
    if audiences:
        blocks.append(Para("Also at the table (injects are addressed to them): " + ", ".join(audiences) + "."))
    return Section("cover", blocks, one_page=True)


#: How far ahead of the drill start the cover tells who takes over (seconds): a day of shifts.
TAKES_OVER_WITHIN = 86400.0


def _takes_over(plan: Plan, role: str) -> list[str]:
    """Who takes over ``role`` within :data:`TAKES_OVER_WITHIN` of the start, in order: ``day-weekend (1) from
    Sun 07:00``, ``nobody from Sun 19:00`` (the roster's shift changes; they do not depend on the replay)."""
    out = []
    shifts = {sh.name: sh for sh in plan.topology.staff[role].shifts}
    for t, name in plan.shift_spans.get(role, [])[1:]:
        if t > TAKES_OVER_WITHIN:
            break
        when = f"{plan.drill.start + dt.timedelta(seconds=t):%a %H:%M}"
        out.append(f"{name} ({shifts[name].headcount}) from {when}" if name else f"nobody from {when}")
    return out


def _swimlane(tt: Tabletop) -> Section:
    lanes = swimlane.build_lanes(tt)
    chart = Chart(
        draw=lambda fig, rect: swimlane.draw(fig, rect, tt, lanes),
        svg=lambda: swimlane.svg(tt),
        alt=swimlane.lane_table(tt, lanes),
        caption=(
            "Lanes: injects, monitoring, each person who was paged or worked, automation, and every affected service. "
            "Clock time below, time since the drill started (T+) above."
        ),
    )
    return Section("swimlane", [Heading(f"Swimlane: {tt.plan.drill.name}", 2), chart], landscape=True)


#: Actors that are not people: what they do goes to the automation appendix, not the event table.
AUTOMATED_ACTORS = frozenset({"automation", "interface engine"})


def is_automated(e) -> bool:
    """Whether a timeline event is the estate's automation — a scripted step, a restoration, an interface
    queue — rather than something people did or decided, or a moment of the incident (the fault, an alert,
    a milestone such as a failed step taking its alternate path)."""
    if e.kind in ("restored", "queue"):
        return True
    return e.actor in AUTOMATED_ACTORS and e.kind in ("step", "validate")


def event_rows(tt: Tabletop, automated: bool | None = False) -> tuple[list[list[str]], set[int]]:
    """Rows of an event table, in time order: with ``automated`` False, what people did and decided, the
    incident's own moments and the injects placed at their times; with True, only the automation (no
    injects); with None, every event and the injects."""
    injects = [] if automated else sorted(enumerate(tt.plan.drill.injects, 1), key=lambda x: (x[1].at, x[0]))
    rows: list[list[str]] = []
    emphasis: set[int] = set()
    k = 0

    def put_inject(num, inj):
        emphasis.add(len(rows))
        rows.append(
            [
                tplus(inj.at),
                tt.clock(inj.at),
                "facilitator",
                "",
                f"INJECT I{num} for {inj.audience}: {fill(tt, inj.text, inj.at, f'injects[{num - 1}].text')}",
            ]
        )

    for e in tt.result.timeline:
        if automated is not None and is_automated(e) != automated:
            continue
        while k < len(injects) and injects[k][1].at < e.time:
            put_inject(*injects[k])
            k += 1
        rows.append([tplus(e.time), tt.clock(e.time), e.actor, e.service or "", e.event])
    for num, inj in injects[k:]:
        put_inject(num, inj)
    return rows, emphasis


EVENT_COLUMNS = ["T+", "clock", "actor", "service", "what happens"]
EVENT_WEIGHTS = [0.9, 0.8, 1.3, 1.3, 5.5]


def _events(tt: Tabletop) -> Section:
    rows, emphasis = event_rows(tt)
    n_auto = sum(is_automated(e) for e in tt.result.timeline)
    people = len(tt.result.timeline) - n_auto
    return Section(
        "events",
        [
            Heading("Event timeline"),
            Para(
                f"What people did and decided, in order ({people} of the replay's {len(tt.result.timeline)} events), "
                "with the incident's own moments. Injects to read out are shaded, in bold, at their minute. "
                f"The {n_auto} automated events (scripted steps, restorations, interface queues) are in the appendix."
            ),
            Table(EVENT_COLUMNS, rows, weights=EVENT_WEIGHTS, emphasis=emphasis, nowrap=4),
        ],
    )


def _automation_appendix(tt: Tabletop) -> Section:
    rows, _ = event_rows(tt, automated=True)
    return Section(
        "appendix",
        [
            Heading("Appendix: automated events"),
            Para(f"What the estate's automation did in this replay ({len(rows)} events), in order."),
            Table(EVENT_COLUMNS, rows, weights=EVENT_WEIGHTS, nowrap=4),
        ],
    )


def _injects(tt: Tabletop, participant: bool = False) -> Section:
    blocks: list = [Heading("Injects")]
    injects = tt.plan.drill.injects
    if not injects:
        blocks.append(Para("This drill has no injects; add them under injects: in the drill file.", "note"))
        return Section("injects", blocks)
    blocks.append(
        Para("What reaches the table, at its minute, and the question it raises.")
        if participant
        else Para("Read each inject out at its minute. The state of play is what had happened in this replay by then.")
    )
    for k, inj in enumerate(injects, 1):
        card: list = [Heading(f"I{k} - {tplus(inj.at)} ({tt.clock(inj.at)}) - for {inj.audience}", 3)]
        card.append(Para(fill(tt, inj.text.strip(), inj.at, f"injects[{k - 1}].text"), "quote"))
        if inj.prompt:
            prompt = fill(tt, inj.prompt.strip(), inj.at, f"injects[{k - 1}].prompt")
            card.append(Para(("" if participant else "Ask the table: ") + prompt, "strong"))
        if participant:
            card.append(Ruled(2))
            blocks.append(Keep(card))
            continue
        if inj.expected_actions:
            card.append(Para("Expected actions:"))
            card.append(Bullets([a.strip() for a in inj.expected_actions], checkbox=True))
        card.append(Para(f"State of play at {tt.clock(inj.at)} in this replay:", "note"))
        card.append(Bullets(state_lines(tt, tt.state(inj.at))))
        blocks.append(Keep(card))
    return Section("injects", blocks)


def _participant_decisions(tt: Tabletop) -> Section:
    """The decisions the table will face, each with its question: no times, owners or evidence."""
    blocks: list = [Heading("Decision points"), Para("The decisions this incident asks for, in the order they come.")]
    for k, d in enumerate(decision_points(tt), 1):
        blocks.append(Keep([Heading(f"D{k} - {d.title}", 3), Para(d.prompt, "strong"), Ruled(2)]))
    return Section("decisions", blocks)


def _decisions(tt: Tabletop) -> Section:
    blocks: list = [
        Heading("Decision points"),
        Para("Each decision with the evidence its owner had at that moment in this replay."),
    ]
    for k, d in enumerate(decision_points(tt), 1):
        c = tt.clock
        card: list = [Heading(f"D{k} - {c(d.finish)} ({tplus(d.finish)}) - {d.title}", 3)]
        timing = f"{d.actor}: could start at {c(d.ready)}"
        if d.start - d.ready > 0:
            timing += f", was busy until {c(d.start)} (waited {dur(d.start - d.ready)})"
        timing += f"; took {dur(d.finish - d.start)}; done at {c(d.finish)}."
        card.append(Para(timing))
        card.append(Para(f"Evidence at {c(d.evidence_at)}:", "note"))
        card.append(Bullets(state_lines(tt, tt.state(d.evidence_at))))
        card.append(Para("Ask: " + d.prompt, "strong"))
        blocks.append(Keep(card))
    return Section("decisions", blocks)


# ------------------------------------------------------------------ derived questions


def _questions(tt: Tabletop, participant: bool = False) -> Section:
    blocks: list = [Heading("Discussion questions")]
    drill_qs = tt.plan.drill.questions
    blocks.append(Heading("From the drill", 3))
    if drill_qs:
        for k, q in enumerate(drill_qs, 1):
            q = fill(tt, q.strip(), 0.0, f"questions[{k - 1}]")
            blocks.append(Keep([Para(f"Q{k}. {q}", "strong"), Ruled(2)]))
    else:
        blocks.append(Para("The drill file lists no questions (add them under questions:).", "note"))
    if participant:  # the replay's questions quote its outcomes
        return Section("questions", blocks)
    blocks.append(Heading("From this replay", 3))
    for k, q in enumerate(derived_questions(tt), 1):
        blocks.append(Keep([Para(f"R{k}. {q}", "strong"), Ruled(2)]))
    return Section("questions", blocks)


# ------------------------------------------------------------------ after-action


def _verdict(*met: bool) -> str:
    return "met" if all(met) else "MISSED"


def _service_rows(tt: Tabletop) -> list[list[str]]:
    rows = []
    for s in tt.result.services:
        if s.affected:
            missed = [w for w, ok in (("RTO", s.rto_met), ("RPO", s.rpo_met)) if not ok]
            verdict = "met" if not missed else " and ".join(missed) + " MISSED"
            rows.append([s.name, s.tier, dur(s.rto), dur(s.rto_target), dur(s.rpo), dur(s.rpo_target), verdict])
    return rows


LATENCY_STEPS = [
    ("detect", "fault to alert", "detected"),
    ("acknowledge", "alert to first acknowledgement", "acknowledged"),
    ("declare", "acknowledgement to decision", "declared"),
    ("restore", "decision to every service restored", "restored"),
    ("total", "fault to every service restored", "restored"),
]


def _after_action(tt: Tabletop) -> Section:
    res, plan, rep = tt.result, tt.plan, tt.replay
    words = plan.topology.words()
    svc_rows = _service_rows(tt)
    n_targets = 2 * len(svc_rows) + len(res.workflows)
    n_missed = len(res.missed)
    blocks: list = [
        Heading("After-action review"),
        Para(
            f"In this replay {n_targets - n_missed} of {n_targets} targets were met"
            + (f"; {n_missed} missed." if n_missed else ".")
        ),
        Heading("Targets met and missed", 3),
        Table(
            ["service", "tier", "RTO", "target", "RPO", "target", "verdict"],
            svc_rows,
            weights=[2.2, 0.8, 1, 1, 1, 1, 1.8],
            emphasis={i for i, r in enumerate(svc_rows) if r[-1] != "met"},
        ),
    ]
    if res.workflows:
        wf_rows = [[w.name, dur(w.downtime), dur(w.tolerance), _verdict(w.met)] for w in res.workflows]
        blocks.append(
            Table(
                [words.workflow, f"on {words.fallback}", "can absorb", "verdict"],
                wf_rows,
                weights=[3, 1.5, 1.2, 1],
                emphasis={i for i, r in enumerate(wf_rows) if r[-1] != "met"},
            )
        )
    if res.queues:
        blocks.append(
            Table(
                ["interface", "into", "backlog (messages)", "dropped", "cleared after"],
                [[q.name, q.consumer, f"{q.backlog:,.0f}", f"{q.dropped:,.0f}", dur(q.clear)] for q in res.queues],
                weights=[2, 2, 1.3, 1, 1.2],
            )
        )
    if res.rollback_time is not None:
        blocks.append(
            Para(f"Rollback: {dur(res.rollback_time)} from the decision until the old system was authoritative.")
        )
    blocks.append(Heading("Decision latency", 3))
    lat_rows = []
    for key, label, mark in LATENCY_STEPS:
        if key in res.latency:
            at = res.milestones.get(mark)
            lat_rows.append(
                [
                    label,
                    dur(res.latency[key]),
                    tt.clock(at) if at is not None else "-",
                    tplus(at) if at is not None else "-",
                ]
            )
    blocks.append(Table(["step", "took", "reached at", "T+"], lat_rows, weights=[3, 1, 1, 1]))
    # where the outage went, for the services whose own recovery decided the missed targets
    topo = plan.topology
    affected = [s for s in res.services if s.affected and s.restored and s.rto is not None]
    missed = [s for s in affected if not s.rto_met] or affected
    roots: list[str] = []
    for s in sorted(missed, key=lambda s: (topo.tiers[s.tier].rto, -(s.rto or 0.0), s.name)):
        r = ev.root_service(plan, rep.finish, s.name)
        if r not in roots and math.isfinite(float(rep.finish[plan.outages[r].restored_task])):
            roots.append(r)
    if roots:
        bds = [ev.breakdown(plan, rep.start, rep.finish, rep.actors, s) for s in roots[:4]]
        phases = [p for p in ev.PHASES if any(p in b.phases for b in bds)]
        table_rows = [[p, *[dur(b.phases.get(p, 0.0)) if p in b.phases else "" for b in bds]] for p in phases]
        table_rows.append(["outage (RTO)", *[dur(b.rto) for b in bds]])
        blocks += [
            Heading("Where the outage went", 3),
            Para(
                "For the services whose own recovery decided the missed targets: the chain of tasks that decided "
                "when each came back, every minute counted once, against the phase it was spent in."
            ),
            Table(["phase", *[b.service for b in bds]], table_rows, emphasis={len(table_rows) - 1}),
        ]
    blocks += [
        Ruled(6, "Observations"),
        Ruled(4, "What went well"),
        Ruled(4, "What to change"),
    ]
    return Section("after-action", blocks)


#: Empty rows under the pre-filled improvement plan, for what the hot wash adds.
SPARE_ACTIONS = 3


def _improvement(tt: Tabletop) -> Section:
    """The improvement-plan matrix, pre-filled from this replay, with spare rows for the hot wash."""
    rows = [[i.issue, i.recommendation, i.owner, i.due] for i in improvement.improvement_plan(tt)]
    return Section(
        "improvement",
        [
            Heading("Improvement plan"),
            Para(
                "Pre-filled from this replay's missed targets and slowest decisions; confirm or change each owner and due "
                "date in the hot wash, and add what it finds."
            ),
            Table(
                ["issue", "recommendation", "owner", "due"],
                rows + [["", "", "", ""]] * SPARE_ACTIONS,
                weights=[3.2, 3.6, 1.3, 1.1],
            ),
        ],
    )


# ------------------------------------------------------------------ the document


def build_document(tt: Tabletop, edition: str = "facilitator", session: float = exercise.DEFAULT_SESSION) -> Document:
    """A pack of ``tt`` as a document, in the order it is used.

    The facilitator edition holds everything: the exercise structure (an
    agenda of ``session`` seconds laid over the incident), the swimlane chart,
    the events, the injects with the state of play, the decisions with their
    evidence, the questions, the after-action review and the feedback form.
    The participant edition holds no answers: the situation, the roles and
    ground rules, the injects as they are read out, the decisions to be taken
    and the drill's questions, and the feedback form.
    """
    if edition not in EDITIONS:
        raise InputError("edition", [Problem(f"expected one of {', '.join(EDITIONS)}, found {edition!r}")])
    res = tt.result
    words = tt.plan.topology.words()
    if edition == "participant":
        return Document(
            title=f"Tabletop exercise: {res.drill} (participants)",
            footer=f"Tabletop exercise: {res.drill} on {res.topology} - participant edition - drsim {__version__}",
            sections=[
                _cover(tt, participant=True),
                Section("roles", [Heading("How the exercise runs"), *exercise.roles_blocks(words)]),
                _injects(tt, participant=True),
                _participant_decisions(tt),
                _questions(tt, participant=True),
                Section("feedback", exercise.feedback_blocks(words)),
            ],
        )
    footer = f"Tabletop pack: {res.drill} on {res.topology} - {label_selection(tt.selection)} - drsim {__version__}"
    modules = exercise.agenda(tt, [d.finish for d in decision_points(tt)], session)
    return Document(
        title=f"Tabletop exercise: {res.drill}",
        footer=footer,
        sections=[
            _cover(tt),
            Section("structure", [*exercise.agenda_blocks(tt, modules), *exercise.roles_blocks(words)]),
            _swimlane(tt),
            _events(tt),
            _injects(tt),
            _decisions(tt),
            _questions(tt),
            _after_action(tt),
            _improvement(tt),
            *([calibration_section(res.calibrated)] if res.calibrated else []),
            Section("feedback", exercise.feedback_blocks(words)),
            _automation_appendix(tt),
        ],
    )


def render_timeline(
    tt: Tabletop,
    format: str = "pdf",
    path: str | Path | None = None,
    paper: str = "a4",
    *,
    force: bool = False,
    page: int | None = None,
    edition: str = "facilitator",
    session: float = exercise.DEFAULT_SESSION,
) -> str | bytes | Path:
    """Render a tabletop pack as ``md``, ``html``, ``pdf`` or ``png``.

    Returns the text (md, html) or bytes (pdf, png), or — given ``path`` — writes
    them there atomically (refusing to overwrite an existing file unless
    ``force``) and returns the path. ``paper`` is ``a4`` or ``letter``; a PNG
    is one page of the printed pack, the swimlane chart unless ``page`` says
    otherwise. ``edition`` is ``facilitator`` (everything) or ``participant``
    (no answers: see :func:`build_document`); ``session`` is the session's
    length in seconds, which the facilitator's agenda is laid out on.
    """
    if not isinstance(tt, Tabletop):
        raise TypeError("render_timeline takes a Tabletop: build one with drsim.tabletop(drill, seed=...)")
    fmt = {"markdown": "md", "htm": "html"}.get(format, format)
    if fmt not in FORMATS:
        raise InputError("format", [Problem(f"expected one of {', '.join(FORMATS)}, found {format!r}")])
    if paper not in PAPERS:
        raise InputError("paper", [Problem(f"expected one of {', '.join(PAPERS)}, found {paper!r}")])
    doc = build_document(tt, edition, session)
    data: str | bytes
    if fmt == "md":
        data = to_markdown(doc)
    elif fmt == "html":
        data = to_html(doc, paper)
    elif fmt == "pdf":
        data, _ = render_pdf(doc, paper)
    else:
        pages = layout(doc, paper)
        default = "swimlane" if edition == "facilitator" else "cover"
        number = page if page is not None else first_page_of(pages, default)
        if not 1 <= number <= len(pages):
            raise InputError(
                "page", [Problem(f"expected a page from 1 to {len(pages)} (the pack's length), found {number}")]
            )
        data = render_png(doc, pages, number, paper)
    if path is None:
        return data
    return atomic_write(path, data, force=force)
