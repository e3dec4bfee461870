"""``drsim timeline``: a printable tabletop facilitator pack from a replay of a drill."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, Problem
from ..io import check_writable
from ..model.units import UnitError, parse_duration
from .common import handle_errors, worded_as_options
from .options import calibration_option, topology_option

_SUFFIX_FORMAT = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".png": "png"}


@click.command()
@click.argument("drill_name", metavar="DRILL")
@topology_option
@calibration_option
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    envvar="DRSIM_SEED",
    show_envvar=True,
    help="Random seed: of the replay shown, or with --percentile of the sweep it is picked from.",
)
@click.option(
    "--percentile",
    type=click.FloatRange(0, 100, min_open=True),
    default=None,
    metavar="P",
    help="Show the replay whose most critical tier's RTO is the P-th percentile of a sweep "
    "(50 a typical night, 90 or 99 a bad one) instead of replicate 0 of --seed.",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(1, 1_000_000),
    default=2000,
    show_default=True,
    help="Replicates in the sweep --percentile picks from.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "pdf", "png", "console"]),
    default=None,
    help="Output format (default: from the -o file's suffix). png is one page: the swimlane chart unless --page. "
    "console: one offline HTML page to run the session from (modules, injects revealed on a click or a clock, "
    "the facilitator's state of play on a second panel).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (md and html may go to standard output).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Paper size (pdf, png, and html print CSS).",
)
@click.option(
    "--page", type=click.IntRange(1), default=None, help="png: the page to render (default: the swimlane chart)."
)
@click.option(
    "--edition",
    type=click.Choice(["facilitator", "participant"]),
    default="facilitator",
    show_default=True,
    help="facilitator: everything, answers included; participant: the situation, injects, decisions and "
    "questions with no outcomes, to hand round the table.",
)
@click.option(
    "--session",
    default="2h",
    show_default=True,
    metavar="DURATION",
    help="Length of the exercise session the facilitator's agenda is laid out on (e.g. 90m, 2h).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@handle_errors
def timeline(drill_name, topology, overlays, seed, percentile, n, fmt, output, paper, page, edition, session, force):
    """Write a tabletop exercise pack for DRILL (a bundled name or a YAML file).

    The facilitator edition (the default) is described below, with an agenda
    laying the incident over a --session-long session, the roles in the room,
    ground rules and a feedback form; --edition participant leaves out every
    outcome of the replay.

    The pack follows one replay of the drill: a cover (who is on shift, the
    objectives), a swimlane chart, every event with the injects at their
    minute, the decision points with the evidence available at each,
    discussion questions drawn from where the replay missed its targets, and
    an after-action section with an improvement plan. --format console
    writes instead one offline HTML page to run the session from. Exits 0 when written, 2 on
    bad input, 4 when the output file exists (without --force).
    """
    # imported on use: keeps drsim --help fast
    from ..report.exercise_console import write_console
    from ..report.tabletop import label_selection, tabletop
    from ..report.timeline import render_timeline

    if fmt is None:
        if output is None:
            raise InputError(
                "--format", [Problem("give --format md|html|pdf|png, or an -o file ending in .md, .html, .pdf or .png")]
            )
        fmt = _SUFFIX_FORMAT.get(output.suffix.lower())
        if fmt is None:
            raise InputError(
                str(output), [Problem("cannot tell the format from the file name; give --format md|html|pdf|png")]
            )
    if output is None and fmt in ("pdf", "png"):
        raise InputError("-o", [Problem(f"{fmt} output needs a file: give -o FILE")])
    try:
        session_seconds = parse_duration(session)
    except UnitError as exc:
        raise InputError("--session", [Problem(str(exc))]) from None
    if not 30 * 60 <= session_seconds <= 8 * 3600:
        raise InputError("--session", [Problem(f"expected a session from 30m to 8h, found {session!r}")])
    if page is not None and fmt != "png":
        raise InputError("--page", [Problem("--page applies to png output only")])
    if output is not None:
        check_writable(output, force)  # refuse before spending time on the replay
    if percentile is not None:  # picked from a sweep: the compiled engine runs (a single replay is the DES's)
        from .progress import notice_if_compiling  # imported on use: keeps drsim --help fast

        notice_if_compiling()
    with worded_as_options(percentile="--percentile", n="--n", format="--format", paper="--paper", page="--page"):
        tt = tabletop(drill_name, topology, seed=seed, percentile=percentile, n=n, calibration=overlays)
        if fmt == "console":
            out = write_console(tt, output, session=session_seconds, paper=paper, force=force)
            edition = "facilitator console"
        else:
            out = render_timeline(
                tt, fmt, output, paper, force=force, page=page, edition=edition, session=session_seconds
            )
    if output is None:
        click.echo(out, nl=False)
    else:
        sel = tt.selection
        how = f"seed {sel.seed}" if sel.percentile is None else label_selection(sel)
        what = edition if fmt == "console" else f"{edition} edition, {fmt}"
        click.echo(f"wrote {out} ({what}, {paper}; {tt.result.drill}, {how})", err=True)


def register(main) -> None:
    main.add_command(timeline)
