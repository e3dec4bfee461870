"""``drsim history``: the runs this user has recorded — list, show, compare two, and one drill's trend.

Every ``drsim drill`` and ``drsim sweep`` is recorded (see :mod:`drsim.history.store` for where, and
``--no-history``). A history that cannot be read (corrupt, not drsim's, or written by a newer drsim) is
one line on standard error and exit 2; the file is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import InputError, Problem
from .common import handle_errors
from .options import plot_path, save_figure, use_agg

history_path_option = click.option(
    "--history",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="The history database to read (default: $DRSIM_HISTORY, else ~/.local/share/drsim/history.sqlite).",
)


@contextmanager
def readable() -> Iterator[None]:
    """A history that cannot be used is bad input: one line, exit 2."""
    # imported on use: keeps drsim --help fast
    from ..history import HistoryError

    try:
        yield
    except HistoryError as exc:
        raise InputError(exc.path, [Problem(exc.reason)]) from None


def _store(path: Path | None):
    # imported on use: keeps drsim --help fast
    from ..history import Store, resolve_path

    resolved = resolve_path(path)
    if resolved is None:
        raise InputError("DRSIM_HISTORY", [Problem("is off; name a database with --history PATH")])
    return Store(resolved)


def _dur(x: float | None) -> str:
    from ..report.wording import dur  # imported on use: keeps drsim --help fast

    return "-" if x is None else dur(x)


def _value(x: float | None, unit: str) -> str:
    """A journal value in its unit: a probability, a duration (``s``), else a plain number (a cutover
    gate's measured quantity, whose unit the plan does not state)."""
    if x is None:
        return "-"
    if unit == "probability":
        return f"{x:.3f}"
    return _dur(x) if unit == "s" else f"{x:.4g}"


def _interval(iv: tuple[float, float] | None, unit: str) -> str:
    return "" if iv is None else f" [{_value(iv[0], unit)}, {_value(iv[1], unit)}]"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


@click.group("history")
def history():
    """The recorded runs: list them, show one's journal, compare two, follow one drill over time.

    Every drsim drill and drsim sweep is recorded in a SQLite database:
    --history PATH, else $DRSIM_HISTORY (off: record nothing), else
    ~/.local/share/drsim/history.sqlite ($XDG_DATA_HOME/drsim/history.sqlite).
    """


@history.command("list")
@history_path_option
@click.option("--drill", "drill_name", default=None, help="Only the runs of this drill (as named in its result).")
@click.option("--last", type=click.IntRange(1), default=None, help="Only the latest N runs.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: a list of {id, created_utc, command, drill, topology, seed, n, engine, passed}.",
)
@handle_errors
def list_runs(path, drill_name, last, fmt):
    """List the recorded runs, oldest first: id, time, command, drill, topology, seed, n, passed."""
    with readable():
        runs = _store(path).runs(drill_name, last)
    if fmt == "json":
        import json  # imported on use: keeps drsim --help fast

        keys = ("created_utc", "command", "drill", "topology", "seed", "n", "engine", "passed")
        click.echo(json.dumps([{"id": r.id, **{k: r[k] for k in keys}} for r in runs], indent=2))
        return

    def yes(r) -> str:
        return "yes" if r["passed"] else "no"

    header = ["id", "time (UTC)", "command", "drill", "topology", "seed", "n", "passed"]
    rows = [
        [str(r.id), r["created_utc"], r["command"], r["drill"], r["topology"], str(r["seed"]), str(r["n"]), yes(r)]
        for r in runs
    ]
    click.echo(_table(header, rows) if rows else "no runs recorded")


@history.command("show")
@click.argument("run_id", metavar="ID", type=int)
@history_path_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json: the journal as --journal writes it; table: its settings, inputs, verdicts and figures for people.",
)
@handle_errors
def show(run_id, path, fmt):
    """Print run ID's journal (JSON, the shape --journal writes; --format table for people)."""
    import json  # imported on use: keeps drsim --help fast

    with readable():
        run = _store(path).run(run_id)
    if fmt == "json":
        click.echo(json.dumps(run.journal, indent=2))
        return
    j = run.journal
    click.echo(f"run {run.id}: {j['command']} of {j['drill']} on {j['topology']} at {j['created_utc']}")
    click.echo(f"seed {j['seed']}, n {j['n']}, engine {j['engine']}, drsim {j['drsim_version']}")
    click.echo("passed" if j["passed"] else "not passed")
    for i in j.get("inputs", []):
        click.echo(f"input {i['role']} {i['given']}: {i['sha256'][:12]}")
    verdicts = [
        [v["verdict"], v["name"], _value(v["measured"], v["unit"]), _value(v["threshold"], v["unit"])]
        for v in j.get("verdicts", [])
    ]
    if verdicts:
        click.echo(_table(["verdict", "check", "measured", "threshold"], verdicts))
    figures = [
        [str(f["point"]), f["metric"], f["statistic"], _value(f["value"], f["unit"]) + _interval(_pair(f), f["unit"])]
        for f in j.get("figures", [])
    ]
    if figures:
        click.echo(_table(["point", "metric", "statistic", "value"], figures))


def _pair(f: dict) -> tuple[float, float] | None:
    lo, hi = f.get("low"), f.get("high")
    return None if lo is None or hi is None else (lo, hi)


