"""The progress bar of a sweep on the terminal.

A sweep does not draw anything: it reports where it stands to a callback
(:class:`drsim.sweep.SweepProgress`, once before its first chunk and after
every chunk it merges, wherever that chunk ran). The command line passes a
:class:`ProgressBar`, which shows on standard error the chunks done out of the
total, the replicates so far and the replicates per second — counting only
replicates run now, not those read back from a checkpoint — and disappears
when the sweep is over.

Before a sweep, :func:`notice_if_compiling` says on standard error, in one
line, when the vectorized engine has to be compiled first (the first sweep
after installing or upgrading, or with an empty ``NUMBA_CACHE_DIR``): about
half a minute once, then cached.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ..sweep import SweepProgress


class ProgressBar:
    """A sweep's progress on standard error: pass it as the sweep's ``progress``, inside a ``with`` block.

    The bar appears at the sweep's first report (once the sweep is built and
    its chunks are about to run) and is removed when the ``with`` block ends.
    """

    def __init__(self, console: Console | None = None):
        self.console = console if console is not None else Console(stderr=True)
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.started = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, report: SweepProgress) -> None:
        """Show ``report``: start the bar at the sweep's first report, advance it at the others."""
        if self.bar is None or self.task is None:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("chunks  {task.fields[replicates]:,} replicates  {task.fields[rate]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(
                f"{report.drill} ({report.engine})", total=report.total, replicates=0, rate=""
            )
            self.started = time.perf_counter()
            if report.done == 0:
                return
        dt = time.perf_counter() - self.started
        run = report.replicates_run
        rate = f"{run / dt:,.0f} replicates/s" if run and dt > 0 else ""
        self.bar.update(self.task, completed=report.done, replicates=report.replicates, rate=rate)

    def close(self) -> None:
        """Remove the bar (if the sweep got as far as showing it)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


#: Said once before a sweep whose compiled engine is not cached yet.
COMPILING = "drsim: compiling the vectorized engine once (about 30 s); later runs start at once"


def notice_if_compiling() -> bool:
    """Print :data:`COMPILING` on standard error if the next sweep compiles the engine first; return whether it did."""
    from ..engine.vectorized import kernel_compiled  # imports numba: only when a sweep is about to run

    if kernel_compiled() is False:
        print(COMPILING, file=sys.stderr, flush=True)
        return True
    return False


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressBar | None]:
    """A :class:`ProgressBar` while the block runs, or None when ``enabled`` is false (not a terminal)."""
    if not enabled:
        yield None
        return
    with ProgressBar() as bar:
        yield bar


__all__ = ["COMPILING", "ProgressBar", "notice_if_compiling", "progress_bar"]
