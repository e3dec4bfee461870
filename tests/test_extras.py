"""A default install (no extras) replays, sweeps to CSV and compares; Parquet and Sobol indices say which extra
they need, on one line, with exit 2, before doing any work.

The default install is played by a fresh interpreter in which pyarrow and SALib cannot be imported (their
entries in ``sys.modules`` are ``None``, which is what Python does for a module known to be absent)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from drsim.extras import EXTRAS, MissingExtra, installed, require

ROOT = Path(__file__).resolve().parent.parent
#: A fresh interpreter without pyarrow and SALib running the drsim command line with the arguments it is given.
WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in ('pyarrow', 'SALib'):\n"
    "    sys.modules[name] = None\n"
    "from drsim.cli import main\n"
    "main(sys.argv[1:])\n"
)


def without_extras(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )


def test_the_default_install_runs_drill_sweep_to_csv_and_compare(tmp_path):
    drill = without_extras(tmp_path, "drill", "az-loss", "--seed", "1", "--format", "json")
    assert drill.returncode in (0, 1), drill.stderr
    assert '"drill": "az-loss"' in drill.stdout
    sweep = without_extras(tmp_path, "sweep", "az-loss", "-n", "500", "--executor", "inline", "--out", "s.csv")
    assert sweep.returncode in (0, 1), sweep.stderr
    assert (tmp_path / "s.csv").read_text().startswith("point,metric,kind,")
    compare = without_extras(tmp_path, "compare", "az-loss", "-t", "ehr-hybrid", "-t", "warm-standby", "-n", "200")
    assert compare.returncode in (0, 1), compare.stderr
    assert "warm-standby" in compare.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("sweep", "az-loss", "-n", "500", "--out", "s.parquet"), "parquet"),
        (("sweep", "az-loss", "-n", "500", "--out", "checkpoint"), "parquet"),
        (("sensitivity", "az-loss", "--method", "sobol"), "sensitivity"),
    ],
)
def test_a_feature_without_its_extra_names_the_extra_on_one_line_with_exit_2(tmp_path, args, extra):
    r = without_extras(tmp_path, *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"pip install 'drsim[{extra}]'" in lines[0]
    assert EXTRAS[extra].package in lines[0]
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []  # refused before any work: nothing written


def test_require_passes_when_the_extra_is_installed_and_raises_an_input_error_when_not(monkeypatch):
    assert installed("parquet")  # the test extra installs every optional package
    require("parquet", "writing Parquet files")
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(MissingExtra) as info:
        require("sensitivity", "Sobol indices")
    assert str(info.value) == (
        "Sobol indices needs the optional package SALib, which is not installed: "
        "pip install 'drsim[sensitivity]' (or 'drsim[all]')"
    )


def test_the_extras_are_declared_and_the_test_extra_keeps_everything():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    extras = project["optional-dependencies"]
    for name, extra in EXTRAS.items():
        assert extra.package.lower() not in base, f"{extra.package} is a default dependency"
        assert any(d.startswith(extra.package) for d in extras[name])
        assert any(d.startswith(extra.package) for d in extras["test"])
    assert extras["all"] == ["drsim[parquet,sensitivity,notebook]"]
    assert any(d.startswith("jupyterlab") for d in extras["notebook"])
