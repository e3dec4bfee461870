"""Checkpointed sweeps: chunks written as they finish, resumed after a kill to the uninterrupted result."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from builders import two_jobs_for_one_dba
from click.testing import CliRunner
from rich.console import Console

from drsim.cli import main
from drsim.cli.progress import ProgressBar
from drsim.errors import InputError, OutputExistsError
from drsim.sweep import build_spec, execute, run_chunk, sweep
from drsim.sweep.checkpoint import MANIFEST, SUMMARY, Checkpoint, manifest


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def estate(tmp_path):
    """Two services sharing one DBA: a few metrics, so chunks are small and quick."""
    return two_jobs_for_one_dba(tmp_path)


def chunk_files(folder):
    d = folder / "chunks"
    return sorted(p.name for p in d.iterdir() if p.suffix == ".npz") if d.is_dir() else []


def assert_same_values(a, b):
    for pa, pb in zip(a.points, b.points, strict=True):
        assert pa.metrics.keys() == pb.metrics.keys()
        for k, s in pa.metrics.items():
            np.testing.assert_array_equal(s.values, pb.metrics[k].values, err_msg=k)


# ------------------------------------------------------------------ kill and resume


def test_a_sweep_killed_mid_run_resumes_to_the_uninterrupted_result(estate, tmp_path):
    drill, topo = estate
    n, chunk = 240_000, 1_000  # 240 small chunks: the kill lands between the first and the last
    folder = tmp_path / "run"
    args = [drill, "--topology", topo, "-n", str(n), "--chunk-size", str(chunk), "--seed", "11", "--out", str(folder)]
    cmd = [sys.executable, "-c", "import sys; from drsim.cli import main; sys.exit(main())", "sweep", *args]
    proc = subprocess.Popen(
        [*cmd, "--executor", "local", "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not chunk_files(folder) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is not None:  # it ended before it could be killed: say why
            pytest.fail(f"the sweep ended on its own (status {proc.returncode}): {proc.communicate()[1].decode()}")
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        err = proc.communicate()[1].decode()
    assert proc.returncode == -signal.SIGKILL, err
    written = chunk_files(folder)
    assert 1 <= len(written) < n // chunk, f"the kill should land mid-sweep; {len(written)} chunks were written"
    # the pool's workers notice their sweep is gone and exit: nothing is left running
    _, alive = psutil.wait_procs(descendants, timeout=15)
    assert alive == [], f"processes left behind: {alive}"

    before = {name: os.stat(folder / "chunks" / name) for name in written}
    r = cli("sweep", *args, "--resume", "--executor", "inline")
    assert r.exit_code == 0, r.output
    assert f"wrote {folder / SUMMARY}" in r.output
    assert len(chunk_files(folder)) == n // chunk
    for name, st in before.items():  # chunks already there were read, not run again
        now = os.stat(folder / "chunks" / name)
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), name
    assert not [p for p in (folder / "chunks").iterdir() if p.name.startswith(".")]

    whole = sweep(drill, topo, n=n, chunk_size=chunk, seed=11, executor="inline")
    resumed = sweep(drill, topo, n=n, chunk_size=chunk, seed=11, executor="inline", checkpoint=folder, resume=True)
    assert_same_values(resumed, whole)
    pd.testing.assert_frame_equal(resumed.to_frame(), whole.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / SUMMARY),
        pd.read_parquet(whole.to_parquet(tmp_path / "whole.parquet")),
        check_exact=True,
    )


# ------------------------------------------------------------------ refusing to mix sweeps


@pytest.fixture
def stored(estate, tmp_path):
    """A finished checkpoint of a small sweep (seed 1)."""
    drill, topo = estate
    folder = tmp_path / "cp"
    r = cli("sweep", drill, "--topology", topo, "-n", 3000, "--chunk-size", 1000, "--seed", 1, "--out", folder)
    assert r.exit_code == 0, r.output
    return drill, topo, folder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--seed", "2"], "its seed is 1, this sweep's is 2"),
        (["-n", "4000"], "its replicates per point (-n) is 3000, this sweep's is 4000"),
        (["--chunk-size", "500"], "its chunk size is 1000, this sweep's is 500"),
        (["--engine", "des"], "its engine is 'vectorized', this sweep's is 'des'"),
        (["--grid", "topology.staff.dba.shifts.0.headcount=1,2"], "its grid is"),
    ],
)
def test_resume_refuses_a_different_sweep(stored, change, message):
    drill, topo, folder = stored
    base = {"--seed": "1", "-n": "3000", "--chunk-size": "1000"}
    for flag, value in zip(change[::2], change[1::2]):
        base[flag] = value
    extra = [x for kv in base.items() for x in kv]
    r = cli("sweep", drill, "--topology", topo, *extra, "--out", folder, "--resume")
    assert r.exit_code == 2, r.output
    assert "cannot resume this sweep from this checkpoint" in r.output
    assert message in r.output


def test_resume_refuses_a_changed_topology_or_other_versions(stored, tmp_path):
    drill, topo, folder = stored
    doc = yaml.safe_load(open(topo))
    doc["services"]["db"]["recovery"]["steps"][0]["duration"] = "lognormal(p50=6m, p95=15m)"
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(doc, sort_keys=False))
    args = ["-n", 3000, "--chunk-size", 1000, "--seed", 1, "--out", folder, "--resume"]
    r = cli("sweep", drill, "--topology", changed, *args)
    assert r.exit_code == 2, r.output
    assert "the topology or drill content differs (config hash" in r.output

    m = json.loads((folder / MANIFEST).read_text())
    m["versions"]["numpy"] = "1.0.0"
    m["versions"]["drsim"] = "0.0.1"
    (folder / MANIFEST).write_text(json.dumps(m))
    r = cli("sweep", drill, "--topology", topo, *args)
    assert r.exit_code == 2, r.output
    assert "it was made by drsim 0.0.1" in r.output
    assert "it was made with numpy 1.0.0" in r.output


def test_a_non_empty_directory_needs_resume_or_force(stored):
    drill, topo, folder = stored
    args = ["sweep", drill, "--topology", topo, "-n", 2000, "--chunk-size", 1000, "--seed", 3, "--out", folder]
    r = cli(*args)
    assert r.exit_code == 4, r.output  # an output in the way, not bad input
    assert "is not empty; pass --resume to continue the sweep there, or --force to start it afresh" in r.output
    assert len(chunk_files(folder)) == 3
    r = cli(*args, "--force")
    assert r.exit_code == 0, r.output
    assert chunk_files(folder) == ["point-0000-chunk-000000.npz", "point-0000-chunk-000001.npz"]
    assert json.loads((folder / MANIFEST).read_text())["seed"] == 3


def test_a_directory_that_is_not_a_checkpoint_is_not_resumed(estate, tmp_path):
    drill, topo = estate
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    r = cli("sweep", drill, "--topology", topo, "-n", 100, "--out", folder, "--resume")
    assert r.exit_code == 2, r.output
    assert f"no {MANIFEST} of a drsim sweep" in r.output
    r = cli("sweep", drill, "--topology", topo, "-n", 100, "--resume")
    assert r.exit_code == 2, r.output
    assert "--resume: needs --out DIR" in r.output
    r = cli("sweep", drill, "--topology", topo, "-n", 100, "--out", tmp_path / "summary.xlsx")
    assert r.exit_code == 2, r.output
    assert "a directory (no suffix)" in r.output


def test_resume_in_an_empty_place_starts_the_sweep(estate, tmp_path):
    drill, topo = estate
    folder = tmp_path / "fresh" / "run"
    r = cli("sweep", drill, "--topology", topo, "-n", 1500, "--chunk-size", 1000, "--out", folder, "--resume")
    assert r.exit_code == 0, r.output
    assert len(chunk_files(folder)) == 2
    assert (folder / SUMMARY).exists()


# ------------------------------------------------------------------ chunk files


@pytest.mark.parametrize("exact", [True, False])
def test_chunk_files_read_back_exactly(estate, tmp_path, exact):
    drill, topo = estate
    spec = build_spec(drill, topo, n=5000, seed=4, chunk_size=2000)
    if not exact:
        from dataclasses import replace

        spec = replace(spec, exact=False)  # as a sweep beyond the exact budget
    cp = Checkpoint.open(tmp_path / "cp", spec)
    res = run_chunk(spec, 2)
    cp.save(res)
    assert cp.stored() == [(0, 2)]
    back = cp.load(0, 2)
    assert (back.point, back.chunk, back.n, back.events) == (res.point, res.chunk, res.n, res.events)
    assert back.summaries.keys() == res.summaries.keys()
    for k, s in res.summaries.items():
        b = back.summaries[k]
        assert (b.n, b.total, b.n_inf, b.lo, b.hi) == (s.n, s.total, s.n_inf, s.lo, s.hi)
        for field in ("bounds", "n_le", "n_lt", "values", "bins", "counts"):
            if getattr(s, field) is None:
                assert getattr(b, field) is None
            else:
                np.testing.assert_array_equal(getattr(b, field), getattr(s, field))


def test_half_written_and_foreign_chunk_files(estate, tmp_path):
    drill, topo = estate
    spec = build_spec(drill, topo, n=3000, seed=4, chunk_size=1000)
    cp = Checkpoint.open(tmp_path / "cp", spec)
    execute(spec, checkpoint=cp)
    stray = cp.chunks / ".point-0000-chunk-000001.npz.abc123.tmp"  # a write cut short by a kill
    stray.write_bytes(b"half")
    cp.close()  # one writer at a time: the folder is locked while a checkpoint is open
    Checkpoint.open(tmp_path / "cp", spec, resume=True).close()
    assert not stray.exists()

    other = build_spec(drill, topo, n=3000, seed=5, chunk_size=1000)
    foreign = Checkpoint(tmp_path / "cp", other, manifest(other))
    with pytest.raises(InputError, match="holds chunk 1 of point 0 of sweep"):
        foreign.load(0, 1)
    cp.path(0, 2).write_bytes(b"not an npz")
    with pytest.raises(InputError, match=r"corrupt checkpoint chunk \(not an \.npz archive"):
        cp.load(0, 2)


def test_a_checkpoint_needs_a_directory(estate, tmp_path):
    drill, topo = estate
    spec = build_spec(drill, topo, n=100, seed=4)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputExistsError, match="not a directory"):
        Checkpoint.open(f, spec)


def test_progress_counts_stored_and_new_chunks(estate, tmp_path):
    drill, topo = estate
    spec = build_spec(drill, topo, n=4000, seed=4, chunk_size=1000)
    cp = Checkpoint.open(tmp_path / "cp", spec)
    cp.save(run_chunk(spec, 1))
    cp.close()  # one writer at a time: the folder is locked while a checkpoint is open
    reports = []
    res = execute(spec, checkpoint=Checkpoint.open(tmp_path / "cp", spec, resume=True), progress=reports.append)
    assert_same_values(res, execute(spec))
    assert len(chunk_files(tmp_path / "cp")) == 4
    assert [(r.done, r.total, r.replicates, r.replicates_run) for r in reports] == [
        (0, 4, 0, 0),  # before the first chunk
        (1, 4, 1000, 0),  # the stored chunk counts as done, but not as run now
        (2, 4, 2000, 1000),
        (3, 4, 3000, 2000),
        (4, 4, 4000, 3000),
    ]
    with ProgressBar(Console(file=io.StringIO(), force_terminal=True)) as bar:  # the command line's bar
        execute(spec, progress=bar)
