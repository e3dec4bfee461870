"""The run journal: what was run, on which inputs, and what it found — one JSON record per run.

A journal lets a result be trusted and compared later: the same inputs (by
their SHA-256), the same seed, replicates and engine, and the same drsim
version give the same numbers. ``drsim drill`` and ``drsim sweep`` write one
with ``--journal FILE``. Its shape is stable (``format`` 1); a field is only
ever added, and a reader keyed on ``format`` can rely on these::

    {
      "format": 1,
      "drsim_version": "0.9.0",
      "created_utc": "2026-03-14T02:10:00Z",        # when the run finished, UTC, to the second
      "command": "sweep",                           # "drill" (one replay), "sweep" (drill -n, sweep) or "cutover"
      "drill": "region-loss", "topology": "ehr-hybrid",   # as named in the result
      "inputs": [                                   # every input file, as given and as read
        {"role": "topology", "given": "ehr-hybrid", "path": ".../ehr-hybrid.yaml", "sha256": "..."},
        {"role": "drill", "given": "region-loss", "path": ".../region-loss.yaml", "sha256": "..."},
        {"role": "overlay", "given": "fitted.yaml", "path": ".../fitted.yaml", "sha256": "..."}   # each --calibration (--overlay), in order
      ],
      "seed": 0, "n": 2000, "engine": "vectorized",  # n 1 and engine "des" for one replay
      "grid": {"topology.staff.dba.shifts.2.headcount": [1, 2]},   # {} without a grid
      "points": [{"index": 0, "params": {...}}],    # one per grid point ([{"index": 0, "params": {}}] without)
      "passed": false,                              # every fail check met (warn checks do not count)
      "exit_status": 1,                             # 0 passed, 1 not
      "verdicts": [                                 # one per check: a replay's targets, a sweep's gates
        {"kind": "gate", "name": "tier0 rto p95 <= 15m", "metric": "tier:tier0:rto",
         "point": 0, "severity": "fail", "verdict": "FAIL", "passed": false,
         "measured": 8100.0, "threshold": 900.0, "unit": "s", "over": "+2h00m"}
      ],
      "figures": [                                  # headline figures, per point
        {"point": 0, "metric": "tier:tier0:rto", "statistic": "p90", "value": 7380.0, "unit": "s",
         "low": 7200.0, "high": 7560.0}              # its 95% interval (null for one replay)
      ]
    }

Durations are seconds; ``null`` means never (an outcome that never ended).
``measured`` and ``threshold`` of a probability gate are probabilities
(``unit`` ``"probability"``). The headline figures of a sweep are, for each
tier's RTO and RPO, each decision milestone (from the fault) and the
rollback, the P50, P90, P95 and P99 and, where there is a target, the
probability of meeting it (``p_meet``); of one replay, each tier's worst
RTO and RPO, each milestone and the rollback time.

:class:`Journal` is the record, built by :func:`replay_journal` or
:func:`sweep_journal`; :meth:`Journal.to_dict` is the JSON above.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..model.loader import DEFAULT_TOPOLOGY, resolve
from ..results import DrillResult
from ..stats import PERCENTILES, rank_interval
from ..sweep import SweepResult
from ..version import __version__
from .verdicts import Check, replay_checks, sweep_checks

#: The journal's shape; raised only if a field changes meaning or goes away.
FORMAT = 1
#: The kinds of metric whose figures a sweep's journal records.
HEADLINE_KINDS = ("tier", "milestone", "rollback")


@dataclass(frozen=True)
class InputFile:
    """One input file of a run: its role, the name given, the file read and its SHA-256."""

    role: str
    given: str
    path: str
    sha256: str


@dataclass(frozen=True)
class Figure:
    """One headline figure: a statistic of a metric at a grid point (seconds or a probability)."""

    point: int
    metric: str
    statistic: str
    value: float | None
    unit: str
    #: The 95% interval of a sweep's figure (distribution-free for a percentile, Wilson for ``p_meet``);
    #: None for one replay's values.
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Verdict:
    """One check's verdict as the journal keeps it (see :class:`~drsim.report.verdicts.Check`)."""

    kind: str
    name: str
    metric: str
    point: int
    severity: str
    verdict: str
    passed: bool
    measured: float | None
    threshold: float
    unit: str
    over: str

    @classmethod
    def of(cls, c: Check) -> Verdict:
        return cls(
            c.kind, c.name, c.metric, c.point, c.severity, c.verdict, c.passed, c.measured, c.threshold, c.unit, c.over
        )


