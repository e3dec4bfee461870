"""``calibrate``: read the sources, select each element's records, fit, and write an overlay.

The phases, each a function with typed inputs and outputs:

1. :func:`read_sources` — every source file into records (all files' problems reported together);
2. :func:`targets_of` — each mapping entry checked against the estate and the drill, and expanded
   (a role's acknowledgement into one target per shift);
3. :func:`observations` — a target's records as durations, censored where they were still running;
4. :func:`fit_target` — the fit (:mod:`drsim.calibrate.fit`), refused with the count needed when too few;
5. :meth:`Calibration.overlay_text` — the overlay YAML, validated against the estate before it is written.

Nothing is written unless every element was fitted and the overlay validates.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import InputError, Problem
from ..model import Topology
from ..model.distributions import parse_distribution
from ..model.loader import (
    DEFAULT_TOPOLOGY,
    drill_file_from_text,
    load_topology,
    parse_yaml,
    plain_data,
    read_user_file,
    resolve,
    topology_from_text,
)
from ..model.units import UnitError, format_duration, write_duration
from ..plan.roster import shift_on_duty
from ..sweep.grid import set_path
from .fit import Fit, TooFewRecords, fit_durations
from .mapping import CalibrationMap, ElementMap, load_mapping, locate
from .records import Record, SourceFile
from .sources import read_source

FAMILY_ORDER = ("lognormal", "gamma", "weibull", "exponential")


@dataclass(frozen=True)
class Target:
    """One element to fit: its dotted path, the mapping entry that names it, and the shift it covers."""

    path: str
    entry: ElementMap
    index: int
    role: str | None = None
    shift: int | None = None


@dataclass(frozen=True)
class Observations:
    """A target's records as durations in seconds, censored where only a lower bound is known."""

    seconds: np.ndarray
    censored: np.ndarray
    records: tuple[Record, ...]

    @property
    def files(self) -> list[str]:
        return sorted({r.source for r in self.records})

    def date_range(self) -> tuple[dt.datetime, dt.datetime] | None:
        starts = [r.start for r in self.records if r.start is not None]
        return (min(starts), max(starts)) if starts else None


@dataclass(frozen=True)
class ElementFit:
    """One element's fit and the records it came from."""

    target: Target
    fit: Fit
    observations: Observations


@dataclass(frozen=True)
class Calibration:
    """Every element fitted from the sources, ready to be written as an overlay."""

    mapping: str
    sources: tuple[SourceFile, ...]
    elements: tuple[ElementFit, ...]
    written: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def values(self) -> dict[str, str]:
        """Dotted path -> fitted distribution, as the overlay sets them."""
        return {e.target.path: e.fit.text for e in self.elements}

    def overlay_data(self) -> dict[str, Any]:
        """The overlay as plain data: ``set``, ``notes`` and ``provenance``."""
        return {
            "description": f"Calibrated by drsim calibrate from {len(self.sources)} source file(s) mapped by "
            f"{Path(self.mapping).name}; apply with --calibration.",
            "set": self.values(),
            "notes": {e.target.path: _note(e) for e in self.elements},
            "provenance": {
                "written": self.written,
                "mapping": self.mapping,
                "sources": [
                    {"path": s.path, "format": s.kind, "sha256": s.sha256, "records": s.records} for s in self.sources
                ],
                "elements": {e.target.path: _provenance(e) for e in self.elements},
            },
        }

    def overlay_text(self) -> str:
        """The overlay YAML, with a header comment saying where it came from."""
        head = (
            f"# drsim overlay: {len(self.elements)} element(s) calibrated from the team's own records.\n"
            "# Apply with: drsim drill|sweep DRILL --calibration THIS_FILE. Each value is a maximum-likelihood fit\n"
            "# (censored records included), chosen by AIC; provenance lists the files (SHA-256) and statistics.\n"
        )
        return head + yaml.safe_dump(self.overlay_data(), sort_keys=False, allow_unicode=True, width=120)

    def to_json_data(self) -> dict[str, Any]:
        return self.overlay_data()


