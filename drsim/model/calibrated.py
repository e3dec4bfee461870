"""Calibrated elements: values of an estate or drill taken from a team's records, and where each came from.

A calibration overlay (``drsim calibrate`` writes one) replaces durations
someone estimated with distributions fitted to the team's own incidents,
chaos journals and timed drill steps. A result computed with one is only as
trustworthy as those fits, so every result says which elements were
calibrated, to what, and from what: the overlay file and its note for the
element (the family, how many records, from which files, the goodness of fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CalibratedElement:
    """One value of the estate or drill set by a calibration overlay rather than written by hand."""

    #: The dotted path of the value (``topology.staff.dba.shifts.2.acknowledge``), as ``--grid`` names it.
    element: str
    #: The value it was given, as written in the overlay (``lognormal(p50=9m, p95=41m)``).
    value: str
    #: The overlay file that set it.
    overlay: str
    #: What the value was fitted from, as the overlay's note says ("" when it says nothing).
    basis: str = ""

    def describe(self) -> str:
        """The element as people read it: ``path = value (basis; overlay FILE)``."""
        where = f"{self.basis}; overlay {self.overlay}" if self.basis else f"overlay {self.overlay}"
        return f"{self.element} = {self.value} ({where})"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready: ``element``, ``value``, ``overlay`` and ``basis``."""
        return {"element": self.element, "value": self.value, "overlay": self.overlay, "basis": self.basis}


def listing(elements: Sequence[CalibratedElement]) -> list[str]:
    """The "Calibrated elements" section of a plain-text result: a heading, then each element's value
    and what it was fitted from (nothing at all when no element is calibrated)."""
    if not elements:
        return []
    lines = [f"Calibrated elements ({len(elements)}):"]
    for e in elements:
        lines.append(f"  {e.element} = {e.value}")
        lines.append(f"    from {e.basis + '; ' if e.basis else ''}overlay {e.overlay}")
    return lines


def calibration_column(elements: Sequence[CalibratedElement]) -> str:
    """Every calibrated element on one line (``; `` between them): the ``calibrated`` column of a tidy table."""
    return "; ".join(e.describe() for e in elements)


__all__ = ["CalibratedElement", "calibration_column", "listing"]
