"""The facilitator console: one offline page that runs a tabletop session, tried in a real headless browser.

The console is clicked through as a facilitator would in Chromium (driven over
the DevTools Protocol by ``tests/browser.py``): modules step forward and back,
injects appear on a click or by the session clock, the facilitator's panel
holds the state of play and the participants' panel never does, the page asks
for nothing over the network, and printed it shows every module and inject.
The browser tests skip only when Chromium is not installed (CI installs it in
``.ci/run``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import time

import pypdf
import pytest
from browser import Browser, find_chromium
from click.testing import CliRunner

from drsim.cli import main
from drsim.report import exercise
from drsim.report.decisions import decision_points
from drsim.report.exercise_console import inject_due, render_console
from drsim.report.tabletop import tabletop

#: Words that only the facilitator's panel may hold: the replay's outcomes and the answers.
FACILITATOR_ONLY = (
    "State of play",
    "in this replay",
    "Expected actions",
    "Evidence at",
    "could start at",
    "Replay shown",
)


@pytest.fixture(scope="module")
def region_loss():
    """The region-loss P90 replay and its console, written to a file."""
    return tabletop("region-loss", percentile=90, n=400)


@pytest.fixture(scope="module")
def console(region_loss, tmp_path_factory):
    path = tmp_path_factory.mktemp("console") / "region-loss-console.html"
    path.write_text(render_console(region_loss), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def chromium():
    exe = find_chromium()
    if exe is None:
        pytest.skip("chromium is not installed: apt-get install -y chromium (CI's .ci/run does this as root)")
    return exe


def _panel(page: str, which: str) -> str:
    start = page.index(f'<section id="{which}"')
    return page[start : page.index("</section>", start)]


# ------------------------------------------------------------------ the file itself


def test_console_is_one_self_contained_file(console):
    page = console.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert not re.search(r"(?:src|href)\s*=", page)  # no image, script, font or stylesheet from elsewhere
    assert not re.search(r"https?://|@import|url\(", page)
    assert "@media print" in page


def test_participant_panel_holds_no_outcome_of_the_replay(console, region_loss):
    page = console.read_text(encoding="utf-8")
    participant, facilitator = _panel(page, "participant"), _panel(page, "facilitator")
    for phrase in FACILITATOR_ONLY:
        assert phrase in facilitator, phrase
        assert phrase not in participant, phrase
    for d in decision_points(region_loss):  # no decision's minute either
        assert region_loss.clock(d.finish) not in participant


def test_injects_are_due_in_order_inside_their_modules_slot(region_loss):
    modules = exercise.agenda(region_loss, [d.finish for d in decision_points(region_loss)])
    injects = region_loss.plan.drill.injects
    for m in modules:
        due = [inject_due(m, injects[i - 1].at) for i in m.injects]
        assert due == sorted(due)
        assert all(m.session_start <= t <= m.session_start + 0.75 * (m.session_end - m.session_start) for t in due)


def test_cli_writes_the_console(tmp_path):
    out = tmp_path / "c.html"
    r = CliRunner().invoke(main, ["timeline", "az-loss", "--format", "console", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "facilitator console" in r.output
    assert '<section id="facilitator"' in out.read_text(encoding="utf-8")
    again = CliRunner().invoke(main, ["timeline", "az-loss", "--format", "console", "-o", str(out)])
    assert again.exit_code == 4
    r = CliRunner().invoke(main, ["timeline", "az-loss", "--format", "console"])
    assert r.exit_code == 0
    assert r.output.startswith("<!DOCTYPE html>")


# ------------------------------------------------------------------ in a real browser


def _visible(b: Browser, selector: str) -> list[str]:
    """The data-* id (module or inject number) of each element matching ``selector`` that is displayed."""
    return b.js(
        f"Array.from(document.querySelectorAll({json.dumps(selector)}))"
        ".filter(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none' && e.getClientRects().length)"
        ".map(e => e.dataset.inject || e.dataset.module)"
    )


def _text(b: Browser, selector: str) -> str:
    return b.js(f"document.querySelector({json.dumps(selector)}).innerText")


def test_clicking_through_the_modules_reveals_injects_and_keeps_the_answers_off_the_table(
    console, region_loss, chromium, tmp_path
):
    modules = exercise.agenda(region_loss, [d.finish for d in decision_points(region_loss)])
    first, second = ([str(i) for i in m.injects] for m in modules[:2])
    assert len(modules) == 3  # detection to the decision, the recovery, back to normal
    assert len(first) >= 2
    assert second
    assert not modules[2].injects
    with Browser(chromium) as b:
        b.call("Network.enable")
        b.open(console.as_uri())
        requested = [e["params"]["request"]["url"] for e in b.events if e.get("method") == "Network.requestWillBeSent"]
        assert requested == [console.as_uri()]  # the page itself, and nothing else
        assert b.js("document.getElementById('module-label').textContent") == "Module 1 of 3"
        assert _visible(b, "#participant .module") == ["1"]
        assert _visible(b, "#facilitator .module") == ["1"]
        assert _visible(b, "#participant .inject") == []  # nothing read out yet
        assert b.js("document.getElementById('prev').disabled") is True
        # one click, one inject
        b.click("reveal")
        assert _visible(b, "#participant .inject") == ["1"]
        assert b.js("document.querySelector('#facilitator .card[data-inject=\"1\"]').classList.contains('read')")
        for _ in first[1:]:
            b.click("reveal")
        assert _visible(b, "#participant .inject") == first
        assert b.js("document.getElementById('reveal').disabled") is True
        participant, facilitator = _text(b, "#participant"), _text(b, "#facilitator")
        assert "State of play at Sat 02:20 in this replay" in facilitator
        for phrase in FACILITATOR_ONLY:
            assert phrase not in participant, phrase
        b.screenshot(tmp_path / "module-1.png")
        # the next module: the clock jumps to its slot, its injects wait to be read out
        b.click("next")
        assert _visible(b, "#participant .module") == ["2"]
        assert _visible(b, "#facilitator .module") == ["2"]
        assert _visible(b, "#participant .inject") == []
        assert b.js("document.getElementById('session-clock').textContent") == (
            f"{modules[1].session_start // 60}:{modules[1].session_start % 60:02d}"
        )
        # the clock reveals them at their minute: at x600 a session minute passes in 0.1 s
        b.js("document.getElementById('speed').value = '600'")
        b.click("clock")
        last_due = inject_due(modules[1], region_loss.plan.drill.injects[int(second[-1]) - 1].at)
        deadline = time.monotonic() + 20
        while _visible(b, "#participant .inject") != second and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _visible(b, "#participant .inject") == second
        clock = b.js("document.getElementById('session-clock').textContent")
        hours, minutes = map(int, clock.split(":"))
        assert 60 * hours + minutes >= int(last_due)
        b.click("clock")  # pause
        for phrase in FACILITATOR_ONLY:
            assert phrase not in _text(b, "#participant"), phrase
        # the last module holds the replay's questions for the hot wash; there is no next
        b.click("next")
        assert _visible(b, "#participant .module") == ["3"]
        assert b.js("document.getElementById('next').disabled") is True
        assert "Questions from this replay" in _text(b, "#facilitator")
        b.click("prev")
        assert _visible(b, "#participant .module") == ["2"]
        # the projector view hides the facilitator's panel
        b.click("projector")
        assert _visible(b, "#facilitator") == []
        assert b.js("document.getElementById('projector').textContent") == "Show facilitator panel"
        shot = b.screenshot(tmp_path / "projector.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 10_000


def test_printed_console_shows_every_module_and_inject_without_controls(console, region_loss, chromium):
    with Browser(chromium) as b:
        b.open(console.as_uri())
        b.click("reveal")  # what was revealed on screen does not matter on paper
        b.call("Emulation.setEmulatedMedia", media="print")
        assert b.js("getComputedStyle(document.getElementById('controls')).display") == "none"
        shown = b.js(
            "Array.from(document.querySelectorAll('.module, .inject, #facilitator'))"
            ".filter(e => getComputedStyle(e).display === 'none').length"
        )
        assert shown == 0
        pdf = base64.b64decode(b.call("Page.printToPDF", preferCSSPageSize=True)["data"])
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 6  # each module on its own page, in both panels
    for k, inj in enumerate(region_loss.plan.drill.injects, 1):
        assert f"I{k} - " in text
    assert "State of play" in text
    assert "Previous module" not in text
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4, from the page's @page size