@dataclass(frozen=True)
class Journal:
    """What a run was and what it found (the shape is in this module's docstring)."""

    drsim_version: str
    created_utc: str
    command: str
    drill: str
    topology: str
    inputs: tuple[InputFile, ...]
    seed: int
    n: int
    engine: str
    passed: bool
    verdicts: tuple[Verdict, ...]
    figures: tuple[Figure, ...]
    grid: Mapping[str, list] = field(default_factory=dict)
    points: tuple[Mapping[str, Any], ...] = ({"index": 0, "params": {}},)
    format: int = FORMAT

    @property
    def exit_status(self) -> int:
        """The exit status the run ends with: 0 passed, 1 not."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict:
        """The journal as JSON-ready data, keys in the documented order."""
        return {
            "format": self.format,
            "drsim_version": self.drsim_version,
            "created_utc": self.created_utc,
            "command": self.command,
            "drill": self.drill,
            "topology": self.topology,
            "inputs": [asdict(i) for i in self.inputs],
            "seed": self.seed,
            "n": self.n,
            "engine": self.engine,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "points": [dict(p) for p in self.points],
            "passed": self.passed,
            "exit_status": self.exit_status,
            "verdicts": [asdict(v) for v in self.verdicts],
            "figures": [asdict(f) for f in self.figures],
        }

    def to_json(self) -> str:
        """The journal as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def input_files(drill: str, topology: str | None, overlays: Sequence[str] = ()) -> tuple[InputFile, ...]:
    """The run's input files, as given on the command line (a bundled name or a path), with their hashes:
    the topology, the drill, then each ``--calibration`` (``--overlay``) file in the order applied."""
    out = []
    for role, given, kind in (("topology", topology or DEFAULT_TOPOLOGY, "topologies"), ("drill", drill, "drills")):
        path = resolve(str(given), kind)
        out.append(InputFile(role, str(given), str(path.resolve()), sha256_of(path)))
    out.extend(InputFile("overlay", str(g), str(Path(g).resolve()), sha256_of(g)) for g in overlays)
    return tuple(out)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def replay_journal(result: DrillResult, inputs: Sequence[InputFile]) -> Journal:
    """The journal of one replay (``drsim drill``): its targets and headline figures."""
    figures = []
    for key, value in result.metrics.items():
        kind = key.split(":", 1)[0]
        if kind in HEADLINE_KINDS:
            figures.append(Figure(0, key, "value", _num(value), "s"))
    return Journal(
        drsim_version=__version__,
        created_utc=_now(),
        command="drill",
        drill=result.drill,
        topology=result.topology,
        inputs=tuple(inputs),
        seed=result.seed,
        n=1,
        engine="des",
        passed=result.passed,
        verdicts=tuple(Verdict.of(c) for c in replay_checks(result)),
        figures=tuple(figures),
    )


