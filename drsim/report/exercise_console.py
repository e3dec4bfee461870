"""The facilitator console: one offline HTML file to run a tabletop session from.

The printed pack is for preparing; in the room the facilitator needs to step
through the session. The console lays the session out as the agenda's
modules (:func:`drsim.report.exercise.agenda`) in two panels side by side:

* the **participant panel** — what can be put on the projector: the
  situation, each module's injects as they are read out, with their
  prompts, and the decisions the module asks for. It holds no outcome of the
  replay: no state of play, no times of decisions, no evidence;
* the **facilitator panel** — for the facilitator's screen only: the
  module's window of the incident and its slot in the session, each inject's
  expected actions and the state of play at its minute in this replay, each
  decision's evidence and the replay's question about it, and the clock jump
  to announce before the next module.

Injects are revealed one by one, on a click or by the session clock (which
reveals each at its place in the module's slot; it can run faster to rehearse).
Without JavaScript, or when printed, every module and every inject is shown,
participant pages first, each module of the facilitator's on a new page.

The file is self-contained — inline CSS and script, no fonts, images or
links outside it — so it opens from a laptop with no network.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..io import atomic_write
from ..version import __version__
from . import exercise
from .calibration import HEADING, calibration_table
from .decisions import DecisionPoint, decision_points, decision_words
from .document import html_table
from .questions import decision_questions, derived_questions
from .scripted import fill
from .tabletop import Tabletop, describe_selection
from .timeline import state_lines
from .wording import dur, tplus

_CSS = """
@page { size: %(size)s; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 15px; line-height: 1.4;
       margin: 0; color: #000; background: #fff; }
header { position: sticky; top: 0; background: #222; color: #fff; padding: 8px 16px; z-index: 1; }
header h1 { font-size: 18px; margin: 0 0 6px; }
#controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
#controls button, #controls select { font-size: 14px; padding: 4px 10px; }
#session-clock { font: bold 20px monospace; margin-left: 8px; }
main { display: grid; grid-template-columns: 3fr 2fr; gap: 16px; padding: 12px 16px; }
main.projector { grid-template-columns: 1fr; }
.panel > h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: #555; margin: 0 0 8px; }
#facilitator { background: #f3f3f3; border-left: 4px solid #555; padding: 8px 12px; }
.module h3 { font-size: 20px; margin: 4px 0 8px; }
.inject { border-left: 5px solid #000; background: #eee; padding: 8px 12px; margin: 0 0 12px; }
.inject h4, .decision h4, .card h4 { margin: 0 0 4px; font-size: 15px; }
.inject blockquote { margin: 0 0 6px; font-size: 18px; }
.prompt { font-weight: bold; }
.decision { border: 1px dashed #555; padding: 6px 12px; margin: 0 0 12px; }
.card { background: #fff; border: 1px solid #bbb; padding: 6px 10px; margin: 0 0 10px; }
.card.read { border-color: #000; border-width: 2px; }
.card ul { margin: 4px 0; padding-left: 20px; }
.note { color: #444; font-style: italic; font-size: 13px; }
.jump { font-weight: bold; border-top: 2px solid #000; padding-top: 6px; }
.situation { font-size: 14px; }
@media print {
  body { font-size: 10pt; }
  header { position: static; background: none; color: #000; border-bottom: 1.5pt solid #000; }
  #controls { display: none; }
  main, main.projector { display: block; padding: 0; }
  #facilitator { background: none; border: none; padding: 0; break-before: page; page-break-before: always; }
  #facilitator[hidden] { display: block !important; }
  .module[hidden], .inject[hidden] { display: block !important; }
  .module { break-before: page; page-break-before: always; }
  .panel > .module:first-of-type { break-before: auto; page-break-before: auto; }
  .inject, .decision, .card { break-inside: avoid; page-break-inside: avoid; }
  .inject { background: none; }
}
"""

_SCRIPT = """
(function () {
  "use strict";
  var parts = Array.prototype.slice.call(document.querySelectorAll("#participant .module"));
  var facs = Array.prototype.slice.call(document.querySelectorAll("#facilitator .module"));
  var $ = function (id) { return document.getElementById(id); };
  var current = 0, clock = 0, running = false, last = 0, timer = null;
  function hm(seconds) {
    var m = Math.floor(seconds / 60);
    return Math.floor(m / 60) + ":" + ("0" + (m % 60)).slice(-2);
  }
  function hidden(mod) { return mod.querySelectorAll(".inject[hidden]"); }
  function reveal(card) {
    card.hidden = false;
    var twin = document.querySelector('#facilitator .card[data-inject="' + card.dataset.inject + '"]');
    if (twin) { twin.classList.add("read"); }
  }
  function update() {
    $("module-label").textContent = "Module " + (current + 1) + " of " + parts.length;
    $("prev").disabled = current === 0;
    $("next").disabled = current === parts.length - 1;
    var left = hidden(parts[current]).length;
    $("reveal").disabled = left === 0;
    $("reveal").textContent = left ? "Reveal next inject (" + left + " left)" : "Every inject revealed";
    $("session-clock").textContent = hm(clock);
    $("clock").textContent = running ? "Pause clock" : "Start clock";
  }
  function show(k) {
    current = k;
    parts.forEach(function (m, i) { m.hidden = i !== k; });
    facs.forEach(function (m, i) { m.hidden = i !== k; });
    clock = Math.max(clock, 60 * Number(parts[k].dataset.start));
    update();
  }
  function tick() {
    var now = Date.now();
    clock += (now - last) / 1000 * Number($("speed").value);
    last = now;
    Array.prototype.forEach.call(hidden(parts[current]), function (card) {
      if (clock >= 60 * Number(card.dataset.due)) { reveal(card); }
    });
    update();
  }
  parts.forEach(function (m) { Array.prototype.forEach.call(m.querySelectorAll(".inject"), function (c) { c.hidden = true; }); });
  $("prev").addEventListener("click", function () { show(current - 1); });
  $("next").addEventListener("click", function () { show(current + 1); });
  $("reveal").addEventListener("click", function () {
    var next = hidden(parts[current])[0];
    if (next) { reveal(next); }
    update();
  });
  $("clock").addEventListener("click", function () {
    running = !running;
    if (running) { last = Date.now(); timer = setInterval(tick, 200); } else { clearInterval(timer); }
    update();
  });
  $("projector").addEventListener("click", function () {
    var fac = $("facilitator");
    fac.hidden = !fac.hidden;
    document.querySelector("main").classList.toggle("projector", fac.hidden);
    $("projector").textContent = fac.hidden ? "Show facilitator panel" : "Hide facilitator panel";
  });
  $("controls").hidden = false;
  show(0);
})();
"""


def inject_due(m: exercise.Module, at: float) -> float:
    """The session minute an inject at ``at`` seconds into the incident is read out, in module ``m``'s slot.

    The module's window of the incident is laid linearly over the first
    three quarters of its slot, so the last inject leaves time to discuss it.
    """
    span = max(m.end - m.start, 1.0)
    return m.session_start + 0.75 * (m.session_end - m.session_start) * min(1.0, (at - m.start) / span)


def _in(m: exercise.Module, t: float, last: bool) -> bool:
    return m.start <= t < m.end or (last and t == m.end)


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in items) + "</ul>"


def _participant_module(tt: Tabletop, k: int, m: exercise.Module, points: list[DecisionPoint], last: bool) -> str:
    e = html.escape
    out = [f'<article class="module" data-module="{k}" data-start="{m.session_start}">']
    out.append(f"<h3>Module {k}: {e(m.title)}</h3>")
    for num in m.injects:
        inj = tt.plan.drill.injects[num - 1]
        due = inject_due(m, inj.at)
        out.append(f'<div class="inject" data-inject="{num}" data-due="{due:.2f}">')
        out.append(f"<h4>I{num} - {e(tplus(inj.at))} ({e(tt.clock(inj.at))}) - for {e(inj.audience)}</h4>")
        out.append(f"<blockquote>{e(fill(tt, inj.text.strip(), inj.at, f'injects[{num - 1}].text'))}</blockquote>")
        if inj.prompt:
            prompt = fill(tt, inj.prompt.strip(), inj.at, f"injects[{num - 1}].prompt")
            out.append(f'<p class="prompt">{e(prompt)}</p>')
        out.append("</div>")
    for n, d in enumerate(points, 1):
        if _in(m, d.finish, last):
            out.append(f'<div class="decision"><h4>D{n} - {e(d.title)}</h4><p class="prompt">{e(d.prompt)}</p></div>')
    out.append("</article>")
    return "\n".join(out)


def _facilitator_module(
    tt: Tabletop,
    k: int,
    m: exercise.Module,
    points: list[DecisionPoint],
    asks: list[str],
    last: bool,
    closing: list[str],
) -> str:
    e, c = html.escape, tt.clock
    out = [f'<article class="module" data-module="{k}">']
    out.append(f"<h3>Module {k}</h3>")
    slot = f"{m.session_start // 60}:{m.session_start % 60:02d}-{m.session_end // 60}:{m.session_end % 60:02d}"
    out.append(
        f"<p>Incident {e(c(m.start))}-{e(c(m.end))} ({e(tplus(m.start))} to {e(tplus(m.end))}); session {slot}.</p>"
    )
    for num in m.injects:
        inj = tt.plan.drill.injects[num - 1]
        out.append(f'<div class="card" data-inject="{num}"><h4>I{num} at {e(c(inj.at))}</h4>')
        if inj.expected_actions:
            out.append("<p>Expected actions:</p>" + _list([a.strip() for a in inj.expected_actions]))
        out.append(f'<p class="note">State of play at {e(c(inj.at))} in this replay:</p>')
        out.append(_list(state_lines(tt, tt.state(inj.at))) + "</div>")
    for n, d in enumerate(points, 1):
        if not _in(m, d.finish, last):
            continue
        out.append(f'<div class="card decision-card"><h4>D{n} at {e(c(d.finish))} - {e(d.title)}</h4>')
        out.append(f"<p>{e(d.actor)}: could start at {e(c(d.ready))}; done at {e(c(d.finish))}.</p>")
        out.append(f'<p class="note">Evidence at {e(c(d.evidence_at))}:</p>')
        out.append(_list(state_lines(tt, tt.state(d.evidence_at))))
        out.append(f'<p class="prompt">Ask: {e(asks[n - 1])}</p></div>')
    if m.jump is not None:
        out.append(
            f'<p class="jump">Then move the clock on {e(dur(m.jump))}: read out where things stand at the next '
            "module's first inject.</p>"
        )
    if last and closing:
        out.append('<div class="card"><h4>Questions from this replay, for the hot wash</h4>')
        out.append(_list(closing) + "</div>")
    out.append("</article>")
    return "\n".join(out)


def render_console(tt: Tabletop, session: float = exercise.DEFAULT_SESSION, paper: str = "a4") -> str:
    """The facilitator console of ``tt`` as one self-contained HTML page (see the module's docstring)."""
    e = html.escape
    drill, topo = tt.plan.drill, tt.plan.topology
    points = decision_points(tt)
    modules = exercise.agenda(tt, [d.finish for d in points], session)
    asks = decision_questions(tt)
    closing = derived_questions(tt)[len(asks) :]
    size = "A4" if paper == "a4" else "letter"
    agenda = json.dumps(_agenda_json(tt, modules)).replace("</", "<\\/")  # no early end to the script element
    title = f"Facilitator console: {drill.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_CSS % {'size': size}}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>Tabletop exercise: {e(drill.name)} <small>({e(topo.name)})</small></h1>",
        '<div id="controls" hidden>',
        '<button id="prev" type="button">Previous module</button>',
        '<span id="module-label"></span>',
        '<button id="next" type="button">Next module</button>',
        '<button id="reveal" type="button">Reveal next inject</button>',
        '<button id="clock" type="button">Start clock</button>',
        '<label>speed <select id="speed"><option value="1" selected>real time</option>'
        '<option value="10">x10</option><option value="60">x60</option><option value="600">x600</option>'
        "</select></label>",
        '<span id="session-clock">0:00</span>',
        '<button id="projector" type="button">Hide facilitator panel</button>',
        "</div>",
        "</header>",
        "<main>",
        '<section id="participant" class="panel">',
        "<h2>For the table</h2>",
    ]
    situation = (drill.description or "").strip()
    if situation:
        parts.append(f'<p class="situation">{e(situation)}</p>')
    last = len(modules)
    for k, m in enumerate(modules, 1):
        parts.append(_participant_module(tt, k, m, points, k == last))
    parts += ["</section>", '<section id="facilitator" class="panel">', "<h2>Facilitator only</h2>"]
    parts.append(
        f'<p class="note">Replay shown: {e(describe_selection(tt.selection))}. Decision: '
        f"{e(decision_words(tt.plan))}.</p>"
    )
    for k, m in enumerate(modules, 1):
        parts.append(_facilitator_module(tt, k, m, points, asks, k == last, closing))
    if tt.result.calibrated:
        table = html_table(calibration_table(tt.result.calibrated))
        parts.append(f'<div class="calibrated"><h3>{e(HEADING)}</h3>{table}</div>')
    parts += [
        "</section>",
        "</main>",
        f'<footer class="note">drsim {e(__version__)}; {len(modules)} modules over a {e(dur(session))} session; '
        f"{len(drill.injects)} injects.</footer>",
        f"<script>{_SCRIPT}</script>",
        '<script type="application/json" id="agenda">' + agenda + "</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _agenda_json(tt: Tabletop, modules: list[exercise.Module]) -> list[dict]:
    """The agenda in numbers, for tools reading the console (module windows in seconds, slots in minutes)."""
    return [
        {
            "title": m.title,
            "incident": [m.start, m.end],
            "session": [m.session_start, m.session_end],
            "injects": list(m.injects),
            "due": [round(inject_due(m, tt.plan.drill.injects[i - 1].at), 2) for i in m.injects],
        }
        for m in modules
    ]


def write_console(
    tt: Tabletop,
    path: str | Path | None = None,
    *,
    session: float = exercise.DEFAULT_SESSION,
    paper: str = "a4",
    force: bool = False,
) -> str | Path:
    """The console as text, or written to ``path`` atomically (an existing file only with ``force``)."""
    text = render_console(tt, session, paper)
    if path is None:
        return text
    return atomic_write(path, text, force=force)
