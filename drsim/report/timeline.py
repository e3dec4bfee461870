"""Tabletop facilitator packs: a printable timeline of one replay of a drill.

A tabletop exercise puts clinicians, IT, compliance and executives around a
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

The replay shown is either replicate 0 of a seed (as ``drsim drill`` replays)
or, with a percentile, the replicate of a sweep whose most critical tier's RTO
sits at that percentile ("show us a bad night"). The pack renders to Markdown,
one self-contained HTML file, PDF (A4 or US Letter) and PNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import des
from ..engine.draws import Draws
from ..engine.outcomes import evaluate
from ..errors import InputError, Problem
from ..io import atomic_write
from ..model.units import format_duration
from ..plan import Plan
from ..results import DrillResult
from . import evidence as ev
from .document import Bullets, Chart, Document, Heading, Keep, Para, Ruled, Section, Table

FORMATS = ("md", "html", "pdf", "png")
PAPERS = ("a4", "letter")
DEFAULT_SWEEP = 2000

# ------------------------------------------------------------------ choosing the replay


@dataclass(frozen=True)
class Selection:
    """How the replay in a pack was chosen.

    ``percentile`` is None for a plain seeded replay (replicate 0); otherwise
    the replicate ``replicate`` of ``n`` drawn with ``seed`` is the one whose
    ``metric`` equals the empirical ``percentile``-th percentile of the sweep.
    """

    seed: int
    replicate: int = 0
    n: int = 1
    percentile: float | None = None
    metric: str | None = None
    value: float | None = None
    median: float | None = None

    def describe(self) -> str:
        if self.percentile is None:
            return f"seed {self.seed}, replicate 0 (the replay that drsim drill --seed {self.seed} shows)"
        what = metric_name(self.metric or "")
        return (
            f"replicate {self.replicate} of a sweep of {self.n:,} drawn with seed {self.seed}: its {what} "
            f"({dur(self.value)}) is the {_ordinal(self.percentile)} percentile of the sweep "
            f"(median {dur(self.median)})"
        )

    def short(self) -> str:
        if self.percentile is None:
            return f"seed {self.seed}"
        return f"P{self.percentile:g} replay: seed {self.seed}, replicate {self.replicate} of {self.n:,}"


def _ordinal(p: float) -> str:
    n = f"{p:g}"
    if n.endswith(("11", "12", "13")):
        return n + "th"
    return n + {"1": "st", "2": "nd", "3": "rd"}.get(n[-1], "th")


def metric_name(key: str) -> str:
    if key.startswith("tier:") and key.endswith(":rto"):
        return f"{key.split(':')[1]} RTO"
    return {"latency:total": "time from fault to every service restored", "rollback:total:time": "rollback time"}.get(
        key, key
    )


def ranking_metric(plan: Plan, metrics: dict[str, np.ndarray]) -> str:
    """The metric a percentile is taken of: the RTO of the most critical tier the drill affects.

    Tiers rank by RTO target, then RPO target. Without an affected tier, the
    time from fault to every service restored, then the rollback time.
    """
    topo = plan.topology
    for tier in sorted(topo.tiers, key=lambda t: (topo.tiers[t].rto, topo.tiers[t].rpo, t)):
        if f"tier:{tier}:rto" in metrics:
            return f"tier:{tier}:rto"
    for key in ("latency:total", "rollback:total:time"):
        if key in metrics:
            return key
    raise InputError(
        f"drill {plan.drill.name!r}", [Problem("the drill restores nothing; there is no RTO to rank replays by")]
    )


def representative(values: np.ndarray, percentile: float) -> int:
    """The replicate whose value is the empirical ``percentile``-th percentile of ``values``.

    The empirical percentile is an order statistic (the inverse of the sample's
    distribution function), so some replicate has exactly that value; among
    ties the lowest replicate number is taken.
    """
    values = np.asarray(values, dtype=float)
    q = np.quantile(values, percentile / 100.0, method="inverted_cdf")
    return int(np.flatnonzero(values == q)[0])


@dataclass
class Tabletop:
    """One replay of a drill, ready to be written up for a tabletop exercise."""

    plan: Plan
    result: DrillResult
    replay: des.Replay
    selection: Selection

    def __post_init__(self):
        times = [e.time for e in self.result.timeline if math.isfinite(e.time)]
        times += [i.at for i in self.plan.drill.injects]
        last = self.result.clock(max(times, default=0.0))
        self.multi_day = last.date() != self.result.start.date()

    def clock(self, seconds: float) -> str:
        """The wall-clock time ``seconds`` after the start (with the weekday if the drill runs past midnight)."""
        if not math.isfinite(seconds):
            return "never"
        return f"{self.result.clock(seconds):{'%a %H:%M' if self.multi_day else '%H:%M'}}"

    def state(self, t: float) -> ev.State:
        return ev.state_at(self.plan, self.replay.start, self.replay.finish, self.replay.actors, t)


def tabletop(
    drill,
    topology=None,
    *,
    seed: int = 0,
    percentile: float | None = None,
    n: int = DEFAULT_SWEEP,
) -> Tabletop:
    """Replay a drill for a tabletop pack.

    Without ``percentile`` this is replicate 0 of ``seed`` (what ``drsim drill``
    shows). With it, ``n`` replicates are drawn with ``seed`` and run through
    the vectorized engine; the replicate whose most critical tier's RTO is the
    empirical ``percentile``-th percentile is then replayed event by event.
    """
    from ..api import prepare, replay_result

    plan = drill if isinstance(drill, Plan) else prepare(drill, topology)
    if percentile is None:
        draws = Draws.sample(plan.elements(), seed, 1)
        rep = des.replay(plan, draws, 0)
        return Tabletop(plan, replay_result(plan, draws, 0, rep), rep, Selection(int(seed)))
    if not 0 < percentile <= 100:
        raise InputError("--percentile", [Problem(f"expected a percentile in (0, 100], found {percentile:g}")])
    if n < 1:
        raise InputError("--n", [Problem(f"expected at least one replicate, found {n}")])
    from ..engine import vectorized

    draws = Draws.sample(plan.elements(), seed, n)
    finish = vectorized.run_many(plan, draws)
    metrics = evaluate(plan, draws, finish)
    key = ranking_metric(plan, metrics)
    r = representative(metrics[key], percentile)
    rep = des.replay(plan, draws, r)
    result = replay_result(plan, draws, r, rep)
    median = float(np.quantile(metrics[key], 0.5, method="inverted_cdf"))
    sel = Selection(int(seed), r, int(n), float(percentile), key, float(metrics[key][r]), median)
    return Tabletop(plan, result, rep, sel)


# ------------------------------------------------------------------ wording


def dur(seconds: float | None) -> str:
    """A duration as people say it: ``42s``, ``7m05s``, ``15m``, ``2h``, ``1h52m``, ``never``."""
    if seconds is None:
        return "-"
    s = format_duration(seconds)
    for zero in ("m00s", "h00m", "d0h"):
        if s.endswith(zero):
            return s[: -len(zero) + 1]
    return s


def tplus(seconds: float) -> str:
    return "T+0" if seconds == 0 else ("T+" + dur(seconds) if math.isfinite(seconds) else "never")


def _pct(part: float, whole: float) -> str:
    pct = 100 * part / whole
    return "under 1%" if 0 < pct < 1 else f"{pct:.0f}%"


def _names(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _list(items: list[str], empty: str = "none") -> str:
    return ", ".join(items) if items else empty


def state_lines(tt: Tabletop, st: ev.State) -> list[str]:
    """The state of play as short sentences a facilitator can read from."""
    c = tt.clock
    out = []
    if st.alerts:
        out.append("Alerts: " + _list([f"{what} ({c(t)})" for t, what in st.alerts]))
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
        out.append("Restored: " + _list([f"{s} ({c(t)})" for t, s in st.restored]) + ".")
    full = [b.queue for b in st.backlogs if b.dropping]
    filling = [f"{b.queue} {_pct(b.messages, b.buffer)}" for b in st.backlogs if not b.dropping and b.buffer]
    if full:
        out.append("Interface buffers full, messages being dropped: " + ", ".join(full) + ".")
    if filling:
        out.append("Interface buffers filling: " + ", ".join(filling) + ".")
    if st.workflows_on_paper:
        out.append(
            "On downtime procedures (time so far / can absorb): "
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
    add(resp.triage.role, "triages")
    for r in resp.escalate:
        add(r, "paged at escalation")
    add(resp.declare.role, f"decides ({decision_words(plan)})")
    if resp.communicate is not None:
        add(resp.communicate.role, "tells the wards")
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


def _cover(tt: Tabletop) -> Section:
    plan, res, drill, topo = tt.plan, tt.result, tt.plan.drill, tt.plan.topology
    blocks: list = [Heading(f"Tabletop exercise: {drill.name}", 1)]
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
        ["Replay shown", tt.selection.describe()],
        ["In this replay", verdict],
    ]
    blocks.append(Table(["", ""], facts, weights=[1, 5], header=False))
    blocks.append(Heading("Objectives"))
    if drill.objectives:
        blocks.append(Bullets(list(drill.objectives)))
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
    from ..plan import shift_on_duty

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
    from . import swimlane

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
            [tplus(inj.at), tt.clock(inj.at), "facilitator", "", f"INJECT I{num} for {inj.audience}: {inj.text}"]
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


def _injects(tt: Tabletop) -> Section:
    blocks: list = [Heading("Injects")]
    injects = tt.plan.drill.injects
    if not injects:
        blocks.append(Para("This drill has no injects; add them under injects: in the drill file.", "note"))
        return Section("injects", blocks)
    blocks.append(
        Para("Read each inject out at its minute. The state of play is what had happened in this replay by then.")
    )
    for k, inj in enumerate(injects, 1):
        card: list = [Heading(f"I{k} - {tplus(inj.at)} ({tt.clock(inj.at)}) - for {inj.audience}", 3)]
        card.append(Para(inj.text.strip(), "quote"))
        if inj.prompt:
            card.append(Para("Ask the table: " + inj.prompt.strip(), "strong"))
        if inj.expected_actions:
            card.append(Para("Expected actions:"))
            card.append(Bullets([a.strip() for a in inj.expected_actions], checkbox=True))
        card.append(Para(f"State of play at {tt.clock(inj.at)} in this replay:", "note"))
        card.append(Bullets(state_lines(tt, tt.state(inj.at))))
        blocks.append(Keep(card))
    return Section("injects", blocks)


@dataclass(frozen=True)
class DecisionPoint:
    """A moment someone decides: escalate, declare, roll back, break glass, tell the wards."""

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
                    "Tell the wards: " + t.label.removeprefix("tell wards: "),
                    actor,
                    ready,
                    s,
                    f,
                    s,
                    "What exactly do the wards hear, from whom, and how do they confirm they are on downtime procedures?",
                )
            )
    out.sort(key=lambda d: (d.finish, d.start))
    return out


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
    plan, rep, res = tt.plan, tt.replay, tt.result
    c = tt.clock
    topo = plan.topology
    decision = decision_words(plan)
    rank = {s: (topo.tiers[o.tier].rto, topo.tiers[o.tier].rpo, s) for s, o in plan.outages.items()}
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
            also = f" {_names(waiting)} {verb} down until it was back."
        if not rs.restored:
            why = ev.why_never(plan, rep.start, rep.finish, root)
            out.append(
                f"{root} never came back in this replay ({why}).{also} What is the fallback, and who decides to invoke it?"
            )
            continue
        b = ev.breakdown(plan, rep.start, rep.finish, rep.actors, root)
        inside = (
            f", inside its own {dur(rs.rto_target)} target" if rs.rto_met else f" against a {dur(rs.rto_target)} target"
        )
        head = f"{root} came back after {dur(b.rto)}{inside}"
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
            made = b.phases.get("the decision", 0.0)
            clause = (
                f"{dur(secs)} of that passed before the decision at {c(b.decided)} "
                f"({decision}; deciding took {dur(made)})."
            )
            ask = "Who could have decided sooner, and on what evidence?"
        elif cause == "wait":
            role, w, label, busy = biggest_wait
            behind = f" (busy with '{busy}')" if busy else ""
            clause = f"{dur(w)} of that was '{label}' waiting for a free {role}{behind}."
            ask = "Who else could have done it, or been called in?"
        elif cause == "dependency":
            dep, w = b.dependency
            clause = f"{dur(w)} of that was waiting for {dep} after its own recovery was done."
            ask = "Does the runbook order match the dependencies?"
        elif cause == "runbook":
            clause = f"{dur(secs)} of that was hands-on runbook work."
            ask = "Which steps could be automated, pre-staged or rehearsed?"
        else:
            clause = f"it came back only when the fault cleared ({dur(secs)} of it)."
            ask = "Why did failover not bring it back sooner?"
        out.append(f"{head}; {clause}{also} {ask}")
        glass = b.phases.get("break-glass access", 0.0)
        if glass > 0 and not asked_glass:
            asked_glass = True
            out.append(
                f"Break-glass access cost {dur(glass)} on {root}'s recovery. Where are the credentials kept at night, "
                "and when were they last tested?"
            )
    if more:
        out.append(f"Also over their RTO target: {_names(more)}. Which of these would clinicians notice first?")
    lost = sorted((s for s in res.services if s.affected and not s.rpo_met), key=lambda s: rank[s.name])

    def lost_words(s) -> str:
        return "every write since the last clean backup" if not math.isfinite(s.rpo) else f"{dur(s.rpo)} of writes"

    if len(lost) == 1:
        s = lost[0]
        out.append(
            f"{s.name} lost {lost_words(s)} against a {dur(s.rpo_target)} target. "
            "How will clinicians find and re-enter what was lost?"
        )
    elif lost:
        items = "; ".join(f"{s.name} {lost_words(s)} (target {dur(s.rpo_target)})" for s in lost)
        out.append(
            f"Writes were lost beyond their targets: {items}. How will clinicians find and re-enter what was lost?"
        )
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
            f"Clinical workflows stayed on downtime procedures longer than they can absorb: {items}. "
            "What happens to patients past that point, and who is watching for it?"
        )
    if res.rollback_time is not None and len(out) < most:
        out.append(
            f"The rollback took {dur(res.rollback_time)} from the decision until the old system was authoritative again. "
            "Is that inside the change window agreed with the clinical leads?"
        )
    if not out:
        out.append(
            "Every target was met in this replay. Rerun the pack with --percentile 90 to rehearse a bad night: what changes?"
        )
    return out


def _questions(tt: Tabletop) -> Section:
    blocks: list = [Heading("Discussion questions")]
    drill_qs = tt.plan.drill.questions
    blocks.append(Heading("From the drill", 3))
    if drill_qs:
        for k, q in enumerate(drill_qs, 1):
            blocks.append(Keep([Para(f"Q{k}. {q.strip()}", "strong"), Ruled(2)]))
    else:
        blocks.append(Para("The drill file lists no questions (add them under questions:).", "note"))
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
                ["clinical workflow", "on downtime procedures", "can absorb", "verdict"],
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


def build_document(tt: Tabletop) -> Document:
    """The facilitator pack of ``tt`` as a document, in the order a facilitator uses it."""
    from .. import __version__

    res = tt.result
    footer = f"Tabletop pack: {res.drill} on {res.topology} - {tt.selection.short()} - drsim {__version__}"
    return Document(
        title=f"Tabletop exercise: {res.drill}",
        footer=footer,
        sections=[
            _cover(tt),
            _swimlane(tt),
            _events(tt),
            _injects(tt),
            _decisions(tt),
            _questions(tt),
            _after_action(tt),
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
) -> str | bytes | Path:
    """Render a tabletop pack as ``md``, ``html``, ``pdf`` or ``png``.

    Returns the text (md, html) or bytes (pdf, png), or — given ``path`` — writes
    them there atomically (refusing to overwrite an existing file unless
    ``force``) and returns the path. ``paper`` is ``a4`` or ``letter``; a PNG
    is one page of the printed pack, the swimlane chart unless ``page`` says
    otherwise.
    """
    if not isinstance(tt, Tabletop):
        raise TypeError("render_timeline takes a Tabletop: build one with drsim.tabletop(drill, seed=...)")
    fmt = {"markdown": "md", "htm": "html"}.get(format, format)
    if fmt not in FORMATS:
        raise InputError("--format", [Problem(f"expected one of {', '.join(FORMATS)}, found {format!r}")])
    if paper not in PAPERS:
        raise InputError("--paper", [Problem(f"expected one of {', '.join(PAPERS)}, found {paper!r}")])
    doc = build_document(tt)
    data: str | bytes
    if fmt == "md":
        from .document import to_markdown

        data = to_markdown(doc)
    elif fmt == "html":
        from .document import to_html

        data = to_html(doc, paper)
    elif fmt == "pdf":
        from .pages import render_pdf

        data, _ = render_pdf(doc, paper)
    else:
        from .pages import first_page_of, layout, render_png

        pages = layout(doc, paper)
        number = page if page is not None else first_page_of(pages, "swimlane")
        if not 1 <= number <= len(pages):
            raise InputError(
                "--page", [Problem(f"expected a page from 1 to {len(pages)} (the pack's length), found {number}")]
            )
        data = render_png(doc, pages, number, paper)
    if path is None:
        return data
    return atomic_write(path, data, force=force)
