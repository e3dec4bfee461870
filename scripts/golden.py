"""Golden outputs: the JSON of every bundled drill on every bundled topology, and a sweep of each drill.

The model's numbers are pinned by these files so that restructuring cannot change
them unnoticed. ``tests/test_golden.py`` compares fresh output with them on every
run. When the model changes on purpose, regenerate them with::

    python scripts/golden.py --update

and review the diff of ``tests/golden/`` in the same commit as the change.

Each replay file holds ``drsim drill D --topology T --seed 1 --format json --timeline``
(or, for a drill that cannot run on that topology, the exit status and error text);
each sweep file holds ``drsim sweep D --seed 1 -n 10000 --executor inline --format json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from click.testing import CliRunner

from drsim.cli import main as cli

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
BUNDLED = Path(__file__).resolve().parent.parent / "drsim" / "data"
SWEEP_REPLICATES = 10_000


def bundled(kind: str) -> list[str]:
    """Names of the bundled files of one kind (``drills`` or ``topologies``), sorted."""
    return sorted(p.stem for p in (BUNDLED / kind).glob("*.yaml"))


def cases() -> dict[str, list[str]]:
    """Every golden file's name and the command-line arguments that produce it."""
    out: dict[str, list[str]] = {}
    for d in bundled("drills"):
        for t in bundled("topologies"):
            out[f"drill--{d}--{t}.txt"] = ["drill", d, "--topology", t, "--seed", "1", "--format", "json", "--timeline"]
        out[f"sweep--{d}.txt"] = [
            "sweep", d, "--seed", "1", "-n", str(SWEEP_REPLICATES), "--executor", "inline", "--format", "json",
        ]  # fmt: skip
    return out


def produce(args: list[str]) -> str:
    """The command's exit status and standard output (standard error too when it failed)."""
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    text = f"exit {result.exit_code}\n{result.stdout}"
    if result.exit_code not in (0, 1):
        text += f"--- stderr\n{result.stderr}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from the current model")
    args = parser.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    differ = []
    for name, cmd in cases().items():
        text = produce(cmd)
        path = GOLDEN / name
        if args.update:
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            differ.append(name)
    if args.update:
        print(f"wrote {len(cases())} golden files to {GOLDEN}")
        return 0
    for name in differ:
        print(f"differs from its golden file: {name}")
    print(f"{len(cases()) - len(differ)} of {len(cases())} golden outputs identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
