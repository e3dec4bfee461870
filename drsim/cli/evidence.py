"""``drsim evidence --hipaa``: a contingency-plan evidence pack from the estate and the recorded runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import InputError, Problem
from ..io import atomic_write, check_writable
from .common import handle_errors
from .history import history_path_option, readable
from .options import document_format, topology_option


@click.command("evidence")
@click.option("--hipaa", is_flag=True, help="Map the evidence to 45 CFR 164.308(a)(7) (the contingency-plan standard).")
@topology_option
@history_path_option
@click.option("--as-of", "as_of", metavar="DAY", default=None, help="The day the evidence is as of (default: today).")
@click.option(
    "--calendar",
    "rules",
    metavar="RULES",
    default=None,
    help="Exercise calendar rules (drsim calendar) whose exercise owners own the gaps they cover.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the pack to FILE (.html, .pdf or .md) instead of standard output.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "pdf"]),
    default=None,
    help="Pack format (default: from the -o file's suffix; md on standard output).",
)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="Paper size.")
@click.option("--force", is_flag=True, help="Overwrite the -o file if it exists.")
@handle_errors
def evidence(hipaa, topology, path, as_of, rules, output, fmt, paper, force):
    """Write an evidence pack mapping the recorded runs to a regulation's contingency-plan requirements.

    With --hipaa: one section for each implementation specification of 45 CFR 164.308(a)(7) (data
    backup plan, disaster recovery plan, emergency mode operation plan, testing and revision
    procedures, applications and data criticality analysis): the plan as the estate models it, what
    was tested in the 12 months to --as-of and how it did against its targets, the gaps with their
    remediation owners, and what the pack cannot evidence; then the criticality analysis and
    sign-off blocks. Exits 0 when written, 2 on bad input, 3 when the file cannot be written, 4 when
    it exists (without --force).
    """
    # imported on use: keeps drsim --help fast
    from ..analysis.calendar import coverage_of
    from ..analysis.contingency import Exercised, evidence_pack
    from ..history.tested import drills_of, recorded_runs
    from ..model.loader import load_calendar, load_topology
    from ..report.hipaa import hipaa_document
    from ..report.pages import render_document

    if not hipaa:
        raise InputError("--hipaa", [Problem("name the standard to map the evidence to: only --hipaa is supported")])
    fmt = document_format(output, fmt)
    try:
        day = dt.date.fromisoformat(as_of) if as_of is not None else dt.date.today()
    except ValueError:
        raise InputError("--as-of", [Problem(f"expected a day like 2027-01-04, found {as_of!r}")]) from None
    if output is not None:
        check_writable(output, force)  # refuse before any work
    topo = load_topology(topology)
    owners: dict[str, str] = {}
    if rules is not None:
        cal = load_calendar(rules, topo)
        for c in coverage_of(topo, cal.rules, cal.drills):
            if c.owner:
                owners.setdefault(c.drill, c.owner)
                for s in sorted(c.services):
                    owners.setdefault(s, c.owner)
    with readable():
        runs = recorded_runs(path, topo.name)
    exercised = [Exercised(r.id, r.journal, d) for r, d in zip(runs, drills_of(runs, topo))]
    pack = evidence_pack(topo, exercised, day, owners)
    doc = render_document(hipaa_document(pack), fmt, paper)
    if output is None:
        click.echo(doc, nl=False)
    else:
        atomic_write(output, doc, force=force)
        open_ = sum(len(f.gaps) for f in pack.findings)
        click.echo(f"wrote {output} ({fmt}; {pack.runs_in_window} run(s) in the window, {open_} gap(s))", err=True)


def register(main) -> None:
    main.add_command(evidence)
