"""``drsim list``: the bundled topologies, drills, cutover plans and exercise calendars."""

from __future__ import annotations

import click

from ..model.loader import bundled_dir, bundled_names, describe_file


@click.command("list")
def list_():
    """List bundled topologies, drills, cutover plans and exercise calendars with what each one is for."""
    for kind in ("topologies", "drills", "cutovers", "calendars"):
        click.echo(f"{kind}:")
        names = bundled_names(kind)
        width = max((len(n) for n in names), default=0)
        for name in names:
            click.echo(f"  {name:<{width}}  {describe_file(bundled_dir(kind) / f'{name}.yaml')}")
