"""Executors: where the chunks of a sweep run.

A sweep is cut into chunks (:mod:`drsim.sweep.chunks`), each a pure function of a
picklable spec, its index and its grid point, so a chunk gives the same numbers
wherever it runs. An executor only decides *where*:

``"inline"``
    in this process, on one thread per core: each thread draws, replays and
    scores whole chunks on its own, so every core stays busy without starting
    any process.
``"local"``
    the best choice on this machine: ``"inline"`` for the vectorized engine;
    for the DES, whose SimPy code holds the GIL, a pool of worker processes,
    one per core (started with ``forkserver`` — never ``fork`` — so no worker
    inherits the compiled kernel's threads), each running one chunk at a time
    on one thread. ``workers=N`` asks for a pool of ``N`` whatever the engine.
    ``benchmarks/scaling.py`` measures the choice.
``"dask"``
    a Dask cluster: an existing one (``scheduler="tcp://host:8786"``) or a
    ``distributed.LocalCluster`` of ``workers`` processes started for the
    sweep and shut down after it. The spec is sent to every worker once;
    each task then carries only its chunk and point. A worker lost mid-sweep
    has its chunks rescheduled by Dask; results are merged by chunk index, so
    a chunk reported twice counts once.

The Python API also takes a ``distributed.Client`` or any
:class:`concurrent.futures.Executor` (anything with ``submit(fn, *args)``
returning a future).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait
from multiprocessing.context import BaseContext
from typing import Any

from ..errors import InputError, Problem
from .chunks import ChunkResult, SweepSpec, compiled_threads, run_chunk

EXECUTORS = ("local", "inline", "dask")
DASK_HINT = "pip install 'drsim[dask]'"


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Runner:
    """Runs the chunks of a sweep somewhere and yields their results as they finish."""

    name = "runner"
    workers = 1

    def run(self, spec: SweepSpec, work: Iterable[tuple[int, int]]) -> Iterator[ChunkResult]:
        """Run every ``(point, chunk)`` of ``work``; yield each result as it finishes, in any order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what this runner started (never what the caller passed in)."""


class InlineRunner(Runner):
    """Chunks in this process, on one thread per core, each thread running whole chunks on its own.

    A chunk is drawn, replayed and scored on one thread (the compiled kernel,
    the sampling and the summaries all release the GIL), and every thread takes
    the next chunk as soon as it is done with one: no core waits for another
    step to finish, and no process has to be started. A sweep of a single
    chunk instead runs that chunk with every step spread over all the threads.
    The DES engine runs chunks one after another: SimPy holds the GIL, so
    threads would only take turns.

    Results come as chunks finish (the sweep merges them in chunk order); at
    most one finished result per thread waits to be taken.
    """

    name = "inline"

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def _thread_count(self, spec: SweepSpec, chunks: int) -> int:
        if spec.engine != "vectorized":
            return 1
        # no more chunks at once than fit the memory budget: one chunk then runs on every thread
        return max(1, min(self.threads or compiled_threads(), chunks, spec.at_once))

    def run(self, spec: SweepSpec, work: Iterable[tuple[int, int]]) -> Iterator[ChunkResult]:
        work = list(work)
        threads = self._thread_count(spec, len(work))
        if threads == 1:
            for p, c in work:
                yield run_chunk(spec, c, p)
            return
        yield from _on_threads(spec, work, threads)


_DONE = object()


def _on_threads(spec: SweepSpec, work: list[tuple[int, int]], threads: int) -> Iterator[ChunkResult]:
    """Run ``work`` on ``threads`` threads of this process, each chunk on one thread; yield results."""
    # start-up time: drsim.jit imports numba, which only a sweep that runs chunks needs
    from ..jit import set_num_threads

    todo = iter(work)
    lock = threading.Lock()
    stop = threading.Event()
    results: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=threads)

    def worker() -> None:
        set_num_threads(1)  # this thread's compiled code and sampling run on this thread only
        try:
            while not stop.is_set():
                with lock:
                    item = next(todo, None)
                if item is None:
                    break
                p, c = item
                results.put(("ok", run_chunk(spec, c, p)))
        except BaseException as exc:  # handed to the sweep's thread, which raises it
            results.put(("error", exc))
        finally:
            results.put(("done", _DONE))

    pool = [threading.Thread(target=worker, name=f"drsim-chunk-{k}", daemon=True) for k in range(threads)]
    for t in pool:
        t.start()
    running = threads
    try:
        while running:
            kind, value = results.get()
            if kind == "done":
                running -= 1
            elif kind == "error":
                raise value
            else:
                yield value
    finally:
        stop.set()
        while running:  # let every thread finish its chunk and leave, whatever the caller does
            kind, _ = results.get()
            running -= kind == "done"


class SubmitRunner(Runner):
    """Chunks submitted to a caller's executor: anything with ``submit(fn, *args)`` returning a future."""

    name = "executor"

    def __init__(self, executor: Any, workers: int | None = None):
        self.executor = executor
        self.workers = workers or getattr(executor, "_max_workers", None) or 1

    def run(self, spec: SweepSpec, work: Iterable[tuple[int, int]]) -> Iterator[ChunkResult]:
        pending = {self.executor.submit(run_chunk, spec, c, p) for p, c in work}  # submitted in chunk order
        try:
            for fut in concurrent.futures.as_completed(pending):
                # forget the future before handing its result on: a merged chunk result must not stay
                # alive here until the sweep ends (153 of them are 340 MB at 10^7 replicates)
                pending.discard(fut)
                yield fut.result()
        finally:
            for fut in pending:
                fut.cancel()


