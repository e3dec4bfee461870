"""Sweeps beyond one process: the same numbers inline, in a process pool and on a Dask cluster."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pandas as pd
import psutil
import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.errors import InputError
from drsim.sweep import build_spec, execute
from drsim.sweep.executors import DaskRunner, InlineRunner, PoolRunner, chunk_key, cores, open_runner

distributed = pytest.importorskip("distributed")

GRID = {"drill.faults.0.duration": ["2h", "6h"]}


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def client():
    """One LocalCluster of two single-threaded worker processes, shared by this module's tests."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # no dashboard; metrics on a free port
        host="127.0.0.1",
        env={"NUMBA_NUM_THREADS": "1"},
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def spec():
    return build_spec("region-loss", n=6000, seed=7, chunk_size=1000, grid=GRID, keep_replicates=True)


@pytest.fixture(scope="module")
def reference(spec):
    return execute(spec, executor="inline")


def assert_identical(a, b):
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(a.replicates(), b.replicates(), check_exact=True)
    assert a.config_hash == b.config_hash


def children():
    return {p.pid for p in psutil.Process().children(recursive=True)}


def assert_all_gone(before):
    """Every process started since ``before`` has ended, save the standard library's forkserver and
    resource tracker (one each per process, shared by every pool, ended when this process ends)."""
    left = []
    for pid in children() - before:
        try:
            p = psutil.Process(pid)
            if not any(
                "multiprocessing.forkserver" in a or "multiprocessing.resource_tracker" in a for a in p.cmdline()
            ):
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(left, timeout=10)
    assert alive == [], f"processes left behind: {alive}"


# ------------------------------------------------------------------ identical numbers


def test_a_process_pool_gives_the_inline_numbers(spec, reference):
    before = children()
    pooled = execute(spec, executor="local", workers=2)
    assert_identical(pooled, reference)
    # every value of every replicate, not only the summaries
    for p, q in zip(pooled.points, reference.points, strict=True):
        for k, s in p.metrics.items():
            np.testing.assert_array_equal(s.values, q.metrics[k].values, err_msg=k)
    assert_all_gone(before)


def test_a_dask_cluster_gives_the_inline_numbers(client, spec, reference):
    assert len(client.scheduler_info()["workers"]) == 2
    on_dask = execute(spec, executor=client)
    assert_identical(on_dask, reference)
    deadline = time.monotonic() + 10
    while client.who_has() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.who_has(), "the sweep's data should not stay on the cluster after it"


def test_inline_threads_give_the_numbers_of_one_thread(spec, reference):
    """Each thread runs whole chunks on its own; how many threads share them changes nothing."""
    one_thread = execute(spec, executor=InlineRunner(threads=1))
    three_threads = execute(spec, executor=InlineRunner(threads=3))
    assert_identical(one_thread, reference)
    assert_identical(three_threads, reference)


def test_a_chunk_failing_on_an_inline_thread_fails_the_sweep_and_stops_the_others(spec, monkeypatch):
    runners = sys.modules["drsim.sweep.executors"]  # where the inline runner's threads find run_chunk
    run_chunk = runners.run_chunk
    ran = []

    def failing(spec_, chunk, point=0):
        ran.append((point, chunk))
        if (point, chunk) == (0, 2):
            raise RuntimeError("chunk 2 broke")
        return run_chunk(spec_, chunk, point)

    monkeypatch.setattr(runners, "run_chunk", failing)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="chunk 2 broke"):
        execute(spec, executor=InlineRunner(threads=2))
    assert threading.active_count() == before  # every chunk thread has left
    assert len(ran) < len(spec.work())  # the threads stopped taking chunks


def test_an_inline_sweep_abandoned_midway_leaves_no_thread_behind(spec):
    before = threading.active_count()
    results = InlineRunner(threads=2).run(spec, spec.work())
    first = next(results)
    results.close()
    assert first.n == 1000
    assert threading.active_count() == before


