"""The decision points of one replay: the moments someone decides, and what deciding cost.

A tabletop turns on its decisions — whether this is a major incident, whether
to declare (fail over, restore or roll back), whether to break glass, when to
tell the people who use the services to switch to their fallback. Each
:class:`DecisionPoint` says who took one, when they could have started (every
input ready), when they did start (the person may have been busy) and when it
was taken. The inject cards, the questions, the agenda and the improvement
plan all read the same list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..plan import Plan
from . import evidence as ev
from .tabletop import Tabletop


def decision_words(plan: Plan) -> str:
    """What the drill's decision is, in its own words ("declare disaster, fail the EHR over")."""
    return plan.task("declare").label.removeprefix("decision: ")


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
    #: what kind of decision: triage, declare, break-glass or communicate
    kind: str

    @property
    def waited(self) -> float:
        """Seconds between being able to start and starting: the owner was busy, or not yet there."""
        return max(0.0, self.start - self.ready)

    @property
    def took(self) -> float:
        """Seconds from being able to start to having decided."""
        return self.finish - self.ready


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
                    "triage",
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
            out.append(DecisionPoint(title, actor, ready, s, f, f, prompt, "declare"))
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
                    "break-glass",
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
                    "communicate",
                )
            )
    out.sort(key=lambda d: (d.finish, d.start))
    return out
