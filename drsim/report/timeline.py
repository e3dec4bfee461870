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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..io import atomic_write
from ..plan import Plan, shift_on_duty
from ..version import __version__
from . import evidence as ev
from . import exercise, swimlane
from .calibration import calibration_section
from .document import Bullets, Chart, Document, Heading, Keep, Para, Ruled, Section, Table, to_html, to_markdown
from .pages import first_page_of, layout, render_pdf, render_png
from .scripted import fill
from .tabletop import Tabletop, describe_selection, label_selection
from .wording import comma_list, dur, share, spoken_list, tplus

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


def decision_words(plan: Plan) -> str:
    """What the drill's decision is, in its own words ("declare disaster, fail the EHR over")."""
    return plan.task("declare").label.removeprefix("decision: ")


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


def event_rows(tt: Tabletop) -> tuple[list[list[str]], set[int]]:
    """Rows of the event table: every timeline event in order, injects placed at their times."""
    injects = sorted(enumerate(tt.plan.drill.injects, 1), key=lambda x: (x[1].at, x[0]))
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
        while k < len(injects) and injects[k][1].at < e.time:
            put_inject(*injects[k])
            k += 1
        rows.append([tplus(e.time), tt.clock(e.time), e.actor, e.service or "", e.event])
    for num, inj in injects[k:]:
        put_inject(num, inj)
    return rows, emphasis


