"""What to run next, said on the closing line of a run that missed its targets or gates.

A missed target raises two questions: what would fix it, and where the time
went. ``drsim advise`` answers the first (changes ranked by their effect on
the metric missed), ``drsim timeline --percentile`` the second (a bad night,
event by event, as a tabletop pack). The line names the metric that was
missed, so both commands can be pasted as they are.
"""

from __future__ import annotations

import shlex

from ..model.units import format_duration


def _command(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


def _stem(drill: str) -> str:
    """A file-name-friendly name for the drill: a bundled name, or a drill file's name without its suffix."""
    name = drill.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or "drill"


def next_steps(drill: str, topology: str | None, metric: str | None, percentile: float = 90) -> str:
    """The closing line: ``drsim advise`` on ``metric`` (when there is one) and ``drsim timeline`` at
    ``percentile``, with the drill and topology as they were given."""
    where = ["-t", topology] if topology else []
    pct = f"{percentile:g}"
    timeline = _command(
        "drsim", "timeline", drill, *where, "--percentile", pct, "-o", f"{_stem(drill)}-p{pct.replace('.', '_')}.md"
    )
    parts = []
    if metric is not None:
        parts.append(f"{_command('drsim', 'advise', drill, *where, '--metric', metric)} (what to change first)")
    parts.append(f"{timeline} (a bad night, event by event)")
    return "next: " + "; ".join(parts)


def replay_metric(result) -> str | None:
    """The metric a replay's first missed target reads, for ``drsim advise``: the tier RTO or RPO of the
    first service that missed, else the first workflow's downtime (None when every target was met)."""
    for s in result.services:
        if s.affected and not s.rto_met:
            return f"p90_rto:{s.tier}"
        if s.affected and not s.rpo_met:
            return f"p90_rpo:{s.tier}"
    for w in result.workflows:
        if not w.met:
            return f"p90_downtime:{w.name}"
    return None


def gate_metric(gate) -> str:
    """A gate's metric in ``--metric`` form: ``tier0 rto p95 <= 15m`` reads ``p95_rto:tier0``,
    ``P(tier0 rto <= 15m) >= 0.9`` reads ``p_meet_rto:tier0@15m00s``."""
    if gate.kind == "percentile":
        return f"p{gate.percentile:g}_{gate.metric}:{gate.subject}"
    return f"p_meet_{gate.metric}:{gate.subject}@{format_duration(gate.bound)}"


def sweep_next_steps(result, drill: str, topology: str | None) -> str | None:
    """The closing line of a sweep whose gates missed (a ``fail`` gate first, else a ``warn`` one); None if
    every gate passed."""
    missed = [g for pt in result.points for g in pt.gates if g.blocking]
    missed = missed or [g for pt in result.points for g in pt.gates if g.warning]
    if not missed:
        return None
    gate = missed[0].gate
    percentile = gate.percentile if gate.kind == "percentile" and gate.percentile is not None else 90
    return next_steps(drill, topology, gate_metric(gate), percentile)
