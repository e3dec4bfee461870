"""Errors a user can fix: they name the file, the place in it, and what was expected.

Bad input is never a traceback. Loading, validating, compiling or sweeping
raises an :class:`InputError` for a *source* (a file, a grid point, a
parameter) holding every :class:`Problem` found there, each with its field
path (``services.ehr-db.depends_on[1]``) and, when known, its line and column,
so one run reports everything to fix. :class:`OutputExistsError` is drsim
refusing to overwrite a file the user already has; :class:`OutputError` is a
file drsim cannot write (a read-only folder, a full disk, a checkpoint folder
another sweep is writing to), named with the operating system's reason.
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
        loc = f"line {self.line}, column {self.column}" if self.line is not None else ""
        return ", ".join(x for x in (loc, f"at {p}" if p else "") if x)


def format_path(path: tuple[str | int, ...]) -> str:
    """A field path as people read it: ``services.ehr-db.depends_on[1]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
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
