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

An unknown queue or tier is bad input, reported against the drill field that
holds it.
"""

from __future__ import annotations

import re

from ..errors import InputError, Problem
from .tabletop import Tabletop
from .wording import dur, share

#: A placeholder: ``{queue:hl7-oru}``, ``{rto:tier0}``, ``{rpo:tier1}``.
PLACEHOLDER = re.compile(r"\{(queue|rto|rpo):([^{}\s]+)\}")


def fill(tt: Tabletop, text: str, at: float, field: str) -> str:
    """``text`` with its placeholders filled from the replay at ``at`` seconds (``field`` names it in errors)."""
    if "{" not in text:
        return text
    topo = tt.plan.topology
    state = None

    def one(m: re.Match) -> str:
        nonlocal state
        kind, name = m.group(1), m.group(2)
        if kind == "queue":
            if name not in topo.queues:
                known = ", ".join(sorted(topo.queues)) or "none"
                raise InputError(
                    field, [Problem(f"unknown queue {name!r} in {m.group(0)}; the estate's queues: {known}")]
                )
            state = state or tt.state(at)
            b = next((b for b in state.backlogs if b.queue == name), None)
            if b is None:
                return "0%"
            return "full" if b.dropping else share(b.messages, b.buffer) if b.messages > 0 else "0%"
        if name not in topo.tiers:
            known = ", ".join(sorted(topo.tiers))
            raise InputError(field, [Problem(f"unknown tier {name!r} in {m.group(0)}; the estate's tiers: {known}")])
        return dur(topo.tiers[name].rto if kind == "rto" else topo.tiers[name].rpo)

    return PLACEHOLDER.sub(one, text)
