"""Optional features and the extras that install them.

A plain ``pip install drsim`` replays drills, sweeps them (CSV output),
compares estates and gives one-at-a-time sensitivity and advice. Two features
rest on large libraries most users never need, so they come with extras:

* ``drsim[parquet]`` — Parquet files (``--out FILE.parquet``, a checkpointed
  sweep's ``summary.parquet``, ``SweepResult.to_parquet``): pyarrow;
* ``drsim[sensitivity]`` — Sobol indices (``drsim sensitivity --method sobol``,
  ``drsim.sobol``): SALib;
* ``drsim[all]`` — both, and the notebook front end.

A feature whose extra is missing stops before any work with one line naming
the extra to install (:class:`MissingExtra`, an input error: exit 2).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .errors import InputError, Problem


@dataclass(frozen=True)
class Extra:
    """An optional dependency: the extra that installs it and the module it provides."""

    name: str
    module: str
    package: str


#: The extras a feature may need, by name.
EXTRAS = {
    "parquet": Extra("parquet", "pyarrow", "pyarrow"),
    "sensitivity": Extra("sensitivity", "SALib", "SALib"),
}


class MissingExtra(InputError):
    """A feature needs an extra that is not installed; its message names the extra, on one line."""

    def __init__(self, feature: str, extra: Extra):
        message = (
            f"{feature} needs the optional package {extra.package}, which is not installed: "
            f"pip install 'drsim[{extra.name}]' (or 'drsim[all]')"
        )
        super().__init__(extra.name, [Problem(message)])
        self.feature = feature
        self.extra = extra

    def __str__(self) -> str:
        return self.problems[0].message


def installed(name: str) -> bool:
    """Whether the extra ``name`` (``parquet``, ``sensitivity``) is installed."""
    return importlib.util.find_spec(EXTRAS[name].module) is not None


def require(name: str, feature: str) -> None:
    """Refuse ``feature`` (``"writing Parquet files"``) unless the extra ``name`` is installed."""
    if not installed(name):
        raise MissingExtra(feature, EXTRAS[name])


__all__ = ["EXTRAS", "Extra", "MissingExtra", "installed", "require"]
