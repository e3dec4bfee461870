"""Duration distributions, written the way people think about them.

A step of a runbook rarely takes exactly fifteen minutes. drsim lets a file say
how uncertain it is::

    90s                                   a fixed duration
    lognormal(p50=10m, p95=45m)           usually ten minutes, one time in twenty over 45
    triangular(5m, 10m, 30m)              at least 5, most often 10, at most 30 minutes
    exponential(mean=30s)                 memoryless waiting, e.g. a page being noticed
    uniform(1m, 2m)                       anything between one and two minutes
    empirical([4m, 6m, 6m, 9m, 25m])      replay of measured drill times
    gamma(shape=2, scale=5m)              a sum of ``shape`` exponential stages of mean ``scale``
    weibull(shape=1.5, scale=12m)         a waiting time whose hazard grows (shape > 1) or falls (< 1)

Gamma and Weibull are what ``drsim calibrate`` writes when they fit a team's
own records better than a lognormal does; ``shape`` is a plain number and
``scale`` a duration.

Every distribution turns a uniform random number ``u`` in [0, 1) into a duration
through its inverse cumulative distribution function (:meth:`Distribution.ppf`).
Both engines draw only uniforms and transform them here, so they consume the
very same draws; and because every ``ppf`` is monotone, a larger ``u`` always
means a longer duration (the basis of common random numbers).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.special import gamma as gamma_function
from scipy.special import gammaincinv, ndtri

from .units import MAX_DURATION, UnitError, format_duration, parse_duration, write_duration

__all__ = [
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Triangular",
    "Uniform",
    "Weibull",
    "parse_distribution",
    "split_top_level",
]

_Z = {50: 0.0, 75: 0.6744897501960817, 90: 1.2815515655446004, 95: 1.6448536269514722, 99: 2.3263478740408408}


class Distribution:
    """A non-negative random duration in seconds, sampled by inverse transform."""

    #: Whether every draw gives the same value (no random numbers needed).
    is_fixed: bool = False

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Durations (seconds) for uniform draws ``u`` in [0, 1)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """The expected duration in seconds."""
        raise NotImplementedError

    @property
    def low(self) -> float:
        """The smallest duration this distribution can give."""
        return float(self.ppf(np.array([0.0]))[0])

    def scaled(self, k: float) -> Distribution:
        """The same shape with every duration multiplied by ``k``."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short human summary (median or value)."""
        return format_duration(float(self.ppf(np.array([0.5]))[0]))


@dataclass(frozen=True)
class Fixed(Distribution):
    """A duration known in advance."""

    value: float
    is_fixed = True

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def mean(self):
        return self.value

    def scaled(self, k):
        return Fixed(self.value * k)

    def __str__(self):
        return write_duration(self.value)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """A right-skewed duration given by its median and a high percentile."""

    p50: float
    high: float
    high_pct: int = 95

    @property
    def sigma(self) -> float:
        # log of the ratio, not a difference of logs: exactly scale-free (lognormal(p50=2a, p95=2b)
        # has the very same sigma as lognormal(p50=a, p95=b)), and one rounding instead of two
        return math.log(self.high / self.p50) / _Z[self.high_pct]

    def ppf(self, u):
        return self.p50 * np.exp(self.sigma * ndtri(np.asarray(u, dtype=float)))

    @property
    def mean(self):
        return self.p50 * math.exp(self.sigma**2 / 2)

    def scaled(self, k):
        return LogNormal(self.p50 * k, self.high * k, self.high_pct)

    def __str__(self):
        return f"lognormal(p50={write_duration(self.p50)}, p{self.high_pct}={write_duration(self.high)})"


@dataclass(frozen=True)
class Triangular(Distribution):
    """A duration with a minimum, a most likely value and a maximum."""

    a: float
    c: float
    b: float

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        a, b, c = self.a, self.b, self.c
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @property
    def mean(self):
        return (self.a + self.b + self.c) / 3.0

    def scaled(self, k):
        return Triangular(self.a * k, self.c * k, self.b * k)

    def __str__(self):
        return f"triangular({write_duration(self.a)}, {write_duration(self.c)}, {write_duration(self.b)})"


@dataclass(frozen=True)
class Exponential(Distribution):
    """A memoryless waiting time with the given mean."""

    mean_value: float

    def ppf(self, u):
        return -self.mean_value * np.log1p(-np.asarray(u, dtype=float))

    @property
    def mean(self):
        return self.mean_value

    def scaled(self, k):
        return Exponential(self.mean_value * k)

    def __str__(self):
        return f"exponential(mean={write_duration(self.mean_value)})"


