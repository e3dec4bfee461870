"""The README's and the docs pages' Python examples run as written, so the documented API cannot
drift from the code; the sentences they quote from the program's output, the exit statuses they
list and the pages they link to are checked against the program and the repository."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
#: every page of documentation: the README first, then docs/*.md by name
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = {page.relative_to(ROOT).as_posix(): page.read_text(encoding="utf-8") for page in PAGES}
README = TEXT["README.md"]
BLOCKS = [
    (name, i, block)
    for name, text in TEXT.items()
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S), start=1)
]


def test_the_documentation_has_python_examples():
    assert len(BLOCKS) >= 5
    assert any(name == "README.md" for name, _, _ in BLOCKS)  # the README shows the API itself


def test_the_readme_stays_short():
    assert len(README.splitlines()) <= 300


@pytest.mark.parametrize(("page", "index", "block"), BLOCKS, ids=[f"{name}-block-{i}" for name, i, _ in BLOCKS])
def test_python_example_runs(page, index, block, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    before = set(tmp_path.iterdir())
    namespace: dict = {}
    exec(compile(block, f"{page} python block {index}", "exec"), namespace)
    plt.close("all")
    written = set(tmp_path.iterdir()) - before
    for path in written:  # anything an example writes is a whole, non-empty file
        assert path.stat().st_size > 0, path
    # a file an example names as its output is there
    for name in re.findall(r"\"([\w.-]+\.(?:pdf|png|svg|html|md|parquet|csv))\"", block):
        assert (tmp_path / name) in written, name


def test_the_docs_quote_a_question_the_region_loss_pack_asks():
    from drsim import render_timeline, tabletop

    quotes = [
        (name, q)
        for name, text in TEXT.items()
        for q in re.findall(r"from the region-loss P90 pack: \*\"(.*?)\"\*", text, re.S)
    ]
    assert quotes, "the example question from the region-loss P90 pack is gone from the docs"
    pack = " ".join(render_timeline(tabletop("region-loss", percentile=90), "md").split())
    for name, quote in quotes:
        for part in quote.split("[…]"):
            assert " ".join(part.split()) in pack, (name, part)


def _exit_statuses(text: str) -> list[int]:
    """The statuses of the first `| status | meaning |` table in a page."""
    table = text.split("| status | meaning |\n", 1)[1].split("\n\n", 1)[0]
    return [int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)]


@pytest.mark.parametrize("page", ["README.md", "docs/errors.md"])
def test_the_exit_status_tables_list_every_status_the_commands_use(page):
    from drsim.cli import common

    used = sorted({v for k, v in vars(common).items() if k.startswith("EXIT_") and isinstance(v, int)})
    assert used == [0, 1, 2, 3, 4, 130]
    assert _exit_statuses(TEXT[page]) == used


#: A duration as drsim prints it (2h33m, 21m54s, 22m), a p-value, and a verdict of drsim backtest.
FIGURE = re.compile(r"(?<![\w.])(?:\d+h\d+m|\d+m\d+s|\d+h|\d+m|\d+s)(?![\w])|p = [\d.]+|well calibrated|too \w+")


def _walkthrough() -> list[str]:
    section = README.split("## Calibrating from the team's own records\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1).strip().splitlines()


def _figures(comment: str) -> list[str]:
    """The figures a walkthrough comment promises: every one but the truth it is compared with (``true 22m``)."""
    return [m.group(0) for m in FIGURE.finditer(comment) if not comment[: m.start()].endswith("true ")]


def test_the_calibration_walkthrough_runs_and_prints_what_its_comments_say(tmp_path, monkeypatch):
    """Each command of the README's calibrate -> sweep -> backtest walkthrough runs on the bundled example
    inputs and prints every figure its comment quotes; ``[--option value]`` is run without and with it,
    and ``A -> B`` in its comment means A without, B with."""
    import shlex
    import shutil

    from click.testing import CliRunner

    from drsim.cli import main

    lines = _walkthrough()
    folder = lines[0].split()[1]
    assert lines[0].startswith("cd ")
    assert (ROOT / folder).is_dir()
    shutil.copytree(ROOT / folder, tmp_path / "examples")
    monkeypatch.chdir(tmp_path / "examples")
    assert len(lines) <= 12
    for line in lines[1:]:
        command, _, comment = line.partition("  # ")
        optional = re.search(r"\[(.*?)\]", command)
        plain = shlex.split(re.sub(r"\[.*?\]", "", command))
        runs = [plain] if optional is None else [plain, shlex.split(command.replace("[", "").replace("]", ""))]
        outputs = []
        for args in runs:
            assert args[0] == "drsim"
            r = CliRunner().invoke(main, args[1:], catch_exceptions=False)
            assert r.exit_code in (0, 1), (line, r.output)
            outputs.append(r.stdout)
        for before, after in re.findall(r"(\S+) -> (\S+)", comment):
            assert before in outputs[0], (line, before)
            assert after in outputs[-1], (line, after)
        promised = _figures(re.sub(r"\S+ -> \S+", "", comment))
        assert promised or "->" in comment, line  # every command says what it shows
        for figure in promised:
            assert figure in outputs[-1], (line, figure)


def test_every_relative_link_in_the_documentation_resolves():
    broken = []
    for name, text in TEXT.items():
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            if not ((ROOT / name).parent / target).exists():
                broken.append((name, target))
    assert not broken, broken


def test_every_docs_page_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)", README))
    pages = {name for name in TEXT if name.startswith("docs/")}
    assert pages <= linked, sorted(pages - linked)
