"""Errors a user can fix: they name the file, the place in it, and what was expected.

Bad input is never a traceback. Loading, validating, compiling or sweeping
raises an :class:`InputError` for a *source* (a file, a grid point, a
parameter) holding every :class:`Problem` found there, each with its field
path (``services.ehr-db.depends_on[1]``) and, when known, its line and column,
so one run reports everything to fix. :class:`OutputExistsError` is drsim
refusing to overwrite a file the user already has; :class:`OutputError` is a
file drsim cannot write (a read-only folder, a full disk, a checkpoint folder
another sweep is writing to), named with the operating system's reason.
An :class:`InputWarning` is input accepted that is probably not what was meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input file: what, at which field path, and on which line and column if known."""

    message: str
    #: Keys and list indices from the top of the document to the field at fault.
    path: tuple[str | int, ...] = ()
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        """The place as people read it: ``line 4, column 7, at services.ehr-db.tier`` (empty if unknown)."""
        p = format_path(self.path)
        loc = (
            ""
            if self.line is None
            else f"line {self.line}" + ("" if self.column is None else f", column {self.column}")
        )
        return ", ".join(x for x in (loc, f"at {p}" if p else "") if x)


def format_path(path: tuple[str | int, ...]) -> str:
    """A field path as people read it: ``services.ehr-db.depends_on[1]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            # a key with an invisible or direction-changing character is shown escaped, never raw
            out += ("." if out else "") + (p if p.isprintable() else repr(p)[1:-1])
    return out


@dataclass
class InputError(Exception):
    """Bad input: the CLI prints it and exits with status 2."""

    source: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = []
        for p in self.problems:
            where = p.where()
            lines.append(f"{self.source}: {where + ': ' if where else ''}{p.message}")
        return "\n".join(lines)


class OutputExistsError(Exception):
    """drsim refuses to overwrite a file the user already has."""


class OutputError(Exception):
    """A file drsim must write cannot be written: the path and the reason (the CLI exits with status 3)."""

    def __init__(self, path: object, reason: str):
        super().__init__(path, reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class InputWarning(UserWarning):
    """Input accepted but probably not what was meant (a name with look-alike letters): worth a look, never fatal.

    The loader issues it with :func:`warnings.warn`; the command line prints it
    on standard error as ``warning: FILE: line L, column C, at PATH: message``.
    """

    def __init__(self, source: str, problem: Problem):
        super().__init__(source, problem)
        self.source = source
        self.problem = problem

    def __str__(self) -> str:
        return str(InputError(self.source, [self.problem]))
