"""``drsim calendar``: a year of exercises planned from rules, the estate and what history says was tested."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import InputError, Problem
from ..io import atomic_write, check_writable
from .common import EXIT_MISSED, EXIT_OK, handle_errors
from .history import history_path_option, readable
from .options import document_format, topology_option


def _start(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError("--start", [Problem(f"expected a day like 2027-01-04, found {text!r}")]) from None


@click.command("calendar")
@click.argument("rules", metavar="RULES", default="hospital")
@topology_option
@click.option(
    "--start", metavar="DAY", default=None, help="First day of the plan (default: the rules' start, else today)."
)
@history_path_option
@click.option("--no-history", is_flag=True, help="Plan as if nothing had been tested (ignore the history).")
@click.option(
    "--ics",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write the plan as an iCalendar file: one all-day event per exercise.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the printable plan to FILE (.md, .html or .pdf) instead of standard output.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "pdf"]),
    default=None,
    help="Printable plan format (default: from the -o file's suffix; md on standard output).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Paper size (pdf, html print CSS).",
)
@click.option("--force", is_flag=True, help="Overwrite the --ics or -o file if it exists.")
@handle_errors
def calendar(rules, topology, start, path, no_history, ics, output, fmt, paper, force):
    """Plan exercises from the calendar RULES (a bundled name or a YAML file; default: hospital).

    Each exercise on offer covers the services its drill takes down and the kinds of fault it
    injects. Requirements (each service of a tier every N months, each kind of fault every M
    months) fall due from the day history last recorded a drill covering them (drsim drill and
    drsim sweep record every run). Overdue requirements are planned first, then lower-risk
    exercises before higher-risk ones, on the allowed weekdays, never in a blackout, only when
    every role an exercise needs is available. Prints (or writes with -o) the printable plan;
    --ics writes an iCalendar file. Exits 0 with no coverage gap, 1 with gaps (each named in the
    plan), 2 on bad input, 3 when a file cannot be written, 4 when it exists (without --force).
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.calendar import plan_calendar
    from ..history.tested import recorded_runs, tested_days
    from ..model.loader import load_calendar, load_topology
    from ..report.calendar import calendar_document, to_ics
    from ..report.pages import render_document

    fmt = document_format(output, fmt)
    first = _start(start)
    for target in (ics, output):
        if target is not None:
            check_writable(target, force)  # refuse before any work
    topo = load_topology(topology)
    cal_file = load_calendar(rules, topo)
    with readable():
        runs = [] if no_history else recorded_runs(path, topo.name)
    day = first or cal_file.rules.start or dt.date.today()
    cal = plan_calendar(topo, cal_file.rules, cal_file.drills, tested_days(runs), day)
    doc = render_document(calendar_document(cal), fmt, paper)
    if ics is not None:
        atomic_write(ics, to_ics(cal), force=force)
        click.echo(f"wrote {ics} ({len(cal.exercises)} event(s))", err=True)
    if output is None:
        click.echo(doc, nl=False)
    else:
        atomic_write(output, doc, force=force)
        click.echo(f"wrote {output} ({fmt}, {len(cal.exercises)} exercise(s), {len(cal.gaps)} gap(s))", err=True)
    raise SystemExit(EXIT_MISSED if cal.gaps else EXIT_OK)


def register(main) -> None:
    main.add_command(calendar)