@dataclass(frozen=True)
class Uniform(Distribution):
    """Any duration between two bounds, all equally likely."""

    a: float
    b: float

    def ppf(self, u):
        return self.a + (self.b - self.a) * np.asarray(u, dtype=float)

    @property
    def mean(self):
        return (self.a + self.b) / 2.0

    def scaled(self, k):
        return Uniform(self.a * k, self.b * k)

    def __str__(self):
        return f"uniform({write_duration(self.a)}, {write_duration(self.b)})"


@dataclass(frozen=True)
class Empirical(Distribution):
    """One of the listed durations, each equally likely (e.g. past drill times)."""

    values: tuple[float, ...]

    def ppf(self, u):
        v = np.asarray(self.values, dtype=float)
        idx = np.minimum((np.asarray(u, dtype=float) * len(v)).astype(np.int64), len(v) - 1)
        return v[idx]

    @property
    def mean(self):
        return float(np.mean(self.values))

    def scaled(self, k):
        return Empirical(tuple(v * k for v in self.values))

    def __str__(self):
        return "empirical([" + ", ".join(write_duration(v) for v in self.values) + "])"


def _number(x: float) -> str:
    """A shape parameter written back exactly (``2``, ``1.4375``)."""
    return f"{x:g}" if float(f"{x:g}") == x else repr(float(x))


@dataclass(frozen=True)
class Gamma(Distribution):
    """A duration made of ``shape`` memoryless stages, each of mean ``scale`` (shape need not be whole)."""

    shape: float
    scale: float

    def ppf(self, u):
        return self.scale * gammaincinv(self.shape, np.asarray(u, dtype=float))

    @property
    def mean(self):
        return self.shape * self.scale

    def scaled(self, k):
        return Gamma(self.shape, self.scale * k)

    def __str__(self):
        return f"gamma(shape={_number(self.shape)}, scale={write_duration(self.scale)})"


@dataclass(frozen=True)
class Weibull(Distribution):
    """A waiting time whose chance of ending grows with time (shape > 1) or falls (shape < 1)."""

    shape: float
    scale: float

    def ppf(self, u):
        return self.scale * (-np.log1p(-np.asarray(u, dtype=float))) ** (1.0 / self.shape)

    @property
    def mean(self):
        return self.scale * float(gamma_function(1.0 + 1.0 / self.shape))

    def scaled(self, k):
        return Weibull(self.shape, self.scale * k)

    def __str__(self):
        return f"weibull(shape={_number(self.shape)}, scale={write_duration(self.scale)})"


_CALL = re.compile(r"^\s*([A-Za-z_]+)\s*\((.*)\)\s*$", re.S)
KNOWN = ("lognormal", "triangular", "exponential", "uniform", "empirical", "gamma", "weibull")
GRAMMAR_HINT = (
    "a duration such as '15m', or lognormal(p50=10m, p95=45m), triangular(5m, 10m, 30m), "
    "exponential(mean=30s), uniform(1m, 5m), empirical([4m, 6m, 9m]), gamma(shape=2, scale=5m), "
    "weibull(shape=1.5, scale=12m)"
)


def split_top_level(text: str) -> list[str]:
    """``text`` cut at the commas outside brackets, each part stripped; the last part is kept even
    when empty (``"a, f(b, c),"`` gives ``["a", "f(b, c)", ""]``)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def _split_args(body: str) -> list[str]:
    """A distribution's arguments: its body cut at top-level commas, a trailing comma allowed."""
    parts = split_top_level(body)
    if parts[-1] == "":
        parts.pop()
    return parts


def _kw(args: list[str], name: str) -> tuple[list[str], dict[str, str]]:
    pos, kws = [], {}
    for a in args:
        if "=" in a:
            k, v = a.split("=", 1)
            k = k.strip()
            if k in kws:
                raise UnitError(f"{name}(): '{k}' is given twice")
            kws[k] = v.strip()
        else:
            if kws:
                raise UnitError(f"{name}(): positional value {a!r} after a named one")
            pos.append(a)
    return pos, kws


#: A distribution whose quantile here exceeds the longest duration accepted is refused, as a
#: fixed duration over it is: a draw that long is a typo in a percentile, not a recovery time.
TAIL_QUANTILE = 0.999


