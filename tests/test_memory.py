"""A sweep's memory: chunks cut to fit a budget, which never changes a number."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.errors import InputError
from drsim.sweep import build_spec, sweep
from drsim.sweep.executors import InlineRunner
from drsim.sweep.memory import DEFAULT_BUDGET, MAX_CHUNK, MIN_CHUNK, budget, parse_size

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "size"),
    [("800M", 800 * 2**20), ("1.5G", 3 * 2**29), ("2GiB", 2 * 2**30), ("512mb", 512 * 2**20), ("1048576", 2**20)],
)
def test_a_size_is_read_in_powers_of_1024(text, size):
    assert parse_size(text) == size


def test_the_budget_is_the_option_else_the_environment_else_one_and_a_half_gib(monkeypatch):
    monkeypatch.delenv("DRSIM_MEMORY", raising=False)
    assert budget() == DEFAULT_BUDGET == 1.5 * 2**30
    monkeypatch.setenv("DRSIM_MEMORY", "3G")
    assert budget() == 3 * 2**30
    assert budget("800M") == 800 * 2**20


@pytest.mark.parametrize(("value", "message"), [("lots", "expected a size such as 800M"), ("10M", "at least 256 MiB")])
def test_a_bad_budget_is_an_input_error_naming_where_it_came_from(monkeypatch, value, message):
    with pytest.raises(InputError, match=message) as exc:
        budget(value)
    assert exc.value.source == "--memory"
    monkeypatch.setenv("DRSIM_MEMORY", value)
    with pytest.raises(InputError, match=message) as exc:
        budget()
    assert exc.value.source == "DRSIM_MEMORY"


def test_cli_bad_memory_exits_2_without_a_traceback():
    r = CliRunner().invoke(main, ["sweep", "az-loss", "-n", "100", "--memory", "lots"])
    assert r.exit_code == 2
    assert "--memory" in r.stderr
    assert "expected a size such as 800M" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_chunk_follows_the_budget_and_the_numbers_do_not():
    roomy = build_spec("region-loss", n=100_000, seed=2)
    tight = build_spec("region-loss", n=100_000, seed=2, memory="300M")
    assert roomy.chunk_size == MAX_CHUNK
    assert MIN_CHUNK <= tight.chunk_size < roomy.chunk_size
    assert tight.chunk_size & (tight.chunk_size - 1) == 0  # a power of two
    a = sweep("region-loss", n=20_000, seed=2, executor="inline", keep_replicates=True)
    b = sweep("region-loss", n=20_000, seed=2, executor="inline", keep_replicates=True, memory="300M")
    assert b.chunk_size < a.chunk_size
    assert a.to_dict() == b.to_dict()
    for key, s in a.points[0].metrics.items():
        assert s.values.tobytes() == b.points[0].metrics[key].values.tobytes(), key


def test_a_chunk_size_given_is_kept():
    assert build_spec("region-loss", n=10_000, chunk_size=1000).chunk_size == 1000


def test_threads_run_only_as_many_chunks_at_once_as_fit():
    tight = build_spec("region-loss", n=200_000, memory="300M")
    assert tight.at_once == 1
    assert InlineRunner(threads=2)._thread_count(tight, len(tight.work())) == 1
    roomy = build_spec("region-loss", n=200_000, memory="8G")
    assert roomy.at_once >= 2
    assert InlineRunner(threads=2)._thread_count(roomy, len(roomy.work())) == 2


def test_a_sweep_of_a_large_estate_stays_within_its_budget(tmp_path):
    """A 200-service estate (benchmarks/estates.py) under a 400 MiB budget: its peak, measured."""
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(ROOT / "benchmarks")!r})
        import estates
        from drsim.sweep import sweep
        estates.write(200, {str(tmp_path / "estate.yaml")!r})
        # compiling the kernel (when numba's cache lacks it) takes more memory than running it
        sweep("region-loss", n=10, executor="inline")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # the peak (VmHWM) starts again from what the process holds now
        r = sweep("region-loss", {str(tmp_path / "estate.yaml")!r}, n=8192, seed=1, executor="inline", memory="400M")
        status = open("/proc/self/status").read()
        peak = int(status.split("VmHWM:")[1].split()[0]) * 1024
        print(json.dumps({{"chunk": r.chunk_size, "peak": peak, "n": r.n}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["n"] == 8192
    assert got["chunk"] < 8192  # the budget, not the default, decided the chunk
    assert got["peak"] <= 400 * 2**20
