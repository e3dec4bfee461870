"""``drsim sweep``: many replicates of a drill over a grid of what-ifs, judged by its gates."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .ci import CiFiles, history_options, journal_option, junit_option, warn_missed_gates
from .common import EXIT_MISSED, EXIT_OK, Interrupted, handle_errors
from .options import calibration_option, overlaid, plot_path, save_figure, seed_option, topology_option, use_agg

replicates_help = "Replicates per grid point."


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@calibration_option
@click.option(
    "-n", "--replicates", "n", type=click.IntRange(1), default=100_000, show_default=True, help=replicates_help
)
@click.option(
    "--engine",
    type=click.Choice(["vectorized", "des"]),
    default="vectorized",
    show_default=True,
    help="vectorized: compiled, for millions of replicates; des: the SimPy reference (same numbers, slower).",
)
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A what-if: a dotted path into the topology or drill YAML (a list item by its name or index) and its "
    "values, e.g. topology.staff.dba.shifts.night.headcount=1,2,3 or drill.faults.0.duration=4h,8h. Repeat for "
    "a cartesian product.",
)
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    metavar="FILE|DIR",
    help="Write the tidy summary (one row per grid point x metric) to FILE.parquet or FILE.csv; or checkpoint "
    "the sweep in DIR (a path without a suffix): every finished chunk, a manifest and, at the end, "
    "DIR/summary.parquet.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the checkpointed sweep in --out DIR: run only its missing chunks (same settings required).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite --out FILE, --plot, --junit and --journal files, or start afresh in a non-empty --out DIR.",
)
@seed_option
@click.option(
    "--chunk-size",
    type=click.IntRange(1),
    default=None,
    help="Replicates per unit of work (memory per chunk grows with it). Default: as many as fit the memory "
    "budget, at most 65536. The numbers never depend on it.",
)
@click.option(
    "--memory",
    metavar="SIZE",
    default=None,
    help="Memory budget of each process that runs chunks, e.g. 800M or 4G: chunks are cut to fit it. "
    "Default: $DRSIM_MEMORY, else 1.5G.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask", "inline"]),
    default=None,
    envvar="DRSIM_EXECUTOR",
    show_envvar=True,
    help="Where chunks run: local (the best choice on this machine: a process pool for large sweeps, else this "
    "process), dask (a Dask cluster), inline (this process). Default: local, or dask with --scheduler.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    envvar="DRSIM_SCHEDULER",
    show_envvar=True,
    help="Address of an existing Dask scheduler, e.g. tcp://host:8786 (without it, --executor dask starts a "
    "local cluster).",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    envvar="DRSIM_WORKERS",
    show_envvar=True,
    help="Worker processes of the local pool or of the Dask cluster drsim starts (default: one per core).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="With exactly two --grid keys: write a heatmap of P(meet target) of --plot-metric over the grid "
    "(.png, .svg or .pdf).",
)
@click.option(
    "--plot-metric",
    default=None,
    metavar="METRIC",
    help="Metric the --plot heatmap shows, e.g. tier:tier0:rto, service:ehr-db:rpo or "
    "workflow:medication-administration:downtime (default: the metric whose P(meet) varies most across the grid).",
)
@click.option(
    "--show",
    "show",
    multiple=True,
    metavar="METRIC",
    help="A metric the table shows side by side over the grid points (repeat for several), e.g. "
    "tier:tier0:rto or latency:declare (default: the metrics whose P(meet) varies most across the grid).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="table: rich tables; json: every metric of every grid point and each gate's verdict (seconds; "
    "null = never), for CI jobs; markdown: tier summary and gates, for a job summary or a pull request.",
)
@junit_option
@journal_option
@history_options
@handle_errors
def sweep(
    drill_name,
    topology,
    overlays,
    n,
    engine,
    grids,
    out,
    resume,
    force,
    seed,
    chunk_size,
    memory,
    executor,
    scheduler,
    workers,
    plot,
    plot_metric,
    show,
    fmt,
    junit,
    journal,
    history,
    no_history,
):
    """Run DRILL N times per grid point and report percentiles, P(meeting targets) and gates.

    Prints, per grid point, each tier's RTO and RPO percentiles (P50/P90/P95/P99)
    with the probability of meeting its target and a 95% interval, workflow
    downtime, the decision-latency breakdown, and the drill's gates with by
    how much each missed, then what to run next if one did. Exits 0 when
    every fail gate passes (or the drill has none; a missed warn gate is a
    warning), 1 when a fail gate fails, 2 on bad input.
    """
    # imported on use: keeps drsim --help fast
    from ..errors import InputError, Problem
    from ..extras import require
    from ..io import check_writable
    from ..sweep import parse_grid_option
    from ..sweep import sweep as run_sweep
    from .progress import notice_if_compiling, progress_bar

    given_drill, given_topology = drill_name, topology  # as named: for the journal and what to run next
    drill_name, topology, _ = overlaid(drill_name, topology, overlays)  # bad overlays are told before anything runs
    grid: dict = {}
    for g in grids:
        key, values = parse_grid_option(g)
        grid[key] = values
    folder = None
    if out is not None:
        folder = Path(out) if _is_folder(out) else None
        out = Path(out)
        if folder is None:
            if out.suffix.lower() not in (".parquet", ".csv"):
                raise InputError(
                    str(out),
                    [
                        Problem(
                            "--out must end in .parquet or .csv (a file), or be a directory (no suffix) to checkpoint"
                        )
                    ],
                )
            check_writable(out, force)
            if out.suffix.lower() == ".parquet":
                require("parquet", "--out FILE.parquet")  # before the sweep, not after it
        else:
            require("parquet", "--out DIR (a checkpointed sweep writes DIR/summary.parquet)")
    if plot is not None and len(grid) != 2:
        raise InputError("--plot", [Problem(f"a heatmap needs exactly two --grid keys (the axes); {len(grid)} given")])
    plot = plot_path(plot, force)
    ci = CiFiles.checked(junit, journal, force, plot, out if folder is None else None).recording(history, no_history)
    if plot is not None and plot_metric is not None:
        _check_plot_metric(drill_name, topology, plot_metric)  # before the sweep, not after it
    if show:
        _check_show(drill_name, topology, show)  # before the sweep, not after it
    if resume and folder is None:
        raise InputError("--resume", [Problem("needs --out DIR, the directory of the checkpointed sweep to continue")])
    if executor is None:
        executor = "dask" if scheduler else "local"
    if scheduler:
        # imported on use: keeps drsim --help fast
        from ..sweep.executors import check_scheduler_address

        check_scheduler_address(scheduler)  # before any compiling: a mistyped address is told at once
    if engine == "vectorized":
        notice_if_compiling()
    with progress_bar(sys.stderr.isatty()) as bar, _resumable(folder):
        result = run_sweep(
            given_drill,
            given_topology,
            calibration=overlays,
            n=n,
            seed=seed,
            engine=engine,
            grid=grid,
            chunk_size=chunk_size,
            memory=memory,
            progress=bar,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            checkpoint=folder,
            resume=resume,
            force=force,
        )
    print_sweep(result, fmt, given_drill, given_topology, show)
    warn_missed_gates(result)
    ci.write_sweep(result, given_drill, given_topology, grid, overlays)
    # with a machine-readable format on standard output, where files went is said on standard error
    if folder is not None:
        from ..sweep.checkpoint import SUMMARY  # imported on use: keeps drsim --help fast

        click.echo(f"wrote {folder / SUMMARY}", err=fmt != "table")
    elif out is not None:
        result.write(out, force=force)
        click.echo(f"wrote {out}", err=fmt != "table")
    if plot is not None:
        _plot_heatmap(result, plot, plot_metric, force)
    sys.exit(EXIT_OK if result.passed else EXIT_MISSED)


@contextmanager
def _resumable(folder: Path | None) -> Iterator[None]:
    """Ctrl-C during a checkpointed sweep: say how to continue it (the chunks written so far are kept)."""
    try:
        yield
    except KeyboardInterrupt:
        if folder is None:
            raise Interrupted() from None
        raise Interrupted(
            f"the chunks finished so far are in {folder}; run the same command with --resume to continue"
        ) from None


def _check_plot_metric(drill_name, topology, metric: str) -> None:
    """Refuse a ``--plot-metric`` the drill has no target for, naming the closest one."""
    # imported on use: keeps drsim --help fast
    from ..api import prepare
    from ..engine.outcomes import targets
    from ..errors import InputError, Problem
    from ..model.checks import did_you_mean

    known = sorted(targets(prepare(drill_name, topology)))
    if metric not in known:
        raise InputError(
            "--plot-metric", [Problem(f"no metric {metric!r} with a target in this sweep{did_you_mean(metric, known)}")]
        )


def _check_show(drill_name, topology, show) -> None:
    """Refuse a ``--show`` metric the drill does not report, naming the closest one."""
    # imported on use: keeps drsim --help fast
    from ..api import run_drill
    from ..errors import InputError, Problem
    from ..model.checks import did_you_mean

    known = sorted(run_drill(drill_name, topology).metrics)
    problems = [Problem(f"no metric {m!r} in this sweep{did_you_mean(m, known)}") for m in show if m not in known]
    if problems:
        raise InputError("--show", problems)


def _plot_heatmap(result, path: Path, metric: str | None, force: bool) -> None:
    """P(meet target) of one metric over the sweep's two grid keys; by default the metric whose P(meet)
    varies most across the grid."""
    # imported on use: keeps drsim --help fast
    from ..errors import InputError, Problem
    from ..model.checks import did_you_mean
    from ..report import labels, plots

    known = result.by_variation()
    if metric is None:
        if not known:
            raise InputError("--plot-metric", [Problem("this drill has no metric with a target; nothing to plot")])
        metric = known[0]
    if metric not in known:
        raise InputError(
            "--plot-metric", [Problem(f"no metric {metric!r} with a target in this sweep{did_you_mean(metric, known)}")]
        )
    use_agg()
    x, y = result.grid_keys
    targets = {pt.targets[metric] for pt in result.points}
    target = targets.pop() if len(targets) == 1 else None  # a grid over the target itself: no one bound
    title = f"{result.drill}: {labels.meets(metric, target)}, n = {result.n:,} per cell"
    ax = plots.grid_heatmap(result.to_frame(), x, y, metric, title=title)
    save_figure(ax.figure, path, force)


def print_sweep(result, fmt: str, drill: str, topology: str | None, show: tuple[str, ...] = ()) -> None:
    """A sweep's summary and gates on standard output: rich tables (with what to run next when a gate
    missed), JSON or Markdown. A grid sweep (or ``show``) is one side-by-side table of its points."""
    # imported on use: keeps drsim --help fast
    from ..report.console import wide_console
    from ..report.grid_table import render_grid
    from ..report.sweep_summary import render_gates_markdown, render_sweep, sweep_json
    from .next_steps import sweep_next_steps

    if fmt == "json":
        click.echo(sweep_json(result))
    elif fmt == "markdown":
        click.echo(render_gates_markdown(result))
    else:
        console = wide_console()
        if len(result.points) > 1 or show:
            render_grid(result, console, list(show))
        else:
            render_sweep(result, console)
        hint = sweep_next_steps(result, drill, topology)
        if hint is not None:
            console.print(hint, highlight=False, markup=False)


def _is_folder(out: str) -> bool:
    """``--out`` names a checkpoint directory: an existing directory, a path ending in a slash, or one without
    a suffix."""
    p = Path(out)
    return p.is_dir() or out.endswith(("/", os.sep)) or (not p.exists() and p.suffix == "")


def register(main) -> None:
    main.add_command(sweep)
