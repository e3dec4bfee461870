"""The swimlane chart of one replay: who did what, and what was down, on one page.

Lanes run across the page, top to bottom: the facilitator's injects, monitoring
(the fault and its detection), each person who acknowledged a page or did work
(grouped by role), automation, then every affected service. Time runs left to
right, with clock times below and T+ offsets above.

* people's work is drawn as bars, styled by what it is — a decision (triage,
  the declaration), a runbook step, validation, break-glass access, a message
  to the people who use the services, a rollback step;
* pages sent and acknowledged, alerts, restorations and interface buffers
  filling or clearing are markers;
* each service's outage is a bar from the moment it went down to the moment it
  was restored, labelled with its achieved RTO against the target.

Every style differs by hatching, marker shape or line style as well as by
shade, so the chart reads the same printed in greyscale.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..plan import Plan, Task
from .document import Table
from .evidence import ready_time
from .pages import RC, text_width
from .tabletop import Tabletop
from .wording import dur

if TYPE_CHECKING:
    from matplotlib.artist import Artist

#: The line style of a guide line: detection, the decision, every service restored.
GuideStyle = Literal["--", "-.", ":"]

#: bar style -> (face colour, hatch, edge colour, legend label)
BAR_STYLES = {
    "decision": ("#3a3a3a", "", "#000000", "triage / decision"),
    "step": ("#ffffff", "////", "#333333", "runbook step"),
    "validate": ("#ffffff", "....", "#333333", "validation"),
    "break-glass": ("#ffffff", "xxx", "#333333", "break-glass access"),
    "communicate": ("#bdbdbd", "\\\\\\\\", "#333333", "message to users"),
    "rollback": ("#ffffff", "----", "#333333", "rollback step"),
    "auto": ("#e0e0e0", "", "#555555", "automated"),
    "outage": ("#d0d0d0", "", "#000000", "service down"),
}

#: marker style -> (marker, size, face colour, legend label)
MARK_STYLES = {
    "fault": ("X", 9, "#000000", "fault strikes"),
    "detect": ("^", 7, "#000000", "alert fires"),
    "page": ("v", 6, "#ffffff", "page sent"),
    "ack": ("o", 5.5, "#000000", "page acknowledged"),
    "restored": ("*", 11, "#000000", "service restored"),
    "inject": ("D", 6.5, "#ffffff", "inject read out"),
    "queue-full": ("s", 5.5, "#000000", "interface buffer full"),
    "queue-clear": ("s", 5.5, "#ffffff", "interface backlog cleared"),
    "clears": ("P", 7, "#ffffff", "fault clears"),
    "target": ("|", 11, "#000000", "RTO target (on each outage)"),
}

#: The line drawn at the most critical affected tier's RTO target after the fault: (colour, width).
TARGET_LINE = ("#8a8a8a", 2.4)


@dataclass
class Bar:
    lane: int
    start: float
    end: float
    label: str
    style: str
    open_end: bool = False  # runs past the right edge (never restored, or later)


@dataclass
class Mark:
    lane: int
    time: float
    style: str
    label: str = ""


@dataclass
class Lanes:
    """Everything the chart draws, in data coordinates (seconds after the drill starts)."""

    names: list[str]
    groups: list[str]
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    vlines: list[tuple[float, str, GuideStyle]] = field(default_factory=list)  # time, label, line style
    xmax: float = 0.0
    later: list[tuple[float, str]] = field(default_factory=list)
    #: the most critical affected tier's RTO target after the first fault: (time, label), or None
    target: tuple[float, str] | None = None


def _bar_style(task) -> str:
    if task.kind in ("triage", "declare"):
        return "decision"
    if task.kind in ("validate", "break-glass", "communicate"):
        return task.kind
    if task.key.startswith("rollback:") or task.kind == "reconcile":
        return "rollback"
    return "step"


def _legend_label(style: str, tt: Tabletop) -> str:
    """The legend's words for a bar style (the message is to whoever the estate's vocabulary tells)."""
    if style == "communicate":
        return "message to " + tt.plan.topology.words().told.removeprefix("the ")
    return BAR_STYLES[style][3]


def _bar_label(task, plan) -> str:
    """A bar's label: short, since the event table has the full wording."""
    if task.kind == "triage":
        return "triage"
    if task.kind == "declare":
        return "decision"
    if task.kind == "break-glass":
        return "break glass"
    if task.kind == "communicate":
        return "tell " + plan.topology.words().told
    return task.label


