"""Options several commands share."""

from __future__ import annotations

from pathlib import Path

import click

topology_option = click.option(
    "--topology",
    "-t",
    metavar="NAME|PATH",
    default=None,
    envvar="DRSIM_TOPOLOGY",
    show_envvar=True,
    help="Bundled topology name or YAML file (default: ehr-hybrid, the reference EHR estate).",
)
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, envvar="DRSIM_SEED", show_envvar=True, help="Random seed."
)


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_path(path: Path | None, force: bool) -> Path | None:
    """Check a ``--plot`` file before any work: a known suffix, and not clobbering a file."""
    from ..errors import InputError, Problem
    from ..io import check_writable

    if path is None:
        return None
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(str(path), [Problem("--plot writes .png, .svg or .pdf; choose one of those suffixes")])
    return check_writable(path, force)


def save_figure(fig, path: Path, force: bool) -> None:
    from ..report import plots

    plots.save(fig, path, force=force)
    click.echo(f"wrote {path}", err=True)


def use_agg() -> None:
    """Draw without a display (the command line never opens a window)."""
    import matplotlib

    matplotlib.use("Agg")
