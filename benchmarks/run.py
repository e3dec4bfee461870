"""Benchmark the engines on the reference estate, all figures measured in one run.

    python benchmarks/run.py            # 10^6 replicates, peak memory at 10^6 and 10^7 (about 2 minutes)
    python benchmarks/run.py --quick    # 10^5 replicates, peak memory at 10^5 and 10^6

Prints, for one bundled drill (default region-loss on ehr-hybrid):

* the DES (SimPy): replicates/s and events/s;
* the vectorized sweep end to end (draws, compiled kernel, outcomes,
  summaries; compilation excluded by a warm-up run) as users run it (the
  default executor: this process, one thread per core, so its CPU time is
  measurable) and in a process pool of one worker per core:
  replicates/s, the ratio to the DES per replicate, and a breakdown by stage
  (CPU time on one thread, the way each of the sweep's threads runs a chunk);
* the floor: the time to draw the same random numbers (``Draws.sample``:
  uniforms from every element's stream, transformed by its distribution),
  chunk by chunk, on one thread, best of as many passes as the sweep had
  runs — and the sweep's time over it; also the
  time to lay out the DES path's task-duration matrix (``task_durations``),
  which a sweep never builds;
* a pure-numpy implementation of the same exact dispatch, checked equal, as
  the baseline that avoiding a compiler would give;
* what each recovery mechanism the drill uses costs the compiled kernel: the
  drill with each one taken out (step failures, the escalation policy with its
  deputy and triggers, call-in, handover of running work), in nanoseconds
  per task-replicate on one thread, measured on the same draws in this run;
* peak memory (RSS high-water mark) of a whole sweep at two sizes, each in a
  fresh process.

Timings are wall-clock on whatever else the machine is doing: the load
average is printed before and after so noisy runs can be recognised.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def child(drill: str, n: int, chunk: int) -> None:
    """Run one sweep in this (fresh) process and report time and peak memory as JSON.

    ``peak_mib`` is this process's high-water mark; a sweep large enough for the default
    executor to start a process pool also runs in the pool's workers, so ``tree_mib`` adds
    them up: the largest total RSS of this process and all its descendants, sampled every 20 ms.
    """
    import threading

    from drsim.sweep import sweep

    tree = {"peak": 0.0}
    stop = threading.Event()

    def watch():
        import psutil

        me = psutil.Process()
        while not stop.wait(0.02):
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            tree["peak"] = max(tree["peak"], total / 2**20)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    res = sweep(drill, n=n, seed=1, chunk_size=chunk)
    dt = time.perf_counter() - t0
    stop.set()
    watcher.join()
    peak = _peak_rss_kib() / 1024
    out = {"n": n, "seconds": dt, "peak_mib": peak, "tree_mib": max(peak, tree["peak"]), "exact": res.exact}
    print(json.dumps(out))


def _peak_rss_kib() -> float:
    """This process's RSS high-water mark. Linux keeps ``ru_maxrss`` across fork and exec (a child
    would report its parent's peak), so the per-address-space ``VmHWM`` is read where it exists."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _memory(drill: str, n: int, chunk: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n), "--drill", drill, "--chunk-size", str(chunk)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best(fn, repeat: int) -> tuple[float, float]:
    """Best wall-clock time of ``repeat`` runs, and the CPU time (all threads) of that run."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        run = (time.perf_counter() - t0, time.process_time() - c0)
        best = min(best, run)
    return best


#: Recovery mechanisms and the keys whose removal (anywhere in the topology or the drill) takes each out.
MECHANISMS = {
    "step failures and retries": ("failure",),
    "escalation policy, deputy and triggers": ("escalation", "deputy", "declare_when"),
    "call-in": ("call_in",),
    "handover of running work": ("handover",),
}


def _without(doc, keys: tuple[str, ...]):
    """A copy of the YAML document ``doc`` with every mapping entry named in ``keys`` removed."""
    if isinstance(doc, dict):
        return {k: _without(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [_without(v, keys) for v in doc]
    return doc


def variant_plan(drill: str, keys: tuple[str, ...] = ()):
    """The bundled ``drill`` on the reference estate, compiled with every entry named in ``keys`` removed."""
    import yaml

    from drsim.model.loader import drill_from_text, resolve, topology_from_text
    from drsim.plan import compile_plan

    topo_doc = yaml.safe_load(Path(resolve("ehr-hybrid", "topologies")).read_text())
    drill_doc = yaml.safe_load(Path(resolve(drill, "drills")).read_text())
    topo = topology_from_text(yaml.safe_dump(_without(topo_doc, keys)), "ehr-hybrid.yaml")
    return compile_plan(topo, drill_from_text(yaml.safe_dump(_without(drill_doc, keys)), topo, drill))


def mechanism_costs(drill: str, n: int, repeat: int) -> list[tuple[str, int, float]]:
    """(variant, tasks, kernel ns per task-replicate on one thread) for the drill as bundled, without each
    mechanism in turn, and without them all."""
    import numba

    from drsim.engine import vectorized
    from drsim.engine.draws import Draws

    every = tuple(k for keys in MECHANISMS.values() for k in keys)
    variants = {"as bundled": ()} | {f"without {m}": keys for m, keys in MECHANISMS.items()} | {"without all": every}
    out = []
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for name, keys in variants.items():
            plan = variant_plan(drill, keys)
            draws = Draws.sample(plan.elements(), 1, n)
            kp = vectorized.prepare(plan)
            vectorized.finish_times(plan, draws, kp=kp, parallel=False)  # compile for this plan's shape
            t, _ = _best(
                lambda plan=plan, draws=draws, kp=kp: vectorized.finish_times(plan, draws, kp=kp, parallel=False),
                repeat,
            )
            out.append((name, len(plan.tasks), t / (n * len(plan.tasks)) * 1e9))
    finally:
        numba.set_num_threads(threads)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 20 seconds)")
    ap.add_argument("--drill", default="region-loss")
    ap.add_argument("--chunk-size", type=int, default=65536)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args.drill, args.child, args.chunk_size)
        return

    import numba

    from drsim.api import prepare
    from drsim.engine import des, vectorized
    from drsim.engine.draws import Draws, task_durations
    from drsim.engine.outcomes import evaluate
    from drsim.sweep import build_spec, replay_chunk, score_chunk, sweep

    sys.path.insert(0, str(HERE))
    import numpy_fcfs

    n_vec = 100_000 if args.quick else 1_000_000
    n_des = 200 if args.quick else 1000
    n_np = 5_000 if args.quick else 20_000
    mem_sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    chunk = args.chunk_size
    repeat = 2 if args.quick else 3

    plan = prepare(args.drill)
    print(f"drsim benchmark: drill {args.drill} on {plan.topology.name}")
    print(
        f"  {len(plan.tasks)} tasks, {len(plan.elements())} random elements, "
        f"{sum(1 for t in plan.tasks if t.role)} staffed tasks, staff {dict(plan.capacity)}"
    )
    print(
        f"  machine: {os.cpu_count()} CPUs, numba {numba.__version__} on {numba.get_num_threads()} threads, "
        f"numpy {np.__version__}; load average {os.getloadavg()[0]:.2f} at start"
    )

    # ---- warm-up: compile the kernels (excluded from every timing below)
    t0 = time.perf_counter()
    sweep(args.drill, n=2000, seed=0)
    print(f"  warm-up (compilation or cache load): {time.perf_counter() - t0:.2f} s")

    # ---- DES
    d_des = Draws.sample(plan.elements(), 1, n_des)
    t0, c0 = time.perf_counter(), time.process_time()
    by_des = des.run_many(plan, d_des)
    f_des, events = by_des.finish, by_des.events
    t_des, c_des = time.perf_counter() - t0, time.process_time() - c0
    des_rate = n_des / t_des
    print(
        f"\nDES (SimPy), {n_des:,} replicates: {des_rate:,.0f} replicates/s, {events / t_des:,.0f} events/s "
        f"({n_des / c_des:,.0f} replicates per CPU-second)"
    )

    # ---- vectorized sweep, end to end, as users run it: the default executor ("local"), which for the
    # vectorized engine is this process, one thread per core, so process_time() sees all its CPU time;
    # and in a process pool started for each sweep
    from drsim.sweep.executors import cores

    t_vec, c_vec = _best(lambda: sweep(args.drill, n=n_vec, seed=1, chunk_size=chunk), repeat)
    t_pool, _ = _best(lambda: sweep(args.drill, n=n_vec, seed=1, chunk_size=chunk, workers=cores()), repeat)
    vec_rate = n_vec / t_vec
    print(
        f"\nVectorized sweep, {n_vec:,} replicates (best of {repeat}), default executor (this process, one "
        f"thread per core): {t_vec:.2f} s, {vec_rate:,.0f} replicates/s, {c_vec:.2f} CPU-seconds on all threads "
        f"({n_vec / c_vec:,.0f} replicates per CPU-second)"
    )
    print(f"  in a process pool of {cores()} workers (executor='local', workers={cores()}): {t_pool:.2f} s")
    print(
        f"  ratio to the DES per replicate: {vec_rate / des_rate:,.0f}x wall-clock, "
        f"{(n_vec / c_vec) / (n_des / c_des):,.0f}x per CPU-second"
    )

    # ---- stage breakdown and the floor, over the same chunks, each stage as a sweep's thread runs it:
    # on one thread (the floor is the draws, Draws.sample, on one thread)
    spec = build_spec(args.drill, n=n_vec, seed=1, chunk_size=chunk)
    pt = spec.points[0]
    stages = dict.fromkeys(["draws", "durations", "kernel", "outcomes", "scoring"], 0.0)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for c in range(spec.n_chunks):
            lo, hi = spec.chunk_range(c)
            c0 = time.process_time()
            dr = Draws.sample(plan.elements(), spec.seed, hi - lo, start=lo)
            c1 = time.process_time()
            task_durations(plan, dr)
            c2 = time.process_time()
            replayed = replay_chunk(spec, c, 0, dr)
            c3 = time.process_time()
            evaluate(pt.plan, dr, replayed.finish)
            c4 = time.process_time()
            score_chunk(spec, replayed)
            c5 = time.process_time()
            for key, dt in zip(stages, (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4)):
                stages[key] += dt
    finally:
        numba.set_num_threads(threads)
    us = 1e6 / n_vec
    one_thread = stages["draws"] + stages["kernel"] + stages["scoring"]
    print("  stages, CPU-microseconds per replicate on one thread (how each of the sweep's threads runs a chunk):")
    print(f"    draws (Draws.sample)                      {stages['draws'] * us:6.2f}")
    print(f"    kernel (exact FCFS)                       {stages['kernel'] * us:6.2f}")
    print(
        f"    outcomes and summaries ({len(pt.metrics)} metrics, "
        f"{'exact' if spec.exact else 'histograms'})   {stages['scoring'] * us:6.2f}"
        f"  (outcomes alone {stages['outcomes'] * us:.2f})"
    )
    print(
        f"    together {one_thread * us:.2f}; the sweep in this process spent {c_vec * us:.2f} "
        f"on its {numba.get_num_threads()} threads"
    )

    # the floor, best of as many passes as the sweep had runs: every chunk's draws on one thread
    def draw_all():
        for c in range(spec.n_chunks):
            lo, hi = spec.chunk_range(c)
            Draws.sample(plan.elements(), spec.seed, hi - lo, start=lo)

    floor, _ = _best(draw_all, repeat)
    print(
        f"  floor (the random numbers alone, Draws.sample on one thread, best of {repeat}): {floor:.2f} s; "
        f"sweep time / floor: {t_vec / floor:.2f}"
    )
    print(
        f"  task_durations (the DES path's duration matrix, never built by a sweep) {stages['durations'] * us:.2f}; "
        f"sweep time / (Draws.sample + task_durations, the DES path's inputs): "
        f"{t_vec / (floor + stages['durations']):.2f}"
    )

    # ---- numpy baseline (it does not hand running work over: it runs the drill without handovers)
    p_np = variant_plan(args.drill, MECHANISMS["handover of running work"]) if plan.shift_changes else plan
    d_np = Draws.sample(p_np.elements(), 1, n_np)
    D = task_durations(p_np, d_np)
    t0 = time.perf_counter()
    f_np = numpy_fcfs.finish_times(p_np, D)
    t_np = time.perf_counter() - t0
    f_k = vectorized.run_many(p_np, d_np).finish
    same = np.array_equal(f_np, f_k)
    t_k, _ = _best(lambda: vectorized.run_many(p_np, d_np), repeat)
    print(
        f"\nSame dispatch in pure numpy (lockstep masked argmin), {n_np:,} replicates"
        f"{' (without handovers, which it does not model)' if p_np is not plan else ''}: {n_np / t_np:,.0f} "
        f"replicates/s (compiled kernel on the same durations: {n_np / t_k:,.0f}/s); identical task times: {same}"
    )
    print(
        f"  DES check: DES and kernel identical on the first {n_des:,}: "
        f"{np.array_equal(f_des, vectorized.run_many(plan, d_des).finish)}"
    )

    # ---- what each mechanism costs the kernel
    print(
        f"\nWhat each mechanism costs ({args.drill}; draws to finish times, compiled kernel on one thread, "
        f"{n_np:,} replicates, best of {repeat}):"
    )
    costs = mechanism_costs(args.drill, n_np, repeat)
    base = costs[0][2]
    for name, tasks, ns in costs:
        print(f"  {name:<48} {tasks:4d} tasks  {ns:7.1f} ns per task-replicate ({ns / base:5.2f}x as bundled)")

    # ---- peak memory, fresh processes
    print("\nPeak memory of a whole sweep, default executor (RSS high-water mark, fresh process each):")
    base = _memory(args.drill, 1000, chunk)
    print(f"  {base['n']:>12,} replicates: {base['peak_mib']:7.0f} MiB  (imports and compiled code: the baseline)")
    for n in mem_sizes:
        r = _memory(args.drill, n, chunk)
        where = f"; with any child process: {r['tree_mib']:.0f} MiB in all" if r["tree_mib"] > r["peak_mib"] + 1 else ""
        print(
            f"  {n:>12,} replicates: {r['peak_mib']:7.0f} MiB  in {r['seconds']:.1f} s "
            f"({'exact' if r['exact'] else 'histograms'}; includes first-run cache load){where}"
        )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