@dataclass
class LaneLayout:
    """Which lane each thing is drawn in: a person (``role#k``), automation, each affected service."""

    lanes: Lanes
    person: dict[str, int]
    services: list[str]
    service: dict[str, int]
    automated: list[Task]
    automation: int | None


def build_lanes(tt: Tabletop) -> Lanes:
    """The lanes, bars and markers of one replay."""
    layout = lay_out_lanes(tt, chart_end(tt))
    add_facilitator_and_monitoring(tt, layout.lanes)
    add_pages(tt, layout)
    add_work(tt, layout)
    add_services(tt, layout)
    add_guide_lines(tt, layout.lanes)
    add_target_line(tt, layout.lanes)
    layout.lanes.later.sort()
    return layout.lanes


def chart_end(tt: Tabletop) -> float:
    """The right edge of the chart: a little after the last thing the table works on.

    Restorations, people's work, the rollback and the injects count; a fault
    clearing by itself hours later does not.
    """
    plan, rep = tt.plan, tt.replay
    start, finish = rep.start, rep.finish
    interesting = [float(finish[o.restored_task]) for o in plan.outages.values()]
    interesting += [float(finish[t.index]) for t in plan.tasks if t.role is not None]
    interesting += [float(start[t.index]) for t in plan.tasks if t.role is not None]
    if plan.rollback is not None:
        interesting.append(float(finish[plan.rollback[1]]))
    interesting += [i.at for i in plan.drill.injects]
    finite = [x for x in interesting if math.isfinite(x)]
    return max([*finite, 600.0]) * 1.06


def _roles_in_order(plan: Plan) -> list[str]:
    """The roles that take part: the response's in its order, then those paged, then those who worked."""
    roles: list[str] = []
    resp = plan.drill.response
    triage = [resp.triage.role] if resp.triage is not None else []
    for r in [*resp.page, *triage, *resp.escalate, resp.declare.role]:
        if r not in roles:
            roles.append(r)
    paged = sorted({_page_role(t) for t in _pages(plan)})  # roles paged, in name order
    worked = sorted({t.role for t in plan.tasks if t.role is not None})
    for r in paged + worked:
        if r not in roles:
            roles.append(r)
    return roles


def _person_order(plan: Plan, person: str) -> tuple[float, int, str]:
    """People in the order they came on: by the start of their shift (people called in last), then number."""
    role, rest = person.split("#", 1)
    k, _, shift = rest.partition("@")
    spans = plan.shift_spans.get(role, [])
    came = next((t for t, name in spans if name == shift), math.inf if shift == "called-in" else 0.0)
    return (came, int(k), shift)


def lay_out_lanes(tt: Tabletop, xmax: float) -> LaneLayout:
    """The lanes top to bottom: injects, monitoring, people (one per person who worked, else one per role
    paged), automation, then every affected service by tier."""
    plan, rep = tt.plan, tt.replay
    start, finish, actors = rep.start, rep.finish, rep.actors
    names: list[str] = ["injects"] if plan.drill.injects else []
    groups: list[str] = ["facilitator"] * len(names)
    names.append("monitoring")
    groups.append("monitoring")
    lane_of: dict[str, int] = {}
    pages = _pages(plan)
    for r in _roles_in_order(plan):
        people = sorted(
            {
                person
                for t in plan.tasks
                if t.role == r and t.index in actors and math.isfinite(float(start[t.index]))
                for who in [actors[t.index], *(w for _, w in rep.handed.get(t.index, []))]
                for person in who.split("+")  # "dba#1@day+dba#2@day": a dual-control step
            },
            key=lambda a: _person_order(plan, a),
        )
        for p in people:
            lane_of[p] = len(names)
            names.append(p)
            groups.append("people")
        # people paged who did no work share one lane (their pages and acknowledgements)
        # (a person paged again by an escalation policy, ``role#k@level``, is still one person)
        # (a page fired while nobody with its number was on duty reached nobody: no lane)
        paged = dict.fromkeys(actors[t.index] for t in pages if _page_role(t) == r and t.index in actors)
        idle = [p for p in paged if p not in lane_of]
        if idle:
            label = idle[0] if len(idle) == 1 else f"{r} (other {len(idle)})" if people else r
            for p in idle:
                lane_of[p] = len(names)
            names.append(label)
            groups.append("people")
    restored_at = {name: float(finish[o.restored_task]) for name, o in plan.outages.items()}
    auto_tasks = [
        t
        for t in plan.tasks
        if t.role is None
        and t.kind in ("step", "validate", "reconcile")
        and math.isfinite(float(start[t.index]))
        and float(finish[t.index]) - float(start[t.index]) > 0
        and not (t.key.endswith(":restart") and float(finish[t.index]) > restored_at.get(t.service or "", math.inf))
    ]
    auto_lane = None
    if auto_tasks:
        auto_lane = len(names)
        names.append("automation")
        groups.append("automation")
    topo = plan.topology
    services = sorted(
        plan.outages, key=lambda s: ((topo.tiers[plan.outages[s].tier].rto, topo.tiers[plan.outages[s].tier].rpo), s)
    )
    svc_lane = {}
    for s in services:
        svc_lane[s] = len(names)
        names.append(f"{s} ({plan.outages[s].tier})")
        groups.append("services")
    return LaneLayout(Lanes(names, groups, xmax=xmax), lane_of, services, svc_lane, auto_tasks, auto_lane)


