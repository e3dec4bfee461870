"""``drsim compare``: several estates on one drill, side by side, on common random numbers."""

from __future__ import annotations

import math
from pathlib import Path

import click

from . import handle_errors
from .options import plot_path, save_figure, use_agg


def _d(seconds: float) -> str:
    from ..model.units import format_duration

    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    return format_duration(seconds)


def _signed(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds == 0:
        return "0"
    return ("+" if seconds > 0 else "-") + _d(abs(seconds))


def _p(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3f}"


def _dp(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:+.3f}"


def wide_console():
    """A rich console; written to a file or a CI log (not a terminal) it is 140 columns wide, not 80."""
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=140)


def render_table(result, drill: str, keys=None, console=None) -> None:
    """A rich table of the comparison for one drill."""
    from rich.table import Table

    console = console or wide_console()
    df = result.summary(drill, keys)
    table = Table(
        title=f"{drill}: {len(result.topologies)} estates, n = {result.n}, seed {result.seed}; "
        f"differences from {result.baseline}; (lo-hi) = 95% interval",
        title_justify="left",
    )
    for col, just in (
        ("metric (target)", "left"),
        ("estate", "left"),
        ("P50", "right"),
        ("P90 (lo-hi)", "right"),
        ("P(meet) (lo-hi)", "right"),
        ("ΔP90 (lo-hi)", "right"),
        ("ΔP(meet) (lo-hi)", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=col in ("metric (target)", "estate"))
    last = None
    for r in df.itertuples():
        metric = f"{r.subject} {r.metric.upper() if r.metric in ('rto', 'rpo') else r.metric} ({_d(r.target)})"
        if last is not None and metric != last:
            table.add_section()
        base = r.topology == result.baseline
        table.add_row(
            metric if metric != last else "",
            r.topology + (" (baseline)" if base else ""),
            _d(r.p50),
            f"{_d(r.p90)} ({_d(r.p90_lo)}-{_d(r.p90_hi)})",
            f"{_p(r.p_meet)} ({_p(r.p_meet_lo)}-{_p(r.p_meet_hi)})" if not math.isnan(r.p_meet) else "-",
            "" if base else f"{_signed(r.d_p90)} ({_signed(r.d_p90_lo)} to {_signed(r.d_p90_hi)})",
            ""
            if base or math.isnan(r.d_p_meet)
            else f"{_dp(r.d_p_meet)} ({_dp(r.d_p_meet_lo)} to {_dp(r.d_p_meet_hi)})",
        )
        last = metric
    console.print(table)


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
@click.option(
    "--seed", type=int, default=0, show_default=True, envvar="DRSIM_SEED", show_envvar=True, help="Random seed."
)
@click.option("--workflows", is_flag=True, help="Also show each clinical workflow's downtime.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: the tier (and workflow) rows; csv/json: every metric of the tidy frame.",
)
@click.option(
    "--plot",
    "plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a figure (CDF of tier-0 RTO and RTO against RPO): .png, .svg or .pdf.",
)
@click.option("--tier", default="tier0", show_default=True, help="Tier the --plot shows.")
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")
@handle_errors
def compare(drill_name, topologies, n, seed, workflows, fmt, plot, tier, force):
    """Compare estates on DRILL (a bundled name such as region-loss, or a YAML file).

    Every estate replays the same drill N times on common random numbers (the
    same seed gives every shared service, step and role the same draws), so
    the differences from the first estate are paired; they are shown with 95%
    confidence intervals.

    Example: drsim compare region-loss -t warm-standby -t backup-restore --plot cmp.png
    """
    from ..analysis.compare import compare as run_compare

    plot = plot_path(plot, force)
    result = run_compare(list(topologies), drill_name, n=n, seed=seed)
    drill = result.drills[0]
    if fmt == "table":
        keys = [k for k in result.keys(drill) if k.startswith("tier:")]
        if workflows:
            keys += [k for k in result.keys(drill) if k.startswith("workflow:")]
        render_table(result, drill, keys)
    else:
        df = result.to_frame()
        if fmt == "csv":
            click.echo(df.to_csv(index=False), nl=False)
        else:
            click.echo(df.to_json(orient="records", indent=2))
    if plot is not None:
        use_agg()
        if tier not in result.runs[(drill, result.baseline)].plan.topology.tiers:
            from ..errors import InputError, Problem

            raise InputError("--tier", [Problem(f"{tier!r} is not a tier of {result.baseline!r}")])
        save_figure(result.plot(drill, tier), plot, force)


def register(main: click.Group) -> None:
    main.add_command(compare)
