"""A rehearsal's evidence as a CSV table: one measured quantity a row.

Rehearsal results often live in a spreadsheet. Exported as CSV, each row
gives one quantity a go/no-go gate measures::

    measure,value,unit,when,source
    test logins succeeding in the target (%),99.2,%,2026-02-28T23:40,smoke-test log

``measure`` (the gate's measure, exactly as the plan spells it) and ``value``
(a number) are required; ``unit``, ``when`` (when it was measured) and
``source`` (where the figure comes from) are optional and carried to the
go/no-go sheet beside the value. Column names are matched ignoring case,
spaces and punctuation. Every problem is reported at its row (the file's line)
and column, all at once; the measures are then checked against the plan like a
YAML evidence file's (:func:`drsim.model.cutover.check_evidence`).
"""

from __future__ import annotations

import csv
import io
import math
import re

from ..errors import InputError, Problem
from .cutover import CutoverPlan, Evidence, MeasureNote, check_evidence

#: The columns of an evidence table, required first.
COLUMNS = ("measure", "value", "unit", "when", "source")
REQUIRED = ("measure", "value")
#: What the header should look like, in messages.
SHAPE = "measure,value[,unit,when,source]"


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def evidence_from_csv(text: str, plan: CutoverPlan, source: str) -> Evidence:
    """The evidence in CSV ``text`` (already decoded) for ``plan``'s gates, or an :class:`InputError` naming
    the file, and each bad row's line and column."""
    evidence, line_of = read_table(text, source)
    found = check_evidence(evidence, plan)
    if found:
        raise InputError(
            source,
            [Problem(m, p, *line_of.get(str(p[1]), (None, None))) for p, m in found],
        )
    return evidence


def read_table(text: str, source: str) -> tuple[Evidence, dict[str, tuple[int, int]]]:
    """The evidence in CSV ``text`` on its own (no plan to check its measures against), and the line and
    column of each measure; an :class:`InputError` for a table that is not one."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise InputError(source, [Problem(f"file is empty; expected a header row {SHAPE}", (), 1, None)])
        cols: dict[str, int] = {}
        for i, name in enumerate(header, 1):
            k = _key(name)
            if k not in COLUMNS:
                problems.append(Problem(f"unknown column {name.strip()!r}; expected {SHAPE}", (), 1, i))
            elif k in cols:
                problems.append(Problem(f"column {name.strip()!r} appears twice (also column {cols[k]})", (), 1, i))
            else:
                cols[k] = i
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            problems.append(
                Problem(f"no {' or '.join(repr(c) for c in missing)} column; expected {SHAPE}", (), 1, None)
            )
            raise InputError(source, problems)
        measured: dict[str, float] = {}
        notes: dict[str, MeasureNote] = {}
        line_of: dict[str, tuple[int, int]] = {}
        line = reader.line_num + 1
        for row in reader:
            if any(c.strip() for c in row):
                _row(row, line, len(header), cols, measured, notes, line_of, problems)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, [Problem(f"not valid CSV: {exc}", (), reader.line_num, None)]) from None
    if not measured and not problems:
        problems.append(Problem("no rows; expected one row per measured quantity under the header", (), 2, None))
    if problems:
        raise InputError(source, problems)
    return Evidence(description="", measured=measured, notes=notes), line_of


def _row(
    row: list[str],
    line: int,
    width: int,
    cols: dict[str, int],
    measured: dict[str, float],
    notes: dict[str, MeasureNote],
    line_of: dict[str, tuple[int, int]],
    problems: list[Problem],
) -> None:
    def cell(name: str) -> str:
        i = cols.get(name)
        return row[i - 1].strip() if i is not None and i <= len(row) else ""

    if len(row) > width:
        problems.append(Problem(f"{len(row)} fields but the header names {width}", (), line, width + 1))
        return
    m = cell("measure")
    if not m:
        problems.append(
            Problem("expected a measure (the gate's measure, as the plan spells it)", (), line, cols["measure"])
        )
        return
    if m in line_of:
        problems.append(
            Problem(f"measure {m!r} is given twice (also line {line_of[m][0]})", ("measured", m), line, cols["measure"])
        )
        return
    line_of[m] = (line, cols["measure"])
    raw = cell("value")
    try:
        v = float(raw)
    except ValueError:
        found = f"found {raw!r}" if raw else "the cell is empty"
        problems.append(Problem(f"expected a number, {found}", ("measured", m), line, cols["value"]))
        return
    if not math.isfinite(v):
        problems.append(Problem(f"expected a finite value, found {raw!r}", ("measured", m), line, cols["value"]))
        return
    measured[m] = v
    note = MeasureNote(unit=cell("unit"), when=cell("when"), source=cell("source"))
    if note != MeasureNote():
        notes[m] = note
