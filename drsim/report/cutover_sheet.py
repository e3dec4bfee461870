"""The printable go/no-go sheet of a cutover: one document, as Markdown, HTML or PDF.

Built from :func:`drsim.report.cutover.cutover_data` (so it carries exactly the
figures ``--format json`` prints) as a :class:`~drsim.report.document.Document`,
rendered by the tabletop pack's renderer: the verdict; each gate with its
threshold, evidence and verdict, who judges it and by when; the point of no
return and the rollback-completion curve (a chart with the freeze's end, the
confidence q and the point of no return marked); the rollback by decision
time; the reconciliation per entity; and who decides a rollback, and by when.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re

from .calibration import calibration_section
from .cutover import calibrated_of, diverged_lines, duration_text, measured_text, safe_line
from .document import Bullets, Chart, Document, Heading, Para, Ruled, Section, Table, to_markdown
from .pages import RC


def _clock(data: dict, seconds: float | None) -> str:
    """The wall-clock time ``seconds`` after the freeze starts (``-`` when there is none)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    start = dt.datetime.fromisoformat(data["freeze"]["start"])
    return f"{start + dt.timedelta(seconds=seconds):%a %H:%M}"


def _when(data: dict, g: dict) -> str:
    """When a gate is judged: before the freeze, or (a wave gate) at its median time reached."""
    if g["before"] is None:
        return f"before {_clock(data, 0.0)}"
    r = g["reached"]["p50"]
    return f"P50 {_clock(data, r)}, P90 {_clock(data, g['reached']['p90'])}"


def _if_no_go(g: dict) -> str:
    p = g.get("p_rollback_inside_freeze_if_no_go")
    return "-" if p is None else f"{p:.3f}"


def draw_curve(fig, rect, data: dict) -> None:
    """The rollback-completion curve of ``data`` in ``fig`` within ``rect``: P(rollback done inside the
    freeze) by the hour it is decided, with the freeze's end, q and the point of no return marked."""
    left, bottom, width, height = rect
    ax = fig.add_axes((left + 0.08 * width, bottom + 0.14 * height, 0.88 * width, 0.76 * height))
    ts = [c["decided_at"] / 3600.0 for c in data["rollback_curve"]]
    ps = [c["p_done_inside_freeze"] for c in data["rollback_curve"]]
    ax.plot(ts, ps, "-o", color="#000000", linewidth=1.6, markersize=2.5, label="P(rollback done inside the freeze)")
    s = data["safe_rollback"]
    length = data["freeze"]["length"] / 3600.0
    ax.axhline(s["confidence"], color="#555555", linestyle=":", linewidth=1.0, label=f"q = {s['confidence']:g}")
    ax.axvline(
        length, color="#000000", linestyle="--", linewidth=1.0, label=f"freeze ends ({_clock(data, length * 3600)})"
    )
    if s["latest_decision"] is not None:
        t = s["latest_decision"] / 3600.0
        ax.axvline(
            t, color="#777777", linewidth=2.2, label=f"point of no return at q: {duration_text(s['latest_decision'])}"
        )
        ax.axvspan(0, t, color="#e6e6e6", zorder=0)
    ax.set_xlim(0, length * 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("rollback decided (hours after the freeze starts)")
    ax.set_ylabel("P(done inside the freeze)")
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.grid(True, linewidth=0.3, color="#bbbbbb")


def curve_svg(data: dict, size: tuple[float, float] = (7.0, 3.6)) -> str:
    """The curve as an SVG element with real text, ready to inline in HTML (no XML prologue)."""
    # imported on use: matplotlib loads only when a chart is drawn
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC | {"svg.hashsalt": "drsim"}):
        fig = Figure(figsize=size)
        draw_curve(fig, (0.0, 0.0, 1.0, 1.0), data)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


def _curve(data: dict) -> list:
    """The rollback-completion curve: a chart, with its table standing in for it in Markdown."""
    return [
        Heading("Rollback-completion curve"),
        Chart(
            draw=lambda fig, rect: draw_curve(fig, rect, data),
            svg=lambda: curve_svg(data),
            alt=Table(
                ["Decided at", "Clock", "P(done in freeze)"],
                [
                    [duration_text(c["decided_at"]), _clock(data, c["decided_at"]), f"{c['p_done_inside_freeze']:.3f}"]
                    for c in data["rollback_curve"]
                ],
            ),
            caption="Rollback-completion curve: P(a rollback decided then is done inside the freeze), every 15 "
            "minutes; dotted: the confidence q; dashed: the freeze's end; grey bar and band: the point of no "
            "return at q and the decisions before it.",
        ),
    ]


