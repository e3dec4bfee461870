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

Compiled code is cached beside the package, or in the user's cache folder
(``~/.cache``); where neither can be written (a read-only install and home),
numba would refuse to cache at all ("no locator available"), so
:func:`cache_fallback` points ``NUMBA_CACHE_DIR`` at a private folder under the
system's temporary directory first. A ``NUMBA_CACHE_DIR`` already set is left alone.

:func:`is_compiled` says whether calling a compiled function will start at
once (machine code loaded in this process or cached for this machine) or
compile first, so a caller can say so before a wait of half a minute.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` or, if it does not exist yet, in its nearest existing parent."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".drsim-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def cache_fallback(package: Path | None = None, user_cache: Path | None = None) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` when numba could cache nowhere; return the folder chosen (None: not needed)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package = package if package is not None else Path(__file__).parent
    xdg = os.environ.get("XDG_CACHE_HOME")
    user_cache = user_cache if user_cache is not None else Path(xdg or Path.home() / ".cache")
    if _writable(package) or _writable(user_cache):
        return None
    folder = Path(tempfile.gettempdir()) / f"drsim-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)  # read by numba as it loads, and by every worker process
    return str(folder)


def is_compiled(dispatcher: object) -> bool | None:
    """Whether ``dispatcher`` (an ``njit(cache=True)`` function) runs without compiling first.

    True when this process has compiled or loaded it already, or when numba's cache holds machine
    code for it, its current source and this machine; False when the first call will compile;
    None when that cannot be told (numba absent, or a numba whose cache is laid out differently).
    """
    if not HAVE_NUMBA:
        return None
    try:
        if dispatcher.signatures:  # type: ignore[attr-defined]
            return True
        cache = dispatcher._cache  # type: ignore[attr-defined]
        index = cache._cache_file._load_index()  # {} when missing, stale or from another numba
        magic = dispatcher.targetctx.codegen().magic_tuple()  # type: ignore[attr-defined]
        return any(isinstance(key, tuple) and len(key) > 1 and key[1] == magic for key in index)
    except Exception:  # numba internals: an unknown layout means "cannot tell", never a failed run
        return None


cache_fallback()

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


__all__ = ["HAVE_NUMBA", "get_num_threads", "is_compiled", "njit", "prange", "set_num_threads"]
