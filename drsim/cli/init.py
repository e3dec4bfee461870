"""``drsim init``: a commented starter estate and drill to grow your own from.

Each template is a topology (``topology.yaml``) and a drill (``drill.yaml``)
that validate and run as they are, with every figure's source in a comment:

* ``minimal``  — two services, two sites, one rota: the least drsim needs;
* ``hospital`` — a small EHR estate with healthcare wording;
* ``payments`` — a card-payments platform with tiers t0-t3, an external card
  network feeding a queue, and its own words for its people.

Nothing a user already has is overwritten: if either file exists, neither is
written.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import handle_errors

TEMPLATES = ("minimal", "hospital", "payments")
#: The files a template writes, in the order they are written.
FILES = ("topology.yaml", "drill.yaml")


@click.command()
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--template",
    type=click.Choice(TEMPLATES),
    default="minimal",
    show_default=True,
    help="minimal: two services; hospital: a small EHR estate; payments: tiers t0-t3 and a card network.",
)
@handle_errors
def init(folder, template):
    """Write a commented starter estate (DIR/topology.yaml) and drill (DIR/drill.yaml).

    DIR (default: the current folder) is created if needed. Existing files are never overwritten:
    if either file is there, nothing is written. Then: drsim validate DIR/topology.yaml DIR/drill.yaml
    """
    # imported on use: keeps drsim --help fast
    from importlib import resources  # the templates, wherever the package is installed

    from ..errors import OutputExistsError  # imported on use: keeps drsim --help fast
    from ..io import atomic_write, check_folder_writable  # imported on use: keeps drsim --help fast

    source = resources.files("drsim") / "data" / "templates" / template
    targets = [folder / name for name in FILES]
    there = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if there:  # all checked before any is written: half a starter helps nobody
        raise OutputExistsError(
            f"{' and '.join(there)} already exist{'s' if len(there) == 1 else ''}; drsim init never overwrites "
            "a file: choose another DIR (drsim init --template ... DIR) or move them away"
        )
    check_folder_writable(folder)
    for name, t in zip(FILES, targets, strict=True):
        atomic_write(t, (source / name).read_bytes())
        click.echo(f"wrote {t}")
    topo, drill = (str(t) for t in targets)
    click.echo(
        f"next: drsim validate {topo} {drill}\n      drsim drill {drill} -t {topo}\n"
        f"      drsim drill {drill} -t {topo} -n 2000   (judged by the drill's gates)"
    )


def register(main: click.Group) -> None:
    main.add_command(init)