def test_local_runs_the_vectorized_engine_on_threads_the_des_on_a_pool_and_a_pool_when_asked(spec):
    with open_runner("local", spec) as r:
        assert isinstance(r, InlineRunner)  # the vectorized engine: this process's threads
    large = build_spec("region-loss", n=10_000_000, seed=7)
    with open_runner("local", large) as r:
        assert isinstance(r, InlineRunner)  # however large: a pool only adds starting it
    des = build_spec("region-loss", n=4000, seed=7, chunk_size=1000, engine="des")
    with open_runner("local", des) as r:
        if cores() > 1:
            assert isinstance(r, PoolRunner)  # SimPy holds the GIL: one process per core
            assert r.workers == min(cores(), 4)
        else:
            assert isinstance(r, InlineRunner)
    with open_runner("local", spec, workers=2) as r:
        assert isinstance(r, PoolRunner)
        assert r.workers == 2
    one_chunk = build_spec("region-loss", n=500, seed=7, chunk_size=1000)
    with open_runner("local", one_chunk, workers=2) as r:
        assert isinstance(r, InlineRunner)  # one chunk cannot be shared


def test_bad_executor_settings_are_input_errors(spec):
    for kw, message in [
        ({"executor": "cloud"}, "executor must be one of local, inline, dask"),
        ({"executor": "local", "scheduler": "tcp://127.0.0.1:8786"}, "needs the dask executor"),
        ({"executor": "inline", "workers": 2}, "--workers needs local or dask"),
        ({"executor": "local", "workers": 0}, "workers must be a whole number >= 1"),
        ({"executor": 42}, "executor must be 'local', 'inline', 'dask'"),
    ]:
        with pytest.raises(InputError, match=message), open_runner(spec=spec, **kw):
            pass


def test_cli_dask_executor_starts_and_stops_its_own_cluster(tmp_path):
    args = ["sweep", "idp-outage", "-n", 3000, "--chunk-size", 1000, "--seed", 2]
    before = children()
    r = cli(*args, "--executor", "dask", "--workers", 1, "--out", tmp_path / "dask.csv")
    assert r.exit_code in (0, 1), r.output
    inline = cli(*args, "--executor", "inline", "--out", tmp_path / "inline.csv")
    assert inline.exit_code == r.exit_code, inline.output
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "inline.csv"), check_exact=True
    )
    assert_all_gone(before)


def test_missing_dask_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    r = cli("sweep", "idp-outage", "-n", 100, "--executor", "dask")
    assert r.exit_code == 2, r.output
    assert "pip install 'drsim[dask]'" in r.output
    r = cli("sweep", "idp-outage", "-n", 100, "--scheduler", "tcp://127.0.0.1:8786")
    assert r.exit_code == 2, r.output
    assert "pip install 'drsim[dask]'" in r.output


def test_cli_rejects_workers_for_an_existing_cluster():
    r = cli("sweep", "idp-outage", "-n", 100, "--scheduler", "tcp://127.0.0.1:8786", "--workers", 2)
    assert r.exit_code == 2, r.output
    assert "a cluster at --scheduler has its own workers" in r.output


# ------------------------------------------------------------------ a worker lost mid-sweep


def test_a_worker_killed_mid_sweep_loses_no_chunk_and_counts_none_twice(client):
    """Dask reruns the lost worker's chunks; the merge keys results by chunk, so each counts once."""
    spec = build_spec("region-loss", n=100_000, seed=3, chunk_size=4000, keep_replicates=True)
    reference = execute(spec, executor="inline")
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    box = {}

    def run():
        try:
            box["result"] = execute(spec, executor=DaskRunner(client))
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and t.is_alive():
        if any("drsim-chunk" in str(k) for k in client.processing(workers=[victim]).get(victim, ())):
            os.kill(pids[victim], signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    t.join(120)
    assert killed, "the sweep ended before a worker could be killed mid-chunk"
    assert "error" not in box, box.get("error")
    # some chunk was running on the worker when it died, and was handed out again
    keys = [chunk_key(spec, p, c) for p, c in spec.work()]
    moves = {k: [] for k in keys}
    for e in client.story(*keys):
        if e[0] == "scheduler" and e[1] in moves:
            moves[e[1]].append((e[2], e[3]))
    retried = [k for k, m in moves.items() if ("processing", "released") in m]
    assert retried, "no chunk was rescheduled"
    assert all(sum(1 for _, to in moves[k] if to == "processing") >= 2 for k in retried)
    res = box["result"]
    assert victim not in client.scheduler_info()["workers"], "the killed worker should be gone"
    assert all(p.n == 100_000 for p in res.points)
    assert_identical(res, reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it, for any later test
