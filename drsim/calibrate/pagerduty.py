"""PagerDuty incident exports: one row per incident, as PagerDuty's analytics export lays them out.

The columns are those of PagerDuty's raw incident analytics (the Insights
incident export and ``POST /analytics/raw/incidents``): ``id``,
``incident_number``, ``created_at``, ``resolved_at``, ``seconds_to_first_ack``,
``seconds_to_resolve``, ``escalation_count``, ``service_name``, ``team_name``,
``urgency`` (``high``/``low``), ``priority_name`` and ``major``. Older exports
name the timestamps ``created_on`` and ``resolved_on``; both are accepted, and
column names are matched ignoring case, spaces and punctuation.

What a row measures:

* ``acknowledge`` — ``seconds_to_first_ack``; empty means nobody acknowledged
  (censored at resolution, or at the export's end while still open);
* ``resolve`` — ``seconds_to_resolve``, else ``resolved_at - created_at``;
  empty means still open when exported (censored at the export's end);
* ``escalation_count`` — escalations past the first responders; a mapping
  decides whether the first level's acknowledgement is then censored.
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

KIND = "pagerduty"
REQUIRED = {"id": ("id", "incident_id"), "created_at": ("created_at", "created_on")}
LABELS = {
    "service": ("service_name",),
    "team": ("team_name",),
    "urgency": ("urgency",),
    "priority": ("priority_name",),
    "major": ("major",),
    "number": ("incident_number",),
}


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is a PagerDuty incident export."""
    keys = {column_key(h) for h in header}
    return "secondstofirstack" in keys or ("createdon" in keys and "incidentnumber" in keys)


def read(path: str | Path) -> tuple[SourceFile, list[Record]]:
    """Every incident in a PagerDuty export, or an :class:`~drsim.errors.InputError` naming each bad cell."""
    source = str(path)
    raw = read_source_bytes(path)
    table = read_csv(decode(raw, source), source)
    problems = Problems(source)
    required_columns(table, REQUIRED, problems, "PagerDuty incident export")
    if table.find("secondstofirstack", "secondstoresolve", "resolvedat", "resolvedon") is None:
        problems.add("no duration columns: expected seconds_to_first_ack, seconds_to_resolve or resolved_at", 1)
        problems.raise_if_any()
    c_id = table.find("id", "incidentid")
    c_created = table.find("createdat", "createdon")
    c_resolved = table.find("resolvedat", "resolvedon")
    c_ack = table.find("secondstofirstack")
    c_res = table.find("secondstoresolve")
    c_esc = table.find("escalationcount")
    assert c_id is not None
    assert c_created is not None
    clock = Clock(problems)
    records = []
    for line, row in table.rows:
        created = clock.read(table.cell(row, c_created), line, table.columns[c_created], table.name(c_created))
        ack = column_seconds(table, row, line, c_ack, problems)
        res = column_seconds(table, row, line, c_res, problems)
        resolved_text = table.cell(row, c_resolved)
        if resolved_text and c_resolved is not None:
            resolved = clock.read(resolved_text, line, table.columns[c_resolved], table.name(c_resolved))
            if created is not None and resolved is not None and res is None:
                res = (resolved - created).total_seconds()
                if res <= 0:
                    problems.add(
                        "resolved before (or when) it was created",
                        line,
                        table.columns[c_resolved],
                        table.name(c_resolved),
                    )
        escalations = 0
        if c_esc is not None and table.cell(row, c_esc):
            text = table.cell(row, c_esc)
            if not text.isdigit():
                problems.add(
                    f"expected a whole number of escalations, found {text!r}",
                    line,
                    table.columns[c_esc],
                    table.name(c_esc),
                )
            else:
                escalations = int(text)
        if ack is not None and res is not None and ack > res:
            problems.add(
                f"acknowledged ({ack:g}s) after it was resolved ({res:g}s)",
                line,
                table.columns[c_ack or ""],
                table.name(c_ack or ""),
            )
        durations = {k: v for k, v in (("acknowledge", ack), ("resolve", res)) if v is not None}
        records.append(
            Record(
                source,
                line,
                table.cell(row, c_id),
                created,
                dict(iter_labels(table, row, LABELS)),
                durations,
                open_for=res,
                escalations=escalations,
            )
        )
    for line, row in table.rows:
        if not table.cell(row, c_id):
            problems.add("empty incident id", line, table.columns[c_id], table.name(c_id))
    check_unique_ids(records, problems, table.columns[c_id], table.name(c_id))
    problems.raise_if_any()
    return SourceFile(source, KIND, sha256_of(raw), len(records), clock.first, clock.last), records


__all__ = ["KIND", "looks_like", "read"]
