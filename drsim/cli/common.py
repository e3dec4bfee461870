"""What every command shares: its exit statuses, and bad input turned into one line on standard error.

A command exits 0 when every target (or gate) is met, 1 when one is missed and
2 on bad input. Bad input never shows a traceback: :func:`handle_errors` prints
the error, which names the file and field, or the option, at fault.

The library names the *parameter* an error is about (``percentile``,
``metric``); :func:`worded_as_options` rewords such an error with the option
that set the parameter (``--percentile``), so a person at the command line
reads the name they typed.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..errors import InputError, OutputExistsError

EXIT_OK, EXIT_MISSED, EXIT_BAD_INPUT = 0, 1, 2


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
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


@contextmanager
def worded_as_options(**options: str) -> Iterator[None]:
    """Reword an error about a parameter (``percentile="--percentile"``) as the option that set it."""
    try:
        yield
    except InputError as exc:
        if exc.source in options:
            raise InputError(options[exc.source], exc.problems) from None
        raise
