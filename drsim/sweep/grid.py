"""Grids of what-ifs: the same drill replayed on edited copies of the estate and the drill.

A what-if is an edit to the YAML a user wrote, named by a dotted path into the
raw documents (a list item by its ``name`` or by index) and a list of values to try::

    topology.staff.dba.shifts.night.headcount = 1, 2, 3
    drill.faults.0.duration                   = 4h, 8h

Every combination of values is one grid point. Each point's documents are a
copy of the originals with its values written in, validated and compiled
exactly like a file on disk, so a what-if can never build an estate a user
could not have written — and a bad value is reported against the grid point
that made it, with the field path (line numbers would point into the edited
copy, not the user's file, so they are dropped).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem, format_path
from ..model import Drill, Topology
from ..model.distributions import split_top_level
from ..model.loader import (
    DEFAULT_TOPOLOGY,
    drill_file_from_text,
    parse_yaml,
    plain_data,
    read_user_file,
    resolve,
    topology_from_text,
)
from ..plan import compile_plan

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class GridModels:
    """One grid point before compiling: the values that made it and the validated models."""

    #: The ``(dotted path, value)`` pairs of this point, in the grid's key order.
    params: tuple[tuple[str, Any], ...]
    topology: Topology
    drill: Drill


def parse_grid_option(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` from the command line: the key and its values.

    Commas inside parentheses or brackets belong to a value
    (``drill.detection.delay=lognormal(p50=3m, p95=10m),5m`` has two values).
    Whole numbers become integers, decimals floats, ``true``/``false``
    booleans; everything else stays text.
    """
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(
            f"--grid {text!r}", [Problem("expected KEY=VALUE1,VALUE2,... e.g. drill.faults.0.duration=4h,8h")]
        )
    values = split_top_level(rest)
    if any(v == "" for v in values):
        raise InputError(f"--grid {text!r}", [Problem(f"grid key {key!r} has an empty value")])
    return key, [scalar_value(v) for v in values]


def scalar_value(text: str) -> Any:
    """A command-line value as YAML would read it: an integer, a float, a boolean, or the text itself."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Every combination of the grid's values, one per point, in the grid's key order (the last key fastest)."""
    return list(itertools.product(*[list(values) for values in grid.values()]))


def point_label(params: Sequence[tuple[str, Any]]) -> str:
    """A grid point as people read it: ``key=value, ...`` (empty without a grid)."""
    return ", ".join(f"{k}={v}" for k, v in params)


def set_path(docs: dict, key: str, value: Any) -> None:
    """Set ``value`` at the dotted ``key`` (``topology.staff.dba.shifts.night.headcount``) of ``docs``.

    ``docs`` holds the raw ``topology`` and ``drill`` documents
    (:func:`raw_documents`); a key naming something they lack is an
    :class:`~drsim.errors.InputError` that says what is there instead.
    """
    parts = key.split(".")
    where = f"grid key {key!r}"
    if parts[0] not in ("topology", "drill") or len(parts) < 2:
        raise InputError(where, [Problem("must start with 'topology.' or 'drill.', e.g. drill.faults.0.duration")])
    cur = docs[parts[0]]
    trail: list[str | int] = []
    for i, part in enumerate(parts[1:], 1):
        last = i == len(parts) - 1
        at = format_path((parts[0], *trail)) or parts[0]
        idx: str | int
        if isinstance(cur, list):
            idx = list_index(cur, part, where, at)
        elif isinstance(cur, dict):
            if part not in cur and not last:
                has = ", ".join(map(str, cur)) or "nothing"
                raise InputError(where, [Problem(f"no {part!r} in {at} (it has: {has})")])
            idx = part
        else:
            raise InputError(where, [Problem(f"{at} is a value ({cur!r}), not a mapping or list")])
        if last:
            cur[idx] = value
            return
        cur = cur[idx]
        trail.append(idx)


