"""``drsim drill``: replay one drill and say which targets were met."""

from __future__ import annotations

import sys

import click

from . import EXIT_MISSED, EXIT_OK, handle_errors
from .options import seed_option, topology_option


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@seed_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--timeline", is_flag=True, help="Also print the replay's event timeline.")
@handle_errors
def drill(drill_name, topology, seed, fmt, timeline):
    """Replay DRILL (a bundled name such as region-loss, or a YAML file) once.

    Prints each affected service's achieved RTO and RPO against its tier's
    targets, each clinical workflow's downtime, interface backlogs and the
    decision-latency breakdown. Exits 0 if every target is met, 1 if not.
    """
    from ..api import run_drill

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
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)
