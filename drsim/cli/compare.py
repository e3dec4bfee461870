"""``drsim compare``: several estates on one drill, side by side, on common random numbers."""

from __future__ import annotations

import click

from .common import handle_errors, worded_as_options
from .options import calibration_option, force_plot_option, plot_option, plot_path, save_figure, seed_option, use_agg


@click.command()
@click.argument("drill_name", metavar="DRILL")
@click.option(
    "--topology",
    "-t",
    "topologies",
    metavar="NAME|PATH",
    multiple=True,
    required=True,
    help="An estate to compare (bundled name or YAML file); repeat it. The first is the baseline.",
)
@click.option(
    "-n",
    "--n",
    "n",
    type=click.IntRange(2, 10_000_000),
    default=2000,
    show_default=True,
    envvar="DRSIM_N",
    show_envvar=True,
    help="Replicates per estate.",
)
@calibration_option
@seed_option
@click.option("--workflows", is_flag=True, help="Also show each workflow's downtime.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: the tier (and workflow) rows; csv/json: every metric of the tidy frame.",
)
@plot_option("Also write a figure (CDF of the most critical tier's RTO, and RTO against RPO): .png, .svg or .pdf.")
@click.option("--tier", default=None, help="Tier the --plot shows (default: the baseline's most critical tier).")
@force_plot_option
@handle_errors
def compare(drill_name, topologies, overlays, n, seed, workflows, fmt, plot, tier, force):
    """Compare estates on DRILL (a bundled name such as region-loss, or a YAML file).

    Every estate replays the same drill N times on common random numbers (the
    same seed gives every shared service, step and role the same draws), so
    the differences from the first estate are paired; they are shown with 95%
    confidence intervals.

    Example: drsim compare region-loss -t warm-standby -t backup-restore --plot cmp.png
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.compare import compare as run_compare
    from ..report.analysis_tables import frame_text, render_comparison
    from ..report.calibration import render_calibration
    from ..report.console import wide_console
    from .progress import notice_if_compiling

    plot = plot_path(plot, force)
    notice_if_compiling()
    result = run_compare(list(topologies), drill_name, n=n, seed=seed, calibration=overlays)
    drill = result.drills[0]
    if fmt == "table":
        keys = [k for k in result.keys(drill) if k.startswith("tier:")]
        if workflows:
            keys += [k for k in result.keys(drill) if k.startswith("workflow:")]
        console = wide_console()
        render_comparison(result, drill, keys, console)
        render_calibration(result.calibrated, console)
    else:
        text = frame_text(result.to_frame(), fmt)
        click.echo(text, nl=fmt != "csv")
    if plot is not None:
        use_agg()
        with worded_as_options(tier="--tier"):
            fig = result.plot(drill, result.tier_of(drill, tier))
        save_figure(fig, plot, force)


def register(main: click.Group) -> None:
    main.add_command(compare)
