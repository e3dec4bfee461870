"""Which reader a source file needs, judged by its content (or named by the user)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import InputError, Problem
from . import chaostoolkit, opsgenie, pagerduty, steps
from .records import Record, SourceFile, decode, read_source_bytes

#: Readers by the name a user may give (``--format pagerduty``), in the order formats are tried.
READERS = {
    pagerduty.KIND: pagerduty,
    opsgenie.KIND: opsgenie,
    steps.KIND: steps,
    chaostoolkit.KIND: chaostoolkit,
}


def detect(path: str | Path) -> str:
    """The format of a source file: ``pagerduty``, ``opsgenie``, ``steps`` or ``chaostoolkit``."""
    source = str(path)
    text = decode(read_source_bytes(path)[:65536], source) if Path(path).exists() else ""
    if not Path(path).exists():
        raise InputError(source, [Problem("no such file")])
    if chaostoolkit.looks_like(text):
        return chaostoolkit.KIND
    header = next(csv.reader(io.StringIO(text)), [])
    for kind in (pagerduty.KIND, opsgenie.KIND, steps.KIND):
        if READERS[kind].looks_like(header):
            return kind
    found = ", ".join(h.strip() for h in header[:8]) or "nothing"
    raise InputError(
        source,
        [
            Problem(
                "not a format drsim reads: expected a PagerDuty incident export (id, created_at, "
                "seconds_to_first_ack, ...), an Opsgenie alert export (id, createdAt, report.ackTime, ...), a steps CSV "
                f"(element,duration or element,start,end) or a Chaos Toolkit journal.json; its header has {found}",
                (),
                1,
                None,
            )
        ],
    )


def read_source(path: str | Path, kind: str | None = None) -> tuple[SourceFile, list[Record]]:
    """The records of one source file, in the given format or the one its content shows."""
    kind = kind or detect(path)
    if kind not in READERS:
        raise InputError(str(path), [Problem(f"unknown format {kind!r}; expected one of {', '.join(READERS)}")])
    return READERS[kind].read(path)


__all__ = ["READERS", "detect", "read_source"]
