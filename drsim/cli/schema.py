"""``drsim schema``: the JSON Schema of topology, drill and cutover plan files."""

from __future__ import annotations

import json

import click

from ..model import Drill, Topology
from ..model.cutover import CutoverPlan


@click.command()
@click.argument("kind", type=click.Choice(["topology", "drill", "cutover"]))
def schema(kind):
    """Print the JSON Schema of a topology, drill or cutover plan file."""
    model = {"topology": Topology, "drill": Drill, "cutover": CutoverPlan}[kind]
    click.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2))
