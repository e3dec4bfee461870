"""``drsim sensitivity`` and ``drsim advise``: what drives recovery, and what to fix first."""

from __future__ import annotations

import math
from pathlib import Path

import click

from . import handle_errors
from .compare import wide_console
from .options import plot_path, save_figure, seed_option, topology_option, use_agg

metric_option = click.option(
    "--metric",
    "-m",
    default="p90_rto:tier0",
    show_default=True,
    help="STAT_MEASURE:SUBJECT, e.g. p90_rto:tier0, p99_rto:tier0, p_meet_rto:tier0, p_meet_rto:tier0@3h, "
    "mean_rpo:ehr-db, p90_downtime:medication-administration, p90_time:rollback.",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
plot_option = click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the chart: .png, .svg or .pdf.",
)
force_option = click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")


def _value(metric, v: float) -> str:
    from ..model.units import format_duration

    if v is None or math.isnan(v):
        return "-"
    return f"{v:.3f}" if metric.probability else format_duration(v)


def _effect(metric, v: float) -> str:
    from ..model.units import format_duration

    if v is None or math.isnan(v):
        return "-"
    if metric.probability:
        return f"{v:+.3f}"
    if v == 0:
        return "0"
    return ("+" if v > 0 else "-") + format_duration(abs(v))


def _emit(df, fmt) -> None:
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    else:
        click.echo(df.to_json(orient="records", indent=2))


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
    type=click.IntRange(4, 4096),
    default=64,
    show_default=True,
    help="Sobol base samples (a power of two); the what-ifs run are samples x (parameters + 2).",
)
@click.option("--top", type=click.IntRange(1, 1000), default=12, show_default=True, help="Parameters shown.")
@format_option
@plot_option
@force_option
@handle_errors
def sensitivity(drill_name, topology, metric, n, seed, method, low, high, samples, top, fmt, plot, force):
    """Which uncertain durations move METRIC on DRILL the most.

    A parameter is a group of durations — every page of one role
    (acknowledge:dba), one service's runbook (runbook:ehr-db), detection,
    triage, the decision, how long the site stays down... — scaled together.
    oat scales each alone by --low and --high; sobol varies all of them at
    once (log-uniform between --low and --high) and reports Sobol indices
    computed with SALib, over the parameters with the largest oat swings.
    """
    from ..analysis import sensitivity as sens  # the module (drsim exports no name that shadows it)

    plot = plot_path(plot, force)
    if method == "oat":
        res = sens.one_at_a_time(drill_name, topology, metric, n=n or 2000, seed=seed, low=low, high=high)
    else:
        res = sens.sobol(drill_name, topology, metric, n=n or 256, seed=seed, low=low, high=high, samples=samples)
    m = res.metric
    if fmt != "table":
        _emit(res.to_frame(), fmt)
    else:
        from rich.table import Table

        table = Table(
            title=f"{res.drill} on {res.topology}: {m.describe()} = {_value(m, res.base)} as modelled "
            f"(n = {res.n}, seed {res.seed}; durations x{low:g} / x{high:g}, 95% intervals)",
            title_justify="left",
        )
        for col in ("parameter", f"x{low:g}", "effect [95% CI]", f"x{high:g}", "effect [95% CI] ", "swing"):
            table.add_column(col, justify="left" if col == "parameter" else "right")
        if res.sobol:
            table.add_column("S1 ± conf", justify="right")
            table.add_column("ST ± conf", justify="right")
        sob = {r["parameter"]: r for r in (res.sobol or [])}
        for r in res.ranked(top):
            cells = [
                r["parameter"],
                _value(m, r["value_low"]),
                f"{_effect(m, r['effect_low'])} [{_effect(m, r['effect_low_lo'])}, {_effect(m, r['effect_low_hi'])}]",
                _value(m, r["value_high"]),
                f"{_effect(m, r['effect_high'])} [{_effect(m, r['effect_high_lo'])}, {_effect(m, r['effect_high_hi'])}]",
                _effect(m, r["swing"]),
            ]
            if res.sobol:
                s = sob.get(r["parameter"])
                cells += (
                    [f"{s['S1']:.2f} ± {s['S1_conf']:.2f}", f"{s['ST']:.2f} ± {s['ST_conf']:.2f}"] if s else ["-", "-"]
                )
            table.add_row(*cells)
        wide_console().print(table)
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
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True, help="Changes shown.")
@format_option
@plot_option
@force_option
@handle_errors
def advise(drill_name, topology, metric, n, seed, library, top, fmt, plot, force):
    """Rank changes to the estate by how much they improve METRIC on DRILL.

    Candidates: one more person in each role the drill needs (on the shift on
    duty), each affected service on the next better DR strategy, each backup
    interval halved, each backed-up interface buffer doubled. Every candidate
    replays the drill on the same random numbers as the estate as it is, so the
    ranking is not noise; each effect has a 95% interval.
    """
    from ..analysis import sensitivity as sens  # the module (drsim exports no name that shadows it)

    plot = plot_path(plot, force)
    res = sens.advise(drill_name, topology, metric, n=n, seed=seed, library=list(library) or None)
    m = res.metric
    if fmt != "table":
        _emit(res.to_frame(), fmt)
    else:
        from rich.table import Table

        table = Table(
            title=f"{res.drill} on {res.topology}: {m.describe()} = {_value(m, res.base)} as it is "
            f"(n = {res.n}, seed {res.seed}); best changes first",
            title_justify="left",
        )
        for col in ("#", "change", "after", "effect [95% CI]", "sure?"):
            table.add_column(col, justify="right" if col not in ("change", "sure?") else "left")
        for i, r in enumerate(res.top(top), 1):
            table.add_row(
                str(i),
                r["change"],
                _value(m, r["value"]),
                f"{_effect(m, r['effect'])} [{_effect(m, r['effect_lo'])}, {_effect(m, r['effect_hi'])}]",
                "improves" if r["improves"] else "not shown to help",
            )
        wide_console().print(table)
    if plot is not None:
        use_agg()
        save_figure(res.plot(top).figure, plot, force)


def register(main: click.Group) -> None:
    main.add_command(sensitivity)
    main.add_command(advise)
