"""Records: what one line of an incident export or one activity of a chaos journal says happened.

Every source — an on-call tool's incident CSV, a Chaos Toolkit journal, a
plain CSV of step durations — is read into the same shape: a :class:`Record`
per incident, alert or activity, with the labels a mapping can select on
(service, team, urgency, activity name, ...), when it started, and the
durations it measured. A duration that was still running when the record was
last seen (an alert nobody acknowledged before it escalated or closed, an
incident still open at export time) is *right-censored*: the true duration is
known only to exceed what was seen. Fitting treats it so instead of dropping
it or counting it as finished, either of which would bias the fit short.

Bad input is reported like every other drsim input: file, line, column and
field name, every problem at once, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem

#: How a duration known only as a lower bound is written (``>=2h``: still running two hours in).
AT_LEAST = ">="
#: Problems reported from one file before giving up on it (the rest are usually the same mistake).
MAX_PROBLEMS = 20
#: The largest source file read (incident exports of many years fit easily).
MAX_SOURCE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One file read: its path as given, its format, its SHA-256 and what it held."""

    path: str
    kind: str
    sha256: str
    records: int
    #: Earliest and latest timestamp seen in the file (None when it holds none).
    first: dt.datetime | None = None
    last: dt.datetime | None = None


@dataclass(frozen=True)
class Record:
    """One incident, alert, activity or step: its labels, when it started, and what it measured.

    ``durations`` maps a measure (``acknowledge``, ``resolve``, ``duration``)
    to seconds observed; a measure missing from it was never observed (an
    incident never acknowledged). ``open_for`` is how long after ``start`` the
    record was last seen still open — its resolution time if it was resolved,
    else None (open when exported) — and bounds the measures it never reached.
    """

    source: str
    line: int
    id: str
    start: dt.datetime | None
    labels: Mapping[str, str] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
    open_for: float | None = None
    #: Times the incident was escalated past its first responders.
    escalations: int = 0
    #: Measures known only to be at least their value (still running when last seen).
    censored: frozenset[str] = frozenset()


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_source_bytes(path: str | Path) -> bytes:
    """The bytes of a source file, or an :class:`InputError` saying why not."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(str(p), [Problem("is a directory; expected an incident CSV, a journal or a steps CSV")])
        with p.open("rb") as fh:
            raw = fh.read(MAX_SOURCE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(str(p), [Problem("no such file")]) from None
    except OSError as exc:
        raise InputError(str(p), [Problem(f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise InputError(str(p), [Problem(f"file is larger than {MAX_SOURCE_BYTES // 2**20} MiB")])
    return raw


def decode(raw: bytes, source: str) -> str:
    """UTF-8 text (a byte-order mark dropped), or an error naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(source, [Problem("not UTF-8 text; export the file as UTF-8 CSV", (), line, None)]) from None


def column_key(name: str) -> str:
    """A column name compared the way people mean it: case, spaces and punctuation ignored
    (``Created At``, ``created_at`` and ``createdAt`` are one column)."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


class Problems:
    """Problems found in one file, collected so that one run reports them all."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[Problem] = []

    def add(self, message: str, line: int | None = None, column: int | None = None, name: str | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(message, (name,) if name else (), line, column))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.source, self.items)


@dataclass
class CsvTable:
    """A CSV file's header and rows, each row with the line it starts on."""

    source: str
    header: list[str]
    #: Canonical column (:func:`column_key`) -> 1-based column number.
    columns: dict[str, int]
    rows: list[tuple[int, list[str]]]

    def find(self, *names: str) -> str | None:
        """The first of ``names`` (canonical keys) the file has, or None."""
        return next((n for n in names if n in self.columns), None)

    def cell(self, row: list[str], key: str | None) -> str:
        """The stripped text of column ``key`` in ``row`` ('' when the file lacks the column)."""
        if key is None:
            return ""
        i = self.columns[key] - 1
        return row[i].strip() if i < len(row) else ""

    def name(self, key: str) -> str:
        """The column's name as written in the file's header."""
        return self.header[self.columns[key] - 1]


