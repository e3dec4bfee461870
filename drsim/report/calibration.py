"""The "Calibrated elements" section every result run with a calibration overlay carries.

A simulated RTO is only as good as the durations it was drawn from. When some
of them were fitted to the team's own records (``drsim calibrate``), a reader
must be able to tell which, and from what, without the command line at hand:
each element's dotted path, the distribution it was given, what it was fitted
from (family, records, files, goodness of fit, as the overlay's note says) and
the overlay file. Plain text comes from :func:`drsim.model.calibrated.listing`;
this module gives the Markdown, the rich console and the printable-document forms.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from ..model.calibrated import CalibratedElement, listing
from .document import Heading, Para, Section, Table, md_escape, md_table

HEADING = "Calibrated elements"


def calibration_table(elements: Sequence[CalibratedElement]) -> Table:
    """One row per calibrated element: its path, value, what it was fitted from and the overlay."""
    rows = [[e.element, e.value, e.basis or "-", e.overlay] for e in elements]
    return Table(["element", "value", "from", "overlay"], rows, weights=[3, 2, 4, 2])


def calibration_markdown(elements: Sequence[CalibratedElement], level: int = 2) -> str:
    """A Markdown section listing the calibrated elements ("" when there are none)."""
    if not elements:
        return ""
    head = "#" * level + f" {HEADING}"
    intro = f"{len(elements)} element(s) of the model set by a calibration overlay, not by the estate or drill file:"
    return "\n".join([head, "", md_escape(intro), "", *md_table(calibration_table(elements))]) + "\n"


def calibration_section(elements: Sequence[CalibratedElement]) -> Section:
    """The calibrated elements as a section of a printable document."""
    intro = "These values were set by a calibration overlay (drsim calibrate fits them to the team's own records)."
    return Section("calibration", [Heading(HEADING), Para(intro), calibration_table(elements)], new_page=False)


def render_calibration(elements: Sequence[CalibratedElement], console: Console) -> None:
    """Print the calibrated elements under a result's tables (nothing when there are none)."""
    for line in listing(elements):
        console.print(line, highlight=False, markup=False)


__all__ = ["HEADING", "calibration_markdown", "calibration_section", "calibration_table", "render_calibration"]