def parse_distribution(text) -> Distribution:
    """The distribution written in ``text`` (see the module docstring for the grammar).

    A duration longer than :data:`~drsim.model.units.MAX_DURATION` (ten years) is
    refused, and so is a distribution whose 99.9th percentile is.
    """
    if isinstance(text, Distribution):
        return text
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected {GRAMMAR_HINT}; found {text!r}")
    dist = _parse(text)
    tail = float(dist.ppf(np.array([TAIL_QUANTILE]))[0])
    if not math.isfinite(tail) or tail > MAX_DURATION:
        raise UnitError(f"duration {text!r} is longer than ten years (99.9th percentile {tail:.2g}s); is it a typo?")
    return dist


_SHAPE = re.compile(r"^[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?$")


def _shape_scale(name: str, pos: list[str], kws: dict[str, str], text: str) -> Distribution:
    """``gamma(shape=K, scale=D)`` or ``weibull(shape=K, scale=D)``: a positive number and a positive duration."""
    if pos or set(kws) != {"shape", "scale"}:
        raise UnitError(
            f"{name}() takes shape= (a number) and scale= (a duration), e.g. {name}(shape=2, scale=5m); found {text!r}"
        )
    if not _SHAPE.match(kws["shape"]) or not 0 < float(kws["shape"]) < math.inf:
        raise UnitError(f"{name}(): shape must be a positive number such as 1.5, found {kws['shape']!r}")
    scale = parse_duration(kws["scale"])
    if scale <= 0:
        raise UnitError(f"{name}(): scale must be a positive duration, found {kws['scale']!r}")
    shape = float(kws["shape"])
    return Gamma(shape, scale) if name == "gamma" else Weibull(shape, scale)


def _parse(text: str) -> Distribution:
    m = _CALL.match(text)
    if not m:
        return Fixed(parse_duration(text))
    name, body = m.group(1).lower(), m.group(2)
    args = _split_args(body)
    if name not in KNOWN:
        raise UnitError(f"unknown distribution {m.group(1)!r}; expected one of {', '.join(KNOWN)}")
    pos, kws = _kw(args, name)
    if name == "lognormal":
        if pos or "p50" not in kws or len(kws) != 2:
            raise UnitError(
                "lognormal() takes p50= and one of p75=, p90=, p95=, p99=, "
                f"e.g. lognormal(p50=10m, p95=45m); found {text!r}"
            )
        (hk,) = [k for k in kws if k != "p50"]
        if not (hk.startswith("p") and hk[1:].isdigit() and int(hk[1:]) in _Z and int(hk[1:]) > 50):
            raise UnitError(f"lognormal(): unknown percentile {hk!r}; use p75, p90, p95 or p99")
        p50, hi = parse_duration(kws["p50"]), parse_duration(kws[hk])
        if p50 <= 0:
            raise UnitError(f"lognormal(): p50 must be positive, found {kws['p50']!r}")
        if hi <= p50:
            raise UnitError(f"lognormal(): {hk} ({kws[hk]}) must be greater than p50 ({kws['p50']})")
        return LogNormal(p50, hi, int(hk[1:]))
    if name == "triangular":
        if kws or len(pos) != 3:
            raise UnitError(f"triangular() takes three durations (min, mode, max); found {text!r}")
        a, c, b = (parse_duration(x) for x in pos)
        if not (a <= c <= b) or a == b:
            raise UnitError(f"triangular(min, mode, max) needs min <= mode <= max and min < max; found {text!r}")
        return Triangular(a, c, b)
    if name == "exponential":
        if pos or set(kws) != {"mean"}:
            raise UnitError(f"exponential() takes mean=, e.g. exponential(mean=30s); found {text!r}")
        mean = parse_duration(kws["mean"])
        if mean <= 0:
            raise UnitError(f"exponential(): mean must be positive, found {kws['mean']!r}")
        return Exponential(mean)
    if name in ("gamma", "weibull"):
        return _shape_scale(name, pos, kws, text)
    if name == "uniform":
        if kws or len(pos) != 2:
            raise UnitError(f"uniform() takes two durations (low, high); found {text!r}")
        a, b = (parse_duration(x) for x in pos)
        if not a < b:
            raise UnitError(f"uniform(low, high) needs low < high; found {text!r}")
        return Uniform(a, b)
    # empirical
    if kws or len(pos) != 1 or not (pos[0].startswith("[") and pos[0].endswith("]")):
        raise UnitError(f"empirical() takes one list, e.g. empirical([4m, 6m, 9m]); found {text!r}")
    items = [x.strip() for x in pos[0][1:-1].split(",") if x.strip()]
    if not items:
        raise UnitError("empirical() needs at least one duration in its list")
    return Empirical(tuple(sorted(parse_duration(x) for x in items)))
