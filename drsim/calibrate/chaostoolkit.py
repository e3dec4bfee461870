"""Chaos Toolkit journals: what each activity of an experiment run did, and when.

``chaos run`` writes a ``journal.json``: the experiment, the run's ``start``,
``end`` and ``status``, and one entry per activity executed — the steady-state
probes before and after (``steady_states.before.probes``,
``steady_states.after.probes``), the method (``run``) and the ``rollbacks`` —
each with its ``activity`` (``name``, ``type``), ``status`` (``succeeded`` or
``failed``), ``start``, ``end`` and ``duration`` in seconds. Chaos Toolkit
writes its timestamps in UTC without an offset; they are read as UTC.

Each activity is one record measuring ``duration`` (end − start), labelled
with its ``activity`` name, ``type`` (probe/action), ``phase``
(before/method/after/rollback), ``status`` and the ``experiment`` title. A
failed activity is a record like any other; a mapping selects
``status: succeeded`` to fit only the attempts that worked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .records import Clock, Problems, Record, SourceFile, decode, read_source_bytes, sha256_of

KIND = "chaostoolkit"


def looks_like(text: str) -> bool:
    """Whether a file's text is a Chaos Toolkit journal."""
    head = text.lstrip()[:4096]
    return head.startswith("{") and ('"chaoslib-version"' in head or '"steady_states"' in head or '"run"' in head)


def read(path: str | Path) -> tuple[SourceFile, list[Record]]:
    """Every activity run in a journal, or an :class:`~drsim.errors.InputError` naming the bad entry."""
    source = str(path)
    raw = read_source_bytes(path)
    text = decode(raw, source)
    try:
        journal = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, [Problem(f"not valid JSON: {exc.msg}", (), exc.lineno, exc.colno)]) from None
    if not isinstance(journal, dict) or "run" not in journal:
        raise InputError(source, [Problem("expected a Chaos Toolkit journal (an object with 'run', 'start', 'end')")])
    problems = Problems(source)
    clock = Clock(problems, naive_means_utc=True)
    title = (
        str((journal.get("experiment") or {}).get("title", "")) if isinstance(journal.get("experiment"), dict) else ""
    )
    records: list[Record] = []
    for phase, where, runs in _phases(journal, problems):
        for i, run in enumerate(runs):
            rec = _record(source, phase, (*where, i), run, clock, problems, title)
            if rec is not None:
                records.append(rec)
    problems.raise_if_any()
    return SourceFile(source, KIND, sha256_of(raw), len(records), clock.first, clock.last), records


def _phases(journal: dict, problems: Problems):
    states = journal.get("steady_states") or {}
    if not isinstance(states, dict):
        states = {}
    for phase in ("before", "after"):
        probes = (states.get(phase) or {}).get("probes") if isinstance(states.get(phase), dict) else None
        if probes:
            yield phase, ("steady_states", phase, "probes"), _list(probes, ("steady_states", phase, "probes"), problems)
    yield "method", ("run",), _list(journal.get("run"), ("run",), problems)
    if journal.get("rollbacks"):
        yield "rollback", ("rollbacks",), _list(journal.get("rollbacks"), ("rollbacks",), problems)


def _list(value: Any, path: tuple, problems: Problems) -> list:
    if isinstance(value, list):
        return value
    problems.items.append(Problem(f"expected a list of activity runs, found {type(value).__name__}", path))
    return []


def _record(source, phase, path, run, clock: Clock, problems: Problems, title: str) -> Record | None:
    if not isinstance(run, dict) or not isinstance(run.get("activity"), dict):
        problems.items.append(Problem("expected an activity run with 'activity', 'status', 'start', 'end'", path))
        return None
    activity = run["activity"]
    times: list[dt.datetime | None] = []
    for key in ("start", "end"):
        value = run.get(key)
        if not isinstance(value, str):
            problems.items.append(Problem(f"missing or non-text {key!r} timestamp", (*path, key)))
            times.append(None)
            continue
        before = len(problems.items)
        t = clock.read(value, None, None, key)
        if t is None and len(problems.items) > before:
            problems.items[-1].path = (*path, key)
        times.append(t)
    start, end = times
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    if seconds <= 0:
        problems.items.append(Problem(f"ends ({run['end']}) before or when it starts ({run['start']})", (*path, "end")))
        return None
    labels = {
        "activity": str(activity.get("name", "")),
        "type": str(activity.get("type", "")),
        "phase": phase,
        "status": str(run.get("status", "")),
    }
    if title:
        labels["experiment"] = title
    ident = ".".join(str(p) for p in path)
    return Record(source, 0, ident, start, labels, {"duration": seconds}, open_for=seconds)


__all__ = ["KIND", "looks_like", "read"]
