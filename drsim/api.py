"""The Python API: load an estate and a drill, replay it, read the result."""

from __future__ import annotations

from pathlib import Path

from .engine import des
from .engine.draws import Draws
from .engine.outcomes import evaluate
from .errors import InputError
from .model import Drill, Topology
from .model.loader import load_drill_file, load_topology
from .plan import Plan, compile_plan
from .results import DrillResult, build_result


def prepare(drill: str | Path | Drill, topology: str | Path | Topology | None = None) -> Plan:
    """Load (if given names or paths) and compile a drill against a topology."""
    topo = topology if isinstance(topology, Topology) else load_topology(topology)
    if isinstance(drill, Drill):
        return compile_plan(topo, drill)
    drill_file = load_drill_file(drill, topo)
    try:
        return compile_plan(topo, drill_file.drill)
    except InputError as exc:  # what only compiling reveals (nobody on duty for a needed role), at its line
        raise drill_file.locate(exc) from None


def run_drill(drill: str | Path | Drill, topology: str | Path | Topology | None = None, seed: int = 0) -> DrillResult:
    """Replay a drill once, event by event, and return its result with a timeline.

    ``drill`` and ``topology`` are bundled names (``"region-loss"``), file paths
    or loaded models; the topology defaults to the bundled reference estate.
    The replay is replicate 0 of a sweep with the same seed.
    """
    plan = drill if isinstance(drill, Plan) else prepare(drill, topology)
    return replay_result(plan, Draws.sample(plan.elements(), seed, 1), 0)


def replay_result(plan: Plan, draws: Draws, r: int = 0, replay: des.Replay | None = None) -> DrillResult:
    """Replay replicate ``r`` of ``draws`` event by event and score it.

    This is how one replicate of a sweep (say, the one at its 90th percentile)
    is brought back as a full result with a timeline; pass ``replay`` if that
    replicate has already been replayed.
    """
    rep = replay if replay is not None else des.replay(plan, draws, r)
    one = draws.replicate(r)
    metrics = evaluate(plan, one, rep.times)
    return build_result(plan, one, rep, metrics)
