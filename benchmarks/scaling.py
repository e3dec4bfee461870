"""How a sweep scales beyond one process: local pool, Dask workers, shipping and scheduling costs.

    python benchmarks/scaling.py            # 10^6 replicates per configuration (a few minutes)
    python benchmarks/scaling.py --quick    # 2 x 10^5 (about a minute)

Prints, for one bundled drill (default region-loss on ehr-hybrid), all measured in this run:

* **this process** (``executor="inline"``): the compiled kernel on every core,
  and on one thread;
* **the local process pool** (``executor="local"``): one single-threaded worker
  per core, its start-up time, and its throughput against this process's —
  the measurement behind what ``"local"`` picks;
* **Dask** on a ``LocalCluster`` of 1 and 2 single-threaded worker processes:
  start-up, chunks/s, replicates/s and the speed-up from 1 to 2 workers;
* **bytes shipped**: the pickled task (function, spec reference, chunk, point),
  the spec sent once to each worker, and a chunk result in exact mode (every
  value) and in histogram mode (occupied bins only);
* **scheduler overhead per task**, from a batch of no-op tasks on one worker;
* **the chunk-size rule** that keeps overhead under 5%, and a scan of chunk
  sizes on 2 workers that checks it.

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


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _noop(i):
    return i


def _cluster(workers: int):
    from distributed import Client, LocalCluster

    from drsim.executors import cores

    threads = max(1, cores() // workers)
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # no dashboard; metrics on a free port
        host="127.0.0.1",
        env={"NUMBA_NUM_THREADS": str(threads)},
    )
    client = Client(cluster, set_as_default=False)
    return cluster, client, time.perf_counter() - t0


def _task_overhead(client, tasks: int) -> float:
    """Seconds per no-op task, submit to result, with the workers saturated."""
    from distributed import as_completed

    client.submit(_noop, -1, pure=False).result()  # connections warm
    t0 = time.perf_counter()
    futures = [client.submit(_noop, i, pure=False) for i in range(tasks)]
    for f in as_completed(futures, loop=client.loop):
        f.result()
    return (time.perf_counter() - t0) / tasks


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    ap.add_argument("--drill", default="region-loss")
    ap.add_argument("--chunk-size", type=int, default=65536)
    args = ap.parse_args(argv)

    import numba

    from drsim.executors import POOL_MIN_REPLICATES, DaskRunner, PoolRunner, cores
    from drsim.sweep import build_spec, execute, run_chunk

    n = 200_000 if args.quick else 1_000_000
    chunk = args.chunk_size
    repeat = 2 if args.quick else 3
    ncores = cores()
    print(f"drsim scaling benchmark: drill {args.drill}, {n:,} replicates per run, chunk {chunk:,}")
    print(
        f"  machine: {ncores} cores, numba {numba.__version__} ({numba.get_num_threads()} threads), "
        f"numpy {np.__version__}; load average {os.getloadavg()[0]:.2f} at start"
    )

    spec = build_spec(args.drill, n=n, seed=1, chunk_size=chunk)
    chunks = len(spec.work())
    execute(build_spec(args.drill, n=2000, seed=1))  # compile or load the kernels: excluded from timings

    # ---- this process
    print(f"\nThis process (executor='inline'), {chunks} chunks, best of {repeat}:")
    t_inline = _best(lambda: execute(spec, executor="inline"), repeat)
    print(
        f"  compiled kernel on {numba.get_num_threads()} threads: {t_inline:6.2f} s  {n / t_inline:>10,.0f} replicates/s"
    )
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    t_one = _best(lambda: execute(spec, executor="inline"), repeat)
    numba.set_num_threads(threads)
    print(f"  on one thread:                  {t_one:6.2f} s  {n / t_one:>10,.0f} replicates/s")
    per_core = n / t_one

    # ---- local process pool
    print(f"\nLocal process pool (executor='local'), one single-threaded worker per core ({ncores}):")
    t0 = time.perf_counter()
    runner = PoolRunner(ncores, threads=1)
    list(runner.executor.map(_noop, range(ncores)))  # every worker up
    t_start = time.perf_counter() - t0
    try:
        t_pool = _best(lambda: execute(spec, executor=runner), repeat)
    finally:
        runner.close()
    print(f"  start-up: {t_start:.2f} s (once per sweep)")
    print(
        f"  sweep:    {t_pool:6.2f} s  {n / t_pool:>10,.0f} replicates/s  "
        f"({t_inline / t_pool:.2f}x this process; {t_inline / (t_pool + t_start):.2f}x counting start-up)"
    )
    saved = (t_inline - t_pool) / n  # seconds saved per replicate
    if saved > 0:
        print(
            f"  the pool repays its start-up from {t_start / saved:,.0f} replicates per sweep "
            f"(drsim.executors.POOL_MIN_REPLICATES is {POOL_MIN_REPLICATES:,})"
        )
    else:
        print("  the pool is not faster than this process here: 'local' should run sweeps inline")

    # ---- bytes shipped
    res_exact = run_chunk(spec, 0)
    hist_spec = replace(spec, exact=False)  # as a sweep beyond the exact budget runs
    res_hist = run_chunk(hist_spec, 0)
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

    # ---- Dask
    from distributed import Client  # noqa: F401  (fails early, with a clear message, without the extra)

    rates = {}
    overhead = None
    for w in (1, 2):
        cluster, client, t_up = _cluster(w)
        try:
            runner = DaskRunner(client)
            execute(build_spec(args.drill, n=2000, seed=1, chunk_size=1000), executor=runner)  # workers warm
            t = _best(lambda runner=runner: execute(spec, executor=runner), repeat)
            rates[w] = n / t
            print(
                f"\nDask LocalCluster, {w} worker{'s' if w > 1 else ''} x 1 thread: start-up {t_up:.2f} s; "
                f"sweep {t:.2f} s, {chunks / t:.2f} chunks/s, {n / t:,.0f} replicates/s"
            )
            if w == 1:
                overhead = _task_overhead(client, 300 if args.quick else 1000)
                print(f"  scheduler overhead per task (no-op tasks, one worker): {overhead * 1e3:.2f} ms")
            else:
                print(f"  speed-up from 1 to 2 workers: {rates[2] / rates[1]:.2f}x")
                scan = (2048, 8192, 32768) if args.quick else (1024, 4096, 16384, 65536)
                print("  chunk-size scan (histogram-mode results, as a large sweep ships them):")
                for cs in scan:
                    s2 = replace(build_spec(args.drill, n=n, seed=1, chunk_size=cs), exact=False)
                    t2 = _best(lambda s2=s2, runner=runner: execute(s2, executor=runner), 1)
                    print(f"    chunk {cs:>6,}: {n / t2:>10,.0f} replicates/s ({len(s2.work()) / t2:.1f} chunks/s)")
        finally:
            client.close()
            cluster.close()

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
        f"  exact-mode results add {b_exact / res_exact.n:.0f} B per replicate whatever the chunk size "
        f"({b_exact / res_exact.n * per_worker / 1e6:.0f} MB/s per worker at this rate); histogram results are "
        f"{b_hist / 1e3:.0f} kB per chunk"
    )
    print(f"  one core runs {per_core:,.0f} replicates/s in this process")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