class PoolRunner(SubmitRunner):
    """A pool of worker processes on this machine, one chunk at a time each, started for one sweep."""

    name = "local"

    def __init__(self, workers: int, threads: int = 1):
        ctx = _context()
        pool = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_start_worker, initargs=(threads,)
        )
        super().__init__(pool, workers)
        self.threads = threads

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _context() -> BaseContext:
    """How pool workers start: ``forkserver`` where there is one, else ``spawn`` — never ``fork``."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        # workers fork from a server that has imported drsim and numba but never run a kernel
        ctx.set_forkserver_preload(["drsim.sweep", "drsim.engine.vectorized"])
    return ctx


def _start_worker(threads: int) -> None:
    """Set up a pool worker: ``threads`` compiled-kernel threads, and exit if the sweep's process dies."""
    try:
        import numba  # start-up time: a worker imports numba as it starts, not drsim as it loads

        numba_config: Any = numba.config  # its settings are attributes set at run time, unseen by mypy
        numba.set_num_threads(max(1, min(threads, numba_config.NUMBA_NUM_THREADS)))
    except ImportError:  # pragma: no cover
        pass
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        sentinel = parent.sentinel

        def watch() -> None:
            wait([sentinel])
            os._exit(1)  # the sweep's process is gone (killed): do not linger as an orphan

        threading.Thread(target=watch, name="drsim-parent-watch", daemon=True).start()


class DaskRunner(Runner):
    """Chunks as tasks on a Dask cluster."""

    name = "dask"

    def __init__(self, client: Any, cluster: Any = None, own_client: bool = False):
        self.client = client
        self.cluster = cluster
        self.own_client = own_client

    def run(self, spec: SweepSpec, work: Iterable[tuple[int, int]]) -> Iterator[ChunkResult]:
        from distributed import as_completed  # optional dependency: Dask

        work = list(work)
        if not work:
            return
        # the spec goes to every worker once; tasks refer to it and carry only their chunk and point
        shared = self.client.scatter(spec, broadcast=True, hash=False)
        futures = [self.client.submit(run_chunk, shared, c, p, key=chunk_key(spec, p, c), retries=0) for p, c in work]
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                res = fut.result()
                fut.release()
                yield res
        finally:
            self.client.cancel(futures)
            self.client.cancel([shared])

    def close(self) -> None:
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def chunk_key(spec: SweepSpec, point: int, chunk: int) -> str:
    """The Dask key of a chunk's task: the same chunk of the same sweep always has the same key."""
    return f"drsim-chunk-{spec.config_hash[:16]}-{point}-{chunk}"


def _dask() -> Any:
    """The ``distributed`` module, or an :class:`InputError` that says how to install it."""
    try:
        import distributed  # optional dependency: Dask
    except ImportError:
        raise InputError(
            "executor 'dask'",
            [Problem(f"Dask is not installed; install the optional extra with: {DASK_HINT}")],
        ) from None
    return distributed


def is_dask_client(obj: object) -> bool:
    """Whether ``obj`` is a ``distributed.Client`` (without importing Dask to find out)."""
    mod = sys.modules.get("distributed")
    return mod is not None and isinstance(obj, mod.Client)


def check_scheduler_address(scheduler: str) -> None:
    """Refuse (:class:`InputError`) a Dask scheduler address that is not ``[PROTOCOL://]HOST:PORT``."""
    distributed = _dask()
    try:
        _scheme, location = distributed.comm.parse_address(scheduler)
        distributed.comm.addressing.parse_host_port(location)
    except ValueError as exc:
        raise InputError(
            f"--scheduler {scheduler}", [Problem(f"not a scheduler address (expected tcp://HOST:PORT): {exc}")]
        ) from None


