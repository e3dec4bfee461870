"""``drsim validate``: check topology and drill files without running them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import EXIT_BAD_INPUT, input_warnings
from .options import topology_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@topology_option
@input_warnings()
def validate(files, topology):
    """Check FILES (topologies or drills; drills against --topology).

    A file with drill keys at the top (faults, response, ...) is read as a drill. Exits 2 if any is invalid;
    warnings (names with look-alike letters) are printed on stderr and do not change the exit status.
    """
    # imported on use: keeps drsim --help fast
    from ..errors import InputError
    from ..model.loader import (
        drill_file_from_text,
        kind_of,
        load_topology,
        parse_yaml,
        read_user_file,
        topology_from_text,
    )
    from ..plan.compile import compile_plan  # imported on use: keeps drsim --help fast

    bad = False
    topo = None
    for f in files:
        try:
            raw = read_user_file(f)
            doc = parse_yaml(raw, str(f))
            if kind_of(doc.data) == "drill":
                if topo is None:
                    topo = load_topology(topology)
                drill_file = drill_file_from_text(raw, topo, str(f))
                d = drill_file.drill
                try:
                    compile_plan(topo, d)
                except InputError as exc:  # what only compiling reveals, at the line it concerns
                    raise drill_file.locate(exc) from None
                click.echo(f"{f}: valid drill ({len(d.faults)} fault(s)) on topology {topo.name}")
            else:
                t = topology_from_text(raw, str(f))
                click.echo(f"{f}: valid topology ({len(t.services)} services)")
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            bad = True
    if bad:
        sys.exit(EXIT_BAD_INPUT)
