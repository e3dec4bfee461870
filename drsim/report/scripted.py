"""Scripted text filled from the replay, so an inject cannot contradict the state of play beside it.

A drill's injects, objectives and questions are written by people before any
replay runs. A figure typed into them ("the LIS outbound queue is at 90%",
"back within 2 hours") can disagree with what the replay shows at that very
minute, or with the estate's own targets. Such figures are written as
placeholders instead and filled in when the pack is written:

* ``{queue:NAME}`` — how full interface queue NAME's buffer is at the inject's
  minute in this replay (``35%``; ``full`` once it drops messages; ``0%`` while
  its consumer is up);
* ``{rto:TIER}`` and ``{rpo:TIER}`` — the tier's recovery targets from the
  estate (``15m``, ``1m``).

An unknown placeholder, queue or tier is bad input, reported against the drill
field that holds it (the loader checks a drill file's placeholders as it reads
it: :mod:`drsim.model.placeholders`).
"""

from __future__ import annotations

import re

from ..errors import InputError, Problem
from ..model.placeholders import PLACEHOLDER, placeholder_problem
from .tabletop import Tabletop
from .wording import dur, share


def fill(tt: Tabletop, text: str, at: float, field: str) -> str:
    """``text`` with its placeholders filled from the replay at ``at`` seconds (``field`` names it in errors).

    A drill loaded from a file has had its placeholders checked already
    (:mod:`drsim.model.placeholders`); one built in code is checked here.
    """
    if "{" not in text:
        return text
    topo = tt.plan.topology
    state = None

    def one(m: re.Match) -> str:
        nonlocal state
        kind, name = m.group(1), m.group(2)
        problem = placeholder_problem(kind, name, m.group(0), topo)
        if problem:
            raise InputError(field, [Problem(problem)])
        if kind == "queue":
            state = state or tt.state(at)
            b = next((b for b in state.backlogs if b.queue == name), None)
            if b is None:
                return "0%"
            return "full" if b.dropping else share(b.messages, b.buffer) if b.messages > 0 else "0%"
        return dur(topo.tiers[name].rto if kind == "rto" else topo.tiers[name].rpo)

    return PLACEHOLDER.sub(one, text)
