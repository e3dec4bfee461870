"""The tabletop: one replay of a drill, as every page of a facilitator pack reads it.

A :class:`Tabletop` holds what :func:`drsim.analysis.representative.choose_replay`
chose and replayed — the plan, the scored result, the raw replay and how it was
chosen — and answers the two questions every page asks of it: what the clock
on the wall said at a moment (:meth:`Tabletop.clock`) and what the people in
the room knew then (:meth:`Tabletop.state`). The event table, the swimlane
chart and the after-action review all render from it; nothing here runs an
engine except :func:`tabletop`, the convenience that chooses and wraps.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.representative import DEFAULT_SWEEP, ChosenReplay, Selection, choose_replay
from ..engine import des
from ..model import Drill, Topology
from ..plan import Plan
from ..results import DrillResult
from ..sweep.overlay import Overlay, apply_overlays, calibrated_elements, load_overlays
from . import evidence as ev
from .wording import dur, metric_name, ordinal


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
        #: the drill runs past midnight, so clock times carry the weekday
        self.multi_day = last.date() != self.result.start.date()

    @classmethod
    def of(cls, chosen: ChosenReplay) -> Tabletop:
        """The tabletop of a chosen replay."""
        return cls(chosen.plan, chosen.result, chosen.replay, chosen.selection)

    def clock(self, seconds: float) -> str:
        """The wall-clock time ``seconds`` after the start (with the weekday if the drill runs past midnight)."""
        if not math.isfinite(seconds):
            return "never"
        return f"{self.result.clock(seconds):{'%a %H:%M' if self.multi_day else '%H:%M'}}"

    def state(self, t: float) -> ev.State:
        """The state of play ``t`` seconds into the replay: alerts, pages, work under way, what is down."""
        return ev.state_at(self.plan, self.replay.start, self.replay.finish, self.replay.actors, t)


def tabletop(
    drill: str | Path | Drill | Plan,
    topology: str | Path | Topology | None = None,
    *,
    seed: int = 0,
    percentile: float | None = None,
    n: int = DEFAULT_SWEEP,
    calibration: Sequence[str | Path | Overlay] = (),
) -> Tabletop:
    """Replay a drill for a tabletop pack (see :func:`drsim.analysis.representative.choose_replay`).

    Without ``percentile`` this is replicate 0 of ``seed`` (what ``drsim drill``
    shows). With it, ``n`` replicates are drawn with ``seed`` and run through
    the vectorized engine; the replicate whose most critical tier's RTO is the
    empirical ``percentile``-th percentile is then replayed event by event.
    ``calibration`` overlays (:mod:`drsim.sweep.overlay`) are written into the
    drill and topology first; the pack then lists the elements they calibrate.
    """
    overlays = load_overlays(calibration)
    if not overlays:
        return Tabletop.of(choose_replay(drill, topology, seed=seed, percentile=percentile, n=n))
    if isinstance(drill, Plan):
        raise TypeError("a calibration applies to a drill and topology, not to a compiled plan")
    topo, d = apply_overlays(drill, topology, overlays)
    chosen = choose_replay(d, topo, seed=seed, percentile=percentile, n=n)
    result = dataclasses.replace(chosen.result, calibrated=calibrated_elements(overlays))
    return Tabletop(chosen.plan, result, chosen.replay, chosen.selection)


def describe_selection(sel: Selection) -> str:
    """Which replay a pack shows, in a sentence for its cover."""
    if sel.percentile is None:
        return f"seed {sel.seed}, replicate 0 (the replay that drsim drill --seed {sel.seed} shows)"
    what = metric_name(sel.metric or "")
    return (
        f"replicate {sel.replicate} of a sweep of {sel.n:,} drawn with seed {sel.seed}: its {what} "
        f"({dur(sel.value)}) is the {ordinal(sel.percentile)} percentile of the sweep "
        f"(median {dur(sel.median)})"
    )


def label_selection(sel: Selection) -> str:
    """Which replay a pack shows, in a few words for its footer."""
    if sel.percentile is None:
        return f"seed {sel.seed}"
    return f"P{sel.percentile:g} replay: seed {sel.seed}, replicate {sel.replicate} of {sel.n:,}"
