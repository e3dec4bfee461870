"""Placeholders in a drill's scripted text: figures filled in from the replay and the estate.

A drill's injects, objectives and questions may quote figures that the
simulation decides — how full an interface queue is at the inject's minute, a
tier's recovery targets. Typed in by hand they can contradict the replay, so
they are written as placeholders and filled when a tabletop pack is written
(:mod:`drsim.report.scripted`):

* ``{queue:NAME}`` — how full interface queue NAME's buffer is at that minute;
* ``{rto:TIER}``, ``{rpo:TIER}`` — the tier's recovery targets.

Anything of the form ``{word:name}`` is read as a placeholder, so a misspelt
kind (``{que:hl7-oru}``) or a name the estate lacks is caught when the drill
is loaded, at the line of the field that holds it, not when a pack is written.
Braces without a colon (``{here}``) are ordinary text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from .drill import Drill
from .topology import Topology

#: A placeholder as written: ``{queue:hl7-oru}``, ``{rto:tier0}``; group 1 the kind, group 2 the name.
PLACEHOLDER = re.compile(r"\{([A-Za-z][\w-]*):([^{}\s]*)\}")
#: The kinds of placeholder there are, and what each fills in.
KINDS = {
    "queue": "{queue:NAME}",
    "rto": "{rto:TIER}",
    "rpo": "{rpo:TIER}",
}


def _close(word: str, pool) -> str:
    close = difflib.get_close_matches(word, list(pool), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def scripted_fields(d: Drill) -> Iterator[tuple[tuple, str]]:
    """Every field of ``d`` whose text may hold placeholders, with its path in the file."""
    for i, o in enumerate(d.objectives):
        yield ("objectives", i), o
    for i, q in enumerate(d.questions):
        yield ("questions", i), q
    for i, inj in enumerate(d.injects):
        yield ("injects", i, "text"), inj.text
        if inj.prompt is not None:
            yield ("injects", i, "prompt"), inj.prompt


def placeholder_problem(kind: str, name: str, whole: str, t: Topology) -> str | None:
    """What is wrong with one placeholder against estate ``t`` (None: nothing)."""
    if kind not in KINDS:
        return f"unknown placeholder {whole}{_close(kind, KINDS)} (expected one of {', '.join(KINDS.values())})"
    pool, what = (t.queues, "queue") if kind == "queue" else (t.tiers, "tier")
    if name not in pool:
        known = ", ".join(sorted(pool)) or "none"
        return f"unknown {what} {name!r} in {whole}{_close(name, pool)} (the estate's {what}s: {known})"
    return None


def placeholder_problems(d: Drill, t: Topology) -> list[tuple[tuple, str]]:
    """Every unknown placeholder, queue or tier in ``d``'s scripted text, as ``(path, message)``."""
    out = []
    for path, text in scripted_fields(d):
        for m in PLACEHOLDER.finditer(text):
            problem = placeholder_problem(m.group(1), m.group(2), m.group(0), t)
            if problem:
                out.append((path, problem))
    return out