def _events(tt: Tabletop) -> Section:
    rows, emphasis = event_rows(tt)
    return Section(
        "events",
        [
            Heading("Event timeline"),
            Para(
                f"Every event of the replay, in order ({len(tt.result.timeline)} events). "
                "Injects to read out are shaded, in bold, at their minute."
            ),
            Table(
                ["T+", "clock", "actor", "service", "what happens"],
                rows,
                weights=[0.9, 0.8, 1.3, 1.3, 5.5],
                emphasis=emphasis,
                nowrap=4,
            ),
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


@dataclass(frozen=True)
class DecisionPoint:
    """A moment someone decides: escalate, declare, roll back, break glass, tell users to switch to the fallback."""

    title: str
    actor: str
    ready: float
    start: float
    finish: float
    evidence_at: float
    prompt: str


def decision_points(tt: Tabletop) -> list[DecisionPoint]:
    """The replay's decision points, in time order (only those that happened)."""
    plan, rep = tt.plan, tt.replay
    words = plan.topology.words()
    out = []
    rollback = plan.rollback is not None
    for t in plan.tasks:
        s, f = float(rep.start[t.index]), float(rep.finish[t.index])
        if not math.isfinite(s):
            continue
        ready = ev.ready_time(plan, rep.finish, t)
        actor = rep.actors.get(t.index, t.role or "automation")
        if t.kind == "triage":
            out.append(
                DecisionPoint(
                    f"Major incident? ({t.label})",
                    actor,
                    ready,
                    s,
                    f,
                    f,
                    "Would you have called a major incident here? Who else needs to be in the room, and who calls them?",
                )
            )
        elif t.kind == "declare":
            title = "Decision: " + decision_words(plan)
            prompt = (
                "Would you have rolled back here, on this evidence? What would make you keep going forward instead?"
                if rollback
                else "Would you have decided this here, on this evidence? What would you want to know first, "
                "and who can tell you at this hour?"
            )
            out.append(DecisionPoint(title, actor, ready, s, f, f, prompt))
        elif t.kind == "break-glass":
            out.append(
                DecisionPoint(
                    f"Break glass: {t.label}",
                    actor,
                    ready,
                    s,
                    f,
                    s,
                    "Where are the break-glass credentials, who may use them at this hour, and who is told when they are?",
                )
            )
        elif t.kind == "communicate":
            out.append(
                DecisionPoint(
                    f"Tell {words.told}: " + t.label.removeprefix(f"{words.tell}: "),
                    actor,
                    ready,
                    s,
                    f,
                    s,
                    f"What exactly do {words.told} hear, from whom, and how do they confirm they are on {words.fallback}?",
                )
            )
    out.sort(key=lambda d: (d.finish, d.start))
    return out


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


def derived_questions(tt: Tabletop, most: int = 8) -> list[str]:
    """Questions for the table, from where this replay missed its targets."""
    res = tt.result
    words = tt.plan.topology.words()
    out = missed_recovery_questions(tt, most)
    out += lost_data_questions(tt)
    dropped = [q for q in res.queues if q.dropped > 0]
    if dropped:
        items = "; ".join(
            f"{q.name} {'everything after its buffer filled' if not math.isfinite(q.dropped) else f'{q.dropped:,.0f} messages'}"
            for q in dropped
        )
        out.append(
            f"Interface messages were dropped while their systems were down: {items}. Who re-sends them, and from where?"
        )
    over = [w for w in res.workflows if not w.met]
    if over:
        items = "; ".join(f"{w.name} {dur(w.downtime)} (can absorb {dur(w.tolerance)})" for w in over)
        out.append(
            f"{words.workflows_heading} stayed on {words.fallback} longer than they can absorb: {items}. "
            f"What happens to {words.harmed} past that point, and who is watching for it?"
        )
    if res.rollback_time is not None and len(out) < most:
        out.append(
            f"The rollback took {dur(res.rollback_time)} from the decision until the old system was authoritative again. "
            f"Is that inside the change window agreed with {words.owners}?"
        )
    if not out:
        out.append(
            "Every target was met in this replay. Rerun the pack with --percentile 90 to rehearse a bad night: what changes?"
        )
    return out


def _by_criticality(plan: Plan) -> dict[str, tuple[float, float, str]]:
    """Each affected service's sort key: its tier's RTO target, then RPO target, then its name."""
    topo = plan.topology
    return {s: (topo.tiers[o.tier].rto, topo.tiers[o.tier].rpo, s) for s, o in plan.outages.items()}


def missed_recovery_questions(tt: Tabletop, most: int) -> list[str]:
    """A question for each service whose recovery decided a missed RTO, most critical first: where its
    outage went, and what would have shortened it; the services beyond ``most - 3`` in one line."""
    plan, rep, res = tt.plan, tt.replay, tt.result
    rank = _by_criticality(plan)
    out: list[str] = []
    by_name = {s.name: s for s in res.services}
    missed_rto = sorted((s for s in res.services if s.affected and not s.rto_met), key=lambda s: rank[s.name])
    # services that only came back when something they depend on did are asked about through that service
    groups: dict[str, list[str]] = {}
    for s in missed_rto:
        groups.setdefault(ev.root_service(plan, rep.finish, s.name), []).append(s.name)
    roots = sorted(groups, key=lambda r: min(rank[m] for m in groups[r]))
    asked_glass = False
    more: list[str] = []
    for root in roots:
        if len(out) >= most - 3:
            more += groups[root]
            continue
        rs = by_name[root]
        waiting = [m for m in groups[root] if m != root]
        also = ""
        if waiting:
            verb = "was" if len(waiting) == 1 else "were"
            also = f" {spoken_list(waiting)} {verb} down until it was back."
        if not rs.restored:
            why = ev.why_never(plan, rep.start, rep.finish, root)
            if why == ev.NO_CLEAN_BACKUP and rs.rpo_reason:
                why = rs.rpo_reason
            out.append(
                f"{root} never came back in this replay ({why}).{also} What is the fallback, and who decides to invoke it?"
            )
            continue
        b = ev.breakdown(plan, rep.start, rep.finish, rep.actors, root)
        inside = (
            f", inside its own {dur(rs.rto_target)} target" if rs.rto_met else f" against a {dur(rs.rto_target)} target"
        )
        head = f"{root} came back after {dur(b.rto)}{inside}"
        clause, ask = where_the_time_went(tt, b)
        out.append(f"{head}; {clause}{also} {ask}")
        glass = b.phases.get("break-glass access", 0.0)
        if glass > 0 and not asked_glass:
            asked_glass = True
            out.append(
                f"Break-glass access cost {dur(glass)} on {root}'s recovery. Where are the credentials kept at night, "
                "and when were they last tested?"
            )
    if more:
        users = plan.topology.words().users
        out.append(f"Also over their RTO target: {spoken_list(more)}. Which of these would {users} notice first?")
    return out


def where_the_time_went(tt: Tabletop, b: ev.Breakdown) -> tuple[str, str]:
    """The largest avoidable share of one service's outage, as a clause, and the question it raises.

    The shares weighed are the time before the decision, the longest wait for a
    busy person, waiting for a dependency and the fault itself; the hands-on
    runbook work is named instead when none of those is a real share.
    """
    c = tt.clock
    biggest_wait = max(b.waits, key=lambda w: w[1], default=None)
    # the largest share that is not the runbook itself, if it is a real share; else the runbook work
    causes = sorted(
        [
            ("decision", b.before_decision),
            ("wait", biggest_wait[1] if biggest_wait else 0.0),
            ("dependency", b.dependency[1] if b.dependency else 0.0),
            ("fault", b.phases.get("the fault clearing", 0.0) + b.phases.get("restart in place", 0.0)),
        ],
        key=lambda x: -x[1],
    )
    cause, secs = causes[0]
    if secs < 0.25 * b.rto and b.phases.get("runbook work", 0.0) > secs:
        cause, secs = "runbook", b.phases["runbook work"]
    if cause == "decision":
        assert b.decided is not None, "time before the decision means there was one"
        made = b.phases.get("the decision", 0.0)
        clause = (
            f"{dur(secs)} of that passed before the decision at {c(b.decided)} "
            f"({decision_words(tt.plan)}; deciding took {dur(made)})."
        )
        return clause, "Who could have decided sooner, and on what evidence?"
    if cause == "wait" and biggest_wait is not None:
        role, w, label, busy = biggest_wait
        behind = f" (busy with '{busy}')" if busy else ""
        return f"{dur(w)} of that was '{label}' waiting for a free {role}{behind}.", (
            "Who else could have done it, or been called in?"
        )
    if cause == "dependency" and b.dependency is not None:
        dep, w = b.dependency
        return f"{dur(w)} of that was waiting for {dep} after its own recovery was done.", (
            "Does the runbook order match the dependencies?"
        )
    if cause == "runbook":
        return (
            f"{dur(secs)} of that was hands-on runbook work.",
            "Which steps could be automated, pre-staged or rehearsed?",
        )
    return (
        f"it came back only when the fault cleared ({dur(secs)} of it).",
        "Why did failover not bring it back sooner?",
    )


def lost_data_questions(tt: Tabletop) -> list[str]:
    """One question about the writes lost beyond their RPO targets, most critical service first."""
    res = tt.result
    rank = _by_criticality(tt.plan)
    lost = sorted((s for s in res.services if s.affected and not s.rpo_met), key=lambda s: rank[s.name])

    users = tt.plan.topology.words().users

    def lost_words(s) -> str:
        return "every write since the last clean backup" if not math.isfinite(s.rpo) else f"{dur(s.rpo)} of writes"

    if len(lost) == 1:
        s = lost[0]
        return [
            f"{s.name} lost {lost_words(s)} against a {dur(s.rpo_target)} target. "
            f"How will {users} find and re-enter what was lost?"
        ]
    if lost:
        items = "; ".join(f"{s.name} {lost_words(s)} (target {dur(s.rpo_target)})" for s in lost)
        return [f"Writes were lost beyond their targets: {items}. How will {users} find and re-enter what was lost?"]
    return []


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
        Ruled(4, "Actions - owner and due date"),
    ]
    return Section("after-action", blocks)


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
            *([calibration_section(res.calibrated)] if res.calibrated else []),
            Section("feedback", exercise.feedback_blocks(words)),
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