def add_facilitator_and_monitoring(tt: Tabletop, lanes: Lanes) -> None:
    """The injects read out, the fault striking, the alert firing and the fault clearing."""
    plan, finish, xmax = tt.plan, tt.replay.finish, lanes.xmax
    if plan.drill.injects:
        for k, inj in enumerate(plan.drill.injects, 1):
            if inj.at <= xmax:
                lanes.marks.append(Mark(0, inj.at, "inject", f"I{k}"))
            else:
                lanes.later.append((inj.at, f"inject I{k} ({inj.audience})"))
    mon = lanes.names.index("monitoring")
    for t in plan.tasks:
        f = float(finish[t.index])
        if t.kind == "fault":
            lanes.marks.append(Mark(mon, f, "fault"))
        elif t.kind == "detect" and math.isfinite(f):
            lanes.marks.append(Mark(mon, f, "detect"))
        elif t.kind == "fault-end" and math.isfinite(f):
            if f <= xmax:
                lanes.marks.append(Mark(mon, f, "clears"))
            else:
                lanes.later.append((f, t.label))


def add_pages(tt: Tabletop, layout: LaneLayout) -> None:
    """Each page sent (once per lane and moment) and acknowledged, in the lane of the person paged."""
    plan, finish, lanes = tt.plan, tt.replay.finish, layout.lanes
    sent_marked: set[tuple[int, float]] = set()
    for t in _pages(plan):
        lane = layout.person.get(tt.replay.actors.get(t.index, t.key.split(":", 1)[1]))
        if lane is None:
            continue
        sent = ready_time(plan, finish, t)
        if math.isfinite(sent) and (lane, sent) not in sent_marked:
            sent_marked.add((lane, sent))
            lanes.marks.append(Mark(lane, sent, "page"))
        f = float(finish[t.index])
        if math.isfinite(f):
            lanes.marks.append(Mark(lane, f, "ack"))


def add_work(tt: Tabletop, layout: LaneLayout) -> None:
    """People's work as bars in their lanes, then automated steps in the automation lane."""
    plan, rep, lanes = tt.plan, tt.replay, layout.lanes
    start, finish, actors, xmax = rep.start, rep.finish, rep.actors, lanes.xmax
    for t in plan.tasks:
        if t.role is None or t.index not in actors:
            continue
        s, f = float(start[t.index]), float(finish[t.index])
        if not math.isfinite(s) or (f - s <= 0 and math.isfinite(f)):
            continue
        label = _bar_label(t, plan)
        # a task handed to an incoming shift is drawn in each person's lane for the part they worked
        turns = [(s, actors[t.index]), *rep.handed.get(t.index, [])]
        for j, (a, who) in enumerate(turns):
            b = turns[j + 1][0] if j + 1 < len(turns) else f
            if a > xmax:
                break
            for person in who.split("+"):  # each of the people a dual-control step needs
                lanes.bars.append(Bar(layout.person[person], a, min(b, xmax), label, _bar_style(t), open_end=b > xmax))
    for t in layout.automated:
        s, f = float(start[t.index]), float(finish[t.index])
        if s <= xmax and layout.automation is not None:
            style = "rollback" if t.kind == "reconcile" else "auto"
            lanes.bars.append(Bar(layout.automation, s, min(f, xmax), t.label, style, open_end=f > xmax))