def list_index(items: list, part: str, where: str, at: str) -> int:
    """The item of a list a grid key's ``part`` names: by its ``name`` (``shifts.night``) or by index
    (``shifts.2``)."""
    if re.fullmatch(r"\d+", part) and int(part) < len(items):
        return int(part)
    named = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == part]
    if len(named) == 1:
        return named[0]
    names = [str(item["name"]) for item in items if isinstance(item, dict) and "name" in item]
    if len(named) > 1:
        message = f"{at} has {len(named)} items named {part!r}; name one by index 0..{len(items) - 1}"
    else:
        by_name = f"an item's name ({', '.join(names)}) or " if names else ""
        message = f"{at} is a list of {len(items)}; expected {by_name}an index 0..{len(items) - 1}, found {part!r}"
    raise InputError(where, [Problem(message)])


def raw_document(obj: str | Path | Topology | Drill | None, folder: str) -> tuple[Any, str]:
    """One raw document (plain data, as written) and its source: a bundled name or path in ``folder``
    (``topologies``, ``drills``; ``None`` is the default topology), or a loaded model, named ``<its name>``."""
    if isinstance(obj, Topology | Drill):
        return obj.model_dump(mode="json", by_alias=True, exclude_unset=True), f"<{obj.name}>"
    path = resolve(str(obj if obj is not None else DEFAULT_TOPOLOGY), folder)
    return plain_data(parse_yaml(read_user_file(path), str(path)).data), str(path)


def raw_documents(drill: str | Path | Drill, topology: str | Path | Topology | None) -> dict:
    """The raw documents (plain data, as written) of the drill and topology, for grid edits.

    Returns ``{"topology": ..., "drill": ..., "sources": {"topology": name, "drill": name}}``;
    a loaded model stands for its own document, named ``<its name>``.
    """
    t, tsrc = raw_document(topology, "topologies")
    d, dsrc = raw_document(drill, "drills")
    return {"topology": t, "drill": d, "sources": {"topology": tsrc, "drill": dsrc}}


def validate_documents(docs: dict, label: str) -> tuple[Topology, Drill]:
    """Validate edited documents; problems are reported against the grid point that made them."""
    src = docs["sources"]
    try:
        topo = topology_from_text(yaml.safe_dump(docs["topology"], sort_keys=False), src["topology"])
        drill_file = drill_file_from_text(yaml.safe_dump(docs["drill"], sort_keys=False), topo, src["drill"])
        try:
            compile_plan(topo, drill_file.drill)
        except InputError as exc:  # what only compiling reveals, in the order of the lines it concerns
            raise drill_file.locate(exc) from None
        return topo, drill_file.drill
    except InputError as exc:
        # line numbers would point into the edited copy, not the user's file: keep field paths only
        raise InputError(
            f"grid point {label}: {exc.source}", [Problem(p.message, p.path) for p in exc.problems]
        ) from None


def grid_models(
    drill: str | Path | Drill, topology: str | Path | Topology | None, grid: Mapping[str, Sequence[Any]]
) -> list[GridModels]:
    """The validated topology and drill of every point of a non-empty ``grid``, in merge order.

    Every key is checked against the documents once, before any point is
    validated, so a misspelt path is reported before a bad value.
    """
    keys = tuple(grid)
    base = raw_documents(drill, topology)
    for key in keys:  # check every path once, before validating any point
        set_path(copy.deepcopy(base), key, None)
    models = []
    for combo in combinations(grid):
        docs = copy.deepcopy(base)
        params = tuple(zip(keys, combo))
        for key, value in params:
            set_path(docs, key, value)
        topo, d = validate_documents(docs, point_label(params))
        models.append(GridModels(params, topo, d))
    return models


__all__ = [
    "GridModels",
    "combinations",
    "grid_models",
    "parse_grid_option",
    "point_label",
    "raw_document",
    "raw_documents",
    "scalar_value",
    "set_path",
    "validate_documents",
]
