"""``drsim validate``: check topology, drill, cutover plan and exercise calendar files without running them.

A drill (or a cutover plan, or an exercise calendar) is checked against an estate: the one ``--topology`` names; without
it, a topology file given on the same command line (the last one before the
drill, else the first after it), so ``drsim validate topo.yaml drill.yaml``
checks the drill against ``topo.yaml``; only when neither is given, the
bundled reference estate — and then a drill naming what that estate lacks is
told to pass its own with ``-t``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import EXIT_BAD_INPUT, input_warnings, suggest_topology
from .options import topology_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@topology_option
@input_warnings()
def validate(files, topology):
    """Check FILES (topologies, drills, cutover plans or exercise calendars).

    A file with measured at the top, or a .csv table, is a rehearsal's evidence (checked on its own; its
    measures against a plan by drsim cutover --evidence). A file with freeze or waves at the top is read as a cutover
    plan; one with exercises at the top as an exercise calendar; one with drill keys at the top
    (faults, response, ...) as a drill. Each is checked against
    --topology, else against a topology among FILES (the last one before it, else the first after it),
    else against the bundled reference estate. Exits 2 if any is invalid; warnings (names with
    look-alike letters) are printed on stderr and do not change the exit status.
    """
    # imported on use: keeps drsim --help fast
    from ..errors import InputError, Problem
    from ..model.cutover import Evidence
    from ..model.loader import (
        DEFAULT_TOPOLOGY,
        calendar_from_text,
        cutover_from_text,
        drill_file_from_text,
        load_topology,
        model_from_text,
        topology_from_text,
    )
    from ..plan.compile import compile_plan  # imported on use: keeps drsim --help fast

    read, bad = _read(files)
    topologies = {}  # index in FILES -> the topology read from it (None: invalid)
    for i, (f, raw, kind) in enumerate(read):
        if raw is None or kind in ("drill", "cutover", "calendar"):
            continue
        if kind == "evidence":
            try:
                ev = model_from_text(raw, Evidence, str(f))
                click.echo(
                    f"{f}: valid evidence file ({len(ev.measured)} measure(s); whether a plan's gates measure them "
                    "is checked by drsim cutover PLAN --evidence FILE)"
                )
            except InputError as exc:
                click.echo(f"error: {exc}", err=True)
                bad = True
            continue
        try:
            t = topology_from_text(raw, str(f))
            topologies[i] = t
            click.echo(f"{f}: valid topology ({len(t.services)} services)")
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            topologies[i] = None
            bad = True
    given = None
    for i, (f, raw, kind) in enumerate(read):
        if raw is None or kind not in ("drill", "cutover", "calendar"):
            continue
        try:
            if topology is not None:
                if given is None:
                    given = load_topology(topology)
                topo, source = given, f"--topology {topology}"
            else:
                before = [j for j in topologies if j < i]
                j = before[-1] if before else min(topologies, default=None)
                if j is not None:
                    topo, source = topologies[j], str(files[j])
                    if topo is None:
                        raise InputError(str(f), [Problem(f"not checked: its topology {source} is invalid")])
                else:
                    if given is None:
                        given = load_topology(None)
                    topo, source = given, f"the bundled topology {DEFAULT_TOPOLOGY!r}"
            if kind == "calendar":
                with suggest_topology(topology is not None or bool(topologies)):
                    cal = calendar_from_text(raw, topo, str(f), Path(f).parent)
                click.echo(
                    f"{f}: valid exercise calendar ({len(cal.rules.exercises)} exercise(s)) on topology {topo.name} "
                    f"({source})"
                )
                continue
            if kind == "cutover":
                with suggest_topology(topology is not None or bool(topologies)):
                    c = cutover_from_text(raw, topo, str(f))
                n_steps = sum(len(w.steps) for w in c.waves)
                click.echo(
                    f"{f}: valid cutover plan ({len(c.waves)} wave(s), {n_steps} step(s)) on topology {topo.name} ({source})"
                )
                continue
            with suggest_topology(topology is not None or bool(topologies)):
                drill_file = drill_file_from_text(raw, topo, str(f))
                d = drill_file.drill
                try:
                    compile_plan(topo, d)
                except InputError as exc:  # what only compiling reveals, at the line it concerns
                    raise drill_file.locate(exc) from None
            click.echo(f"{f}: valid drill ({len(d.faults)} fault(s)) on topology {topo.name} ({source})")
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            bad = True
    if bad:
        sys.exit(EXIT_BAD_INPUT)


#: A file named on the command line: its path, its text (None: unreadable, or checked already) and its kind.
Read = tuple[Path, bytes | None, str | None]


def _read(files) -> tuple[list[Read], bool]:
    """Each file read and its kind told (an evidence table checked at once), and whether any was bad."""
    # imported on use: keeps drsim --help fast
    from ..errors import InputError
    from ..model.loader import evidence_table, is_table, kind_of, parse_yaml, read_user_file

    bad = False
    read: list[Read] = []
    for f in files:
        try:
            raw = read_user_file(f)
            if is_table(f):
                ev = evidence_table(raw, str(f))
                click.echo(
                    f"{f}: valid evidence table ({len(ev.measured)} measure(s); whether a plan's gates measure "
                    "them is checked by drsim cutover PLAN --evidence FILE)"
                )
                read.append((f, None, "evidence"))  # done: nothing more to check
                continue
            read.append((f, raw, kind_of(parse_yaml(raw, str(f)).data)))
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            read.append((f, None, None))
            bad = True
    return read, bad
