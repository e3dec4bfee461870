"""Discussion questions drawn from one replay: its decision points and where it missed its targets.

A question a facilitator can put to the table quotes what happened in this
replay — who decided what at which minute, how long a service was down
against its target, where that time went — and asks what would have changed
it. The questions come in two runs:

1. one per decision point (``D1``, ``D2``, … as the pack numbers them), in
   the order they were taken: what the owner knew, how long deciding took,
   what was still down against its target by then;
2. one per service whose own recovery decided a missed RTO, most critical
   first, then the writes lost beyond their RPO, interface messages dropped,
   workflows past what they can absorb and the rollback.

Read aloud one after another, questions cut from one template numb a table,
so each is worded from a small set of phrasings. The choice is drawn from a
generator seeded with the replay (drill, seed, replicate): the same pack
always asks the same questions, and no question is worded like the one
before it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ..plan import Plan
from . import evidence as ev
from .decisions import decision_points, decision_words
from .tabletop import Tabletop
from .wording import dur, spoken_list, tplus

#: How each decision point's question opens: {who}, {clock}, {tplus}, {took}, {decision}.
DECISION_OPENINGS: dict[str, Sequence[str]] = {
    "triage": (
        "Triage by {who} ended at {clock} ({tplus}), {took} after it could start.",
        "The major-incident call came at {clock} ({tplus}); triage by {who} took {took} from when it could start.",
        "At {clock} ({tplus}) {who} confirmed a major incident, {took} after triage could begin.",
    ),
    "declare": (
        "At {clock} ({tplus}) {who} decided: {decision}; {took} after the decision could start.",
        "The decision ({decision}) was taken by {who} at {clock} ({tplus}), {took} after it could be.",
        "It was {clock} ({tplus}) before {who} decided to {decision}: {took} from when it could start.",
    ),
    "break-glass": (
        "Break-glass access for {who} began at {clock} ({tplus}) and cost {took}.",
        "At {clock} ({tplus}) {who} needed break-glass access; it took {took}.",
    ),
    "communicate": (
        "At {clock} ({tplus}) {who} told {told}; telling them took {took} from when it could start.",
        "The message to {told} went at {clock} ({tplus}), from {who}, {took} after it could start.",
        "It was {clock} ({tplus}) when {told} heard from {who}, {took} after the message could start.",
    ),
}

#: What each decision point's question asks.
DECISION_ASKS: dict[str, Sequence[str]] = {
    "triage": (
        "What did they look at first, and what would have told them sooner?",
        "Which signal would have let them call it earlier, and is it on the dashboard tonight?",
        "Who else could have made this call, and would they have been reachable?",
    ),
    "declare": (
        "Would you have decided sooner on this evidence, and who may decide when the usual owner cannot be reached?",
        "What was the decision waiting for, and could a standing rule have taken it instead?",
        "Which piece of evidence settled it, and could you have had it earlier?",
    ),
    "break-glass": (
        "Where are the credentials kept at night, and when were they last tested?",
        "Who is told when break-glass access is used, and how is it reviewed afterwards?",
    ),
    "communicate": (
        "Was that soon enough for them to switch safely, and who confirms they did?",
        "What did they hear, and what would they have needed to hear first?",
        "How do they know when to stop the fallback, and who tells them?",
    ),
}

#: How a missed-recovery question opens: {service}, {rto}, {target}, {tier}, {inside}.
RECOVERY_OPENINGS: Sequence[str] = (
    "{service} came back after {rto}{inside}; ",
    "{service} ({tier}) was down {rto}{inside}; ",
    "It took {rto} to bring {service} back{inside}; ",
)

#: What a missed-recovery question asks, by where most of the outage went (see :class:`~.evidence.Cause`).
RECOVERY_ASKS: dict[str, Sequence[str]] = {
    "decision": (
        "Who could have decided sooner, and on what evidence?",
        "What would a standing rule to fail over have needed to say?",
        "Which part of the decision could have been agreed before tonight?",
    ),
    "wait": (
        "Who else could have done it, or been called in?",
        "Should a second person have been called in, and when?",
        "Could the work have been ordered so that nobody waited?",
    ),
    "dependency": (
        "Does the runbook order match the dependencies?",
        "Could it have been brought up before what it depends on, in a reduced mode?",
    ),
    "runbook": (
        "Which steps could be automated, pre-staged or rehearsed?",
        "Which step took longest, and what would make it shorter next time?",
        "When was this runbook last run end to end, and by whom?",
    ),
    "fault": (
        "Why did failover not bring it back sooner?",
        "What would it take to stop depending on the fault clearing?",
    ),
}


class Phrasing:
    """Picks one of several wordings, seeded by the replay, never the one it picked last for the same slot."""

    def __init__(self, tt: Tabletop):
        sel = tt.selection
        self._rng = random.Random(f"{tt.result.drill}:{sel.seed}:{sel.replicate}")
        self._last: dict[str, int] = {}

    def pick(self, slot: str, options: Sequence[str]) -> str:
        """One of ``options``, not the one :meth:`pick` gave last time for ``slot``."""
        choices = [i for i in range(len(options)) if i != self._last.get(slot)] or [0]
        i = self._rng.choice(choices)
        self._last[slot] = i
        return options[i]


def derived_questions(tt: Tabletop, most: int = 8) -> list[str]:
    """Questions for the table from this replay: its decision points, then where it missed its targets."""
    res = tt.result
    words = tt.plan.topology.words()
    say = Phrasing(tt)
    out = decision_questions(tt, say)
    missed = missed_recovery_questions(tt, most, say)
    missed += lost_data_questions(tt)
    dropped = [q for q in res.queues if q.dropped > 0]
    if dropped:
        items = "; ".join(
            f"{q.name} {'everything after its buffer filled' if not math.isfinite(q.dropped) else f'{q.dropped:,.0f} messages'}"
            for q in dropped
        )
        missed.append(
            f"Interface messages were dropped while their systems were down: {items}. Who re-sends them, and from where?"
        )
    over = [w for w in res.workflows if not w.met]
    if over:
        items = "; ".join(f"{w.name} {dur(w.downtime)} (can absorb {dur(w.tolerance)})" for w in over)
        missed.append(
            f"{words.workflows_heading} stayed on {words.fallback} longer than they can absorb: {items}. "
            f"What happens to {words.harmed} past that point, and who is watching for it?"
        )
    if res.rollback_time is not None and len(missed) < most:
        missed.append(
            f"The rollback took {dur(res.rollback_time)} from the decision until the old system was authoritative again. "
            f"Is that inside the change window agreed with {words.owners}?"
        )
    if not missed:
        missed.append(
            "Every target was met in this replay. Rerun the pack with --percentile 90 to rehearse a bad night: what changes?"
        )
    return out + missed


def _down_past_target(tt: Tabletop, t: float) -> list[str]:
    """The services down at ``t`` for longer than their tier's target, most critical first."""
    st = tt.state(t)
    tiers = tt.plan.topology.tiers
    late = [d for d in st.down if t - d.since > tiers[d.tier].rto]
    return [d.service for d in sorted(late, key=lambda d: (tiers[d.tier].rto, d.service))]


