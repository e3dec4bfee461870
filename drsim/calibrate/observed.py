"""Observed drills: what real drills measured, read from YAML or CSV, to score the model against.

A team that ran a drill for real knows when it was detected, when the disaster
was declared and when each service came back. Those times, keyed exactly as a
sweep keys its metrics (``milestone:declared:time``, ``service:ehr-db:rto``,
``tier:tier0:rto``), are what :mod:`drsim.calibrate.backtest` compares with
the simulated distribution. Two layouts are read, chosen by the file's suffix.

YAML (``.yaml``/``.yml``), one entry per drill::

    drills:
      - name: 2025-03 region-loss game day
        date: 2025-03-14                     # optional
        observed:
          "milestone:declared:time": 42m
          "service:ehr-db:rto": 1h10m
          "queue:hl7-adt:dropped": 1200      # counts are plain numbers

CSV (``.csv``), one observation per row, columns ``drill,metric,observed``
and optionally ``date``::

    drill,date,metric,observed
    2025-03 game day,2025-03-14,milestone:declared:time,42m

Times are durations with units (``42m``, ``1h10m``), as everywhere in drsim;
``>=2h`` ("at least 2h") for something that had not happened when the drill was
stopped 2h in (a *right-censored* observation: the model is scored on the
chance it gives of taking at least that long), or ``never`` when not even that
is known; counts (messages, writes) are plain numbers. Each observation remembers its
file, line and field path, so an observation the model cannot score (a metric
the drill does not produce) is reported where it was written.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from ..errors import InputError, Problem
from ..model.loader import model_from_text, parse_yaml, read_user_file
from ..model.types import Model
from ..model.units import UnitError, parse_duration
from .records import AT_LEAST

#: What an observed value may be written as in YAML.
Value = str | int | float


class ObservedDrill(Model):
    """One real drill: its name, when it ran, and the metrics it measured."""

    name: str = Field(min_length=1, description="What the team calls the drill (e.g. 2025-03 game day).")
    date: str | None = Field(None, description="When it ran (free text, e.g. 2025-03-14).")
    observed: dict[str, Value] = Field(
        min_length=1, description="Metric key (as a sweep reports it, e.g. service:ehr-db:rto) -> observed value."
    )


class ObservedFile(Model):
    """A YAML file of observed drills."""

    description: str = ""
    drills: list[ObservedDrill] = Field(min_length=1)


@dataclass(frozen=True)
class Observation:
    """One observed value of one metric in one real drill, and where it was written.

    ``written`` is the value as the file gave it; it is read into a number only
    once the metric's unit is known (:func:`value_of`).
    """

    drill: str
    date: str | None
    metric: str
    written: Value
    source: str
    line: int | None
    column: int | None
    path: tuple[str | int, ...]

    @property
    def censored(self) -> bool:
        """Whether only a lower bound was observed (``>=2h``: it had not happened when the drill stopped)."""
        return isinstance(self.written, str) and self.written.strip().startswith(AT_LEAST)

    def problem(self, message: str) -> InputError:
        """An error about this observation, at its file, line and field."""
        return InputError(self.source, [Problem(message, self.path, self.line, self.column)])


def value_of(obs: Observation, unit: str) -> float:
    """The observation as a number in the metric's ``unit`` (seconds for times), or an error at its place.

    For a censored observation (``>=2h``) this is its lower bound.
    """
    w = obs.written
    if obs.censored:
        assert isinstance(w, str)
        w = w.strip()[len(AT_LEAST) :].strip()
        if not w or w.lower() == "never":
            raise obs.problem(f"{obs.metric}: expected a value after {AT_LEAST!r} (e.g. >=2h), found {obs.written!r}")
    if isinstance(w, str) and w.strip().lower() == "never":
        return math.inf
    if unit == "s":
        try:
            return parse_duration(w)
        except UnitError as exc:
            raise obs.problem(f"{obs.metric} is a time: {exc}") from None
    try:
        x = float(w)
    except (TypeError, ValueError):
        raise obs.problem(f"{obs.metric} is counted in {unit}: expected a number, found {w!r}") from None
    if not math.isfinite(x) or x < 0:
        raise obs.problem(f"{obs.metric} is counted in {unit}: expected a number >= 0, found {w!r}")
    return x


def load_observations(paths: Sequence[str | Path]) -> list[Observation]:
    """Every observation in the files ``paths``, in file order (YAML or CSV by suffix)."""
    out: list[Observation] = []
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            out.extend(_read_csv(path))
        elif suffix in (".yaml", ".yml"):
            out.extend(_read_yaml(path))
        else:
            raise InputError(str(path), [Problem("observed drills are read from .yaml, .yml or .csv files")])
    check_unique(out)
    return out


def check_unique(observations: Sequence[Observation]) -> None:
    """Refuse a metric observed twice in one drill (same name and date): one of them is a mistake,
    and counting both would weigh that drill twice."""
    seen: dict[tuple[str, str | None, str], Observation] = {}
    for obs in observations:
        key = (obs.drill, obs.date, obs.metric)
        first = seen.setdefault(key, obs)
        if first is not obs:
            at = f"{first.source}" + (f" line {first.line}" if first.line is not None else "")
            raise obs.problem(f"{obs.metric} of drill {obs.drill!r} is already observed at {at}")


def _read_yaml(path: str | Path) -> list[Observation]:
    """The observations of a YAML file, each with the line of its value."""
    source = str(path)
    raw = read_user_file(path)
    model = model_from_text(raw, ObservedFile, source)
    assert isinstance(model, ObservedFile)
    doc = parse_yaml(raw, source)
    out = []
    for i, d in enumerate(model.drills):
        for key, value in d.observed.items():
            where = ("drills", i, "observed", key)
            line, column = doc.locate(where)
            out.append(Observation(d.name, d.date, key, value, source, line, column, where))
    return out


#: The columns of an observed-drills CSV, and which may be left out.
CSV_COLUMNS = ("drill", "metric", "observed")
CSV_OPTIONAL = ("date",)


def _read_csv(path: str | Path) -> list[Observation]:
    """The observations of a CSV file (``drill,metric,observed[,date]``), each with its line."""
    source = str(path)
    try:
        text = read_user_file(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, [Problem(f"is not UTF-8 text (byte {exc.start})")]) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InputError(source, [Problem(f"is empty; expected a header {','.join(CSV_COLUMNS)}", (), 1)])
    names = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    unknown = [h for h in names if h not in CSV_COLUMNS + CSV_OPTIONAL]
    if missing or unknown:
        what = f"missing column {', '.join(missing)}" if missing else f"unknown column {', '.join(unknown)}"
        raise InputError(
            source, [Problem(f"{what}; expected columns drill, metric, observed and optionally date", (), 1)]
        )
    col = {name: names.index(name) for name in names}
    out = []
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise InputError(source, [Problem(f"not valid CSV: {exc}", (), reader.line_num)]) from None
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise InputError(source, [Problem(f"has {len(row)} fields; the header has {len(names)}", (), line)])
        cells = {name: row[i].strip() for name, i in col.items()}
        for name in CSV_COLUMNS:
            if not cells[name]:
                raise InputError(source, [Problem(f"column {name} is empty", (name,), line, col[name] + 1)])
        out.append(
            Observation(
                cells["drill"],
                cells.get("date") or None,
                cells["metric"],
                cells["observed"],
                source,
                line,
                col["observed"] + 1,
                ("observed",),
            )
        )
    if not out:
        raise InputError(source, [Problem("has a header but no observations", (), 1)])
    return out


__all__ = [
    "CSV_COLUMNS",
    "Observation",
    "ObservedDrill",
    "ObservedFile",
    "check_unique",
    "load_observations",
    "value_of",
]
