"""An exercise calendar on paper and in people's diaries: a printable plan and an iCalendar file.

The printable plan (:func:`calendar_document`) is a :class:`~drsim.report.document.Document`
rendered like every drsim pack, to Markdown, HTML or PDF: the exercises by
date with what each was planned for, the coverage gaps with their owners, each
requirement's last test and planned days, and the days off limits.

The iCalendar file (:func:`to_ics`, RFC 5545, written with the ``icalendar``
library) holds one all-day VEVENT per planned exercise, so the programme can be
imported into the diaries of the people who run it. Each event's UID is derived
from the calendar's name, the day and the drill, so re-importing an updated plan
updates the events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt

from ..analysis.calendar import Calendar
from .document import Bullets, Document, Heading, Para, Section, Table

#: The iCalendar product identifier drsim writes.
PRODID = "-//drsim//exercise calendar//EN"


def _day(d: dt.date | None) -> str:
    return "-" if d is None else d.isoformat()


def _risk(risk: str | None) -> str:
    return risk or "nothing down"


def _reasons(reasons: tuple[str, ...], limit: int = 4) -> str:
    shown = ", ".join(reasons[:limit])
    return shown + (f" and {len(reasons) - limit} more" if len(reasons) > limit else "")


def exercise_rows(cal: Calendar) -> list[list[str]]:
    """One row per planned exercise: day, weekday, drill, risk, what it is planned for, roles, owner."""
    return [
        [
            p.day.isoformat(),
            p.day.strftime("%a"),
            p.drill,
            _risk(p.risk),
            ("overdue or due: " if p.urgent else "due: ") + _reasons(p.reasons),
            ", ".join(p.roles),
            p.owner or "-",
        ]
        for p in cal.exercises
    ]


def gap_rows(cal: Calendar) -> list[list[str]]:
    """One row per coverage gap: what, rule, last tested, due, planned, why, owner."""
    return [
        [g.subject, g.rule, _day(g.last_tested), _day(g.due), _day(g.planned), g.why, g.owner or "-"] for g in cal.gaps
    ]


def calendar_document(cal: Calendar) -> Document:
    """The printable plan: exercises, coverage gaps, each requirement's coverage, and the days off limits."""
    title = f"Exercise calendar: {cal.name}"
    last = cal.end - dt.timedelta(days=1)
    summary = (
        f"{len(cal.exercises)} exercise(s) planned on the estate {cal.topology} from {cal.start.isoformat()} "
        f"to {last.isoformat()}; {len(cal.gaps)} coverage gap(s)."
    )
    blocks: list = [
        Heading(title, 1),
        Para(summary, "strong"),
        Para(
            "Overdue and never-exercised requirements are planned first; otherwise lower-risk exercises "
            "(those taking only less critical tiers down) come before higher-risk ones.",
            "note",
        ),
        Heading("Planned exercises"),
        Table(
            ["Day", "", "Exercise", "Risk (tier down)", "Planned for", "Roles needed", "Owner"],
            exercise_rows(cal),
            weights=[1.1, 0.5, 1.4, 1.0, 3.0, 1.6, 1.5],
            nowrap=2,
        )
        if cal.exercises
        else Para("No exercise planned: nothing falls due within the plan, or no day is available."),
        Heading("Coverage gaps"),
    ]
    if cal.gaps:
        blocks.append(
            Table(
                ["Requirement", "Rule", "Last tested", "Due", "Planned", "Why", "Remediation owner"],
                gap_rows(cal),
                weights=[1.6, 1.6, 1.0, 1.0, 1.0, 3.0, 1.5],
            )
        )
    else:
        blocks.append(Para("No coverage gaps: every requirement is exercised before it falls due."))
    blocks += [
        Heading("Coverage by requirement"),
        Table(
            ["Requirement", "Rule", "Last tested (history)", "Planned days"],
            [
                [
                    r.subject,
                    r.rule(),
                    _day(r.last_tested),
                    ", ".join(d.isoformat() for d in cal.planned_days[r.subject]),
                ]
                for r in cal.requirements
            ],
            weights=[1.6, 1.8, 1.2, 3.0],
        ),
        Heading("Days off limits"),
        Bullets(
            [f"{b.start.isoformat()} to {b.last.isoformat()}: {b.reason or 'blackout'}" for b in cal.blackouts]
            + [
                f"{u.start.isoformat()} to {u.last.isoformat()}: {u.role} unavailable ({u.reason or 'no reason given'})"
                for u in cal.unavailable
            ]
            or ["none"]
        ),
    ]
    footer = f"drsim exercise calendar {cal.name} - {cal.topology} - {cal.start.isoformat()} to {last.isoformat()}"
    return Document(title, footer, [Section("calendar", blocks, new_page=False)])


def to_ics(cal: Calendar, stamp: dt.datetime | None = None) -> bytes:
    """The plan as an iCalendar file: one all-day VEVENT per planned exercise.

    ``stamp`` is each event's DTSTAMP (when the file was made; default: now, UTC).
    """
    import icalendar  # imported on use: keeps drsim --help fast

    stamp = stamp or dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = icalendar.Calendar()
    out.add("prodid", PRODID)
    out.add("version", "2.0")
    out.add("x-wr-calname", f"DR exercises: {cal.name}")
    for p in cal.exercises:
        ev = icalendar.Event()
        ev.add("uid", f"{cal.name}-{p.day.isoformat()}-{p.drill}@drsim")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", p.day)
        ev.add("dtend", p.day + dt.timedelta(days=1))
        ev.add("summary", f"DR exercise: {p.drill}")
        lines = [
            f"Planned for: {', '.join(p.reasons)}",
            f"Also exercises: {', '.join(c for c in p.covers if c not in p.reasons) or 'nothing else'}",
            f"Risk: {_risk(p.risk)}",
            f"Roles needed: {', '.join(p.roles)}",
            f"Drill: {p.given}",
        ]
        if p.owner:
            lines.append(f"Owner: {p.owner}")
        ev.add("description", "\n".join(lines))
        ev.add("categories", ["DR exercise", _risk(p.risk)])
        out.add_component(ev)
    return out.to_ical()


__all__ = ["PRODID", "calendar_document", "exercise_rows", "gap_rows", "to_ics"]
