"""``drsim backtest``: score the model against drills the team actually ran."""

from __future__ import annotations

import json

import click

from .common import EXIT_OK, handle_errors
from .options import (
    calibration_option,
    force_plot_option,
    plot_option,
    plot_path,
    save_figure,
    seed_option,
    topology_option,
    use_agg,
)


@click.command()
@click.argument("observed", nargs=-1, required=True, metavar="OBSERVED...")
@click.option("--drill", "drill_name", required=True, metavar="NAME|PATH", help="The drill the observations ran.")
@topology_option
@calibration_option
@click.option(
    "-n", type=click.IntRange(100, 10_000_000), default=20_000, show_default=True, help="Replicates to simulate."
)
@seed_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@plot_option("Also write the PIT histogram and the calibration plot: .png, .svg or .pdf.", "FILE")
@force_plot_option
@handle_errors
def backtest(observed, drill_name, topology, overlays, n, seed, fmt, plot, force):
    """Score DRILL's simulated distribution against OBSERVED drills.

    OBSERVED files (.yaml or .csv) give real drills' measured values keyed as a
    sweep keys its metrics (milestone:declared:time, service:ehr-db:rto,
    tier:tier0:rto). For each: the percentile the simulation gives it (PIT),
    whether it is inside the central 80% and 90% intervals, and its CRPS.
    Overall: interval coverage with binomial intervals, mean CRPS, a
    Kolmogorov-Smirnov test of the PITs against uniform and a verdict (well
    calibrated, too optimistic, too pessimistic, too confident, too
    uncertain). An observed value written >=2h had not happened when the
    drill stopped (censored). --plot draws the PIT histogram and the
    calibration plot. Exits 0 whatever the verdict, 2 on bad input, 4 when
    the --plot file exists (without --force).
    """
    # imported on use: keeps drsim --help fast
    from ..calibrate.backtest import backtest as run_backtest
    from ..calibrate.backtest import describe
    from ..calibrate.observed import load_observations

    plot = plot_path(plot, force)  # before any work
    observations = load_observations(observed)  # unreadable files are refused before the overlays are applied
    result = run_backtest(observations, drill_name, topology, n=n, seed=seed, calibration=overlays)
    if fmt == "json":
        click.echo(json.dumps(result.to_json_data(), indent=2))
    else:
        for line in describe(result):
            click.echo(line)
    if plot is not None:
        from ..report.backtest_plots import backtest_figure  # imported on use: matplotlib loads only for a plot

        use_agg()
        save_figure(backtest_figure(result), plot, force)
    raise SystemExit(EXIT_OK)


def register(main) -> None:
    main.add_command(backtest)
