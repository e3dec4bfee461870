"""Options several commands share."""

from __future__ import annotations

import click

topology_option = click.option(
    "--topology",
    "-t",
    metavar="NAME|PATH",
    default=None,
    envvar="DRSIM_TOPOLOGY",
    show_envvar=True,
    help="Bundled topology name or YAML file (default: ehr-hybrid, the reference EHR estate).",
)
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, envvar="DRSIM_SEED", show_envvar=True, help="Random seed."
)
