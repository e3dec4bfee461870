"""What every command shares: its exit statuses, and bad input turned into one line on standard error.

A command exits 0 when every target (or gate) is met, 1 when one is missed,
2 on bad input, 3 when a file (or standard output) cannot be written — a
read-only folder, a full disk, a checkpoint folder another sweep is writing
to —, 4 when an output file already exists and ``--force`` was not given (a
re-run, told apart from a mistake in the input), and 130 when interrupted
(Ctrl-C). None of these shows a traceback:
:func:`handle_errors` prints one line naming the file and field, the option,
or the path and the operating system's reason. When standard output is a file
and writing it fails, what the command had written there is removed, so no
half of a JSON document is left behind.

The library names the *parameter* an error is about (``percentile``,
``metric``); :func:`worded_as_options` rewords such an error with the option
that set the parameter (``--percentile``), so a person at the command line
reads the name they typed.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import click

from ..errors import InputError, InputWarning, OutputError, OutputExistsError, Problem
from ..model.loader import DEFAULT_TOPOLOGY

EXIT_OK, EXIT_MISSED, EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_OUTPUT_EXISTS = 0, 1, 2, 3, 4
#: 128 + SIGINT, as shells report a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130
STDOUT = "standard output"


class Interrupted(Exception):
    """Ctrl-C during a command, with what to do next (``--resume`` a checkpointed sweep)."""

    def __init__(self, hint: str = ""):
        super().__init__(hint)
        self.hint = hint


@contextmanager
def input_warnings() -> Iterator[None]:
    """Print each :class:`~drsim.errors.InputWarning` issued inside on stderr, once, as ``warning: ...``."""
    shown: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        default = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not isinstance(message, InputWarning):
                default(message, category, filename, lineno, file, line)
            elif str(message) not in shown:
                shown.add(str(message))
                with contextlib.suppress(OSError):
                    click.echo(f"warning: {message}", err=True)

        warnings.showwarning = show
        yield


#: What a drill checked against the bundled estate is told when it names something that estate lacks.
TOPOLOGY_HINT = (
    f"this file was checked against the bundled topology {DEFAULT_TOPOLOGY!r} because no topology was given; "
    "pass your estate with -t TOPOLOGY.yaml (drsim validate: or name the topology file on the same command line)"
)


@contextmanager
def suggest_topology(given: bool) -> Iterator[None]:
    """Add :data:`TOPOLOGY_HINT` to an error naming an unknown region, service, tier or role, unless the
    user ``given`` a topology: the drill is probably meant for another estate than the bundled one."""
    try:
        yield
    except InputError as exc:
        unknown = any(
            (p.message.startswith("unknown ") and not p.message.startswith("unknown field"))
            or "is not a tier" in p.message
            for p in exc.problems
        )
        if given or not unknown:
            raise
        raise InputError(exc.source, [*exc.problems, Problem(TOPOLOGY_HINT)]) from None


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad input (exit 2), unwritable output (exit 3), an existing output (exit 4) and Ctrl-C (exit 130)
    into one line on stderr.

    Warnings about the input (a name with look-alike letters) are printed on stderr as they are found.
    A command with a ``--topology`` option left unset that fails on a drill naming something the
    bundled estate lacks is told to pass its own (:func:`suggest_topology`).
    """

    @functools.wraps(fn)
    @input_warnings()
    def wrapper(*args, **kwargs):
        mark = _stdout_mark()
        stdout = sys.stdout
        try:
            try:
                sys.stdout = _StandardOutput(stdout)  # type: ignore[assignment]  # a stand-in that names itself
                with suggest_topology(kwargs.get("topology", "") is not None):
                    return fn(*args, **kwargs)
            finally:
                try:
                    sys.stdout.flush()  # a full device shows here, while it can still be reported
                finally:
                    sys.stdout = stdout
        except InputError as exc:
            _fail(f"error: {exc}", EXIT_BAD_INPUT)
        except OutputExistsError as exc:
            _fail(f"error: {exc}", EXIT_OUTPUT_EXISTS)
        except OutputError as exc:
            _fail(f"error: {exc}", EXIT_IO_ERROR, exc.path == STDOUT, mark)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            _fail(f"error: {exc.filename}: {reason}" if exc.filename else f"error: {reason}", EXIT_IO_ERROR)
        except (KeyboardInterrupt, Interrupted) as exc:
            hint = exc.hint if isinstance(exc, Interrupted) else ""
            _fail("interrupted" + (f"; {hint}" if hint else ""), EXIT_INTERRUPTED)

    return wrapper


def _fail(message: str, status: int, stdout_failed: bool = False, mark: int | None = None) -> None:
    """Say ``message`` on stderr and exit with ``status``; first undo a standard output that failed."""
    if stdout_failed:
        _abandon_stdout(mark)
    with contextlib.suppress(OSError):  # stderr gone too: the status alone must tell
        click.echo(message, err=True)
    sys.exit(status)


def _stdout_fd() -> int | None:
    try:
        return sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return None


def _stdout_mark() -> int | None:
    """Where this command's output starts in standard output, when that is a regular file (else None)."""
    fd = _stdout_fd()
    if fd is None:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:  # >> file: writes go to its end
            return st.st_size
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


class _StandardOutput:
    """Standard output, whose write errors (a full disk, ``> /dev/full``) say they are about standard output."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(STDOUT, exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(STDOUT, exc.strerror or str(exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _abandon_stdout(mark: int | None) -> None:
    """Cut standard output back to ``mark`` (when a regular file) and send what is still buffered nowhere."""
    fd = _stdout_fd()
    if fd is None:
        return
    if mark is not None:
        with suppress(OSError):
            os.ftruncate(fd, mark)
    _silence_stdout(fd)


def _silence_stdout(fd: int) -> None:
    """Point standard output at /dev/null, so that the flush at exit does not fail (and print) again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    except OSError:  # pragma: no cover - nothing more can be done for it
        pass
    finally:
        os.close(devnull)


@contextmanager
def worded_as_options(**options: str) -> Iterator[None]:
    """Reword an error about a parameter (``percentile="--percentile"``) as the option that set it."""
    try:
        yield
    except InputError as exc:
        if exc.source in options:
            raise InputError(options[exc.source], exc.problems) from None
        raise
