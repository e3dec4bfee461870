"""How a sweep scales beyond one process: local pool, Dask workers, shipping and scheduling costs.

    python benchmarks/scaling.py            # 10^6 replicates per configuration (about 5 minutes)
    python benchmarks/scaling.py --quick    # 2 x 10^5 (about 2 minutes)

Prints, for one bundled drill (default region-loss on ehr-hybrid), all measured in this run:

* **this process against the local process pool**, for both engines: one
  thread per core in this process, each running whole chunks
  (``executor="inline"``), against a pool of single-threaded worker
  processes, one per core, and the pool's start-up time — the measurement
  behind what ``executor="local"`` picks. The configurations take turns, round after round, and each keeps its
  best round, so a neighbour's load spike does not decide the comparison;
* **Dask** on a ``LocalCluster`` of 1 and 2 single-threaded worker processes
  (one core each): start-up, chunks/s, replicates/s and the speed-up from 1 to
  2 workers, and what Dask's default ``MALLOC_TRIM_THRESHOLD_`` costs a chunk;
* **bytes shipped**: the pickled task (function, spec reference, chunk,
  point), the spec sent once to each worker, and a chunk result in exact mode
  (every value) and in histogram mode (occupied bins only);
* what the sweep's own process spends absorbing one result (unpickle and
  merge), which bounds how many workers one client can keep up with;
* **scheduler overhead per task**, from batches of no-op tasks on 1 and 2 workers;
* **the chunk-size rule** that keeps that overhead under 5%, and a scan of
  chunk sizes on 2 workers that checks it.

Timings are wall-clock on whatever else the machine is doing: the load average
is printed before and after, so a noisy run can be recognised.
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
from dataclasses import replace

import numpy as np


def _noop(i):
    return i


def _timed_chunk(spec, chunk):
    """Seconds one chunk takes where this runs (a worker), on one thread."""
    import numba

    from drsim.sweep import run_chunk

    numba.set_num_threads(1)
    t0 = time.perf_counter()
    run_chunk(spec, chunk)
    return time.perf_counter() - t0


def _rounds(configs: dict, rounds: int) -> dict:
    """Each configuration's best time over ``rounds`` rounds, configurations taking turns."""
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(rounds):
        for name, fn in configs.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def _task_overhead(client, tasks: int) -> float:
    """Seconds per no-op task, submit to result, with the worker saturated."""
    from distributed import as_completed

    client.submit(_noop, -1, pure=False).result()  # connections warm
    t0 = time.perf_counter()
    futures = [client.submit(_noop, i, pure=False) for i in range(tasks)]
    for f in as_completed(futures, loop=client.loop):
        f.result()
    return (time.perf_counter() - t0) / tasks


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 2 minutes)")
    ap.add_argument("--drill", default="region-loss")
    ap.add_argument("--chunk-size", type=int, default=65536)
    args = ap.parse_args(argv)

    # Dask's log lines (INFO from the scheduler, a heartbeat racing a worker's shutdown) would bury the
    # figures; the setting reaches the clusters' worker processes through the environment
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")

    import numba

    from drsim.sweep import build_spec, execute, run_chunk
    from drsim.sweep.executors import DaskRunner, PoolRunner, cores, local_cluster
    from drsim.sweep.result import ChunkMerger

    n = 200_000 if args.quick else 1_000_000
    n_des, des_chunk = (400, 50) if args.quick else (1600, 100)
    chunk = args.chunk_size
    rounds = 3 if args.quick else 5
    ncores = cores()
    threads = numba.get_num_threads()
    print(f"drsim scaling benchmark: drill {args.drill}, {n:,} replicates per run, chunk {chunk:,}")
    print(
        f"  machine: {ncores} cores, numba {numba.__version__} ({threads} threads), "
        f"numpy {np.__version__}; load average {os.getloadavg()[0]:.2f} at start"
    )

    # histogram mode, as every sweep beyond the exact budget (4.6e5 replicates of region-loss) runs
    spec = replace(build_spec(args.drill, n=n, seed=1, chunk_size=chunk), exact=False)
    des_spec = build_spec(args.drill, n=n_des, seed=1, chunk_size=des_chunk, engine="des")
    chunks = len(spec.work())
    execute(build_spec(args.drill, n=2000, seed=1))  # compile or load the kernels: excluded from timings

    # ---- this process against a local pool
    t0 = time.perf_counter()
    pool = PoolRunner(ncores, threads=1)
    list(pool.executor.map(_noop, range(ncores)))  # every worker up
    t_start = time.perf_counter() - t0
    try:
        execute(spec, executor=pool)  # warm
        best = _rounds(
            {
                "inline": lambda: execute(spec, executor="inline"),
                "pool": lambda: execute(spec, executor=pool),
                "des inline": lambda: execute(des_spec, executor="inline"),
                "des pool": lambda: execute(des_spec, executor=pool),
            },
            rounds,
        )
        numba.set_num_threads(1)
        one = _rounds({"one thread": lambda: execute(spec, executor="inline")}, rounds)["one thread"]
        numba.set_num_threads(threads)
    finally:
        pool.close()
    per_core = n / one
    print(f"\nThis process against a local pool of {ncores} single-threaded workers (best of {rounds} rounds):")
    print(f"  vectorized, {n:,} replicates in {chunks} chunks:")
    print(
        f"    this process, {threads} threads:       {best['inline']:6.2f} s  {n / best['inline']:>10,.0f} replicates/s"
    )
    print(f"    this process, one thread:         {one:6.2f} s  {per_core:>10,.0f} replicates/s")
    print(
        f"    pool:                             {best['pool']:6.2f} s  {n / best['pool']:>10,.0f} replicates/s "
        f"({best['inline'] / best['pool']:.2f}x this process)"
    )
    print(f"  des, {n_des:,} replicates in {len(des_spec.work())} chunks:")
    print(
        f"    this process:                     {best['des inline']:6.2f} s  {n_des / best['des inline']:>10,.0f} replicates/s"
    )
    print(
        f"    pool:                             {best['des pool']:6.2f} s  {n_des / best['des pool']:>10,.0f} replicates/s "
        f"({best['des inline'] / best['des pool']:.2f}x this process)"
    )
    print(f"  pool start-up: {t_start:.2f} s (once per sweep)")

    # ---- bytes shipped
    exact_spec = build_spec(args.drill, n=chunk, seed=1, chunk_size=chunk, keep_replicates=True)
    res_exact, res_hist = run_chunk(exact_spec, 0), run_chunk(spec, 0)
    spec_bytes = len(pickle.dumps(spec))
    task_bytes = len(pickle.dumps((run_chunk, "drsim-spec-key-0123456789abcdef", 12, 0)))
    b_exact, b_hist = len(pickle.dumps(res_exact)), len(pickle.dumps(res_hist))
    print(f"\nBytes shipped (pickled), chunk of {res_exact.n:,} replicates, {len(res_exact.summaries)} metrics:")
    print(f"  task (function, spec reference, chunk, point): {task_bytes:,} B per chunk")
    print(f"  spec (compiled plans), once per worker:        {spec_bytes:,} B")
    print(
        f"  chunk result, exact (every value):             {b_exact:,} B ({b_exact / res_exact.n:.0f} B per replicate)"
    )
    print(f"  chunk result, histograms (occupied bins):      {b_hist:,} B")
    client_cost = {}
    for mode, sp, res in (("exact", exact_spec, res_exact), ("histograms", spec, res_hist)):
        blob = pickle.dumps(res)
        best_t = float("inf")
        for _ in range(5):
            merger = ChunkMerger(sp)  # its accumulators are made once per sweep, not per chunk
            t0 = time.perf_counter()
            merger.add(pickle.loads(blob))
            best_t = min(best_t, time.perf_counter() - t0)
        client_cost[mode] = best_t
    print(
        f"  the sweep's own process unpickles and merges a result in {client_cost['exact'] * 1e3:.1f} ms (exact), "
        f"{client_cost['histograms'] * 1e3:.1f} ms (histograms)"
    )

    # ---- Dask
    import dask
    from distributed import Client

    rates = {}
    for w in (1, 2):
        t0 = time.perf_counter()
        cluster = local_cluster(w, threads=1)
        client = Client(cluster, set_as_default=False)
        t_up = time.perf_counter() - t0
        try:
            runner = DaskRunner(client)
            execute(build_spec(args.drill, n=4000, seed=1, chunk_size=1000), executor=runner)  # workers warm
            t = _rounds({"dask": lambda runner=runner: execute(spec, executor=runner)}, max(2, rounds - 2))["dask"]
            rates[w] = n / t
            print(
                f"\nDask LocalCluster, {w} worker{'s' if w > 1 else ''} x 1 thread: start-up {t_up:.2f} s; "
                f"sweep {t:.2f} s, {chunks / t:.2f} chunks/s, {n / t:,.0f} replicates/s"
            )
            noop = _task_overhead(client, 300 if args.quick else 1000)
            print(f"  no-op tasks: {noop * 1e3:.2f} ms per task ({1 / noop:,.0f} tasks/s through the scheduler)")
            if w == 1:
                overhead = noop
            else:
                print(f"  speed-up from 1 to 2 workers: {rates[2] / rates[1]:.2f}x")
                scan = (2048, 8192, 32768) if args.quick else (1024, 4096, 16384, 65536)
                print("  chunk-size scan:")
                for cs in scan:
                    s2 = replace(build_spec(args.drill, n=n, seed=1, chunk_size=cs), exact=False)
                    t2 = _rounds({"scan": lambda s2=s2, runner=runner: execute(s2, executor=runner)}, 1)["scan"]
                    print(f"    chunk {cs:>6,}: {n / t2:>10,.0f} replicates/s ({len(s2.work()) / t2:.1f} chunks/s)")
        finally:
            client.close()
            cluster.close()

    # Dask's default malloc setting, against the one drsim's clusters use, on one worker each
    saved = dict(os.environ)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 65536}):
        default = local_cluster(1, threads=1)
    os.environ.clear()
    os.environ.update(saved)  # the nanny exports its settings into this process: undo that
    tuned = local_cluster(1, threads=1)
    c_default, c_tuned = Client(default, set_as_default=False), Client(tuned, set_as_default=False)
    try:
        for c in (c_default, c_tuned):
            c.submit(_timed_chunk, spec, 0, pure=False).result()
        chunk_t = dict.fromkeys(("default", "tuned"), float("inf"))
        for r in range(2 * rounds):  # chunks 0 and 1, both full
            for name, c in (("default", c_default), ("tuned", c_tuned)):
                chunk_t[name] = min(chunk_t[name], c.submit(_timed_chunk, spec, r % 2, pure=False).result())
    finally:
        for c, cl in ((c_default, default), (c_tuned, tuned)):
            c.close()
            cl.close()
    print(
        f"\nOne chunk on a Dask worker: {chunk_t['tuned']:.3f} s with glibc's adaptive malloc (drsim's clusters), "
        f"{chunk_t['default']:.3f} s with Dask's default MALLOC_TRIM_THRESHOLD_=65536 "
        f"({chunk_t['default'] / chunk_t['tuned'] - 1:+.0%})"
    )

    # ---- the rule
    per_worker = rates[1]
    rule = 20 * overhead * per_worker
    print("\nChunk-size rule (overhead under 5%):")
    print(
        f"  a chunk must take 20x the per-task overhead: chunk >= 20 x {overhead * 1e3:.2f} ms x "
        f"{per_worker:,.0f} replicates/s per worker = {rule:,.0f} replicates"
    )
    print(
        f"  (the default chunk, {chunk:,}, takes {chunk / per_worker:.2f} s on one worker: "
        f"overhead {100 * overhead * per_worker / chunk:.2f}%)"
    )
    print(
        f"  exact-mode results ship {b_exact / res_exact.n:.0f} B per replicate whatever the chunk size "
        f"({b_exact / res_exact.n * per_worker / 1e6:.0f} MB/s per worker at this rate); histogram results "
        f"{b_hist / 1e6:.1f} MB per chunk ({b_hist / chunk / (b_exact / res_exact.n):.0%} of exact at this chunk size)"
    )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