@history.command("prune")
@history_path_option
@click.option(
    "--before",
    metavar="DAY",
    required=True,
    help="Remove the runs recorded before this day (UTC), e.g. 2026-01-01. Required: nothing is removed without it.",
)
@handle_errors
def prune(path, before):
    """Remove the runs recorded before a day, saying how many were removed and how many are kept."""
    import datetime as dt  # imported on use: keeps drsim --help fast

    try:
        day = dt.date.fromisoformat(before)
    except ValueError:
        raise InputError("--before", [Problem(f"expected a day like 2026-01-01, found {before!r}")]) from None
    with readable():
        store = _store(path)
        removed, kept = store.prune(f"{day.isoformat()}T00:00:00Z")
    click.echo(f"removed {removed} run(s) recorded before {day.isoformat()}; {kept} kept in {store.path}")


@history.command("compare")
@click.argument("before", metavar="ID1", type=int)
@click.argument("after", metavar="ID2", type=int)
@history_path_option
@click.option("--all", "show_all", is_flag=True, help="List every figure, not only those that moved.")
@handle_errors
def compare(before, after, path, show_all):
    """What changed from run ID1 to run ID2: settings, inputs (by SHA-256) and figures that moved.

    A figure's 95% interval is shown where the journal has one (a sweep's);
    a move is marked * when the two intervals do not overlap.
    """
    from ..history import compare_runs  # imported on use: keeps drsim --help fast

    with readable():
        store = _store(path)
        c = compare_runs(store.run(before), store.run(after))
    click.echo(f"run {before} ({c.before.created_utc}) -> run {after} ({c.after.created_utc})")
    for key, (a, b) in c.settings.items():
        click.echo(f"{key}: {a} -> {b}")
    click.echo("inputs:")
    for i in c.inputs:
        sha = (i.after or i.before or "")[:12]
        if i.status == "changed":
            sha = f"{(i.before or '')[:12]} -> {(i.after or '')[:12]}"
        click.echo(f"  {i.role} {i.given}: {i.status} ({sha})")
    figures = c.figures if show_all else tuple(c.moved)
    if not figures:
        click.echo("figures: none moved")
        return
    rows = []
    for f in figures:
        delta = "-" if f.delta is None else ("+" if f.delta >= 0 else "-") + _value(abs(f.delta), f.unit)
        rows.append(
            [
                str(f.point),
                f.metric,
                f.statistic,
                _value(f.before, f.unit) + _interval(f.before_interval, f.unit),
                _value(f.after, f.unit) + _interval(f.after_interval, f.unit),
                delta + (" *" if f.clear else ""),
            ]
        )
    click.echo(f"figures ({len(c.moved)} moved of {len(c.figures)}):")
    click.echo(_table(["point", "metric", "statistic", f"run {before}", f"run {after}", "change"], rows))


@history.command("trend")
@click.argument("drill_name", metavar="DRILL")
@history_path_option
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also draw P90 RTO and P(meet) per tier over time: .png, .svg or .pdf.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")
@handle_errors
def trend(drill_name, path, plot, force):
    """Each tier's P90 RTO and P(meeting its RTO target) over DRILL's recorded runs (point 0 of a grid).

    One replay (drsim drill without -n) gives its tier's worst RTO and no P(meet).
    """
    from ..history import trend as drill_trend  # imported on use: keeps drsim --help fast

    plot = plot_path(plot, force)
    with readable():
        runs = _store(path).runs(drill_name)
    if not runs:
        raise InputError(drill_name, [Problem("no recorded runs of this drill (drsim history list shows them)")])
    t = drill_trend(drill_name, runs)
    header = (
        ["id", "time (UTC)", "n"] + [f"{tier} P90 RTO" for tier in t.tiers] + [f"{tier} P(meet)" for tier in t.tiers]
    )
    rows = [
        [str(r.id), r.created_utc, str(r["n"])]
        + [_dur(p90.get(tier)) for tier in t.tiers]
        + [_value(meet.get(tier), "probability") for tier in t.tiers]
        for r, p90, meet in zip(t.runs, t.p90, t.p_meet)
    ]
    click.echo(_table(header, rows))
    if plot is not None:
        use_agg()
        save_figure(_trend_figure(t), plot, force)


def _trend_figure(t):
    """Two panels over run time: each tier's P90 RTO (minutes) and P(meet)."""
    import datetime as dt  # imported on use: keeps drsim --help fast

    import matplotlib.pyplot as plt  # imported on use: keeps drsim --help fast

    when = [dt.datetime.strptime(r.created_utc, "%Y-%m-%dT%H:%M:%SZ") for r in t.runs]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    for tier in t.tiers:
        ys = [None if p.get(tier) is None else p[tier] / 60 for p in t.p90]
        top.plot(when, [float("nan") if y is None else y for y in ys], marker="o", label=tier)
        ms = [m.get(tier) for m in t.p_meet]
        bottom.plot(when, [float("nan") if y is None else y for y in ms], marker="o", label=tier)
    top.set_ylabel("P90 RTO (min)")
    bottom.set_ylabel("P(RTO <= target)")
    bottom.set_ylim(-0.02, 1.02)
    top.set_title(f"{t.drill}: recorded runs")
    top.legend(loc="best")
    fig.autofmt_xdate()
    return fig


def register(main) -> None:
    main.add_command(history)
