"""Overlays: edits written in a file and laid over an estate and a drill before they run.

An overlay is what a what-if grid point is, kept in a file: a set of dotted
paths into the raw documents (the paths ``--grid`` takes) and the value each
takes::

    set:
      topology.staff.dba.shifts.1.acknowledge: "lognormal(p50=9m, p95=41m)"
      drill.detection.delay: "gamma(shape=2.1, scale=1m30s)"
    notes:
      topology.staff.dba.shifts.1.acknowledge: fitted to pagerduty.csv (n = 212, 9 censored)

``drsim calibrate`` writes one from a team's own records; anyone may write one
by hand. Applying it edits a copy of the documents, which is then validated
and compiled exactly like a file on disk, so an overlay can never build an
estate a user could not have written. Several overlays apply in order (a later
one wins on a path both set), and a grid applies on top of them. ``notes`` say
where each value came from; every command that applies an overlay prints them.
Anything else in the file (``provenance``) is kept for people and ignored here.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from ..errors import InputError, InputWarning, Problem
from ..model import Drill, Topology
from ..model.calibrated import CalibratedElement
from ..model.loader import model_from_text, read_user_file, topology_from_text
from ..model.types import Model
from .grid import raw_document, raw_documents, set_path, validate_documents

#: A value an overlay may set: what YAML holds in a leaf of a topology or a drill.
Scalar = str | int | float | bool


class OverlayFile(Model):
    """An overlay as written: the values to set, and where they came from."""

    description: str = ""
    set: dict[str, Scalar] = Field(min_length=1, description="Dotted path (as --grid takes) -> value.")
    notes: dict[str, str] = Field(default_factory=dict, description="Dotted path -> where its value came from.")
    provenance: dict[str, Any] = Field(default_factory=dict, description="Anything else, kept for people.")


@dataclass(frozen=True)
class Overlay:
    """A loaded overlay: its file, the values it sets in order, and the note for each path."""

    source: str
    values: tuple[tuple[str, Scalar], ...]
    notes: dict[str, str]

    def describe(self) -> list[str]:
        """One line per path set, as people read it: ``path = value  (note)``."""
        return [f"{k} = {v}" + (f"  ({self.notes[k]})" if k in self.notes else "") for k, v in self.values]

    def elements(self) -> list[CalibratedElement]:
        """Each value this overlay sets, as a calibrated element with its note."""
        return [CalibratedElement(k, str(v), self.source, self.notes.get(k, "")) for k, v in self.values]


def load_overlay(path: str | Path) -> Overlay:
    """The overlay in the YAML file ``path``, validated (unknown keys, empty ``set`` and notes
    about paths it does not set are refused with file, line and field)."""
    source = str(path)
    model = model_from_text(read_user_file(path), OverlayFile, source)
    assert isinstance(model, OverlayFile)
    stray = [k for k in model.notes if k not in model.set]
    if stray:
        raise InputError(
            source, [Problem(f"a note about {k!r}, which 'set' does not set", ("notes", k)) for k in stray]
        )
    return Overlay(source, tuple(model.set.items()), dict(model.notes))


def load_overlays(overlays: Sequence[str | Path | Overlay]) -> list[Overlay]:
    """Each overlay loaded (:func:`load_overlay`) unless it already is, in order."""
    return [o if isinstance(o, Overlay) else load_overlay(o) for o in overlays]


def calibrated_elements(overlays: Sequence[Overlay], replaced: Sequence[str] = ()) -> tuple[CalibratedElement, ...]:
    """The elements the overlays calibrate, in the order first set, each with the value that applies
    (a later overlay wins on a path both set); paths in ``replaced`` (the keys of a grid applied on
    top, which sets them at every point) are not calibrated in the result and are left out."""
    found: dict[str, CalibratedElement] = {}
    for overlay in overlays:
        for e in overlay.elements():
            found[e.element] = e
    return tuple(e for k, e in found.items() if k not in replaced)


def apply_overlays(
    drill: str | Path | Drill, topology: str | Path | Topology | None, overlays: Sequence[Overlay]
) -> tuple[Topology, Drill]:
    """The topology and drill with every overlay's values written in, in order, validated.

    A path the documents lack is reported against the overlay file and its key;
    a value the model refuses is reported against the overlay with its field path.
    """
    docs = raw_documents(drill, topology)
    for overlay in overlays:
        for key, value in overlay.values:
            try:
                set_path(docs, key, copy.deepcopy(value))
            except InputError as exc:
                raise InputError(overlay.source, [Problem(p.message, ("set", key)) for p in exc.problems]) from None
    label = ", ".join(o.source for o in overlays)
    try:
        return validate_documents(docs, f"with overlay {label}")
    except InputError as exc:
        raise InputError(exc.source.replace("grid point ", "", 1), exc.problems) from None


def apply_to_topology(
    topology: str | Path | Topology | None, overlays: Sequence[Overlay]
) -> tuple[Topology, tuple[CalibratedElement, ...]]:
    """The topology with every overlay's ``topology.`` values written in, validated, and the elements
    calibrated in it: for a command that runs no drill (a cutover).

    A ``drill.`` value has nothing to set here: it is left out, with a warning saying so.
    """
    raw, source = raw_document(topology, "topologies")
    docs = {"topology": raw, "drill": {}}
    for overlay in overlays:
        for key, value in overlay.values:
            if not key.startswith("topology."):
                problem = Problem("this command runs no drill, so this value is not applied", ("set", key))
                warnings.warn(InputWarning(overlay.source, problem), stacklevel=2)
                continue
            try:
                set_path(docs, key, copy.deepcopy(value))
            except InputError as exc:
                raise InputError(overlay.source, [Problem(p.message, ("set", key)) for p in exc.problems]) from None
    label = ", ".join(o.source for o in overlays)
    try:
        topo = topology_from_text(yaml.safe_dump(docs["topology"], sort_keys=False), source)
    except InputError as exc:
        problems = [Problem(p.message, p.path) for p in exc.problems]  # lines of the edited copy mean nothing
        raise InputError(f"with overlay {label}: {exc.source}", problems) from None
    return topo, tuple(e for e in calibrated_elements(overlays) if e.element.startswith("topology."))


__all__ = [
    "Overlay",
    "OverlayFile",
    "apply_overlays",
    "apply_to_topology",
    "calibrated_elements",
    "load_overlay",
    "load_overlays",
]
