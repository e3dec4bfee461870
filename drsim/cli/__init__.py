"""The ``drsim`` command line: a thin layer over the Python API, one module per command.

Each command parses its options, calls the public API and renders the result
with :mod:`drsim.report`; what the commands share (exit statuses, error
handling, common options) lives in :mod:`drsim.cli.common` and
:mod:`drsim.cli.options`. Each command imports the domain code it needs when it
runs, so ``drsim --help`` stays fast.
"""

from __future__ import annotations

import click

from . import (
    backtest,
    calendar,
    calibrate,
    catalog,
    compare,
    cutover,
    drill,
    history,
    init,
    schema,
    sensitivity,
    sweep,
    timeline,
    validate,
)
from .common import EXIT_BAD_INPUT, EXIT_MISSED, EXIT_OK, EXIT_OUTPUT_EXISTS, handle_errors

__all__ = ["EXIT_BAD_INPUT", "EXIT_MISSED", "EXIT_OK", "EXIT_OUTPUT_EXISTS", "handle_errors", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="drsim")
def main():
    """drsim - disaster-recovery and chaos-drill simulator.

    Replay failure scenarios (drills) against a model of your estate (topology)
    and measure achieved RTO, RPO, rollback time and decision latency.
    Exit status: 0 all targets met, 1 targets missed, 2 bad input, 3 output cannot be written,
    4 output file exists (pass --force), 130 interrupted.
    """


main.add_command(drill.drill)
main.add_command(catalog.list_)
main.add_command(validate.validate)
main.add_command(schema.schema)
for command in (sweep, compare, timeline, sensitivity, init, calibrate, cutover, history, backtest, calendar):
    command.register(main)