def add_services(tt: Tabletop, layout: LaneLayout) -> None:
    """Each affected service's outage, labelled with its RTO against the target, its restoration, and its
    interface buffers filling and clearing."""
    plan, finish, lanes = tt.plan, tt.replay.finish, layout.lanes
    topo, xmax, svc_lane = plan.topology, lanes.xmax, layout.service
    for s in layout.services:
        o = plan.outages[s]
        down, up = float(finish[o.down_task]), float(finish[o.restored_task])
        target = topo.tiers[o.tier].rto
        if math.isfinite(up):
            verdict = "met" if up - down <= target else "missed"
            label = f"down {dur(up - down)} (target {dur(target)}, {verdict})"
        else:
            label = f"never restored (target {dur(target)})"
        lanes.bars.append(Bar(svc_lane[s], down, min(up, xmax), label, "outage", open_end=up > xmax))
        if down + target <= xmax:  # where this outage's own target ran out
            lanes.marks.append(Mark(svc_lane[s], down + target, "target"))
        if up <= xmax:
            lanes.marks.append(Mark(svc_lane[s], up, "restored"))
        elif math.isfinite(up):
            lanes.later.append((up, f"{s} restored"))
    for e in tt.result.timeline:
        if e.kind != "queue" or e.service not in svc_lane:
            continue
        style = "queue-full" if "buffer full" in e.event else "queue-clear"
        if e.time <= xmax:
            lanes.marks.append(Mark(svc_lane[e.service], e.time, style))
        else:
            lanes.later.append((e.time, e.event))


def add_guide_lines(tt: Tabletop, lanes: Lanes) -> None:
    """Vertical lines at detection, the decision and (when on the chart) every service restored."""
    plan, finish = tt.plan, tt.replay.finish
    m = plan.milestones
    det = float(finish[m["detected"]])
    if math.isfinite(det):
        lanes.vlines.append((det, "detected", "--"))
    dec = float(finish[m["declared"]])
    if math.isfinite(dec):
        lanes.vlines.append((dec, "rollback decided" if plan.rollback else "declared", "-."))
    if "restored" in m and math.isfinite(float(finish[m["restored"]])) and float(finish[m["restored"]]) <= lanes.xmax:
        lanes.vlines.append((float(finish[m["restored"]]), "all restored", ":"))


def add_target_line(tt: Tabletop, lanes: Lanes) -> None:
    """A line at the most critical affected tier's RTO target, counted from the first fault."""
    plan = tt.plan
    tiers = {o.tier for o in plan.outages.values()}
    if not tiers or not plan.drill.faults:
        return
    topo = plan.topology
    tier = min(tiers, key=lambda t: (topo.tiers[t].rto, topo.tiers[t].rpo, t))
    at = min(f.at for f in plan.drill.faults) + topo.tiers[tier].rto
    if at <= lanes.xmax:
        lanes.target = (at, f"{tier} RTO target ({dur(topo.tiers[tier].rto)}) {tt.clock(at)}")


def _pages(plan) -> list:
    """The page tasks: one per person paged, keyed ``page:role#k``."""
    return [t for t in plan.tasks if t.kind == "page"]


def _page_role(task) -> str:
    return task.key.split(":", 1)[1].split("#")[0]


# ------------------------------------------------------------------ axis ticks

_STEPS = [60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400, 172800, 604800]


def tick_step(span: float, most: int = 12) -> float:
    """The smallest round step (1m, 2m, 5m, ... 1w) that puts at most ``most`` ticks over ``span`` seconds."""
    for s in _STEPS:
        if span / s <= most:
            return float(s)
    return float(_STEPS[-1] * math.ceil(span / (_STEPS[-1] * most)))


# ------------------------------------------------------------------ drawing


