"""``drsim drill``: replay one drill and say which targets were met."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_MISSED, EXIT_OK, handle_errors
from .options import plot_path, save_figure, seed_option, topology_option, use_agg


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@seed_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--timeline", is_flag=True, help="Also print the replay's event timeline.")
@click.option(
    "-n",
    "--replicates",
    "n",
    type=click.IntRange(1),
    default=None,
    help="Run N replicates (a sweep) and judge the drill's gates instead of replaying once.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write a Gantt chart of the replay (staff and service swimlanes): .png, .svg or .pdf.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")
@handle_errors
def drill(drill_name, topology, seed, fmt, timeline, n, plot, force):
    """Replay DRILL (a bundled name such as region-loss, or a YAML file) once.

    Prints each affected service's achieved RTO and RPO against its tier's
    targets, each clinical workflow's downtime, interface backlogs and the
    decision-latency breakdown. Exits 0 if every target is met, 1 if not.

    With -n N, runs N replicates instead, prints percentiles and each of the
    drill's gates (PASS/FAIL with the measured value and its 95% interval),
    and exits 0 if every gate passes (or there are none), 1 if one fails.
    """
    if n is not None:
        if plot is not None:
            raise click.UsageError(
                "--plot draws one replay; drop -n (for distributions: drsim compare --plot or drsim sweep --plot)"
            )
        _judge_gates(drill_name, topology, seed, fmt, timeline, n)
    from ..api import run_drill

    plot = plot_path(plot, force)
    result = run_drill(drill_name, topology, seed=seed)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "markdown":
        from ..report.console import render_markdown

        click.echo(render_markdown(result, timeline=timeline))
    else:
        from rich.console import Console

        from ..report.console import render_table

        render_table(result, Console(), timeline=timeline)
    if plot is not None:
        from ..report import plots

        use_agg()
        save_figure(plots.gantt(result).figure, plot, force)
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)


def _judge_gates(drill_name, topology, seed, fmt, timeline, n):
    """``drsim drill -n N``: a sweep of N replicates judged by the drill's gates."""
    if timeline:
        raise click.UsageError("--timeline shows one replay; drop -n (or use drsim timeline --percentile)")
    from ..sweep.run import sweep
    from .sweep import print_sweep

    result = sweep(drill_name, topology, n=n, seed=seed, progress=sys.stderr.isatty())
    print_sweep(result, fmt)
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)
