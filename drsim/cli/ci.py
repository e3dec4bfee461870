"""``--junit FILE`` and ``--journal FILE``: what ``drsim drill`` and ``drsim sweep`` leave for a CI job.

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


@dataclass
class CiFiles:
    """The ``--junit`` and ``--journal`` files of one run, checked before it starts."""

    junit: Path | None = None
    journal: Path | None = None
    force: bool = False
    #: When the run started (``time.perf_counter``), for the JUnit suites' ``time``.
    started: float = field(default_factory=time.perf_counter)

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

    def write_replay(self, result, drill: str, topology: str | None) -> None:
        """Write the files of one replay (``drsim drill``)."""
        # imported on use: keeps drsim --help fast
        from ..report.journal import input_files, replay_journal
        from ..report.verdicts import replay_checks

        if self.junit is not None:
            self._junit(replay_checks(result), result.drill, {"seed": result.seed, "replicates": 1, "engine": "des"})
        if self.journal is not None:
            self._write(self.journal, replay_journal(result, input_files(drill, topology)).to_json())

    def write_sweep(self, result, drill: str, topology: str | None, grid: dict | None = None) -> None:
        """Write the files of a sweep (``drsim sweep``, ``drsim drill -n``)."""
        # imported on use: keeps drsim --help fast
        from ..report.journal import input_files, sweep_journal
        from ..report.verdicts import sweep_checks

        if self.junit is not None:
            props = {"seed": result.seed, "replicates": result.n, "engine": result.engine}
            self._junit(sweep_checks(result), result.drill, props)
        if self.journal is not None:
            self._write(self.journal, sweep_journal(result, input_files(drill, topology), grid).to_json())

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
