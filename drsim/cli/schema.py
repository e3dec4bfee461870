"""``drsim schema``: the JSON Schema of topology and drill files."""

from __future__ import annotations

import json

import click

from ..model import Drill, Topology


@click.command()
@click.argument("kind", type=click.Choice(["topology", "drill"]))
def schema(kind):
    """Print the JSON Schema of a topology or drill file."""
    model = Topology if kind == "topology" else Drill
    click.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2))