def split_point(lanes: Lanes) -> float | None:
    """Where to break the time axis so the opening of a long incident stays readable (None: no break).

    When the decision and the message to users all fall in the first
    quarter of a chart spanning more than four hours, the axis is drawn in two
    panels: the opening (up to a little after the last of them) and the rest.
    """
    opening = max((t for t, label, _ in lanes.vlines if label != "all restored"), default=0.0)
    opening = max([opening] + [b.end for b in lanes.bars if b.style in ("decision", "communicate")])
    if lanes.xmax <= 4 * 3600 or opening <= 0 or opening > 0.25 * lanes.xmax:
        return None
    step = tick_step(opening * 1.25, most=6)
    return math.ceil(opening * 1.25 / step) * step


def draw(fig, rect, tt: Tabletop, lanes: Lanes | None = None) -> None:
    """Draw the swimlane chart of ``tt`` into ``fig`` within ``rect`` (figure fractions)."""
    # imported on use: matplotlib loads only when a chart is drawn
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    lanes = lanes or build_lanes(tt)
    n = len(lanes.names)
    left, bottom, width, height = rect
    fig_w, fig_h = fig.get_size_inches()
    label_w = (max(text_width(nm, 7.0) for nm in lanes.names) + 0.15) / fig_w
    legend_h = 0.62 / fig_h
    later_h = (0.16 / fig_h) if lanes.later else 0.0
    top_h = 0.42 / fig_h  # the T+ tick labels above the axes
    ax_h = min(height - legend_h - later_h - top_h - 0.3 / fig_h, n * 0.42 / fig_h)
    ax_bottom = bottom + height - top_h - ax_h
    legend_top = ax_bottom - 0.3 / fig_h
    plot_left = left + label_w
    plot_w = width - label_w - 0.05 / fig_w

    split = split_point(lanes)
    if split is None:
        panels = [(0.0, lanes.xmax, plot_left, plot_w)]
    else:
        gap = 0.18 / fig_w
        w0 = (plot_w - gap) * 0.42
        panels = [(0.0, split, plot_left, w0), (split, lanes.xmax, plot_left + w0 + gap, plot_w - gap - w0)]
    axes = []
    labelled: set[int] = set()  # bars already labelled (in an earlier panel)
    for k, (lo, hi, x, w) in enumerate(panels):
        ax = fig.add_axes((x, ax_bottom, w, ax_h))
        _panel(ax, tt, lanes, lo, hi, first=k == 0, last=k == len(panels) - 1, width_in=w * fig_w, labelled=labelled)
        axes.append(ax)
    if split is not None:
        # the break: diagonal strokes on both sides of the gap
        for ax, side in ((axes[0], 1.0), (axes[1], 0.0)):
            kw = {"transform": ax.transAxes, "color": "#000000", "clip_on": False, "lw": 0.9}
            for y in (0.0, 1.0):
                ax.plot([side - 0.006, side + 0.006], [y - 0.012, y + 0.012], **kw)
        axes[1].annotate(
            "time axis broken: the opening is drawn wider",
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(2, -16),
            textcoords="offset points",
            fontsize=6.2,
            fontstyle="italic",
            va="top",
        )

    # legend: every style that appears
    used_bars = list(dict.fromkeys(b.style for b in lanes.bars))
    used_marks = list(dict.fromkeys(m.style for m in lanes.marks))
    handles: list[Artist] = [
        Patch(
            facecolor=BAR_STYLES[s][0],
            hatch=BAR_STYLES[s][1] or None,
            edgecolor=BAR_STYLES[s][2],
            linewidth=0.6,
            label=_legend_label(s, tt),
        )
        for s in BAR_STYLES
        if s in used_bars
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=MARK_STYLES[s][0],
            markersize=MARK_STYLES[s][1] * 0.85,
            markerfacecolor=MARK_STYLES[s][2],
            markeredgecolor="#000000",
            linestyle="none",
            label=MARK_STYLES[s][3],
        )
        for s in MARK_STYLES
        if s in used_marks
    ]
    handles += [
        Line2D([], [], color="#000000", lw=0.8, linestyle=ls, label=f"{label} {tt.clock(t)}")
        for t, label, ls in lanes.vlines
    ]
    if lanes.target is not None:
        colour, width = TARGET_LINE
        handles.append(Line2D([], [], color=colour, lw=width, label=lanes.target[1]))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(left, legend_top),
        ncol=min(7, len(handles)),
        fontsize=6.5,
        frameon=False,
        handlelength=2.2,
        handleheight=1.1,
        columnspacing=1.4,
    )
    if lanes.later:
        txt = "After the chart: " + "; ".join(f"{tt.clock(t)} (T+{dur(t)}) {what}" for t, what in lanes.later[:5])
        if len(lanes.later) > 5:
            txt += f"; and {len(lanes.later) - 5} more (see the event table)"
        fig.text(left, legend_top - legend_h, txt, fontsize=6.5, color="#222222", va="top")


