"""The ``drsim`` command line: a thin layer over the Python API, one module per command."""

from __future__ import annotations

import functools
import sys

import click

from ..errors import InputError, OutputExistsError

EXIT_OK, EXIT_MISSED, EXIT_BAD_INPUT = 0, 1, 2


def handle_errors(fn):
    """Turn bad input into one clear message on stderr and exit status 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OutputExistsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="drsim")
def main():
    """drsim - disaster-recovery and chaos-drill simulator.

    Replay failure scenarios (drills) against a model of your estate (topology)
    and measure achieved RTO, RPO, rollback time and decision latency.
    Exit status: 0 all targets met, 1 targets missed, 2 bad input.
    """


def _register():
    from . import catalog, drill, schema, validate

    main.add_command(drill.drill)
    main.add_command(catalog.list_)
    main.add_command(validate.validate)
    main.add_command(schema.schema)
    for mod in ("sweep", "compare", "timeline", "sensitivity"):
        try:
            m = __import__(f"{__name__}.{mod}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise
            continue
        m.register(main)


_register()
