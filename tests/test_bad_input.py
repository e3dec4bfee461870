"""A corpus of bad input files, each with the exact message drsim must print.

Every ``tests/bad_inputs/NAME.yaml`` (files starting with ``_`` are the valid
estate and drill the others are variants of) has ``NAME.expected``: the whole
of stderr. The file is checked with ``drsim validate --topology _topology.yaml
NAME.yaml`` run inside the corpus folder (so paths in messages are relative to
it), or with the arguments in ``NAME.args`` when the mistake is in how a file is
passed. Each must exit 2 with exactly that message, no traceback, nothing on
stdout and nothing written. ``drsim drill`` must refuse the same file with the
same message. A file named ``warn-*.yaml`` is accepted with warnings: it must
exit 0 (``drsim drill`` running it) with exactly those warnings on stderr.

To add a case: write ``NAME.yaml``, run ``python tests/test_bad_input.py
--write`` (it writes only missing ``.expected`` files), and read the result
before committing it.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsim.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.glob("*.yaml") if not p.name.startswith("_"))


def validate_args(name: str) -> list[str]:
    extra = CORPUS / name.replace(".yaml", ".args")
    if extra.exists():
        return shlex.split(extra.read_text())
    return ["validate", "--topology", "_topology.yaml", name]


def drill_args(name: str) -> list[str]:
    """The same file given to ``drsim drill``: as the drill if it is one, else as the topology."""
    if name.startswith("drill-"):
        return ["drill", name, "--topology", "_topology.yaml"]
    return ["drill", "_drill.yaml", "--topology", name]


def invoke(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def expected(name: str) -> str:
    return (CORPUS / name.replace(".yaml", ".expected")).read_text(encoding="utf-8")


@pytest.fixture
def in_corpus(monkeypatch):
    monkeypatch.chdir(CORPUS)
    before = sorted(p.name for p in CORPUS.iterdir())
    yield
    assert sorted(p.name for p in CORPUS.iterdir()) == before, "a command wrote into the corpus folder"


def check_refused(result, want: str, name: str = "", running: bool = False) -> None:
    """Refused with exactly ``want`` on stderr; or, for a ``warn-`` file, accepted with those warnings."""
    assert "Traceback" not in result.output
    if name.startswith("warn-"):
        assert result.exit_code in ((0, 1) if running else (0,)), result.output
        assert result.stdout
    else:
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
    assert result.stderr == want


@pytest.mark.parametrize("name", CASES)
def test_validate_refuses_with_the_exact_message(name, in_corpus):
    check_refused(invoke(validate_args(name)), expected(name), name)


@pytest.mark.parametrize("name", [n for n in CASES if not (CORPUS / n.replace(".yaml", ".args")).exists()])
def test_drill_refuses_with_the_same_message(name, in_corpus):
    check_refused(invoke(drill_args(name)), expected(name), name, running=True)


def test_the_corpus_is_complete():
    assert len(CASES) >= 40
    stems = {n.removesuffix(".yaml") for n in CASES}
    for p in CORPUS.iterdir():
        if p.suffix in (".expected", ".args"):
            assert p.stem in stems, f"{p.name} has no {p.stem}.yaml"
    for n in CASES:
        assert (CORPUS / n.replace(".yaml", ".expected")).exists(), f"{n} has no .expected message"


def test_the_valid_files_of_the_corpus_are_valid(in_corpus):
    r = invoke(["validate", "--topology", "_topology.yaml", "_topology.yaml", "_drill.yaml"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("name", CASES)
def test_every_message_line_names_the_file(name):
    named = [a for a in validate_args(name) if a.endswith(".yaml") and not a.startswith("_")]
    lines = expected(name).splitlines()
    assert lines
    first = "warning: " if name.startswith("warn-") else "error: "
    assert lines[0].startswith(first)
    for line in lines:
        assert line.removeprefix("warning: ").removeprefix("error: ").startswith(f"{named[-1]}: "), line


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda d: None, ["validate", "missing.yaml"], "error: missing.yaml: no such file\n"),
        (
            lambda d: (d / "folder.yaml").mkdir(),
            ["validate", "folder.yaml"],
            "error: folder.yaml: is a directory; expected a YAML file\n",
        ),
        (
            lambda d: (d / "huge.yaml").write_bytes(b"#" * (16 * 1024 * 1024 + 1)),
            ["validate", "huge.yaml"],
            "error: huge.yaml: file is larger than 16384 KiB; is it the right file?\n",
        ),
        (
            lambda d: None,
            ["drill", "regoin-loss"],
            None,  # the bundled names vary; the suggestion is checked below
        ),
    ],
    ids=["missing", "directory", "too-large", "misspelt-bundled-name"],
)
def test_files_that_cannot_be_read(tmp_path, monkeypatch, setup, args, message):
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = invoke(args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    if message is not None:
        assert r.stderr == message
    else:
        assert r.stderr.startswith(
            "error: regoin-loss: no bundled drill or file by that name; did you mean 'region-loss'?"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _write_missing() -> None:  # pragma: no cover - a maintainer's helper
    import os

    os.chdir(CORPUS)
    for name in CASES:
        out = CORPUS / name.replace(".yaml", ".expected")
        if not out.exists():
            r = invoke(validate_args(name))
            out.write_text(r.stderr, encoding="utf-8")
            print(f"wrote {out.name} (exit {r.exit_code}):\n{r.stderr}")


if __name__ == "__main__" and "--write" in sys.argv:  # pragma: no cover
    _write_missing()


# ---------------------------------------------------------------- outputs never destroy data

#: Every command that writes a file: its arguments (on the corpus estate, small and fast) and the
#: option naming the file it writes. A command added later with such an option must be listed here.
WRITERS = {
    "drill": (["_drill.yaml", "-t", "_topology.yaml"], "--plot", "out.png"),
    "sweep": (["_drill.yaml", "-t", "_topology.yaml", "-n", "20"], "--out", "out.csv"),
    "timeline": (["_drill.yaml", "-t", "_topology.yaml"], "-o", "out.md"),
    "compare": (["_drill.yaml", "-t", "_topology.yaml", "-t", "_topology.yaml", "-n", "20"], "--plot", "out.png"),
    "sensitivity": (["_drill.yaml", "-t", "_topology.yaml", "-n", "10", "--top", "2"], "--plot", "out.png"),
    "advise": (["_drill.yaml", "-t", "_topology.yaml", "-n", "10", "--top", "2"], "--plot", "out.png"),
    "calibrate": (["_calibrate-steps.csv", "--map", "_calibrate-map.yaml"], "--out", "overlay.yaml"),
    "backtest": (
        ["_backtest-observed.csv", "--drill", "_drill.yaml", "-t", "_topology.yaml", "-n", "200"],
        "--plot",
        "out.png",
    ),
    "calendar": (["_calendar.yaml", "-t", "_topology.yaml"], "--output", "plan.md"),
    "evidence": (["--hipaa", "-t", "_topology.yaml"], "--output", "pack.md"),
}
OUTPUT_OPTIONS = {"out", "output", "plot"}


def test_every_command_that_writes_a_file_is_checked_below():
    writing = {
        name
        for name, cmd in main.commands.items()
        if any(p.name in OUTPUT_OPTIONS for p in cmd.params if p.param_type_name == "option")
    }
    assert writing <= set(WRITERS), writing - set(WRITERS)


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_an_existing_output_is_never_overwritten_without_force(command, tmp_path, monkeypatch):
    if command not in main.commands:
        pytest.skip(f"drsim {command} is not part of this build")
    corpus = ("_topology.yaml", "_drill.yaml", "_calibrate-steps.csv", "_calibrate-map.yaml", "_calendar.yaml",
              "_backtest-observed.csv")  # fmt: skip
    for name in corpus:
        (tmp_path / name).write_bytes((CORPUS / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    args, option, out = WRITERS[command]
    target = tmp_path / out
    target.write_bytes(b"the user's own file\n")
    before = sorted(p.name for p in tmp_path.iterdir())

    r = invoke([command, *args, option, out])
    assert r.exit_code == 4, r.output  # distinct from bad input (2): a re-run, not a mistake
    assert "Traceback" not in r.output
    assert r.stderr == f"error: {out} already exists; pass --force to overwrite it\n"
    assert target.read_bytes() == b"the user's own file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no half-written or temporary file left

    r = invoke([command, *args, option, out, "--force"])
    assert r.exit_code in (0, 1), r.output
    assert target.read_bytes() != b"the user's own file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_every_error_shown_in_the_docs_is_printed_for_a_corpus_file():
    page = (Path(__file__).parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    section = page.split("\n## Bad input\n", 1)[1].split("\n## ", 1)[0]
    shown = [line for line in section.splitlines() if line.startswith(("error: ", "warning: "))]
    assert len(shown) >= 20
    printed = {line for name in CASES for line in expected(name).splitlines()}
    missing = [line for line in shown if line not in printed]
    assert not missing, missing
    assert f"({len(CASES)} files" in section.replace("\n", " ")


def _tree(node, seen=None) -> list:
    """A node tree flattened: kind, tag, position, and value or style of every node (a node reached
    again through an alias is listed once, then referred to by its position)."""
    seen = {} if seen is None else seen
    if id(node) in seen:
        return [("again", seen[id(node)])]
    seen[id(node)] = len(seen)
    out = [(type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column, node.end_mark.line)]
    if isinstance(node.value, str):
        out.append((node.value, node.style or None))
    else:
        for item in node.value:
            for part in item if isinstance(item, tuple) else (item,):
                out.extend(_tree(part, seen))
    return out


def test_libyaml_and_the_pure_parser_compose_the_same_trees():
    """Files are parsed by libyaml when PyYAML has it, and again by the pure-Python parser when libyaml
    refuses anything, so that messages stay the pure parser's. Where both accept, the trees (and so
    every line and column a message cites) must be the same: every bundled and (small) corpus file."""
    from drsim.model import loader

    if not loader.HAS_LIBYAML:
        pytest.skip("PyYAML without libyaml: every file takes the pure-Python path")
    paths = sorted(CORPUS.glob("*.yaml")) + sorted(loader.bundled_dir("topologies").glob("*.yaml"))
    paths += sorted(loader.bundled_dir("drills").glob("*.yaml"))
    texts = [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in paths if p.stat().st_size < 65536]
    texts.append(("non-ASCII", "a: {name: \"Ümlaut ☃ 𝄞\", typo: 1, x: [é, 2, 3]}\nb: 'ñ'  # ü\nc: [𝄞, {d: é}]\n"))
    compared = 0
    for name, text in texts:
        try:
            pure = loader._nodes(text, name)
        except loader.InputError:
            continue  # refused: the same message whichever parser tried first
        fast = loader._fast_nodes(text)
        if fast is None:
            continue  # libyaml refused: the pure parser's tree is the one used
        assert [_tree(n) for n in fast] == [_tree(n) for n in pure], name
        compared += 1
    assert compared >= 60


# ---------------------------------------------------------------- names that do not read as written


@pytest.mark.parametrize(
    "ch",
    [*"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", *"\u200b\u200c\u200d\u2060\ufeff\t\x7f\x85"],
)
def test_a_name_with_an_invisible_or_direction_changing_character_is_refused(ch):
    import unicodedata

    from drsim.model.names import check_name

    with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X} ") as info:
        check_name(f"app{ch}")
    assert ch not in str(info.value)  # shown escaped, never raw
    if unicodedata.name(ch, ""):
        assert unicodedata.name(ch) in str(info.value)


def test_names_in_other_alphabets_are_accepted_without_warnings():
    from drsim.model.names import check_name, lookalike_warnings

    names = ["app", "Ärzte-DB", "база", "Ωμέγα", "病院", "São-Paulo", "app-2"]
    assert [check_name(n) for n in names] == names
    assert list(lookalike_warnings(names, "service")) == []


def test_did_you_mean_shows_code_points_only_for_a_look_alike():
    from drsim.model.checks import did_you_mean

    assert (
        did_you_mean("sso", ["ss\u043e", "db"])
        == "; did you mean 'ssо' (U+0073 U+0073 U+043E, not U+0073 U+0073 U+006F)?"
    )
    assert (
        did_you_mean("app", ["\u0430\u0440\u0440"])
        == "; did you mean 'арр' (U+0430 U+0440 U+0440, not U+0061 U+0070 U+0070)?"
    )
    assert did_you_mean("SSO", ["sso"]) == "; did you mean 'sso'?"
    assert did_you_mean("ehr-bd", ["ehr-db"]) == "; did you mean 'ehr-db'?"


def test_a_warning_is_printed_by_the_other_loading_commands_too(in_corpus):
    r = invoke(["timeline", "_drill.yaml", "-t", "warn-lookalike-services.yaml", "--format", "md"])
    assert r.exit_code in (0, 1), r.output
    assert r.stderr == expected("warn-lookalike-services.yaml")
