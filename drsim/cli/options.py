"""Options several commands share, declared once so they read the same everywhere.

``--topology`` and ``--seed`` take their defaults from ``DRSIM_TOPOLOGY`` and
``DRSIM_SEED``; ``--metric`` names a statistic of one outcome
(:mod:`drsim.analysis.metrics`); ``--plot`` writes a chart to a ``.png``,
``.svg`` or ``.pdf`` file, which is checked before any work starts and never
overwritten without ``--force``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, Problem
from ..io import check_writable
from ..report import plots

topology_option = click.option(
    "--topology",
    "-t",
    metavar="NAME|PATH",
    default=None,
    envvar="DRSIM_TOPOLOGY",
    show_envvar=True,
    help="Bundled topology name or YAML file (default: ehr-hybrid, the reference hospital estate).",
)
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, envvar="DRSIM_SEED", show_envvar=True, help="Random seed."
)
metric_option = click.option(
    "--metric",
    "-m",
    default=None,
    help="STAT_MEASURE:SUBJECT, e.g. p90_rto:tier0, p99_rto:tier0, p_meet_rto:tier0, p_meet_rto:tier0@3h, "
    "mean_rpo:ehr-db, p90_downtime:medication-administration, p90_time:rollback "
    "(default: p90_rto of the estate's most critical tier, the one with the shortest RTO).",
)
#: ``--format`` of a command whose result is a tidy frame: a table for people, CSV or JSON for machines.
frame_format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
#: ``--force`` of a command whose only output file is its ``--plot``.
force_plot_option = click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")


def plot_option(help: str, metavar: str | None = None):
    """``--plot FILE``: a chart written to a .png, .svg or .pdf file; ``help`` says which chart."""
    return click.option(
        "--plot", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar=metavar, help=help
    )


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_path(path: Path | None, force: bool) -> Path | None:
    """Check a ``--plot`` file before any work: a known suffix, and not clobbering a file."""
    if path is None:
        return None
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(str(path), [Problem("--plot writes .png, .svg or .pdf; choose one of those suffixes")])
    return check_writable(path, force)


def save_figure(fig, path: Path, force: bool) -> None:
    """Write ``fig`` to ``path`` and say so on standard error."""
    plots.save(fig, path, force=force)
    click.echo(f"wrote {path}", err=True)


def use_agg() -> None:
    """Draw without a display (the command line never opens a window)."""
    import matplotlib  # imported on use: keeps drsim --help fast

    matplotlib.use("Agg")


calibration_option = click.option(
    "--calibration",
    "--overlay",
    "overlays",
    metavar="OVERLAY.yaml",
    multiple=True,
    help="Apply a calibration overlay (dotted path -> value, as drsim calibrate writes; --overlay is the same) "
    "to the topology and drill first; repeatable, later files win. The result lists the calibrated elements.",
)


def overlaid(drill, topology, overlays: tuple[str, ...]):
    """``(drill, topology, calibrated)``: the drill and topology with the ``--calibration`` overlays applied
    (as loaded models; unchanged without any), and the elements they calibrate, for the result to list."""
    if not overlays:
        return drill, topology, ()
    # imported on use: keeps drsim --help fast
    from ..sweep.overlay import apply_overlays, calibrated_elements, load_overlays

    loaded = load_overlays(overlays)
    topo, d = apply_overlays(drill, topology, loaded)
    return d, topo, calibrated_elements(loaded)


#: The printable formats of a document, by the output file's suffix.
DOCUMENT_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}


def document_format(output: Path | None, fmt: str | None, option: str = "-o") -> str:
    """The format of a printable document: ``--format`` if given, else from the ``option`` file's suffix."""
    if fmt is not None:
        if fmt == "pdf" and output is None:
            raise InputError(option, [Problem(f"pdf output needs a file: give {option} FILE")])
        return fmt
    if output is None:
        return "md"
    found = DOCUMENT_SUFFIXES.get(output.suffix.lower())
    if found is None:
        raise InputError(str(output), [Problem("cannot tell the format from the file name; give --format md|html|pdf")])
    return found
