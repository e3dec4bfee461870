"""The go/no-go sheet: Markdown, HTML and PDF from one document, the JSON's figures, and files kept safe."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.report.cutover import duration_text

ARGS = ["cutover", "ehr-core-to-cloud", "--evidence", "ehr-core-to-cloud-rehearsal", "-n", "1000", "--seed", "2"]


@pytest.fixture(scope="module")
def data():
    r = CliRunner().invoke(main, [*ARGS, "--format", "json"])
    assert r.exit_code == 1, r.output  # the bundled plan is NO-GO on its rehearsal
    return json.loads(r.stdout)


def test_the_markdown_sheet_file_is_what_format_markdown_prints(tmp_path):
    printed = CliRunner().invoke(main, [*ARGS, "--format", "markdown"])
    written = CliRunner().invoke(main, [*ARGS, "--sheet", str(tmp_path / "sheet.md")])
    assert written.exit_code == printed.exit_code == 1
    assert (tmp_path / "sheet.md").read_text() == printed.stdout
    assert f"wrote {tmp_path / 'sheet.md'} (md go/no-go sheet)" in written.stderr


def test_the_sheet_carries_the_json_figures(data, tmp_path):
    CliRunner().invoke(main, [*ARGS, "--sheet", str(tmp_path / "sheet.md")])
    md = (tmp_path / "sheet.md").read_text()
    s = data["safe_rollback"]
    assert f"a rollback decided by {duration_text(s['latest_decision'])} after the freeze starts" in md
    assert f"with probability {s['p_done_inside_freeze']:.3f}" in md
    assert f"P(completes inside the freeze) = {data['p_completes_inside_freeze']:.3f}" in md
    assert len(data["rollback_curve"]) == 25  # every 15 minutes of the 6 h freeze, both ends included
    for c in data["rollback_curve"]:
        assert f"| {duration_text(c['decided_at'])} |" in md
    plain = md.replace("**", "")  # a NO-GO row is emphasised
    for g in data["gates"]:
        row = next(line for line in plain.splitlines() if line.startswith(f"| {g['name']} |"))
        assert f"| {g['verdict']} |" in row
    wave_gates = [g for g in data["gates"] if g["before"]]
    assert wave_gates
    assert all(0 <= g["p_rollback_inside_freeze_if_no_go"] <= 1 for g in wave_gates)


def test_the_html_and_pdf_sheets_hold_the_chart(tmp_path):
    for name in ("sheet.html", "sheet.pdf"):
        r = CliRunner().invoke(main, [*ARGS, "--sheet", str(tmp_path / name)])
        assert r.exit_code == 1, r.output
    html = (tmp_path / "sheet.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    assert "Rollback-completion curve" in html
    assert "NO-GO" in html
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")


def test_the_chart_marks_the_freeze_end_q_and_the_point_of_no_return(data):
    from matplotlib.figure import Figure

    from drsim.report.cutover_sheet import draw_curve

    fig = Figure(figsize=(7, 4))
    draw_curve(fig, (0, 0, 1, 1), data)
    ax = fig.axes[0]
    vertical = {round(float(ln.get_xdata()[0]), 6) for ln in ax.lines if len(set(ln.get_xdata())) == 1}
    horizontal = {round(float(ln.get_ydata()[0]), 6) for ln in ax.lines if len(set(ln.get_ydata())) == 1}
    assert round(data["freeze"]["length"] / 3600, 6) in vertical
    assert round(data["safe_rollback"]["latest_decision"] / 3600, 6) in vertical
    assert data["safe_rollback"]["confidence"] in horizontal


def test_an_existing_sheet_is_kept_unless_forced(tmp_path):
    f = tmp_path / "sheet.html"
    f.write_text("mine")
    r = CliRunner().invoke(main, [*ARGS, "--sheet", str(f)])
    assert r.exit_code == 4, r.output
    assert "already exists; pass --force" in r.stderr
    assert r.stdout == ""  # refused before anything ran
    assert f.read_text() == "mine"
    r = CliRunner().invoke(main, [*ARGS, "--sheet", str(f), "--force"])
    assert r.exit_code == 1, r.output
    assert f.read_text().startswith("<!DOCTYPE html>")


def test_a_sheet_whose_format_cannot_be_told_is_refused(tmp_path):
    r = CliRunner().invoke(main, [*ARGS, "--sheet", str(tmp_path / "sheet.docx")])
    assert r.exit_code == 2, r.output
    assert "cannot tell the format from the file name" in r.stderr
    assert not (tmp_path / "sheet.docx").exists()