def read_csv(text: str, source: str) -> CsvTable:
    """Parse CSV text: a header row, then one record per row (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems = Problems(source)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise InputError(source, [Problem("file is empty; expected a header row of column names", (), 1, None)])
        columns: dict[str, int] = {}
        for i, name in enumerate(header, 1):
            key = column_key(name)
            if key and key in columns:
                problems.add(f"column {name!r} appears twice (also column {columns[key]})", 1, i, name)
            elif key:
                columns[key] = i
        rows = []
        line = reader.line_num + 1
        for row in reader:
            if any(c.strip() for c in row):
                if len(row) > len(header):
                    problems.add(f"{len(row)} fields but the header names {len(header)}", line, len(header) + 1)
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, [Problem(f"not valid CSV: {exc}", (), reader.line_num, None)]) from None
    problems.raise_if_any()
    return CsvTable(source, header, columns, rows)


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp (``2026-03-14T02:10:00Z``, ``2026-03-14 02:10:00+01:00``); ValueError if not one."""
    t = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", t):
        raise ValueError(f"expected an ISO 8601 timestamp such as 2026-03-14T02:10:00Z, found {text!r}")
    try:
        return dt.datetime.fromisoformat(t.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"expected an ISO 8601 timestamp such as 2026-03-14T02:10:00Z, found {text!r}") from None


class Clock:
    """Timestamps of one file: all with a UTC offset, or all without (mixing them is refused).

    A timestamp without an offset cannot be placed in time next to one with an
    offset; a file that mixes them was usually stitched from exports made in
    different time-zone settings, and is refused rather than guessed at.
    """

    def __init__(self, problems: Problems, naive_means_utc: bool = False):
        self.problems = problems
        self.naive_means_utc = naive_means_utc
        self.aware: tuple[bool, int] | None = None
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    def read(self, text: str, line: int | None, column: int | None, name: str) -> dt.datetime | None:
        """The timestamp in ``text`` (None, with a problem noted, if it cannot be read)."""
        try:
            t = parse_timestamp(text)
        except ValueError as exc:
            self.problems.add(str(exc), line, column, name)
            return None
        if t.tzinfo is None and self.naive_means_utc:
            t = t.replace(tzinfo=dt.UTC)
        has = t.tzinfo is not None
        if self.aware is None:
            self.aware = (has, line or 0)
        elif self.aware[0] != has:
            with_, without = ("an offset", "no offset") if self.aware[0] else ("no offset", "an offset")
            self.problems.add(
                f"mixed time zones: {text!r} has {without} but the timestamp on line {self.aware[1]} has {with_}; "
                "export every timestamp in one form (with a UTC offset, e.g. 2026-03-14T02:10:00Z)",
                line,
                column,
                name,
            )
            return None
        self.first = t if self.first is None or t < self.first else self.first
        self.last = t if self.last is None or t > self.last else self.last
        return t


def seconds_cell(text: str, line: int, column: int, name: str, problems: Problems, scale: float = 1.0) -> float | None:
    """A positive number of seconds (``scale`` converts e.g. milliseconds) from a cell; None if empty."""
    if text == "":
        return None
    try:
        v = float(text) * scale
    except ValueError:
        problems.add(
            f"expected a number of {'seconds' if scale == 1 else 'milliseconds'}, found {text!r}", line, column, name
        )
        return None
    if not v > 0 or v != v or v == float("inf"):
        problems.add(f"a duration must be positive, found {text!r}", line, column, name)
        return None
    return v


def column_seconds(table, row, line: int, key, problems: Problems, scale: float = 1.0) -> float | None:
    """:func:`seconds_cell` of column ``key`` of ``row``; None when the export has no such column."""
    if key is None:
        return None
    return seconds_cell(table.cell(row, key), line, table.columns[key], table.name(key), problems, scale=scale)


def check_unique_ids(records: list[Record], problems: Problems, column: int | None, name: str) -> None:
    """Refuse an id given twice in one file (an export concatenated with itself, or two exports overlapping)."""
    seen: dict[str, int] = {}
    for r in records:
        if r.id in seen:
            problems.add(f"duplicate id {r.id!r} (first on line {seen[r.id]})", r.line, column, name)
        else:
            seen[r.id] = r.line


def required_columns(table: CsvTable, needs: Mapping[str, tuple[str, ...]], problems: Problems, what: str) -> None:
    """Note every required column the file lacks (each given as its accepted names)."""
    for label, names in needs.items():
        if table.find(*[column_key(n) for n in names]) is None:
            alts = " or ".join(repr(n) for n in names)
            problems.add(f"missing column {label!r} ({alts}); a {what} has it", 1, None)
    problems.raise_if_any()


def iter_labels(table: CsvTable, row: list[str], labels: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[str, str]]:
    """``(label, value)`` for each optional label column the file has and the row fills."""
    for label, names in labels.items():
        key = table.find(*[column_key(n) for n in names])
        value = table.cell(row, key)
        if value:
            yield label, value


__all__ = [
    "AT_LEAST",
    "Clock",
    "CsvTable",
    "Problems",
    "Record",
    "SourceFile",
    "check_unique_ids",
    "column_key",
    "column_seconds",
    "decode",
    "iter_labels",
    "parse_timestamp",
    "read_csv",
    "read_source_bytes",
    "required_columns",
    "seconds_cell",
    "sha256_of",
]
