"""Compilation with numba, and what stands in for it on a machine without numba.

drsim's hot loops — the vectorized engine's event loop and the summaries of a
sweep's metrics — are plain Python in the subset numba compiles to machine
code. Every such loop takes its decorator from here, so there is one place
that decides whether code is compiled. numba is a dependency; without it the
same functions run as ordinary (slow) Python, which keeps the semantics
testable everywhere:

* :func:`njit` returns the function unchanged, with or without options;
* :data:`prange` is ``range``: a parallel loop runs serially;
* ``get_num_threads`` is 1 and ``set_num_threads`` does nothing.

Importing this module imports numba (about a tenth of a second): modules that
only sometimes compile import it when they first need it.
"""

from __future__ import annotations

try:  # numba is a dependency; the fallback keeps compiled code importable for debugging
    from numba import get_num_threads, njit, prange, set_num_threads

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    from typing import Any

    HAVE_NUMBA = False
    prange = range  # type: ignore[misc,assignment]  # numba's stubs declare prange a class

    def njit(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]  # stands in for numba's
        """The function itself (``@njit``), or a decorator returning it (``@njit(cache=True)``)."""
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

    def get_num_threads() -> int:  # type: ignore[misc]  # stands in for numba's
        """One thread: without numba nothing runs in parallel."""
        return 1

    def set_num_threads(n: int) -> None:  # type: ignore[misc]  # stands in for numba's
        """Nothing to set: without numba nothing runs in parallel."""


__all__ = ["HAVE_NUMBA", "get_num_threads", "njit", "prange", "set_num_threads"]