def _panel(
    ax, tt: Tabletop, lanes: Lanes, lo: float, hi: float, first: bool, last: bool, width_in: float, labelled: set[int]
) -> None:
    """Draw the part of the chart between ``lo`` and ``hi`` seconds into ``ax``."""
    pad = (hi - lo) * (0.012 if lo == 0 else 0.0)
    _lane_axes(ax, lanes, lo, hi, pad, first, last)
    _time_axes(ax, tt, lo, hi, first, width_in)
    _panel_bars(ax, lanes, lo, hi, pad, last, width_in, labelled)
    _panel_marks(ax, lanes, lo, hi)
    for t, _, ls in lanes.vlines:
        if lo <= t <= hi:
            ax.axvline(t, color="#000000", lw=0.8, linestyle=ls, zorder=3)
    if lanes.target is not None and lo <= lanes.target[0] <= hi:
        colour, width = TARGET_LINE
        ax.axvline(lanes.target[0], color=colour, lw=width, zorder=1.5)


def _lane_axes(ax, lanes: Lanes, lo: float, hi: float, pad: float, first: bool, last: bool) -> None:
    """The panel's extent and its lanes: names on the first panel (services in bold), ruled between lanes
    and more heavily between groups of lanes."""
    n = len(lanes.names)
    ax.set_xlim(lo - pad, hi)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(n))
    if first:
        ax.set_yticklabels(lanes.names, fontsize=7.0)
        for lbl, grp in zip(ax.get_yticklabels(), lanes.groups):
            if grp == "services":
                lbl.set_fontweight("bold")
    else:
        ax.set_yticklabels([])
        ax.spines["left"].set_visible(False)
    if not last:
        ax.spines["right"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    for i in range(n):
        ax.axhline(i + 0.5, color="#cccccc", lw=0.4, zorder=0)
    for i in range(1, n):
        if lanes.groups[i] != lanes.groups[i - 1]:
            ax.axhline(i - 0.5, color="#000000", lw=0.9, zorder=1)


def _time_axes(ax, tt: Tabletop, lo: float, hi: float, first: bool, width_in: float) -> None:
    """Round time ticks: clock times below, T+ offsets above, and on the first panel which is which."""
    span = hi - lo
    most = max(3, min(12, int(width_in / 0.75)))
    step = tick_step(span, most)
    ticks = np.arange(math.ceil(lo / step) * step, hi + 1e-9, step)
    if not first:
        ticks = ticks[ticks > lo + 0.5 * step]  # the panel to the left already labels the break
    ax.set_xticks(ticks)
    ax.set_xticklabels([tt.clock(t) for t in ticks], fontsize=7.0)
    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks)
    top.set_xticklabels(["T+0" if t == 0 else "T+" + dur(t) for t in ticks], fontsize=7.0)
    if not first:
        top.spines["top"].set_visible(True)
    if first:
        for y, what, va in ((0.0, "clock", "top"), (1.0, "since start", "bottom")):
            ax.annotate(
                what,
                xy=(0, y),
                xycoords="axes fraction",
                xytext=(-16, -5 if va == "top" else 5),
                textcoords="offset points",
                ha="right",
                va=va,
                fontsize=7.0,
                fontstyle="italic",
            )
    ax.grid(axis="x", color="#dddddd", lw=0.4, zorder=0)
    ax.set_axisbelow(True)


