"""The improvement plan of an after-action report, pre-filled from one replay.

An after-action report ends in an improvement-plan matrix: each issue the
exercise found, what to do about it, who owns it and by when. The facilitator
fills most of it in the hot wash, but a replay already knows where it went
wrong, so the matrix starts with those rows:

* each service whose own recovery decided a missed RTO, most critical first,
  with a recommendation aimed at where most of its outage went (the
  decision, a wait for a busy person, a dependency, the runbook work, the
  fault) and owned by the role that could shorten it;
* each service that lost writes beyond its RPO target;
* the slowest decisions (from being able to start to having decided);
* workflows past what they can absorb on the fallback, and interface
  messages dropped.

Due dates follow criticality: an issue of the estate's most critical tier (or
a decision) within 30 days, the next tier within 60, the rest within 90.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..plan import Plan
from . import evidence as ev
from .decisions import decision_points, decision_words
from .questions import missed_rto_roots
from .tabletop import Tabletop
from .wording import dur, spoken_list

#: Days to the due date, by the rank of the tier concerned (0: the most critical); beyond the last, the last.
DUE_DAYS = (30, 60, 90)
#: How many of the slowest decisions get a row.
SLOWEST_DECISIONS = 2


@dataclass(frozen=True)
class Improvement:
    """One row of the improvement plan: the issue found, what to do about it, who owns it, by when."""

    issue: str
    recommendation: str
    owner: str
    #: days after the exercise the action is due
    due_days: int

    @property
    def due(self) -> str:
        return f"within {self.due_days} days"


def _tier_rank(plan: Plan) -> dict[str, int]:
    topo = plan.topology
    order = sorted(topo.tiers, key=lambda t: (topo.tiers[t].rto, topo.tiers[t].rpo, t))
    return {t: i for i, t in enumerate(order)}


def _due(plan: Plan, tier: str) -> int:
    return DUE_DAYS[min(_tier_rank(plan)[tier], len(DUE_DAYS) - 1)]


def _runbook_role(plan: Plan, service: str) -> str | None:
    """The role doing most of ``service``'s runbook steps (None: automation only)."""
    roles = [t.role for t in plan.tasks if t.service == service and t.kind in ("step", "validate") and t.role]
    return max(dict.fromkeys(roles), key=roles.count) if roles else None


def _recovery_rows(tt: Tabletop) -> list[Improvement]:
    plan, rep = tt.plan, tt.replay
    decider = plan.drill.response.declare.role
    by_name = {s.name: s for s in tt.result.services}
    roots, groups = missed_rto_roots(tt)
    out = []
    for root in roots:
        rs = by_name[root]
        others = [m for m in groups[root] if m != root]
        also = f"; {spoken_list(others)} waited for it" if others else ""
        due = _due(plan, rs.tier)
        if not rs.restored:
            why = ev.why_never(plan, rep.start, rep.finish, root)
            out.append(
                Improvement(
                    f"{root} ({rs.tier}) never came back ({why}){also}.",
                    f"Give {root} a way back that does not depend on what was lost, or agree the fallback "
                    "and who invokes it.",
                    _runbook_role(plan, root) or decider,
                    due,
                )
            )
            continue
        b = ev.breakdown(plan, rep.start, rep.finish, rep.actors, root)
        c = ev.main_cause(plan, rep.start, rep.finish, b)
        issue = f"{root} ({rs.tier}) back after {dur(b.rto)} against a {dur(rs.rto_target)} RTO target{also}."
        secs = dur(c.seconds)
        if c.kind == "decision":
            rec = (
                f"{secs} passed before the decision ({decision_words(plan)}): agree a standing rule that "
                "decides it when the evidence is in, and a deputy for when the owner cannot be reached."
            )
        elif c.kind == "wait":
            behind = f" behind '{c.busy}'" if c.busy else ""
            rec = f"'{c.what}' waited {secs} for a free {c.role}{behind}: call in or cross-train a second {c.role}."
        elif c.kind == "dependency":
            rec = f"It waited {secs} for {c.what}: order the runbook so {root} is ready the moment {c.what} is back."
        elif c.kind == "runbook":
            longest = f" starting with '{c.what}'" if c.what else ""
            rec = f"Hands-on work took {secs}: automate or pre-stage the longest steps{longest}, and rehearse them."
        else:
            rec = f"It came back only when the fault cleared ({secs}): give it a recovery that does not wait for that."
        out.append(Improvement(issue, rec, c.role or _runbook_role(plan, root) or decider, due))
    return out


