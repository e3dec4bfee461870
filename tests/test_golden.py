"""Golden outputs: the model's numbers change only on purpose.

Every bundled drill replayed on every bundled topology (JSON with its timeline) and
a 10,000-replicate sweep of each drill are compared byte for byte with the files in
``tests/golden/``. A change to the model that moves a number must regenerate them
with ``python scripts/golden.py --update`` and show the diff in its commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "golden.py"
_spec = importlib.util.spec_from_file_location("golden", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

CASES = golden.cases()


def test_every_bundled_drill_and_topology_has_a_golden_file():
    expected = {f"drill--{d}--{t}.txt" for d in golden.bundled("drills") for t in golden.bundled("topologies")}
    assert expected <= set(CASES)
    assert len(golden.bundled("drills")) >= 7
    assert len(golden.bundled("topologies")) >= 6
    missing = [name for name in CASES if not (golden.GOLDEN / name).exists()]
    assert not missing, f"no golden file for {missing}: run python scripts/golden.py --update"


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_identical_to_its_golden_file(name):
    path = golden.GOLDEN / name
    fresh = golden.produce(CASES[name])
    assert fresh == path.read_text(), f"{name} changed: if on purpose, run python scripts/golden.py --update"
