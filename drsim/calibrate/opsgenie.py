"""Opsgenie alert exports: one row per alert, with the fields of Opsgenie's Alert API.

Columns follow the alert fields Opsgenie documents: ``id`` (or ``tinyId``),
``createdAt``, ``status`` (``open``/``closed``), ``acknowledged``,
``report.ackTime`` and ``report.closeTime`` (milliseconds from creation, as
the Alert API's ``report`` gives them), ``report.acknowledgedBy``, ``owner``,
``teams``, ``priority`` (``P1`` … ``P5``), ``tags``, ``source`` and
``entity``. Column names are matched ignoring case, spaces and punctuation,
and the ``report.`` prefix may be left out (``AckTime``).

What a row measures:

* ``acknowledge`` — ``ackTime``; empty (or ``acknowledged`` false) means
  nobody acknowledged: censored at ``closeTime``, or at the export's end while open;
* ``resolve`` — ``closeTime``; empty means still open when exported.
"""

from __future__ import annotations

from pathlib import Path

from .records import (
    Clock,
    Problems,
    Record,
    SourceFile,
    check_unique_ids,
    column_key,
    column_seconds,
    decode,
    iter_labels,
    read_csv,
    read_source_bytes,
    required_columns,
    sha256_of,
)

KIND = "opsgenie"
REQUIRED = {"id": ("id", "tinyId", "alertId"), "createdAt": ("createdAt",)}
LABELS = {
    "team": ("teams", "team"),
    "priority": ("priority",),
    "responder": ("report.acknowledgedBy", "acknowledgedBy"),
    "owner": ("owner",),
    "status": ("status",),
    "source": ("source",),
    "entity": ("entity",),
    "service": ("service", "entity"),
    "tags": ("tags",),
}
MS = 1e-3


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is an Opsgenie alert export."""
    keys = {column_key(h) for h in header}
    return "createdat" in keys and bool(keys & {"reportacktime", "acktime", "tinyid"})


def read(path: str | Path) -> tuple[SourceFile, list[Record]]:
    """Every alert in an Opsgenie export, or an :class:`~drsim.errors.InputError` naming each bad cell."""
    source = str(path)
    raw = read_source_bytes(path)
    table = read_csv(decode(raw, source), source)
    problems = Problems(source)
    required_columns(table, REQUIRED, problems, "Opsgenie alert export")
    c_id = table.find("id", "tinyid", "alertid")
    c_created = table.find("createdat")
    c_ack = table.find("reportacktime", "acktime")
    c_close = table.find("reportclosetime", "closetime")
    c_acked = table.find("acknowledged")
    if c_ack is None and c_close is None:
        problems.add("no duration columns: expected report.ackTime or report.closeTime (milliseconds)", 1)
        problems.raise_if_any()
    assert c_id is not None
    assert c_created is not None
    clock = Clock(problems)
    records = []
    for line, row in table.rows:
        created = clock.read(table.cell(row, c_created), line, table.columns[c_created], table.name(c_created))
        ack = column_seconds(table, row, line, c_ack, problems, scale=MS)
        close = column_seconds(table, row, line, c_close, problems, scale=MS)
        acked_text = table.cell(row, c_acked).lower()
        if acked_text and acked_text not in ("true", "false"):
            problems.add(
                f"expected true or false, found {acked_text!r}",
                line,
                table.columns[c_acked or ""],
                table.name(c_acked or ""),
            )
        if acked_text == "false":
            ack = None
        if not table.cell(row, c_id):
            problems.add("empty alert id", line, table.columns[c_id], table.name(c_id))
        durations = {k: v for k, v in (("acknowledge", ack), ("resolve", close)) if v is not None}
        records.append(
            Record(
                source,
                line,
                table.cell(row, c_id),
                created,
                dict(iter_labels(table, row, LABELS)),
                durations,
                open_for=close,
            )
        )
    check_unique_ids(records, problems, table.columns[c_id], table.name(c_id))
    problems.raise_if_any()
    return SourceFile(source, KIND, sha256_of(raw), len(records), clock.first, clock.last), records


__all__ = ["KIND", "looks_like", "read"]
