"""``drsim drill``: replay one drill and say which targets were met."""

from __future__ import annotations

import dataclasses
import sys

import click

from .ci import CiFiles, history_options, journal_option, junit_option, warn_missed_gates
from .common import EXIT_MISSED, EXIT_OK, handle_errors
from .options import (
    calibration_option,
    overlaid,
    plot_option,
    plot_path,
    save_figure,
    seed_option,
    topology_option,
    use_agg,
)


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@calibration_option
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
@plot_option("Also write a Gantt chart of the replay (staff and service swimlanes): .png, .svg or .pdf.", "FILE")
@junit_option
@journal_option
@click.option("--force", is_flag=True, help="Overwrite existing --plot, --junit and --journal files.")
@history_options
@handle_errors
def drill(drill_name, topology, overlays, seed, fmt, timeline, n, plot, junit, journal, force, history, no_history):
    """Replay DRILL (a bundled name such as region-loss, or a YAML file) once.

    Prints each affected service's achieved RTO and RPO against its tier's
    targets and by how much it missed them, each workflow's downtime,
    interface backlogs and the decision-latency breakdown, then what to run
    next if a target was missed. Exits 0 if every target is met, 1 if not.

    With -n N, runs N replicates instead, prints percentiles and each of the
    drill's gates (PASS/FAIL with the measured value and its 95% interval;
    WARN for a missed gate of severity warn, which does not fail the run),
    and exits 0 if every fail gate passes (or there are none), 1 if one fails.
    """
    given = (drill_name, topology)  # as named: for the journal and what to run next
    drill_name, topology, calibrated = overlaid(drill_name, topology, overlays)
    if n is not None:
        if plot is not None:
            raise click.UsageError(
                "--plot draws one replay; drop -n (for distributions: drsim compare --plot or drsim sweep --plot)"
            )
        ci = CiFiles.checked(junit, journal, force).recording(history, no_history)
        _judge_gates(seed, fmt, timeline, n, ci, given, overlays)
    # imported on use: keeps drsim --help fast
    from ..api import run_drill
    from ..report import plots
    from ..report.console import render_markdown, render_table, wide_console
    from .next_steps import next_steps, replay_metric

    plot = plot_path(plot, force)
    ci = CiFiles.checked(junit, journal, force, plot).recording(history, no_history)
    result = dataclasses.replace(run_drill(drill_name, topology, seed=seed), calibrated=calibrated)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "markdown":
        click.echo(render_markdown(result, timeline=timeline))
    else:
        console = wide_console()
        render_table(result, console, timeline=timeline)
        if not result.passed:
            console.print(next_steps(*given, replay_metric(result)), highlight=False, markup=False)
    ci.write_replay(result, *given, overlays)
    if plot is not None:
        use_agg()
        save_figure(plots.gantt(result).figure, plot, force)
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)


def _judge_gates(seed, fmt, timeline, n, ci: CiFiles, given: tuple, overlays: tuple):
    """``drsim drill -n N``: a sweep of N replicates of the drill as ``given`` (with the ``overlays``),
    judged by the drill's gates."""
    if timeline:
        raise click.UsageError("--timeline shows one replay; drop -n (or use drsim timeline --percentile)")
    # imported on use: keeps drsim --help fast
    from ..sweep import sweep
    from .progress import notice_if_compiling, progress_bar
    from .sweep import print_sweep

    notice_if_compiling()
    with progress_bar(sys.stderr.isatty()) as bar:
        result = sweep(*given, n=n, seed=seed, progress=bar, calibration=overlays)
    print_sweep(result, fmt, given[0], given[1])
    warn_missed_gates(result)
    ci.write_sweep(result, given[0], given[1], None, overlays)
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)
