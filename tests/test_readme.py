"""The README's Python examples run as written, so the documented API cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda i: f"block-{i + 1}")
def test_readme_python_example_runs(index, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    before = set(tmp_path.iterdir())
    namespace: dict = {}
    exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), namespace)
    plt.close("all")
    written = set(tmp_path.iterdir()) - before
    for path in written:  # anything an example writes is a whole, non-empty file
        assert path.stat().st_size > 0, path
    # a file an example names as its output is there
    for name in re.findall(r"\"([\w.-]+\.(?:pdf|png|svg|html|md|parquet|csv))\"", BLOCKS[index]):
        assert (tmp_path / name) in written, name


def test_the_readme_quotes_a_question_the_region_loss_pack_asks():
    from drsim import render_timeline, tabletop

    quote = re.search(r"from the region-loss P90 pack: \*\"(.*?)\"\*", README, re.S)
    assert quote, "the README's example question is gone"
    pack = " ".join(render_timeline(tabletop("region-loss", percentile=90), "md").split())
    for part in quote.group(1).split("[…]"):
        assert " ".join(part.split()) in pack, part