def _decisions(data: dict) -> list:
    """The rollback by decision time, the reconciliation, and who decides a rollback, by when."""
    s = data["safe_rollback"]
    rest: list = [
        Heading("Rollback by decision time"),
        Table(
            ["Decided at", "Clock", "P(reversible)", "P(done in freeze)", "P50", "P90", "Writes to carry back"],
            [
                [
                    duration_text(r["decided_at"]),
                    _clock(data, r["decided_at"]),
                    f"{r['p_still_reversible']:.3f}",
                    f"{r['p_done_inside_freeze']:.3f}",
                    duration_text(r["duration"]["p50"]),
                    duration_text(r["duration"]["p90"]),
                    ", ".join(f"{v:.0f} {k}" for k, v in r["diverged_records"].items()) or "-",
                ]
                for r in data["rollback"]
            ],
        ),
    ]
    if data["reconciliation"]:
        rows = []
        for ent, x in data["reconciliation"].items():
            replay = duration_text(x["replay_duration"]["mean"]) if x["replay_duration"] else "-"
            reentry = (
                f"{x['reentry_person_hours']['mean']:.1f} person-h {x['reentry_role']}, "
                f"{x['reentry_hours']['mean']:.1f} h on the clock"
                if x["reentry_person_hours"]
                else "-"
            )
            rows.append([ent, x["rule"], f"{x['records']['mean']:.0f}", replay, reentry])
        rest += [
            Heading("Reconciliation (mean)"),
            Table(["Entity", "Rule", "Records", "Replay", "Re-entry"], rows),
        ]
    deciders = sorted({t["decided_by"] for t in data["triggers"] if t["decided_by"]})
    by = _clock(data, s["latest_decision"]) if s["latest_decision"] is not None else "before the freeze starts"
    rest += [
        Heading("Who decides, and by when"),
        Bullets(
            [
                f"A rollback is decided by {by} at the latest (the point of no return at q = {s['confidence']:g}).",
                *[
                    f"Trigger {t['name']}: {t['threshold']}; declared by {t['decided_by'] or 'the board'}."
                    for t in data["triggers"]
                ],
            ]
            + ([f"Roles that declare a rollback: {', '.join(deciders)}."] if deciders else [])
        ),
        Ruled(2, "Decision (GO / NO-GO), name, time and signature"),
    ]
    return rest


def cutover_document(data: dict) -> Document:
    """The go/no-go sheet of ``data`` (:func:`drsim.report.cutover.cutover_data`) as a document."""
    name = data["plan"]
    s = data["safe_rollback"]
    title = f"Go/no-go: cutover {name}"
    verdict = ("GO" if data["go"] else "NO-GO") if data["judged"] else "not judged (no evidence given)"
    ponr, done = data["point_of_no_return"], data["completion"]
    blocks: list = [
        Heading(title, 1),
        Para(
            f"Freeze from {_clock(data, 0.0)} ({data['freeze']['start']}) for {duration_text(data['freeze']['length'])}, "
            f"to {_clock(data, data['freeze']['length'])}; {data['replicates']} replicates, seed {data['seed']}, "
            f"{data['engine']} engine."
        ),
        Para(f"Verdict: {verdict}", "strong"),
        Heading("Gates"),
        Table(
            [
                "Gate",
                "Threshold",
                "Before",
                "Decided by",
                "Judged",
                "Value",
                "Verdict",
                "P(rollback in freeze) if NO-GO",
            ],
            [
                [
                    g["name"],
                    g["threshold"],
                    g["before"] or "the freeze",
                    g["decided_by"] or "-",
                    _when(data, g),
                    measured_text(g),
                    g.get("verdict", "-"),
                    _if_no_go(g),
                ]
                for g in data["gates"]
            ],
            weights=[1.4, 2.6, 1.0, 1.3, 1.4, 1.4, 0.8, 1.1],
            emphasis={i for i, g in enumerate(data["gates"]) if g.get("verdict") == "NO-GO"},
        ),
        Heading("Point of no return"),
        Bullets(
            [
                f"First irreversible step starts: P50 {duration_text(ponr['p50'])} ({_clock(data, ponr['p50'])}), "
                f"P90 {duration_text(ponr['p90'])} after the freeze starts.",
                f"Cutover complete: P50 {duration_text(done['p50'])}, P90 {duration_text(done['p90'])}; "
                f"P(completes inside the freeze) = {data['p_completes_inside_freeze']:.3f}"
                + (f"; P(stuck) = {data['p_stuck']:.3f}" if data["p_stuck"] else "")
                + ".",
                safe_line(s).strip() + ".",
                *[x.strip() + "." for x in diverged_lines(s.get("diverged_records"))],
            ]
        ),
    ]
    footer = f"drsim cutover {name} - go/no-go sheet - freeze {data['freeze']['start']}"
    return Document(
        title,
        footer,
        [
            Section("sheet", blocks, new_page=False),
            *([calibration_section(calibrated_of(data))] if data.get("calibrated") else []),
            Section("curve", _curve(data), landscape=True),
            Section("decisions", _decisions(data)),
        ],
    )


def cutover_markdown(data: dict) -> str:
    """The go/no-go sheet of ``data`` as Markdown (what ``--format markdown`` prints)."""
    return to_markdown(cutover_document(data))
