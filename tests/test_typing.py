"""The whole drsim package type-checks with mypy.

What is checked, and how, is the ``[tool.mypy]`` section of pyproject.toml, so
this test and a plain ``mypy`` at the repository root agree.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_is_clean(monkeypatch):
    from mypy import api

    monkeypatch.chdir(ROOT)  # the package named in the config is relative to the repository root
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy found problems:\n{stdout}{stderr}"
