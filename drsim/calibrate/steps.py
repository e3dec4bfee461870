"""Plain CSVs of step durations: what a team timed by hand in a drill or a change window.

Two layouts, one row per timed step:

* ``element,duration`` — the duration written as drsim writes durations
  (``12m``, ``1h30m``, ``45s``), or ``>=2h`` for a step still running when
  timing stopped two hours in (a lower bound: the record is right-censored);
* ``element,start,end`` — two ISO 8601 timestamps (both with a UTC offset,
  or both without, in every row).

``element`` is any label the mapping selects on (``promote-standby``,
``detection``). Optional columns: ``id`` (unique per row), ``status``, and
``censored`` (``true`` when the step was still running when timing stopped:
the duration is then a lower bound).
"""

from __future__ import annotations

from pathlib import Path

from ..model.units import UnitError, parse_duration
from .records import (
    AT_LEAST,
    Clock,
    Problems,
    Record,
    SourceFile,
    check_unique_ids,
    column_key,
    decode,
    read_csv,
    read_source_bytes,
    sha256_of,
)

KIND = "steps"


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is a steps file."""
    keys = {column_key(h) for h in header}
    return "element" in keys and ("duration" in keys or {"start", "end"} <= keys)


def read(path: str | Path) -> tuple[SourceFile, list[Record]]:
    """Every timed step in a steps CSV, or an :class:`~drsim.errors.InputError` naming each bad cell."""
    source = str(path)
    raw = read_source_bytes(path)
    table = read_csv(decode(raw, source), source)
    problems = Problems(source)
    c_el, c_dur = table.find("element"), table.find("duration")
    c_start, c_end = table.find("start"), table.find("end")
    if c_el is None or (c_dur is None and (c_start is None or c_end is None)):
        problems.add("expected columns element,duration or element,start,end", 1)
        problems.raise_if_any()
    assert c_el is not None
    c_id, c_status, c_cens = table.find("id"), table.find("status"), table.find("censored")
    clock = Clock(problems)
    records = []
    for line, row in table.rows:
        element = table.cell(row, c_el)
        if not element:
            problems.add("empty element", line, table.columns[c_el], table.name(c_el))
        seconds, start = _duration(table, row, line, (c_dur, c_start, c_end), clock, problems)
        censored = table.cell(row, c_cens).lower()
        if censored not in ("", "true", "false"):
            problems.add(
                f"expected true or false, found {censored!r}",
                line,
                table.columns[c_cens or ""],
                table.name(c_cens or ""),
            )
        if table.cell(row, c_dur).startswith(AT_LEAST):
            if censored == "false":
                problems.add(
                    f"censored is false but the duration {table.cell(row, c_dur)!r} is only a lower bound",
                    line,
                    table.columns[c_cens or ""],
                    table.name(c_cens or ""),
                )
            censored = "true"
        labels = {"element": element}
        if table.cell(row, c_status):
            labels["status"] = table.cell(row, c_status)
        ident = table.cell(row, c_id) or f"line {line}"
        durations = {"duration": seconds} if seconds is not None else {}
        records.append(
            Record(
                source,
                line,
                ident,
                start,
                labels,
                durations,
                open_for=seconds,
                censored=frozenset({"duration"}) if censored == "true" else frozenset(),
            )
        )
    if c_id is not None:
        check_unique_ids(records, problems, table.columns[c_id], table.name(c_id))
    problems.raise_if_any()
    return SourceFile(source, KIND, sha256_of(raw), len(records), clock.first, clock.last), records


def _duration(table, row, line, cols, clock: Clock, problems: Problems):
    """Seconds of one row (from ``duration``, else ``end - start``) and its start, if any."""
    c_dur, c_start, c_end = cols
    text = table.cell(row, c_dur)
    if c_dur is not None and text:
        try:
            seconds = parse_duration(text.removeprefix(AT_LEAST).strip())
        except UnitError as exc:
            problems.add(str(exc), line, table.columns[c_dur], table.name(c_dur))
            return None, None
        if seconds <= 0:
            problems.add(f"a duration must be positive, found {text!r}", line, table.columns[c_dur], table.name(c_dur))
            return None, None
        start = None
        if c_start is not None and table.cell(row, c_start):
            start = clock.read(table.cell(row, c_start), line, table.columns[c_start], table.name(c_start))
        return seconds, start
    if c_start is None or c_end is None:
        problems.add("empty duration", line, table.columns[c_dur or ""], table.name(c_dur or ""))
        return None, None
    start = clock.read(table.cell(row, c_start), line, table.columns[c_start], table.name(c_start))
    end = clock.read(table.cell(row, c_end), line, table.columns[c_end], table.name(c_end))
    if start is None or end is None:
        return None, None
    seconds = (end - start).total_seconds()
    if seconds <= 0:
        problems.add(
            f"ends ({table.cell(row, c_end)}) before or when it starts", line, table.columns[c_end], table.name(c_end)
        )
        return None, None
    return seconds, start


__all__ = ["KIND", "looks_like", "read"]
