"""``drsim cutover``: until when can a cutover still be rolled back safely?"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .ci import CiFiles, history_options, journal_option
from .common import EXIT_OK, handle_errors
from .options import calibration_option, document_format, seed_option, topology_option

#: Exit status when a gate is NO-GO.
EXIT_NO_GO = 1


@click.command()
@click.argument("plan", metavar="PLAN")
@topology_option
@calibration_option
@click.option("-n", "replicates", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True)
@seed_option
@click.option(
    "--rollback-at",
    "rollback_at",
    multiple=True,
    metavar="DURATION",
    help="A rollback decision time after the freeze starts, e.g. 2h30m (repeatable; default: each whole hour "
    "up to the median point of no return).",
)
@click.option(
    "--evidence",
    metavar="FILE",
    help="A rehearsal's measurements (YAML or JSON: measured: {<gate measure>: value}); judges every gate "
    "and exits 1 on any NO-GO.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the printable go/no-go sheet to FILE: .md, .html or .pdf (with the rollback-completion "
    "curve as a chart in html and pdf).",
)
@click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="Paper size of the sheet."
)
@click.option(
    "--engine",
    type=click.Choice(["vectorized", "des"]),
    default="vectorized",
    show_default=True,
    help="vectorized: the compiled kernel; des: the SimPy reference (the same numbers, slower).",
)
@journal_option
@click.option("--force", is_flag=True, help="Overwrite the --sheet and --journal files if they exist.")
@history_options
@handle_errors
def cutover(
    plan,
    topology,
    overlays,
    replicates,
    seed,
    rollback_at,
    evidence,
    fmt,
    sheet,
    paper,
    engine,
    journal,
    force,
    history,
    no_history,
):
    """Simulate the cutover PLAN (a bundled name or a cutovers/*.yaml file) on the estate.

    Prints the point of no return (the start of the first irreversible step) from the freeze start,
    the time to complete the cutover, the rollback time and the chance it ends inside the freeze when
    it is decided at each time, the point of no return at the plan's confidence q (the latest decision
    whose rollback ends inside the freeze with probability >= q, on a 1-minute grid), and the
    reconciliation work per entity. With --evidence, judges each go/no-go gate (a measure the file
    lacks is NO-GO) and exits 1 on any NO-GO; exits 0 otherwise, 2 on bad input, 3 when the --sheet
    file cannot be written, 4 when it exists (without --force). The run is recorded in the history
    (drsim history; not counted as an exercise by drsim calendar or drsim evidence).
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.cutover import default_decision_times, simulate_cutover
    from ..analysis.cutover_gates import judge_gates
    from ..errors import InputError, Problem
    from ..io import atomic_write, check_writable
    from ..model.loader import load_cutover, load_evidence, load_topology
    from ..model.units import UnitError, parse_duration
    from ..report.cutover import cutover_data, cutover_table
    from ..report.cutover_sheet import cutover_document, cutover_markdown
    from ..report.journal import cutover_inputs
    from ..report.pages import render_document
    from ..sweep.overlay import apply_to_topology, load_overlays

    sheet_fmt = document_format(sheet, None, "--sheet") if sheet is not None else None
    ci = CiFiles.checked(None, journal, force, sheet).recording(history, no_history)
    if sheet is not None:
        check_writable(sheet, force)  # refuse before any work
    loaded = load_overlays(overlays)
    topo, calibrated = apply_to_topology(topology, loaded) if loaded else (load_topology(topology), ())
    p = load_cutover(plan, topo)
    ev = load_evidence(evidence, p) if evidence is not None else None
    times = []
    for v in rollback_at:
        try:
            times.append(parse_duration(v))
        except UnitError as exc:
            raise InputError("--rollback-at", [Problem(str(exc))]) from None
    if engine == "vectorized":
        from .progress import notice_if_compiling  # imported on use: keeps drsim --help fast

        notice_if_compiling()
    run = simulate_cutover(p, topo, replicates, seed, engine)
    verdicts = judge_gates(p, run, ev) if ev is not None else None
    data = cutover_data(run, times or default_decision_times(run), verdicts, calibrated)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    elif fmt == "markdown":
        click.echo(cutover_markdown(data), nl=False)
    else:
        for line in cutover_table(data):
            click.echo(line)
    if sheet is not None:
        atomic_write(sheet, render_document(cutover_document(data), sheet_fmt, paper), force=force)
        click.echo(f"wrote {sheet} ({sheet_fmt} go/no-go sheet)", err=True)
    ci.write_cutover(data, topo.name, cutover_inputs(topology, plan, evidence, overlays))
    raise SystemExit(EXIT_OK if data["go"] is not False else EXIT_NO_GO)


def register(main) -> None:
    main.add_command(cutover)
