"""The exercise around a tabletop pack: the agenda, the roles in the room, the ground rules, the feedback form.

A replay of an incident can run for a day; a tabletop session lasts about two
hours. The facilitator therefore runs the incident as *modules* — detection
to the decision, the recovery, the way back to normal — and jumps the clock
forward between them ("it is now 05:40; the EHR has been on cloud-east for two
hours"). :func:`agenda` lays a session out that way from the replay's own
milestones, so the modules follow this replay rather than a template, and
every moment of the incident belongs to exactly one module.

The rest of this module is the furniture every exercise package carries: who
runs the exercise (facilitator, evaluator, note-taker), the ground rules read
out at the start, and the feedback form participants fill in at the end. All
of it is worded from the estate's vocabulary (:class:`drsim.model.Vocabulary`),
so a payments estate's pack speaks of users and service owners, not wards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import Vocabulary
from .document import Bullets, Heading, Keep, Para, Ruled, Table
from .tabletop import Tabletop
from .wording import dur, tplus

#: The session length when none is given: two hours, the usual tabletop slot.
DEFAULT_SESSION = 2 * 3600.0
#: Minutes of the session before the first module: welcome, roles, ground rules, the situation.
OPENING = 10
#: Minutes after the last module: the hot wash (what went well, what to change) and the feedback form.
CLOSING = 20
#: The shortest module worth running, in minutes.
SHORTEST_MODULE = 10


@dataclass(frozen=True)
class Module:
    """One module of the session: a window of the incident, run in a slot of the session.

    ``start`` and ``end`` are seconds since the fault (the incident's clock);
    ``session_start`` and ``session_end`` are minutes since the session began.
    ``jump`` is how far the facilitator moves the clock forward after this
    module: from its last scripted moment (an inject or a decision) to the next
    module's first; ``None`` after the last module.
    """

    title: str
    start: float
    end: float
    session_start: int
    session_end: int
    injects: tuple[int, ...]
    decisions: int
    jump: float | None


def incident_span(tt: Tabletop) -> float:
    """Seconds from the fault to the incident's last moment: its last event or its last inject."""
    times = [e.time for e in tt.result.timeline if math.isfinite(e.time)]
    times += [i.at for i in tt.plan.drill.injects]
    return max(times, default=0.0)


def _phases(tt: Tabletop, end: float) -> list[tuple[str, float, float]]:
    """The incident cut when the decision is taken and when every service is restored (those that happened)."""
    words = tt.plan.topology.words()
    m = tt.result.milestones
    cuts = [(0.0, "Detection, triage and the decision")]
    # the decision as its owner took it (a declare-when rule may mark the milestone earlier)
    declared = max(m.get("declared", math.inf), float(tt.replay.finish[tt.plan.task("declare").index]))
    restored = m.get("restored", math.inf)
    if math.isfinite(declared) and 0 < declared < end:
        cuts.append((declared, f"Recovery, with {words.users} on {words.fallback}"))
    if math.isfinite(restored) and cuts[-1][0] < restored < end:
        cuts.append((restored, "Back to normal: what waits, what was lost, what comes next"))
    return [(title, s, cuts[i + 1][0] if i + 1 < len(cuts) else end) for i, (s, title) in enumerate(cuts)]


def agenda(tt: Tabletop, decision_times: list[float], session: float = DEFAULT_SESSION) -> list[Module]:
    """The session's modules, in incident order, covering the incident from the fault to its last moment.

    The incident is cut at the decision and at the restoration of every
    service, as far as this replay reached them. The session's time after the
    opening and before the hot wash is shared between the modules in
    proportion to what they hold (one share each, plus one per inject and per
    decision point), in whole five-minute slots, none shorter than
    :data:`SHORTEST_MODULE` minutes.
    """
    end = incident_span(tt)
    phases = _phases(tt, end)
    minutes = round(session / 60)
    available = max(minutes - OPENING - CLOSING, SHORTEST_MODULE * len(phases))
    injects = list(enumerate(tt.plan.drill.injects, 1))

    def inside(t: float, s: float, e: float, last: bool) -> bool:
        return s <= t < e or (last and t == e)

    held = []
    for k, (_, s, e) in enumerate(phases):
        last = k == len(phases) - 1
        inj = tuple(num for num, i in injects if inside(i.at, s, e, last))
        dec = [t for t in decision_times if inside(t, s, e, last)]
        scripted = sorted([i.at for num, i in injects if num in inj] + dec)
        held.append((inj, dec, scripted))
    weights = [1 + len(inj) + len(dec) for inj, dec, _ in held]
    slots = [max(SHORTEST_MODULE, 5 * round(available * w / sum(weights) / 5)) for w in weights]
    slots[-1] += available - sum(slots)  # the last module absorbs the rounding
    if slots[-1] < SHORTEST_MODULE:  # rounding took too much: take it back from the longest
        longest = max(range(len(slots) - 1), key=lambda i: slots[i])
        slots[longest] -= SHORTEST_MODULE - slots[-1]
        slots[-1] = SHORTEST_MODULE
    out: list[Module] = []
    at = OPENING
    for k, ((title, s, e), (inj, dec, scripted), slot) in enumerate(zip(phases, held, slots, strict=True)):
        jump = None
        if k + 1 < len(phases):
            nxt = held[k + 1][2]
            last_here = scripted[-1] if scripted else s
            first_next = nxt[0] if nxt else phases[k + 1][1]
            jump = max(0.0, first_next - last_here)
        out.append(Module(title, s, e, at, at + slot, inj, len(dec), jump))
        at += slot
    return out


def _hm(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def agenda_blocks(tt: Tabletop, modules: list[Module]) -> list:
    """The agenda as a table: session slot, module, incident window, injects, and the time jump after it."""
    c = tt.clock
    total = modules[-1].session_end + CLOSING
    rows = [[f"0:00-{_hm(OPENING)}", "Opening: welcome, roles, ground rules, the situation", "", "", ""]]
    for k, m in enumerate(modules, 1):
        window = f"{c(m.start)}-{c(m.end)} ({tplus(m.start)} to {tplus(m.end)})"
        holds = ", ".join(f"I{i}" for i in m.injects) or "-"
        if m.decisions:
            holds += f"; {m.decisions} decision point{'s' if m.decisions > 1 else ''}"
        jump = "-" if m.jump is None else f"move the clock on {dur(m.jump)}"
        rows.append([f"{_hm(m.session_start)}-{_hm(m.session_end)}", f"Module {k}: {m.title}", window, holds, jump])
    hot = modules[-1].session_end
    rows.append([f"{_hm(hot)}-{_hm(total - 5)}", "Hot wash: what went well, what to change", "", "", ""])
    rows.append([f"{_hm(total - 5)}-{_hm(total)}", "Feedback forms", "", "", ""])
    return [
        Heading("Exercise structure"),
        Para(
            f"A {dur(total * 60)} session runs the {dur(incident_span(tt))} of this incident as "
            + ("one module." if len(modules) == 1 else f"{len(modules)} modules. ")
            + (
                ""
                if len(modules) == 1
                else "Between modules the facilitator moves the clock on and reads out where things stand "
                "at the new time (the state of play on the inject cards)."
            )
        ),
        Table(
            ["session", "part", "incident clock", "injects", "then"],
            rows,
            weights=[1.1, 3.2, 2.8, 1.6, 1.7],
        ),
    ]


def exercise_roles(words: Vocabulary) -> list[list[str]]:
    """The people who run the exercise, and what each does (rows: role, does)."""
    return [
        [
            "facilitator",
            "Runs the session to the agenda, reads the injects out at their minute, moves the clock on between "
            "modules and keeps the discussion on the decisions; does not give answers.",
        ],
        [
            "evaluator",
            "Watches one or two objectives, notes what was decided, by whom and on what evidence, and compares it "
            "with the expected actions; speaks only in the hot wash.",
        ],
        [
            "note-taker",
            "Records decisions, open questions and actions with an owner as they come up, for the after-action report.",
        ],
        [
            "participants",
            f"Play their own role as they would on the night, from what they would know then; those who speak for "
            f"{words.users} and {words.owners} say what {words.users} would see and need.",
        ],
    ]


def ground_rules(words: Vocabulary) -> list[str]:
    """The ground rules read out at the start of the session."""
    return [
        "This is a no-fault exercise: it tests the plan and the estate, not the people.",
        "Answer as you would on the night, with the people, tools and information you would have then.",
        "Decide on the evidence in front of you; if you would need more, say what and from whom.",
        "The facilitator may move the clock on; the situation at the new time is read out.",
        "Speak for your role; if a role is not at the table, say what you would ask of it.",
        f"Say what {words.users} and {words.harmed} would notice, not only what the systems do.",
        "Phones away except to look up what you would really look up; the note-taker records actions and owners.",
    ]


def roles_blocks(words: Vocabulary) -> list:
    """The roles in the room and the ground rules, as blocks."""
    return [
        Heading("Roles in the room", 3),
        Table(["role", "does"], exercise_roles(words), weights=[1.2, 6]),
        Heading("Ground rules", 3),
        Bullets(ground_rules(words), numbered=True),
    ]


#: The statements participants rate on the feedback form (1 strongly disagree to 5 strongly agree).
FEEDBACK_STATEMENTS = (
    "The scenario was realistic for our estate.",
    "The injects and questions made us take the decisions we would take on the night.",
    "I know what my role does in this incident.",
    "I know who may take the decision, and what happens if they cannot be reached.",
    "The session was the right length, and the time jumps were clear.",
)


def feedback_blocks(words: Vocabulary) -> list:
    """The participant feedback form: ratings, three open questions and space to answer."""
    rows = [[s, "1   2   3   4   5"] for s in FEEDBACK_STATEMENTS]
    return [
        Heading("Participant feedback form"),
        Para("Name and role (optional): ______________________________"),
        Para("Rate each statement from 1 (strongly disagree) to 5 (strongly agree); circle one."),
        Table(["statement", "rating"], rows, weights=[5, 1.6]),
        Keep([Para("What is the most important thing to change before this happens for real?", "strong"), Ruled(3)]),
        Keep(
            [
                Para(f"What would {words.users} or {words.harmed} have needed that we did not discuss?", "strong"),
                Ruled(3),
            ]
        ),
        Keep([Para("What should the next exercise rehearse?", "strong"), Ruled(2)]),
    ]
