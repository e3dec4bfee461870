"""Words for charts and tables: what a grid key, a metric or a sensitivity parameter is, as a planner says it.

Results name things the way the files and the outcomes do — a grid key is a
dotted path into the YAML (``topology.staff.dba.shifts.night.headcount``), a
metric an outcomes key (``tier:tier0:rto``), a sensitivity parameter a group of
random durations (``acknowledge:dba``). An axis, a legend or a column heading
says instead what it is: "dba head-count, night shift", "tier0 RTO",
"dba: time to acknowledge a page". Every function here returns a label for
people; nothing parses one back.
"""

from __future__ import annotations

import math
import re

from ..frames import split_key
from ..model.units import format_duration

#: Fields of the topology and drill files, in words.
FIELDS = {
    "headcount": "head-count",
    "acknowledge": "time to acknowledge a page",
    "pace": "pace of work",
    "duration": "duration",
    "delay": "delay",
    "buffer": "buffer (messages)",
    "backup_interval": "backup interval",
    "retention": "backup retention",
    "throughput": "restore throughput",
    "rate": "arrival rate",
    "drain": "drain rate",
    "lag": "replication lag",
    "dwell": "dwell time",
    "rto": "RTO target",
    "rpo": "RPO target",
    "tolerance": "tolerated downtime",
    "start": "start time",
    "strategy": "DR strategy",
    "available": "people available to call in",
    "respond": "time to respond to a call-in",
    "travel": "travel time",
}
#: Steps of a drill's response, in words.
RESPONSE = {
    "detect": "detection",
    "detection": "detection",
    "triage": "triage",
    "declare": "decision to fail over",
    "decision": "decision to fail over",
    "communicate": "communication",
    "rollback": "decision to roll back",
}
#: How a metric's measure is written.
MEASURES = {"rto": "RTO", "rpo": "RPO", "usable": "time until usable"}
#: A decision latency (``latency:KEY``), in words.
LATENCIES = {
    "detect": "time to detect",
    "acknowledge": "time to acknowledge",
    "declare": "time to declare",
    "restore": "time to restore",
    "total": "time from fault to restored",
}


def duration(seconds: float) -> str:
    """A duration as a label writes it, without trailing zero units: ``15m``, ``1d``, ``1h30m``."""
    text = format_duration(seconds)
    while (shorter := re.sub(r"(?<=[dhm])0+[hms]$", "", text)) != text:
        text = shorter
    return text


def field_words(name: str) -> str:
    """A field name in words: ``headcount`` is "head-count", ``backup_interval`` "backup interval"."""
    return FIELDS.get(name, name.replace("_", " "))


def grid_key(key: str) -> str:
    """A grid key (a dotted path into the topology or drill) as an axis or column label.

    ``topology.staff.dba.shifts.night.headcount`` is "dba head-count, night shift",
    ``drill.faults.0.duration`` "fault duration", ``drill.response.declare.duration``
    "decision to fail over: duration"; anything else, its path after the
    document's name with the last field in words.
    """
    doc, _, rest = key.partition(".")
    parts = rest.split(".")
    field = field_words(parts[-1])
    if doc == "topology" and len(parts) == 5 and parts[0] == "staff" and parts[2] == "shifts":
        shift = f"shift {int(parts[3]) + 1}" if parts[3].isdigit() else f"{parts[3]} shift"
        return f"{parts[1]} {field}, {shift}"
    if doc == "topology" and len(parts) == 3 and parts[0] in ("services", "queues", "tiers", "workflows", "staff"):
        return f"{parts[1]} {field}"
    if doc == "drill" and len(parts) == 3 and parts[0] == "faults":
        return f"fault {field}" if parts[1] in ("0", "") else f"fault {parts[1]} {field}"
    if doc == "drill" and len(parts) >= 2 and parts[0] in ("response", "detection"):
        step = RESPONSE.get(parts[1] if parts[0] == "response" else parts[0], parts[-2])
        return f"{step}: {field}"
    return " ".join([*parts[:-1], field]) if parts[:-1] else f"{doc} {field}"


#: Fields whose values count people.
PEOPLE = ("headcount", "available")


def grid_axis(key: str) -> str:
    """A grid key as a chart's axis says it, with its unit: "dba head-count, night shift (people)",
    "fault duration (value as written)"."""
    unit = "people" if key.rsplit(".", 1)[-1] in PEOPLE else "value as written"
    return f"{grid_key(key)} ({unit})"


def grid_value(value: object) -> str:
    """A grid value as written (a head-count, a duration such as ``4h``); a float without a needless ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def metric(key: str) -> str:
    """An outcomes key as people say it: ``tier:tier0:rto`` is "tier0 RTO", ``latency:declare``
    "time to declare", ``queue:lab-results:backlog`` "lab-results backlog (messages)"."""
    kind, subject, measure = split_key(key)
    if kind == "latency":
        return LATENCIES.get(subject, f"time to {subject}")
    if kind == "milestone":
        return f"time until {subject}"
    if kind == "rollback":
        return f"rollback {measure}"
    words = MEASURES.get(measure, measure)
    if kind == "queue" and measure in ("backlog", "dropped"):
        words += " (messages)"
    return f"{subject} {words}"


def meets(key: str, target: float | None) -> str:
    """The probability of meeting a metric's target, as a legend says it: "P(tier0 RTO ≤ 15m)"."""
    if target is None or not math.isfinite(target):
        return f"P({metric(key)} meets its target)"
    return f"P({metric(key)} ≤ {duration(target)})"


def parameter(name: str) -> str:
    """A sensitivity parameter (a group of random durations) in words: ``acknowledge:dba`` is
    "dba: time to acknowledge a page", ``runbook:ehr-db`` "ehr-db runbook", ``decision`` "decision to fail over"."""
    head, _, subject = name.partition(":")
    if not subject:
        return {"fault-duration": "how long the fault lasts", "dwell": "corruption unnoticed (dwell)"}.get(
            head, RESPONSE.get(head, head.replace("-", " "))
        )
    what = {
        "acknowledge": "time to acknowledge a page",
        "break-glass": "break-glass access",
        "runbook": "runbook",
        "restart": "restart in place",
        "replication-lag": "replication lag",
        "backup-age": "age of the last backup",
    }.get(head, head.replace("-", " "))
    return f"{subject}: {what}" if head in ("acknowledge", "break-glass") else f"{subject} {what}"


__all__ = ["duration", "field_words", "grid_axis", "grid_key", "grid_value", "meets", "metric", "parameter"]