def sweep_journal(result: SweepResult, inputs: Sequence[InputFile], grid: Mapping[str, list] | None = None) -> Journal:
    """The journal of a sweep (``drsim sweep``, ``drsim drill -n``): its gates and headline figures."""
    figures = []
    for pt in result.points:
        for key, s in pt.metrics.items():
            if key.split(":", 1)[0] not in HEADLINE_KINDS:
                continue
            for p, q in zip(PERCENTILES, s.quantiles([p / 100 for p in PERCENTILES])):
                lo, hi = (s.at_rank(k) for k in rank_interval(p / 100, s.n))
                figures.append(Figure(pt.index, key, f"p{p}", _num(q), "s", _num(lo), _num(hi)))
            if key in pt.targets:
                p_meet, lo, hi = pt.p_meet(key)
                figures.append(Figure(pt.index, key, "p_meet", _num(p_meet), "probability", _num(lo), _num(hi)))
    return Journal(
        drsim_version=__version__,
        created_utc=_now(),
        command="sweep",
        drill=result.drill,
        topology=result.topology,
        inputs=tuple(inputs),
        seed=result.seed,
        n=result.n,
        engine=result.engine,
        passed=result.passed,
        verdicts=tuple(Verdict.of(c) for c in sweep_checks(result)),
        figures=tuple(figures),
        grid={k: list(v) for k, v in (grid or {}).items()},
        points=tuple({"index": pt.index, "params": dict(pt.params)} for pt in result.points),
    )


def cutover_inputs(
    topology: str | None, plan: str, evidence: str | None, overlays: Sequence[str] = ()
) -> tuple[InputFile, ...]:
    """A cutover run's input files as given (a bundled name or a path): the topology, the plan,
    the evidence file if any, then each ``--calibration`` file in the order applied."""
    out = []
    for role, given, kind in (
        ("topology", topology or DEFAULT_TOPOLOGY, "topologies"),
        ("cutover", plan, "cutovers"),
        ("evidence", evidence, "cutovers/evidence"),
    ):
        if given is None:
            continue
        path = Path(given) if str(given).lower().endswith(".csv") else resolve(str(given), kind)
        out.append(InputFile(role, str(given), str(path.resolve()), sha256_of(path)))
    out.extend(InputFile("overlay", str(g), str(Path(g).resolve()), sha256_of(g)) for g in overlays)
    return tuple(out)


def cutover_journal(data: Mapping[str, Any], topology: str, inputs: Sequence[InputFile]) -> Journal:
    """The journal of a cutover run (``drsim cutover``, the figures of
    :func:`drsim.report.cutover.cutover_data`): each judged gate a verdict (``GO`` or ``NO-GO``, metric
    ``cutover:gate:<name>``, unit ``number``), and the headline figures: P(completes inside the freeze), P(stuck), the point
    of no return at q (``cutover:safe_rollback``), and the P50, P90 and P99 of the first irreversible step
    and of completion. ``drill`` holds the plan's name; it passed when no gate is NO-GO."""
    verdicts = []
    for g in data["gates"] if data["judged"] else []:
        bound = g["at_least"] if g["at_least"] is not None else g["at_most"]
        verdicts.append(
            Verdict(
                "gate",
                g["name"],
                f"cutover:gate:{g['name']}",
                0,
                "fail",
                g["verdict"],
                g["verdict"] == "GO",
                _num(g["value"]),
                float(bound),
                "number",
                "",
            )
        )
    s = data["safe_rollback"]
    figures = [
        Figure(0, "cutover:complete", "p_inside_freeze", _num(data["p_completes_inside_freeze"]), "probability"),
        Figure(0, "cutover:complete", "p_stuck", _num(data["p_stuck"]), "probability"),
        Figure(0, "cutover:safe_rollback", f"q{s['confidence']:g}", _num(s["latest_decision"]), "s"),
    ]
    for metric, key in (("cutover:point_of_no_return", "point_of_no_return"), ("cutover:complete", "completion")):
        figures += [Figure(0, metric, f"p{p}", _num(data[key][f"p{p}"]), "s") for p in (50, 90, 99)]
    return Journal(
        drsim_version=__version__,
        created_utc=_now(),
        command="cutover",
        drill=data["plan"],
        topology=topology,
        inputs=tuple(inputs),
        seed=data["seed"],
        n=data["replicates"],
        engine=data["engine"],
        passed=data["go"] is not False,
        verdicts=tuple(verdicts),
        figures=tuple(figures),
    )


__all__ = [
    "FORMAT",
    "Figure",
    "InputFile",
    "Journal",
    "Verdict",
    "cutover_inputs",
    "cutover_journal",
    "input_files",
    "replay_journal",
    "sweep_journal",
]