def _data_rows(tt: Tabletop) -> list[Improvement]:
    plan = tt.plan
    users = plan.topology.words().users
    out = []
    for s in tt.result.services:
        if not s.affected or s.rpo_met:
            continue
        lost = (
            "every write since the last clean backup"
            if s.rpo is None or not math.isfinite(s.rpo)
            else f"{dur(s.rpo)} of writes"
        )
        out.append(
            Improvement(
                f"{s.name} ({s.tier}) lost {lost} against a {dur(s.rpo_target)} RPO target.",
                f"Shorten the replication lag or backup interval, and write down how {users} find and re-enter "
                "what was lost.",
                _runbook_role(plan, s.name) or plan.drill.response.declare.role,
                _due(plan, s.tier),
            )
        )
    return out


#: What to do about a slow decision, by its kind.
DECISION_RECOMMENDATIONS = {
    "triage": "Give triage a checklist that tells this failure from a lesser one, and the signal that settles it.",
    "declare": "Write down the evidence that is enough to decide, pre-authorise a deputy, and rehearse the call.",
    "break-glass": "Test the break-glass credentials where they are kept, and how long getting them takes at night.",
    "communicate": "Pre-write the message and the list it goes to, so sending it takes minutes.",
}


def _decision_rows(tt: Tabletop) -> list[Improvement]:
    points = list(enumerate(decision_points(tt), 1))
    slowest = sorted(points, key=lambda kd: -kd[1].took)[:SLOWEST_DECISIONS]
    out = []
    for k, d in sorted(slowest, key=lambda kd: kd[0]):
        if d.took <= 0:
            continue
        waited = f", {dur(d.waited)} of it waiting for {d.actor.split('#')[0]} to be free" if d.waited > 0 else ""
        out.append(
            Improvement(
                f"D{k} ({d.title}) took {dur(d.took)} from when it could start to done{waited}.",
                DECISION_RECOMMENDATIONS[d.kind],
                d.actor.split("#")[0],
                DUE_DAYS[0],
            )
        )
    return out


def _fallback_rows(tt: Tabletop) -> list[Improvement]:
    plan, res = tt.plan, tt.result
    words = plan.topology.words()
    resp = plan.drill.response
    teller = resp.communicate.role if resp.communicate else resp.declare.role
    out = []
    over = [w for w in res.workflows if not w.met]
    if over:
        items = "; ".join(f"{w.name} {dur(w.downtime)} (can absorb {dur(w.tolerance)})" for w in over)
        out.append(
            Improvement(
                f"{words.workflows_heading} past what they can absorb on {words.fallback}: {items}.",
                f"Agree with {words.owners} how long {words.fallback} can last, and what happens past that point.",
                teller,
                DUE_DAYS[0],
            )
        )
    dropped = [q for q in res.queues if q.dropped > 0]
    if dropped:
        names = spoken_list([q.name for q in dropped])
        out.append(
            Improvement(
                f"Interface messages dropped while their systems were down: {names}.",
                "Size the buffers for the outage the estate plans for, and write down who re-sends what was dropped.",
                _runbook_role(plan, dropped[0].consumer) or resp.declare.role,
                DUE_DAYS[1],
            )
        )
    return out


def improvement_plan(tt: Tabletop) -> list[Improvement]:
    """The improvement plan's rows from this replay: missed recoveries, lost writes, slowest decisions, fallbacks."""
    return _recovery_rows(tt) + _data_rows(tt) + _decision_rows(tt) + _fallback_rows(tt)
