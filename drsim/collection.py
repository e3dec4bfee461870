"""Garbage collection paused while a large estate is built.

Loading a topology and compiling a plan create hundreds of thousands of small
objects (YAML nodes, validated models, tasks) that all stay alive. Python's
cyclic collector, triggered by the count of new objects, would then walk the
growing heap again and again while nothing can be freed: on an estate of 1,000
services that was about 40% of the load time. These steps run with it paused;
reference counting still frees what they drop at once.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (restored as it was on the way out)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def collection_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run with the cyclic garbage collector paused (see :func:`paused`)."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return fn(*args, **kwargs)

    return call
