"""``--junit FILE`` and ``--journal FILE``: what ``drsim drill`` and ``drsim sweep`` leave for a CI job.

Every run is also recorded in the history (:mod:`drsim.history`) unless
``--no-history``: a history that cannot be written is one warning line on
standard error, never a failed run.

``--junit`` writes the run's checks as JUnit XML (:mod:`drsim.report.junit`),
``--journal`` a JSON record of the run (:mod:`drsim.report.journal`). Both
files follow the rules of every output: checked before any work starts (an
existing file is refused without ``--force``, exit 4; a folder where nothing
can be written is refused, exit 3), then written atomically once the run is
done. A missed ``warn`` gate is said on standard error; it does not change
the exit status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..errors import InputError, Problem
from ..io import atomic_write, check_writable

junit_option = click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write JUnit XML for a CI server's test report: one test case per target (one replay) or per "
    "gate (-n, sweep), a failure carrying the measured value and the threshold.",
)
journal_option = click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write a JSON journal of the run: drsim version, UTC time, SHA-256 of the topology and drill "
    "files, seed, replicates, engine, verdicts and headline figures.",
)

history_option = click.option(
    "--history",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Record the run in this history database instead of $DRSIM_HISTORY or the per-user default "
    "(~/.local/share/drsim/history.sqlite); see drsim history.",
)
no_history_option = click.option(
    "--no-history", is_flag=True, help="Do not record the run in the history (DRSIM_HISTORY=off does the same)."
)


def history_options(fn):
    """``--history PATH`` and ``--no-history``, for commands whose runs are recorded."""
    return history_option(no_history_option(fn))


@dataclass
class CiFiles:
    """The ``--junit`` and ``--journal`` files of one run, checked before it starts."""

    junit: Path | None = None
    journal: Path | None = None
    force: bool = False
    #: When the run started (``time.perf_counter``), for the JUnit suites' ``time``.
    started: float = field(default_factory=time.perf_counter)
    #: The history database the run is recorded in (None: not recorded).
    history: Path | None = None

    def recording(self, history: Path | None, no_history: bool) -> CiFiles:
        """Record the run in ``history`` (``--history``), else ``$DRSIM_HISTORY`` or the default, unless
        ``no_history``."""
        # imported on use: keeps drsim --help fast
        from ..history import resolve_path

        self.history = None if no_history else resolve_path(history)
        return self

    @classmethod
    def checked(cls, junit: Path | None, journal: Path | None, force: bool, *others: Path | None) -> CiFiles:
        """Refuse, before any work, a file that exists (without ``force``), that cannot be written, or that
        is named twice among ``junit``, ``journal`` and the command's ``others`` outputs."""
        named = [p for p in (junit, journal, *others) if p is not None]
        resolved = [p.resolve() for p in named]
        for i, p in enumerate(resolved):
            if p in resolved[:i]:
                raise InputError(str(named[i]), [Problem("the same file is named for two outputs; name each its own")])
        for own in (junit, journal):
            if own is not None:
                check_writable(own, force)
        return cls(junit, journal, force)

    def write_replay(self, result, drill: str, topology: str | None, overlays: tuple[str, ...] = ()) -> None:
        """Write the files of one replay (``drsim drill``)."""
        # imported on use: keeps drsim --help fast
        from ..report.journal import input_files, replay_journal
        from ..report.verdicts import replay_checks

        if self.junit is not None:
            self._junit(replay_checks(result), result.drill, {"seed": result.seed, "replicates": 1, "engine": "des"})
        if self.journal is not None or self.history is not None:
            self._journal(replay_journal(result, input_files(drill, topology, overlays)))

    def write_sweep(
        self, result, drill: str, topology: str | None, grid: dict | None = None, overlays: tuple[str, ...] = ()
    ) -> None:
        """Write the files of a sweep (``drsim sweep``, ``drsim drill -n``)."""
        # imported on use: keeps drsim --help fast
        from ..report.journal import input_files, sweep_journal
        from ..report.verdicts import sweep_checks

        if self.junit is not None:
            props = {"seed": result.seed, "replicates": result.n, "engine": result.engine}
            self._junit(sweep_checks(result), result.drill, props)
        if self.journal is not None or self.history is not None:
            self._journal(sweep_journal(result, input_files(drill, topology, overlays), grid))

    def write_cutover(self, data: dict, topology: str, inputs) -> None:
        """Write the journal of a cutover run (``drsim cutover``) and record it in the history."""
        # imported on use: keeps drsim --help fast
        from ..report.journal import cutover_journal

        if self.journal is not None or self.history is not None:
            self._journal(cutover_journal(data, topology, inputs))

    def _journal(self, journal) -> None:
        """Write ``--journal`` and record the run in the history (a failure there is a warning)."""
        if self.journal is not None:
            self._write(self.journal, journal.to_json())
        if self.history is not None:
            # imported on use: keeps drsim --help fast
            from ..history import HistoryError, Store

            try:
                Store(self.history).record(journal.to_dict())
            except (HistoryError, OSError) as exc:
                click.echo(f"warning: run not recorded in history: {exc} (--no-history to skip)", err=True)

    def _junit(self, checks, name: str, properties: dict) -> None:
        # imported on use: keeps drsim --help fast
        from ..report.junit import junit_xml
        from ..version import __version__

        assert self.junit is not None
        props = {"drsim_version": __version__, **properties}
        self._write(self.junit, junit_xml(checks, name, props, seconds=time.perf_counter() - self.started))

    def _write(self, path: Path, text: str) -> None:
        atomic_write(path, text, force=self.force)
        click.echo(f"wrote {path}", err=True)


def warn_missed_gates(result) -> None:
    """Say on standard error each ``warn`` gate a sweep missed (the exit status is unchanged)."""
    for pt in result.points:
        where = f" at {', '.join(f'{k}={v}' for k, v in pt.params.items())}" if pt.params else ""
        for g in pt.gates:
            if g.warning:
                over = f" ({g.miss()})" if g.miss() else ""
                click.echo(
                    f"warning: gate {g.gate.text.strip()!r} missed{where}: measured {g.measured()}{over}; "
                    "severity warn, so the exit status is unchanged",
                    err=True,
                )