def _note(e: ElementFit) -> str:
    f, obs = e.fit, e.observations
    span = obs.date_range()
    when = f", {span[0].date()}..{span[1].date()}" if span else ""
    files = ", ".join(Path(p).name for p in obs.files)
    return (
        f"{f.family} fitted to {f.n} records ({f.censored} censored) from {files}{when}; "
        f"KS D={f.ks_statistic:.3f} p={f.ks_pvalue:.2f}"
    )


def _provenance(e: ElementFit) -> dict[str, Any]:
    f, t, obs = e.fit, e.target, e.observations
    span = obs.date_range()
    out: dict[str, Any] = {
        "measure": t.entry.measure,
        "where": dict(t.entry.where),
        "files": obs.files,
        "n": f.n,
        "censored": f.censored,
        "family": f.family,
        "aic": {c.family: round(c.aic, 2) for c in f.candidates},
        "ks": {"statistic": round(f.ks_statistic, 4), "pvalue": round(f.ks_pvalue, 4)},
        "percentiles": {
            f"p{p}": {"fit": _dur(i.estimate), "low": _dur(i.low), "high": _dur(i.high)}
            for p, i in f.percentiles.items()
        },
        "bootstrap": f.bootstrap,
        "seed": f.seed,
    }
    if t.role is not None and t.shift is not None:
        out["shift"] = t.shift
    if span:
        out["date_range"] = [span[0].isoformat(), span[1].isoformat()]
    return out


def _dur(seconds: float) -> str:
    return write_duration(float(f"{seconds:.4g}")) if np.isfinite(seconds) else "n/a"


# ------------------------------------------------------------------ phases


def read_sources(paths: Sequence[str | Path]) -> tuple[tuple[SourceFile, ...], list[Record]]:
    """Every source file's records; the problems of every file are reported together."""
    files, records, problems = [], [], []
    for p in paths:
        try:
            src, recs = read_source(p)
        except InputError as exc:
            problems.append(exc)
            continue
        files.append(src)
        records.extend(recs)
    if problems:
        raise InputError(problems[0].source, problems[0].problems) if len(problems) == 1 else _joined(problems)
    if not paths:
        raise InputError("calibrate", [Problem("no source files given")])
    return tuple(files), records


def _joined(errors: list[InputError]) -> InputError:
    lines = [Problem(str(e)) for e in errors]
    return InputError("sources", lines)


def _raw(name: str | Path, folder: str) -> Any:
    path = resolve(str(name), folder)
    return plain_data(parse_yaml(read_user_file(path), str(path)).data), str(path)


def targets_of(mapping: CalibrationMap, source: str, topology: Topology, docs: dict) -> list[Target]:
    """Each mapping entry checked against the documents (it must name a duration there) and expanded."""
    targets: list[Target] = []
    problems: list[Problem] = []
    for i, entry in enumerate(mapping.elements):
        at = ("elements", i, "element")
        parts = entry.element.split(".")
        if len(parts) == 4 and parts[:2] == ["topology", "staff"] and parts[3] == "acknowledge":
            role = topology.staff.get(parts[2])
            if role is None:
                has = ", ".join(topology.staff) or "no roles"
                problems.append(Problem(f"no role {parts[2]!r} in the estate (it has: {has})", at, *locate(source, at)))
                continue
            targets.extend(
                Target(f"topology.staff.{parts[2]}.shifts.{s}.acknowledge", entry, i, parts[2], s)
                for s in range(len(role.shifts))
            )
            continue
        problem = _check_path(docs, entry.element)
        if problem:
            problems.append(Problem(problem, at, *locate(source, at)))
            continue
        if (
            len(parts) == 6
            and parts[:2] == ["topology", "staff"]
            and parts[3] == "shifts"
            and parts[5] == "acknowledge"
        ):
            targets.append(Target(entry.element, entry, i, parts[2], int(parts[4])))
        else:
            targets.append(Target(entry.element, entry, i))
    if problems:
        raise InputError(source, problems)
    return targets


