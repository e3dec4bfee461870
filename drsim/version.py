"""The version of drsim installed, in a module of its own.

Pages, checkpoints and reports stamp the version that wrote them. They import
it from here rather than from the ``drsim`` package, whose ``__init__`` imports
them in turn: a module the package imports must not import the package back.
"""

from __future__ import annotations

from importlib.metadata import version

try:
    __version__ = version("drsim")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
