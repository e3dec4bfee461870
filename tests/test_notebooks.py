"""The notebooks use only drsim's public API, are committed with the outputs of their last rendering
(``python scripts/render_notebooks.py``), and run top to bottom in a fresh kernel."""

import ast
import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import drsim

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: What a notebook may import besides ``drsim``: the standard library's os, pandas and matplotlib's pyplot.
OTHER_IMPORTS = {"os", "pandas", "matplotlib.pyplot"}


def code(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_both_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == ["compare-strategies.ipynb", "what-to-fix-first.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_imports_only_drsim_and_uses_only_its_public_names(path):
    imported, used = set(), set()
    for source in code(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(f"from {node.module}")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "drsim":
                used.add(node.attr)
    assert imported - OTHER_IMPORTS == {"drsim"}
    assert used, "the notebook does not use drsim"
    assert used <= set(drsim.__all__), sorted(used - set(drsim.__all__))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_is_committed_with_the_outputs_of_one_whole_rendering(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), (
        f"{path.name}: render it with python scripts/render_notebooks.py and commit the result"
    )
    outputs = [o for c in cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DRSIM_NOTEBOOK_N", "200")
    # the kernel's inline backend draws with Agg and sends PNGs; no display is needed
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = copy.deepcopy(nbformat.read(path, as_version=4))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) >= 3, f"{path.name} drew {len(images)} figures"