def _check_path(docs: dict, key: str) -> str | None:
    """Why ``key`` does not name a duration in the documents (None when it does)."""
    parts = key.split(".")
    if parts[0] not in docs:
        if parts[0] == "drill":
            return "a drill.* element needs a drill: give 'drill:' in the mapping or --drill"
        return "must start with 'topology.' or 'drill.', e.g. drill.detection.delay"
    cur: Any = docs[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        where = ".".join(parts[:i])
        if isinstance(cur, list):
            if not part.isdigit() or int(part) >= len(cur):
                return f"{where} is a list of {len(cur)}; expected an index 0..{len(cur) - 1}, found {part!r}"
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            if part not in cur:
                return f"the estate has no {part!r} in {where} (it has: {', '.join(map(str, cur)) or 'nothing'})"
            cur = cur[part]
        else:
            return f"{where} is a value ({cur!r}), not a mapping or list"
    try:
        if not isinstance(cur, str):
            raise UnitError("not text")
        parse_distribution(cur)
    except UnitError:
        return f"{key} is {cur!r}, not a duration; only a duration can be calibrated"
    return None


def _local(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return t.astimezone(tz).replace(tzinfo=None) if t.tzinfo is not None else t


def select(records: Sequence[Record], target: Target, topology: Topology, tz: dt.tzinfo) -> list[Record]:
    """The records a target takes: from its files, with matching labels, on its shift."""
    e = target.entry
    out = []
    for r in records:
        if e.files is not None and not any(r.source == f or Path(r.source).name == f for f in e.files):
            continue
        if any(r.labels.get(k) not in ([v] if isinstance(v, str) else v) for k, v in e.where.items()):
            continue
        if target.role is not None and target.shift is not None:
            if r.start is None:
                continue
            role = topology.staff[target.role]
            on = shift_on_duty(role, _local(r.start, tz))
            if on is None or on is not role.shifts[target.shift]:
                continue
        out.append(r)
    return out


def observations(
    records: Sequence[Record], target: Target, as_of: dt.datetime | None, last_seen: dict[str, dt.datetime | None]
) -> Observations:
    """Each record's duration for the target's measure: observed, or censored where it never finished.

    A measure a record never reached is censored at the record's resolution
    (``open_for``), or, still open, at ``as_of`` (default: the latest timestamp
    of its file). An escalated first-level acknowledgement is censored as the
    mapping says (:mod:`drsim.calibrate.mapping`).
    """
    e, m = target.entry, target.entry.measure
    xs, cs, used = [], [], []
    for r in records:
        if m in r.durations:
            v, c = r.durations[m], m in r.censored
            if m == "acknowledge" and r.escalations > 0 and e.escalated == "censor":
                v, c = (min(v, e.escalation_timeout) if e.escalation_timeout else v), True
        elif m == "duration":
            continue
        elif r.open_for is not None:
            v, c = r.open_for, True
            if m == "acknowledge" and r.escalations > 0 and e.escalation_timeout and e.escalated == "censor":
                v = min(v, e.escalation_timeout)
        else:
            end = as_of or last_seen.get(r.source)
            if r.start is None or end is None:
                continue
            start = r.start
            if (start.tzinfo is None) != (end.tzinfo is None):  # a naive file with an as_of in the mapping's zone
                start = start.replace(tzinfo=end.tzinfo) if start.tzinfo is None else start.replace(tzinfo=None)
            v, c = (end - start).total_seconds(), True
        if v > 0:
            xs.append(v)
            cs.append(c)
            used.append(r)
    return Observations(np.array(xs, dtype=float), np.array(cs, dtype=bool), tuple(used))


def fit_target(target: Target, obs: Observations, mapping: CalibrationMap) -> Fit:
    """The fit of one target, or :class:`TooFewRecords`."""
    e = target.entry
    return fit_durations(
        obs.seconds,
        obs.censored,
        families=tuple(e.families or FAMILY_ORDER),
        min_records=e.min_records or mapping.min_records,
        bootstrap=mapping.bootstrap,
        seed=mapping.seed,
    )


def calibrate(
    sources: Sequence[str | Path],
    mapping: str | Path,
    topology: str | Path | None = None,
    drill: str | Path | None = None,
    *,
    bootstrap: int | None = None,
    seed: int | None = None,
) -> Calibration:
    """Fit every element of the mapping file to the records of ``sources``.

    ``topology`` and ``drill`` (names or paths) stand in for the mapping's own
    ``topology:`` and ``drill:`` when it gives none; ``bootstrap`` and ``seed``
    override the mapping's. Raises :class:`~drsim.errors.InputError` (naming the
    file, line and column) for bad sources, a mapping element the estate lacks,
    or an element with too few records (saying how many are needed).
    """
    cmap, tz, as_of = load_mapping(mapping)
    if bootstrap is not None or seed is not None:
        cmap = cmap.model_copy(update={k: v for k, v in (("bootstrap", bootstrap), ("seed", seed)) if v is not None})
    topo_name = cmap.topology or topology or DEFAULT_TOPOLOGY
    topo = load_topology(topo_name)
    docs: dict[str, Any] = {}
    names: dict[str, str] = {}
    docs["topology"], names["topology"] = _raw(topo_name, "topologies")
    drill_name = cmap.drill or drill
    if drill_name is not None:
        docs["drill"], names["drill"] = _raw(drill_name, "drills")
    targets = targets_of(cmap, str(mapping), topo, docs)
    files, records = read_sources(sources)
    last_seen = {f.path: f.last for f in files}
    _check_labels(cmap, str(mapping), records)
    fits, problems = [], []
    for t in targets:
        obs = observations(select(records, t, topo, tz), t, as_of, last_seen)
        try:
            fits.append(ElementFit(t, fit_target(t, obs, cmap), obs))
        except TooFewRecords as exc:
            at = ("elements", t.index, "element")
            problems.append(Problem(f"{t.path}: too few records to fit: {exc}", at, *locate(mapping, at)))
    if problems:
        raise InputError(str(mapping), problems)
    result = Calibration(str(mapping), files, tuple(fits))
    _validate_overlay(result, docs, names)
    return result


def _check_labels(cmap: CalibrationMap, source: str, records: Sequence[Record]) -> None:
    """Refuse a ``where`` label no record carries (a typo would otherwise select nothing, silently)."""
    known = sorted({k for r in records for k in r.labels})
    problems = []
    for i, e in enumerate(cmap.elements):
        for k in e.where:
            if k not in known:
                at = ("elements", i, "where", k)
                problems.append(
                    Problem(
                        f"no record has a label {k!r} (labels in these sources: {', '.join(known)})",
                        at,
                        *locate(source, at),
                    )
                )
    if problems:
        raise InputError(source, problems)


def _validate_overlay(result: Calibration, docs: dict, names: dict[str, str]) -> None:
    """Apply the fitted values to copies of the documents and validate them, as an overlay will be."""
    edited = copy.deepcopy(docs)
    for path, text in result.values().items():
        set_path(edited, path, text)
    topo = topology_from_text(yaml.safe_dump(edited["topology"], sort_keys=False), names["topology"])
    if "drill" in edited:
        drill_file_from_text(yaml.safe_dump(edited["drill"], sort_keys=False), topo, names["drill"])


def describe(result: Calibration) -> list[str]:
    """The calibration as people read it: one block per element."""
    lines = []
    for e in result.elements:
        f = e.fit
        lines.append(f"{e.target.path} = {f.text}")
        lines.append(
            f"  {f.n} records ({f.censored} censored) from {', '.join(Path(p).name for p in e.observations.files)}"
        )
        aic = ", ".join(f"{c.family} {c.aic:.1f}" for c in f.candidates)
        lines.append(f"  AIC (lower is better): {aic}")
        lines.append(f"  goodness of fit: KS D = {f.ks_statistic:.3f}, bootstrap p = {f.ks_pvalue:.2f}")
        pct = "; ".join(
            f"P{p} {format_duration(i.estimate)} [{format_duration(i.low)}-{format_duration(i.high)}]"
            for p, i in f.percentiles.items()
        )
        lines.append(f"  {pct} (95% bootstrap intervals, {f.bootstrap} resamples, seed {f.seed})")
    return lines


__all__ = [
    "Calibration",
    "ElementFit",
    "Observations",
    "Target",
    "calibrate",
    "describe",
    "fit_target",
    "observations",
    "read_sources",
    "select",
    "targets_of",
]
