"""``drsim schema``: the JSON Schema of topology, drill, cutover plan and exercise calendar files."""

from __future__ import annotations

import json

import click

from ..model import Drill, Topology
from ..model.calendar import CalendarRules
from ..model.cutover import CutoverPlan


@click.command()
@click.argument("kind", type=click.Choice(["topology", "drill", "cutover", "calendar"]))
def schema(kind):
    """Print the JSON Schema of a topology, drill, cutover plan or exercise calendar file."""
    model = {"topology": Topology, "drill": Drill, "cutover": CutoverPlan, "calendar": CalendarRules}[kind]
    click.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2))