def _panel_bars(
    ax, lanes: Lanes, lo: float, hi: float, pad: float, last: bool, width_in: float, labelled: set[int]
) -> None:
    """The bars in view, an arrow on those running past the right edge, and each bar's label once: inside
    when it fits, else to its right when there is room before the next bar."""
    # imported on use: matplotlib loads only when a chart is drawn
    from matplotlib.patches import Rectangle

    span = hi - lo
    sec_per_in = (span + pad) / width_in
    bar_h = 0.62
    by_lane: dict[int, list[Bar]] = {}
    for b in lanes.bars:
        if b.end >= lo and b.start <= hi:
            by_lane.setdefault(b.lane, []).append(b)
    for lane_bars in by_lane.values():
        lane_bars.sort(key=lambda b: b.start)
        for k, b in enumerate(lane_bars):
            fc, hatch, ec, _ = BAR_STYLES[b.style]
            s0, s1 = max(b.start, lo - pad), min(max(b.end, b.start + span * 0.002), hi)
            h = bar_h if b.style != "outage" else 0.72
            ax.add_patch(
                Rectangle(
                    (b.start, b.lane - h / 2),
                    max(b.end - b.start, span * 0.002),
                    h,
                    facecolor=fc,
                    hatch=hatch or None,
                    edgecolor=ec,
                    linewidth=0.6,
                    zorder=2,
                )
            )
            if b.open_end and last:
                ax.annotate(
                    "",
                    xy=(hi, b.lane),
                    xytext=(hi - span * 0.025, b.lane),
                    arrowprops={"arrowstyle": "-|>", "color": "#000000", "lw": 0.8},
                    zorder=4,
                )
            if id(b) in labelled:
                continue
            nxt = min(lane_bars[k + 1].start if k + 1 < len(lane_bars) else hi, hi)
            if _label_bar(ax, b, s0, s1, nxt, hi, sec_per_in):
                labelled.add(id(b))


def _label_bar(ax, b: Bar, s0: float, s1: float, nxt: float, hi: float, sec_per_in: float) -> bool:
    """Label bar ``b`` (drawn from ``s0`` to ``s1``) inside it if the label fits, else to its right if
    there is room before ``nxt``; whether it was labelled."""
    size = 6.2
    w = s1 - s0
    tw = text_width(b.label, size) * sec_per_in
    dark = b.style == "decision"
    box = None if dark else {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
    if tw + 0.08 * sec_per_in <= w:
        ax.text(
            s0 + w / 2,
            b.lane,
            b.label,
            fontsize=size,
            ha="center",
            va="center",
            color="white" if dark else "black",
            bbox=box,
            zorder=5,
            clip_on=True,
        )
        return True
    if s1 < hi and s1 + tw + 0.1 * sec_per_in <= nxt:
        box = box or {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
        ax.text(s1 + 0.04 * sec_per_in, b.lane, b.label, fontsize=size, ha="left", va="center", zorder=5, bbox=box)
        return True
    return False


def _panel_marks(ax, lanes: Lanes, lo: float, hi: float) -> None:
    """The markers in view, with their labels (an inject's number) above them."""
    for mk in lanes.marks:
        if not lo <= mk.time <= hi or (mk.time == lo and lo > 0):
            continue
        marker, size, fc, _ = MARK_STYLES[mk.style]
        # interface markers sit on the top edge of the outage bar, clear of its label
        y = mk.lane - 0.36 if mk.style.startswith("queue") else mk.lane
        ax.plot(
            [mk.time],
            [y],
            marker=marker,
            markersize=size,
            markerfacecolor=fc,
            markeredgecolor="#000000",
            markeredgewidth=1.6 if mk.style == "target" else 0.8,
            linestyle="none",
            zorder=6,
            clip_on=False,
        )
        if mk.label:
            ax.text(
                mk.time, mk.lane - 0.42, mk.label, fontsize=6.2, ha="center", va="bottom", zorder=6, fontweight="bold"
            )


def svg(tt: Tabletop, size: tuple[float, float] = (11.0, 7.4)) -> str:
    """The chart as an SVG element with real text, ready to inline in HTML (no XML prologue)."""
    # imported on use: matplotlib loads only when a chart is drawn
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC | {"svg.hashsalt": "drsim"}):
        fig = Figure(figsize=size)
        draw(fig, (0.01, 0.01, 0.98, 0.98), tt)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text


def lane_table(tt: Tabletop, lanes: Lanes | None = None):
    """The chart in words, for Markdown: every bar of every lane with its clock span."""
    lanes = lanes or build_lanes(tt)
    rows = []
    for b in sorted(lanes.bars, key=lambda b: (b.lane, b.start)):
        end = "past the chart" if b.open_end else tt.clock(b.end)
        rows.append(
            [lanes.names[b.lane], tt.clock(b.start), end, dur(b.end - b.start) if not b.open_end else "-", b.label]
        )
    return Table(["lane", "from", "to", "for", "what"], rows, weights=[2, 1, 1, 1, 5])