def decision_questions(tt: Tabletop, say: Phrasing | None = None) -> list[str]:
    """One question per decision point of this replay, in the order they were taken, each naming its ``D`` number."""
    say = say or Phrasing(tt)
    words = tt.plan.topology.words()
    out = []
    for k, d in enumerate(decision_points(tt), 1):
        opening = say.pick(f"open:{d.kind}", DECISION_OPENINGS[d.kind]).format(
            who=d.actor,
            clock=tt.clock(d.finish),
            tplus=tplus(d.finish),
            took=dur(d.took),
            decision=decision_words(tt.plan),
            told=words.told,
        )
        facts = []
        if d.waited > 0:
            facts.append(f"{dur(d.waited)} of that went waiting for {d.actor.split('#')[0]} to be free")
        late = _down_past_target(tt, d.evidence_at)
        if late:
            shown = late[:3] + ([f"{len(late) - 3} more"] if len(late) > 3 else [])
            facts.append(f"by then {spoken_list(shown)} {'was' if len(late) == 1 else 'were'} past their RTO target")
        text = f"(D{k}) {opening}"
        if facts:
            text += " " + "; ".join(facts)[0].upper() + "; ".join(facts)[1:] + "."
        out.append(f"{text} {say.pick(f'ask:{d.kind}', DECISION_ASKS[d.kind])}")
    return out


def _by_criticality(plan: Plan) -> dict[str, tuple[float, float, str]]:
    """Each affected service's sort key: its tier's RTO target, then RPO target, then its name."""
    topo = plan.topology
    return {s: (topo.tiers[o.tier].rto, topo.tiers[o.tier].rpo, s) for s, o in plan.outages.items()}


def missed_rto_roots(tt: Tabletop) -> tuple[list[str], dict[str, list[str]]]:
    """The services whose own recovery decided a missed RTO, most critical first, and the missed services each explains."""
    plan, rep, res = tt.plan, tt.replay, tt.result
    rank = _by_criticality(plan)
    missed_rto = sorted((s for s in res.services if s.affected and not s.rto_met), key=lambda s: rank[s.name])
    groups: dict[str, list[str]] = {}
    for s in missed_rto:
        groups.setdefault(ev.root_service(plan, rep.finish, s.name), []).append(s.name)
    return sorted(groups, key=lambda r: min(rank[m] for m in groups[r])), groups


def missed_recovery_questions(tt: Tabletop, most: int, say: Phrasing | None = None) -> list[str]:
    """A question for each service whose recovery decided a missed RTO, most critical first: where its
    outage went, and what would have shortened it; the services beyond ``most - 3`` in one line."""
    say = say or Phrasing(tt)
    plan, rep, res = tt.plan, tt.replay, tt.result
    out: list[str] = []
    by_name = {s.name: s for s in res.services}
    roots, groups = missed_rto_roots(tt)
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
        cause = ev.main_cause(plan, rep.start, rep.finish, b)
        head = say.pick("open:recovery", RECOVERY_OPENINGS).format(
            service=root, rto=dur(b.rto), inside=inside, tier=rs.tier
        )
        out.append(f"{head}{cause_clause(tt, cause)}{also} {say.pick(f'ask:{cause.kind}', RECOVERY_ASKS[cause.kind])}")
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


def cause_clause(tt: Tabletop, cause: ev.Cause) -> str:
    """Where most of an outage went, as a sentence (see :func:`drsim.report.evidence.main_cause`)."""
    secs = dur(cause.seconds)
    if cause.kind == "decision":
        decided = tt.plan.task("declare")
        at = float(tt.replay.finish[decided.index])
        made = float(tt.replay.finish[decided.index] - tt.replay.start[decided.index])
        return (
            f"{secs} of that passed before the decision at {tt.clock(at)} "
            f"({decision_words(tt.plan)}; deciding took {dur(made)})."
        )
    if cause.kind == "wait":
        behind = f" (busy with '{cause.busy}')" if cause.busy else ""
        return f"{secs} of that was '{cause.what}' waiting for a free {cause.role}{behind}."
    if cause.kind == "dependency":
        return f"{secs} of that was waiting for {cause.what} after its own recovery was done."
    if cause.kind == "runbook":
        return f"{secs} of that was hands-on runbook work."
    return f"it came back only when the fault cleared ({secs} of it)."


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
