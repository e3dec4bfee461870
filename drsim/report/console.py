"""A drill result as terminal tables (rich) or Markdown, and the console wide tables print to.

One replay of a drill answers, per affected service, whether its achieved RTO
and RPO met its tier's targets and by how much it missed them (``over``:
``+2h07m``); then each workflow's downtime against what it can absorb, the
interface backlogs and the decision-latency breakdown. :func:`render_table`
prints that for a terminal, :func:`render_markdown` for a job summary or a
ticket.

Off a terminal (a pipe, a file, a CI log) tables are never cut to fit 80
columns: :func:`wide_console` is as wide as the widest line, so every name
and every header is printed whole.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..model.units import format_duration as fd
from ..results import DrillResult
from .calibration import calibration_markdown, render_calibration
from .document import md_escape

LATENCY_ROWS = [
    ("detect", "fault -> detected"),
    ("acknowledge", "detected -> acknowledged"),
    ("declare", "acknowledged -> declared"),
    ("restore", "declared -> all restored"),
    ("total", "fault -> all restored"),
]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _achieved(seconds: float | None) -> str:
    """An affected service's achieved RTO or RPO (an affected service always has both)."""
    assert seconds is not None, "an affected service has an achieved RTO and RPO"
    return fd(seconds)


def overrun(achieved: float | None, target: float, met: bool) -> str:
    """By how much ``achieved`` missed ``target``: ``+2h07m``, ``never`` if it never ended, ``—`` when met."""
    if met or achieved is None:
        return "—"
    if achieved == float("inf"):
        return "never"
    return "+" + fd(achieved - target)


def service_rows(r: DrillResult):
    """A row per affected service: achieved RTO and RPO against the tier's targets, with verdicts
    (and, when a service declares when people can use it again, its usable time last)."""
    with_usable = has_usable(r)
    for s in r.services:
        if not s.affected:
            continue
        usable = (
            [("-" if s.usable is None else fd(s.usable) if s.usable != float("inf") else "never")]
            if with_usable
            else []
        )
        yield [
            s.name,
            s.tier,
            _achieved(s.rto) if s.restored else "never",
            fd(s.rto_target),
            _verdict(s.rto_met),
            overrun(s.rto if s.restored else float("inf"), s.rto_target, s.rto_met),
            _achieved(s.rpo),
            fd(s.rpo_target),
            _verdict(s.rpo_met),
            overrun(s.rpo, s.rpo_target, s.rpo_met),
            *usable,
        ]


SERVICE_HEAD = ["service", "tier", "RTO", "target", "", "over", "RPO", "target", "", "over"]
#: The rich table's right-aligned columns: durations.
_DURATIONS = ("RTO", "RPO", "target", "over")


def missed_in_brief(missed: list[str]) -> str:
    """The missed targets counted by what was missed (``14: RTO of 8 services, downtime of 6 workflows``),
    listed in full when there are three or fewer; the tables above say which and by how much."""
    if len(missed) <= 3:
        return ", ".join(missed)
    kinds: dict[str, int] = {}
    for m in missed:
        kind = m.rsplit(" ", 1)[-1]
        kinds[kind] = kinds.get(kind, 0) + 1
    things = {"RTO": "services", "RPO": "services", "downtime": "workflows"}
    parts = [f"{kind} of {k} {things.get(kind, 'targets')}" for kind, k in kinds.items()]
    return f"{len(missed)}: {', '.join(parts)} (the over columns above say by how much)"


def has_usable(r: DrillResult) -> bool:
    """Whether some affected service declares when people can use it again (a "usable" column)."""
    return any(s.usable is not None for s in r.services if s.affected)


def after_lines(r: DrillResult) -> list[str]:
    """Plain sentences on what followed the recovery: drift exposure, degraded services, failbacks."""
    out = []
    for d in r.drift:
        writes = f", {d.writes:,.0f} divergent writes" if d.writes is not None else ""
        out.append(
            f"Drift on {d.service}: writes diverged for {fd(d.window)}{writes}; "
            f"re-synced and reconciled {fd(d.reconcile)} after detection"
        )
    out += [f"{g.service} ran degraded for {fd(g.time)} ({', '.join(g.members)} down)" for g in r.degraded]
    for f in r.failbacks:
        if not f.happened:
            out.append(f"Failback of {f.service}: none needed (back in place before its failover finished)")
            continue
        exposed = f"; writes of {fd(f.exposure)} on the standby exposed" if f.exposure > 0 else "; no write exposed"
        out.append(
            f"Failback of {f.service} ({f.mode}): {fd(f.time)} from the primary being back, "
            f"down {fd(f.downtime)} for the switch{exposed}"
        )
    return out