def start_dask(scheduler: str | None = None, workers: int | None = None) -> DaskRunner:
    """Connect to the Dask scheduler at ``scheduler``, or start a LocalCluster of ``workers`` processes."""
    distributed = _dask()
    if scheduler:
        if workers is not None:
            raise InputError(
                "--workers", [Problem("a cluster at --scheduler has its own workers; --workers sizes a local one")]
            )
        # an address that is not one is refused before a Client exists: a half-built Client
        # spends 20 s closing itself and prints a traceback while the process exits
        check_scheduler_address(scheduler)
        try:
            client = distributed.Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}", [Problem(f"cannot reach the Dask scheduler: {exc}")]) from None
        return DaskRunner(client, own_client=True)
    cluster = local_cluster(workers or cores())
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return DaskRunner(client, cluster=cluster, own_client=True)


#: Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's
#: adaptive mmap threshold: every large array a chunk allocates is then mapped and unmapped
#: afresh, and a chunk ran about 40% slower (benchmarks/scaling.py). Clusters drsim starts leave
#: it unset; see docs/sweeps.md, "Sweeps beyond one machine", for clusters started by other means.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(workers: int, threads: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-task processes on 127.0.0.1, no dashboard.

    The compiled kernel in each runs on ``threads`` threads (default: an equal share of the cores).
    """
    # optional dependency: Dask
    import dask
    import distributed

    kernel_threads = str(threads or max(1, cores() // workers))
    with dask.config.set(WORKER_CONFIG):
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # no dashboard; metrics on a free port
            host="127.0.0.1",
            env={"NUMBA_NUM_THREADS": kernel_threads, "OMP_NUM_THREADS": kernel_threads},
        )


def local(spec: SweepSpec, workers: int | None = None) -> Runner:
    """The best way to run ``spec`` on this machine (see the module docstring).

    The vectorized engine runs on this process's threads: on 2 cores (region-loss) 10^6
    replicates took 1.08 s there against 1.34 s on a pool of 2 workers, 3 x 10^6 2.97-3.11 s
    against 3.39-3.87 s, 10^7 9.84-10.10 s against 10.60-11.03 s — a pool only adds starting
    its processes and loading the compiled kernel in each. The DES holds the GIL, so it
    gets a process per core.
    """
    chunks = len(spec.work())
    if workers is not None:
        n = min(workers, chunks)
        return PoolRunner(n, threads=max(1, cores() // n)) if n > 1 else InlineRunner()
    n = min(cores(), chunks)
    if n < 2 or spec.engine == "vectorized":
        return InlineRunner()
    return PoolRunner(n, threads=1)


def _check_workers(workers: object) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError("sweep", [Problem(f"workers must be a whole number >= 1, found {workers!r}", ("workers",))])


@contextmanager
def open_runner(
    executor: Any = None, spec: SweepSpec | None = None, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Runner]:
    """The :class:`Runner` for ``executor``, closed (with anything it started) on exit.

    ``executor`` is ``None`` or ``"inline"``, ``"local"``, ``"dask"``, a
    ``distributed.Client``, a :class:`concurrent.futures.Executor` (anything
    with ``submit``), or a :class:`Runner`. ``workers`` sizes a pool or a
    LocalCluster drsim starts; ``scheduler`` is the address of an existing
    Dask cluster (and implies ``"dask"``).
    """
    _check_workers(workers)
    if executor is None:
        executor = "dask" if scheduler else "inline"
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise InputError(
                "sweep",
                [Problem(f"executor must be one of {', '.join(EXECUTORS)}, found {executor!r}", ("executor",))],
            )
        if scheduler and executor != "dask":
            raise InputError("--scheduler", [Problem(f"a scheduler address needs the dask executor, not {executor!r}")])
        if executor == "inline" and workers is not None:
            raise InputError(
                "--workers", [Problem("the inline executor runs in this process; --workers needs local or dask")]
            )
    elif scheduler or workers is not None:
        raise InputError("sweep", [Problem("workers and scheduler apply only to a named executor (local, dask)")])

    if isinstance(executor, Runner):
        runner, owned = executor, False
    elif executor == "inline":
        runner, owned = InlineRunner(), True
    elif executor == "local":
        if spec is None:
            raise ValueError("the local executor chooses how to run a sweep from its spec; pass spec")
        runner, owned = local(spec, workers), True
    elif executor == "dask":
        runner, owned = start_dask(scheduler, workers), True
    elif is_dask_client(executor):
        runner, owned = DaskRunner(executor), True  # closing it leaves the caller's client alone
    elif hasattr(executor, "submit"):
        runner, owned = SubmitRunner(executor), True
    else:
        raise InputError(
            "sweep",
            [
                Problem(
                    "executor must be 'local', 'inline', 'dask', a distributed.Client or an executor with "
                    f"submit(), found {executor!r}",
                    ("executor",),
                )
            ],
        )
    try:
        yield runner
    finally:
        if owned:
            runner.close()


__all__ = [
    "EXECUTORS",
    "DaskRunner",
    "InlineRunner",
    "PoolRunner",
    "Runner",
    "SubmitRunner",
    "check_scheduler_address",
    "chunk_key",
    "cores",
    "local",
    "local_cluster",
    "open_runner",
    "start_dask",
]
