"""``drsim sensitivity`` and ``drsim advise``: what drives recovery, and what to fix first."""

from __future__ import annotations

import click

from .common import handle_errors, worded_as_options
from .options import (
    force_plot_option,
    frame_format_option,
    metric_option,
    plot_option,
    plot_path,
    save_figure,
    seed_option,
    topology_option,
    use_agg,
)

chart_option = plot_option("Also write the chart: .png, .svg or .pdf.")


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@metric_option
@click.option(
    "-n",
    "--n",
    "n",
    type=click.IntRange(10, 65536),
    default=None,
    help="Replicates per what-if (default 2000 for oat, 256 for sobol).",
)
@seed_option
@click.option(
    "--method",
    type=click.Choice(["oat", "sobol"]),
    default="oat",
    show_default=True,
    help="oat: each parameter scaled low and high alone (tornado); sobol: global first-order and total indices.",
)
@click.option("--low", type=float, default=0.5, show_default=True, help="Low scale factor on a parameter's durations.")
@click.option("--high", type=float, default=2.0, show_default=True, help="High scale factor.")
@click.option(
    "--samples",
    type=click.IntRange(4, 65536),
    default=None,
    help="Sobol base samples (a power of two); the what-ifs run are samples x (parameters + 2). "
    "Default: doubled from 256 until every index's 95% interval is at most --width wide, up to --max-samples.",
)
@click.option(
    "--width",
    type=click.FloatRange(0, 2, min_open=True),
    default=0.1,
    show_default=True,
    help="Widest 95% interval of a Sobol index to size the samples for.",
)
@click.option(
    "--max-samples",
    type=click.IntRange(4, 65536),
    default=4096,
    show_default=True,
    help="Most Sobol base samples tried when sizing them.",
)
@click.option("--top", type=click.IntRange(1, 1000), default=12, show_default=True, help="Parameters shown.")
@frame_format_option
@chart_option
@force_plot_option
@handle_errors
def sensitivity(
    drill_name, topology, metric, n, seed, method, low, high, samples, width, max_samples, top, fmt, plot, force
):
    """Which uncertain durations move METRIC on DRILL the most.

    A parameter is a group of durations — every page of one role
    (acknowledge:dba), one service's runbook (runbook:ehr-db), detection,
    triage, the decision, how long the site stays down... — scaled together.
    oat scales each alone by --low and --high; sobol varies all of them at
    once (log-uniform between --low and --high) and reports Sobol indices
    computed with SALib, over the parameters with the largest oat swings, with
    enough samples for every index's 95% interval to be at most --width wide
    (or a warning saying how many samples that would take).
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.sensitivity import one_at_a_time, sobol
    from ..report.analysis_tables import frame_text, render_sensitivity
    from ..report.console import wide_console
    from .progress import notice_if_compiling

    plot = plot_path(plot, force)
    notice_if_compiling()
    with worded_as_options(metric="--metric"):
        if method == "oat":
            res = one_at_a_time(drill_name, topology, metric, n=n or 2000, seed=seed, low=low, high=high)
        else:
            res = sobol(
                drill_name,
                topology,
                metric,
                n=n or 256,
                seed=seed,
                low=low,
                high=high,
                samples=samples,
                width=width,
                max_samples=max_samples,
            )
    if fmt != "table":
        click.echo(frame_text(res.to_frame(), fmt), nl=fmt != "csv")
    else:
        render_sensitivity(res, top, wide_console())
        if res.sure_enough:
            click.echo(res.sobol_note() + ".")
    if res.sobol is not None and not res.sure_enough:
        click.echo(f"warning: {res.sobol_note()}", err=True)
    if plot is not None:
        use_agg()
        ax = res.plot_sobol() if res.sobol else res.plot_tornado(top)
        save_figure(ax.figure, plot, force)


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@metric_option
@click.option(
    "-n",
    "--n",
    "n",
    type=click.IntRange(10, 10_000_000),
    default=2000,
    show_default=True,
    help="Replicates per candidate change.",
)
@seed_option
@click.option(
    "--library",
    "library",
    metavar="NAME|PATH",
    multiple=True,
    help="Topologies to take a service's runbook under a better DR strategy from "
    "(default: the bundled strategy variants); repeat it.",
)
@click.option(
    "--budget",
    metavar="AMOUNT",
    default=None,
    help="Money to spend, in the estate's currency (250k, 1.2M): rank changes and combinations within it "
    "by what they buy per cost.",
)
@click.option(
    "--years",
    type=click.FloatRange(0, 100),
    default=5.0,
    show_default=True,
    help="Horizon a cost is counted over: one-off + years x per year.",
)
@click.option(
    "--beam", type=click.IntRange(1, 50), default=3, show_default=True, help="Combinations kept at each size."
)
@click.option(
    "--max-changes",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Most changes bought together.",
)
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True, help="Changes shown.")
@frame_format_option
@chart_option
@force_plot_option
@handle_errors
def advise(drill_name, topology, metric, n, seed, library, budget, years, beam, max_changes, top, fmt, plot, force):
    """Rank changes to the estate by how much they improve METRIC on DRILL.

    Candidates: one more person in each role the drill needs (on the shift on
    duty), each affected service on the next better DR strategy, each backup
    interval halved, each backed-up interface buffer doubled. Every candidate
    replays the drill on the same random numbers as the estate as it is, so the
    ranking is not noise; each effect has a 95% interval.

    With --budget, changes are priced from the estate's costs and bought
    together too (a beam search over combinations within the budget), and
    everything is ranked by improvement per cost; --plot draws the cost-benefit
    frontier.
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.advise import advise as rank_changes
    from ..errors import InputError, Problem
    from ..model.costs import parse_amount
    from ..model.units import UnitError
    from ..report.analysis_tables import frame_text, render_advice, render_budgeted_advice
    from ..report.console import wide_console
    from .progress import notice_if_compiling

    if budget is not None:
        try:
            budget = parse_amount(budget)
        except UnitError as exc:
            raise InputError("--budget", [Problem(str(exc))]) from None
    plot = plot_path(plot, force)
    notice_if_compiling()
    with worded_as_options(metric="--metric"):
        res = rank_changes(
            drill_name,
            topology,
            metric,
            n=n,
            seed=seed,
            library=list(library) or None,
            budget=budget,
            years=years,
            beam=beam,
            max_changes=max_changes,
        )
    if fmt != "table":
        click.echo(frame_text(res.to_frame(), fmt), nl=fmt != "csv")
    elif budget is not None:
        render_budgeted_advice(res, top, wide_console())
    else:
        render_advice(res, top, wide_console())
    if plot is not None:
        use_agg()
        ax = res.plot_frontier() if budget is not None else res.plot(top)
        save_figure(ax.figure, plot, force)


def register(main: click.Group) -> None:
    main.add_command(sensitivity)
    main.add_command(advise)