def render_table(r: DrillResult, console: Console, timeline: bool = False) -> None:
    console.print(
        f"[bold]{r.drill}[/] on [bold]{r.topology}[/] - starts {r.start:%a %Y-%m-%d %H:%M}, seed {r.seed}; "
        f"on shift: " + ", ".join(f"{k}={v}" for k, v in sorted(r.shifts.items()))
    )
    t = Table(title="Services", title_justify="left")
    for h in [*SERVICE_HEAD, *(["usable"] if has_usable(r) else [])]:
        t.add_column(h, justify="right" if h in (*_DURATIONS, "usable") else "left")
    for row in service_rows(r):
        style = None if row[4] == "PASS" and row[8] == "PASS" else "red"
        t.add_row(*row, style=style)
    console.print(t)
    for s in r.services:
        if s.rpo_reason:
            console.print(f"{s.name} lost every write: {s.rpo_reason}")
    unaffected = [s.name for s in r.services if not s.affected]
    if unaffected:
        console.print(f"Unaffected: {', '.join(unaffected)}")
    if r.workflows:
        w = Table(title=r.words.workflows_heading, title_justify="left")
        for h in ("workflow", "downtime", "tolerance", "", "over"):
            w.add_column(h, justify="right" if h == "over" else "left")
        for x in r.workflows:
            w.add_row(
                x.name,
                fd(x.downtime),
                fd(x.tolerance),
                _verdict(x.met),
                overrun(x.downtime, x.tolerance, x.met),
                style=None if x.met else "red",
            )
        console.print(w)
    if r.queues:
        q = Table(title="Interface queues", title_justify="left")
        for h in ("queue", "consumer", "backlog", "dropped", "drain", "cleared after"):
            q.add_column(h)
        for queue in r.queues:
            q.add_row(
                queue.name,
                queue.consumer,
                f"{queue.backlog:,.0f}",
                f"{queue.dropped:,.0f}",
                fd(queue.drain),
                fd(queue.clear),
            )
        console.print(q)
    lt = Table(title="Decision latency", title_justify="left")
    lt.add_column("step")
    lt.add_column("took", justify="right")
    lt.add_column("at", justify="right")
    marks = {"detect": "detected", "acknowledge": "acknowledged", "declare": "declared", "restore": "restored"}
    for key, label in LATENCY_ROWS:
        if key in r.latency:
            at = r.milestones.get(marks.get(key, "restored"))
            lt.add_row(
                label, fd(r.latency[key]), f"{r.clock(at):%H:%M}" if at is not None and at != float("inf") else "-"
            )
    console.print(lt)
    if r.rollback_time is not None:
        console.print(f"Rollback: {fd(r.rollback_time)} from the decision until the old system was authoritative")
    for line in after_lines(r):
        console.print(line, highlight=False)
    if timeline:
        tl = Table(title="Timeline", title_justify="left")
        for h in ("T+", "clock", "actor", "service", "event"):
            tl.add_column(h)
        for e in r.timeline:
            tl.add_row(fd(e.time), f"{r.clock(e.time):%H:%M:%S}", e.actor, e.service or "", e.event)
        console.print(tl)
    render_calibration(r.calibrated, console)
    verdict = "[green]all targets met[/]" if r.passed else f"[red]targets missed:[/] {missed_in_brief(r.missed)}"
    console.print(verdict)


def _md_table(head, rows) -> str:
    """A Markdown table; every cell escaped as the timeline's are (a name cannot be raw HTML or markup)."""
    out = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(md_escape(str(c)).replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(out)


def render_markdown(r: DrillResult, timeline: bool = False) -> str:
    parts = [
        f"# {md_escape(r.drill)} on {md_escape(r.topology)}",
        "",
        f"Starts {r.start:%a %Y-%m-%d %H:%M}; seed {r.seed}; "
        + ("**all targets met**" if r.passed else f"**targets missed:** {md_escape(', '.join(r.missed))}"),
        "",
        "## Services",
        "",
        _md_table(
            [
                *SERVICE_HEAD[:4],
                "RTO met",
                "RTO over",
                "RPO",
                "RPO target",
                "RPO met",
                "RPO over",
                *(["usable"] if has_usable(r) else []),
            ],
            list(service_rows(r)),
        ),
        "",
    ]
    if r.workflows:
        parts += [
            "## " + r.words.workflows_heading,
            "",
            _md_table(
                ["workflow", "downtime", "tolerance", "met", "over"],
                [
                    [w.name, fd(w.downtime), fd(w.tolerance), _verdict(w.met), overrun(w.downtime, w.tolerance, w.met)]
                    for w in r.workflows
                ],
            ),
            "",
        ]
    if r.queues:
        parts += [
            "## Interface queues",
            "",
            _md_table(
                ["queue", "consumer", "backlog", "dropped", "drain", "cleared after"],
                [
                    [q.name, q.consumer, f"{q.backlog:,.0f}", f"{q.dropped:,.0f}", fd(q.drain), fd(q.clear)]
                    for q in r.queues
                ],
            ),
            "",
        ]
    parts += [
        "## Decision latency",
        "",
        _md_table(["step", "took"], [[label, fd(r.latency[k])] for k, label in LATENCY_ROWS if k in r.latency]),
        "",
    ]
    if r.rollback_time is not None:
        parts += [f"Rollback took {fd(r.rollback_time)}.", ""]
    for line in after_lines(r):
        parts += [md_escape(line) + ".", ""]
    if timeline:
        parts += [
            "## Timeline",
            "",
            _md_table(
                ["T+", "clock", "actor", "service", "event"],
                [[fd(e.time), f"{r.clock(e.time):%H:%M:%S}", e.actor, e.service or "", e.event] for e in r.timeline],
            ),
            "",
        ]
    if r.calibrated:
        parts += [calibration_markdown(r.calibrated)]
    return "\n".join(parts)


#: The width of a console that is not a terminal: wide enough for any table, so none is ever cut.
UNBOUNDED = 100_000


def wide_console() -> Console:
    """A console for tables: the terminal's own width; or, written to a file, a pipe or a CI log
    (where rich would otherwise assume 80 columns and cut names), as wide as the widest line."""
    console = Console()
    if console.is_terminal:
        return console
    return Console(width=UNBOUNDED, soft_wrap=False)
