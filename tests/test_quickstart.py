"""The quickstart from a clean, non-editable install: what a new user gets from ``pip install``.

The test builds a fresh virtual environment in a temporary folder and installs this checkout into
it as a wheel (``pip install <copy of the checkout>``, not ``-e``), so the package data, the
``drsim`` console script and the bundled estate and drills are exercised as shipped. To stay fast
and work offline, drsim's dependencies are not downloaded again: the new environment reads the
running interpreter's site-packages (where the test extras put them) through a ``.pth`` line
placed after its own, so only drsim itself is installed into it (``--no-deps``; pip builds the
wheel with the build backend pyproject.toml names, from PyPI or pip's cache). ``python -m venv
--system-site-packages`` would not do: from inside a virtual environment it exposes the base
interpreter's packages, not this environment's.

Then it runs the quickstart's first command, ``drsim drill region-loss`` (exit 1: the reference
drill misses targets, by design), through a pipe, and checks every service of the reference
estate is named in full; and a first sweep with an empty compiled-code cache, which must say, in
one line on standard error, that it compiles the vectorized engine once.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from drsim.api import prepare

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A clean virtual environment with drsim installed from a copy of this checkout, not editable."""
    root = tmp_path_factory.mktemp("quickstart")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "drsim", src / "drsim", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = _bin(venv, "python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # after the new environment's own site-packages: drsim comes from the wheel, the rest from here
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "zz-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    env = _clean_env(root)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(src)]
    subprocess.run(pip, check=True, env=env, cwd=root, timeout=300)
    return venv, env, root


def _clean_env(root: Path) -> dict[str, str]:
    """The environment of a new user: no PYTHONPATH pointing at this checkout, an empty numba cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["NUMBA_CACHE_DIR"] = str(root / "numba-cache")
    env["COLUMNS"] = "80"  # as a CI log would have it: output through a pipe is never cut to fit
    return env


def test_drsim_is_installed_from_the_wheel_not_this_checkout(installed):
    venv, env, root = installed
    where = subprocess.run(
        [str(_bin(venv, "python")), "-c", "import drsim; print(drsim.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where


def test_quickstart_drill_names_every_service_in_full_through_a_pipe(installed):
    venv, env, root = installed
    run = subprocess.run(
        [str(_bin(venv, "drsim")), "drill", "region-loss"], capture_output=True, text=True, env=env, cwd=root
    )
    assert run.returncode == 1, run.stderr  # the reference drill misses targets: exit 1, not a crash
    assert "Traceback" not in run.stderr
    services = list(prepare("region-loss").topology.services)
    assert len(services) > 10
    missing = [s for s in services if s not in run.stdout]
    assert not missing, run.stdout
    assert "…" not in run.stdout


def test_first_sweep_says_once_that_it_compiles_and_the_next_does_not(installed):
    venv, env, root = installed
    drsim = str(_bin(venv, "drsim"))
    first = subprocess.run(
        [drsim, "drill", "region-loss", "-n", "2000"], capture_output=True, text=True, env=env, cwd=root
    )
    assert first.returncode in (0, 1), first.stderr
    assert first.stderr.count("compiling the vectorized engine once") == 1, first.stderr
    second = subprocess.run(
        [drsim, "drill", "region-loss", "-n", "2000"], capture_output=True, text=True, env=env, cwd=root
    )
    assert second.returncode == first.returncode
    assert "compiling" not in second.stderr, second.stderr
    assert second.stdout == first.stdout  # the same seed: the same figures, compiled or cached


def test_a_des_sweep_never_compiles_the_vectorized_kernel(tmp_path):
    """``--engine des`` replays with SimPy throughout, the probe of the sweep's metrics included, so
    it starts at once on a fresh install: numba's cache gets no code for the kernel."""
    env = _clean_env(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [sys.executable, "-m", "drsim", "sweep", "region-loss", "--engine", "des", "-n", "20"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode in (0, 1), run.stderr
    assert "compiling" not in run.stderr
    assert "des engine" in run.stdout, run.stdout
    assert not list((tmp_path / "numba-cache").glob("**/kernel.simulate-*")), "the DES sweep compiled the kernel"
