"""Summaries of many replicates that merge exactly, whatever the grouping.

A sweep runs replicates in chunks and combines what each chunk tells about
each metric. Everything here merges exactly and deterministically: counts add,
and the one floating-point sum is added in chunk order.

* **Percentiles** use the inverted empirical CDF: the ``q`` percentile of ``n``
  values is the ``k``-th smallest with ``k = ceil(q n)``. So "P95 <= 15m"
  holds exactly when at least ``ceil(0.95 n)`` replicates are within 15m, and a
  percentile gate can be decided from a count.
* **Probabilities** of meeting a bound are counts over ``n`` with a Wilson 95%
  score interval (sound near 0 and 1, unlike the normal approximation).
* **Values**: a :class:`Summary` either keeps every value (exact percentiles)
  or a log-spaced histogram with ``2**-10`` relative bin width — 0.05% worst-case
  error at the bin midpoint, far below the Monte Carlo error of any percentile
  a sweep can estimate — whose memory does not grow with the replicates.
  Counts against the bounds that matter (targets, gate bounds), the mean,
  minimum and maximum are exact either way.

A value of ``inf`` means "never" (a service not restored); ``nan`` (a latency
between two events that never happened) is counted as ``inf`` too.

When every replicate's value is kept (a comparison of estates, a what-if), the
same percentiles come with 95% intervals: distribution-free order statistics for
one percentile, the normal interval for a mean, and a paired bootstrap for the
difference between two estates' percentiles on common random numbers
(:func:`paired_quantile_differences`; see :mod:`drsim.analysis.compare`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .engine.draws import stable_hash

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: The percentiles every sweep reports.
PERCENTILES = (50, 90, 95, 99)
#: Bootstrap resamples for a paired difference between percentiles.
BOOTSTRAP = 400

#: Mantissa bits kept in a histogram bin: relative bin width 2**-BITS.
BITS = 10
#: Binned range [2**LOW_EXP, 2**HIGH_EXP): about 1 ms to 136 years (or messages).
LOW_EXP, HIGH_EXP = -10, 32
#: Bin 0 holds values below the range (zero), then the log bins, then overflow and ``inf``.
N_LOG = (HIGH_EXP - LOW_EXP) << BITS
OVER, INF = N_LOG + 1, N_LOG + 2
N_BINS = N_LOG + 3
_FIRST = (1023 + LOW_EXP) << BITS


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion of ``k`` successes in ``n`` trials."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo = 0.0 if k <= 0 else max(0.0, centre - half)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return (lo, hi)


def rank(q: float, n: int) -> int:
    """The 1-based rank of the ``q`` quantile (0 < q < 1) among ``n`` values: ``ceil(q n)``."""
    # the small tolerance keeps e.g. 0.95 * 100 (= 95.00000000000001) at rank 95
    return min(n, max(1, math.ceil(q * n - 1e-9)))


def rank_interval(q: float, n: int, z: float = Z95) -> tuple[int, int]:
    """Ranks ``(l, u)`` such that ``[x_(l), x_(u)]`` covers the true ``q`` quantile with ~95%.

    Distribution-free: the number of values below the true quantile is
    binomial(n, q); the interval uses its normal approximation, widened to
    whole ranks and clamped to ``[1, n]``.
    """
    sd = math.sqrt(n * q * (1 - q))
    lo = math.floor(n * q - z * sd)
    hi = math.ceil(n * q + z * sd) + 1
    return (min(n, max(1, lo)), min(n, max(1, hi)))


def bin_edges(b: int) -> tuple[float, float]:
    """The values ``[lo, hi)`` histogram bin ``b`` holds."""
    if b == 0:
        return (-math.inf, 2.0**LOW_EXP)
    if b == OVER:
        return (2.0**HIGH_EXP, math.inf)
    if b == INF:
        return (math.inf, math.inf)
    bits = np.array([(b - 1 + _FIRST) << (52 - BITS), (b + _FIRST) << (52 - BITS)], dtype=np.int64)
    lo, hi = bits.view(np.float64)
    return (float(lo), float(hi))


def _scan(x, xbits, bounds, counts, n_le, n_lt, values):
    """One pass over ``x`` (and its bit patterns ``xbits``): finite sum, count of ``inf``,
    min, max, the histogram ``counts`` (if it has all :data:`N_BINS` bins) or every value
    into ``values`` (if it has room for them), then the counts against each bound.

    A metric with one value in every replicate (nothing lost, say) is counted at once:
    bumping one bin once per replicate would make each count wait for the last.

    Returns the sum, the count of ``inf``, min, max and the lowest and highest log bin
    used (the occupied bins are among those, 0, OVER and INF).
    """
    n = x.shape[0]
    binned = counts.shape[0] == N_BINS
    keep = values.shape[0] == n
    shift = 52 - BITS

    def bin_of(v, bits):
        """The histogram bin of ``v`` (``nan`` already counted as ``inf``), whose bits are ``bits``."""
        if v < 2.0**LOW_EXP:
            return 0
        if v >= 2.0**HIGH_EXP:
            return INF if v == np.inf else OVER
        return (bits >> shift) - _FIRST + 1

    same = n > 0
    for i in range(n):
        if xbits[i] != xbits[0]:
            same = False
            break
    if same:
        v = x[0]
        if np.isnan(v):
            v = np.inf
        if keep:
            values[:] = v
        total = 0.0
        if v != np.inf and v != 0.0:
            for _ in range(n):  # the same additions, in the same order, as below
                total += v
        b = bin_of(v, xbits[0]) if binned else 0
        if binned:
            counts[b] += n
        log_bin = binned and 0 < b < OVER
        for j in range(bounds.shape[0]):
            n_le[j] = n if v <= bounds[j] else 0
            n_lt[j] = n if v < bounds[j] else 0
        return total, n if v == np.inf else 0, v, v, b if log_bin else N_BINS, b if log_bin else 0
    total = 0.0
    n_inf = 0
    lo = np.inf
    hi = -np.inf
    b_lo, b_hi = N_BINS, 0  # no log bin used yet
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            v = np.inf
        if keep:
            values[i] = v
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        if v == np.inf:
            n_inf += 1
        else:
            total += v
        if binned:
            b = bin_of(v, xbits[i])
            if 0 < b < OVER:
                b_lo = min(b_lo, b)
                b_hi = max(b_hi, b)
            counts[b] += 1
    # each bound on its own: branch-free counts the compiler vectorises
    for j in range(bounds.shape[0]):
        bound = bounds[j]
        le = 0
        lt = 0
        for i in range(n):
            v = x[i]
            if np.isnan(v):
                v = np.inf
            le += v <= bound
            lt += v < bound
        n_le[j] = le
        n_lt[j] = lt
    return total, n_inf, lo, hi, b_lo, b_hi


def compiled_on_first_use(fn):
    """``fn`` compiled by numba the first time it is called, so that numba is imported only when
    the work needs it (plain Python without numba)."""
    compiled = None

    @functools.wraps(fn)
    def call(*args):
        nonlocal compiled
        if compiled is None:
            from .jit import njit  # start-up time: numba is imported when a summary is first computed

            compiled = njit(cache=True, nogil=True)(fn)
        return compiled(*args)

    return call


_compiled_scan = compiled_on_first_use(_scan)


@dataclass
class Summary:
    """What ``n`` replicates of one metric tell: exact counts, sum, extremes, and values or a histogram."""

    n: int
    total: float  # sum of the finite values
    n_inf: int
    lo: float
    hi: float
    bounds: np.ndarray
    n_le: np.ndarray  # values <= each bound
    n_lt: np.ndarray  # values < each bound
    values: np.ndarray | None = None  # every value, in replicate order (exact mode)
    bins: np.ndarray | None = None  # occupied histogram bins, ascending
    counts: np.ndarray | None = None  # replicates in each of ``bins``

    @classmethod
    def of(cls, x: np.ndarray, bounds: np.ndarray, exact: bool) -> Summary:
        """Summarise the values ``x``, keeping them all if ``exact``, else as a histogram."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        bounds = np.asarray(bounds, dtype=np.float64)
        n_le = np.zeros(len(bounds), dtype=np.int64)
        n_lt = np.zeros(len(bounds), dtype=np.int64)
        values = np.empty(len(x) if exact else 0)
        dense = np.zeros(1 if exact else N_BINS, dtype=np.int64)
        total, n_inf, lo, hi, b_lo, b_hi = _compiled_scan(x, x.view(np.int64), bounds, dense, n_le, n_lt, values)
        s = cls(len(x), float(total), int(n_inf), float(lo), float(hi), bounds, n_le, n_lt)
        if exact:
            s.values = values
        else:
            # occupied bins: the special ones, and log bins between the lowest and highest used
            bins = np.concatenate(([0], np.flatnonzero(dense[b_lo : b_hi + 1]) + b_lo, [OVER, INF]))
            s.bins = bins[dense[bins] > 0].astype(np.int32)
            s.counts = dense[s.bins]
        return s

    @property
    def exact(self) -> bool:
        return self.values is not None

    @property
    def mean(self) -> float:
        if self.n == 0:
            return math.nan
        return math.inf if self.n_inf else self.total / self.n

    def count(self, op: str, bound: float) -> int:
        """Replicates with ``value op bound`` (``op`` one of <=, <, >=, >), exactly."""
        hits = np.flatnonzero(self.bounds == bound)
        if len(hits):
            le, lt = int(self.n_le[hits[0]]), int(self.n_lt[hits[0]])
        elif self.values is not None:
            le, lt = int(np.count_nonzero(self.values <= bound)), int(np.count_nonzero(self.values < bound))
        else:
            raise KeyError(f"no exact count kept for bound {bound}")
        return {"<=": le, "<": lt, ">=": self.n - lt, ">": self.n - le}[op]

    def at_rank(self, k: int) -> float:
        """The ``k``-th smallest value (1-based); from the histogram, its bin's midpoint."""
        if not 1 <= k <= self.n:
            raise ValueError(f"rank {k} outside 1..{self.n}")
        if self.values is not None:
            return float(np.partition(self.values, k - 1)[k - 1])
        assert self.bins is not None, "a summary keeps its values or its histogram"
        assert self.counts is not None, "a histogram has its counts"
        b = int(self.bins[np.searchsorted(np.cumsum(self.counts), k)])
        lo, hi = bin_edges(b)
        if b == INF:
            return math.inf
        mid = self.hi if b == OVER else (max(lo, 0.0) + hi) / 2
        return float(min(max(mid, self.lo), self.hi))

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0 < q < 1) by the inverted empirical CDF."""
        return self.at_rank(rank(q, self.n))

    def quantiles(self, qs) -> list[float]:
        """Several quantiles at once (one sort in exact mode)."""
        return self.at_ranks([rank(q, self.n) for q in qs])

    def at_ranks(self, ks: Sequence[int]) -> list[float]:
        """The ``k``-th smallest values for several ``k`` at once (one partial sort in exact mode)."""
        if self.values is not None and self.n:
            part = np.partition(self.values, [k - 1 for k in ks])
            return [float(part[k - 1]) for k in ks]
        return [self.at_rank(k) for k in ks]


class Accumulator:
    """Merges the summaries of one metric chunk by chunk, in replicate order."""

    def __init__(self, bounds: np.ndarray, exact: bool):
        self.bounds = np.asarray(bounds, dtype=np.float64)
        self.exact = exact
        self.n = 0
        self.total = 0.0
        self.n_inf = 0
        self.lo, self.hi = math.inf, -math.inf
        self.n_le = np.zeros(len(self.bounds), dtype=np.int64)
        self.n_lt = np.zeros(len(self.bounds), dtype=np.int64)
        self.parts: list[np.ndarray] = []
        self.dense = None if exact else np.zeros(N_BINS, dtype=np.int64)

    def add(self, s: Summary) -> None:
        if not np.array_equal(s.bounds, self.bounds):
            raise ValueError("summaries to merge must count against the same bounds")
        self.n += s.n
        self.total += s.total
        self.n_inf += s.n_inf
        self.lo, self.hi = min(self.lo, s.lo), max(self.hi, s.hi)
        self.n_le += s.n_le
        self.n_lt += s.n_lt
        if self.exact:
            assert s.values is not None, "an exact summary keeps its values"
            self.parts.append(s.values)
        else:
            assert self.dense is not None, "a histogram accumulator keeps its bins"
            assert s.bins is not None, "a histogram summary to merge"
            assert s.counts is not None, "a histogram summary to merge"
            self.dense[s.bins] += s.counts

    def result(self) -> Summary:
        s = Summary(self.n, self.total, self.n_inf, self.lo, self.hi, self.bounds, self.n_le.copy(), self.n_lt.copy())
        if self.exact:
            s.values = np.concatenate(self.parts) if self.parts else np.empty(0)
        else:
            assert self.dense is not None, "a histogram accumulator keeps its bins"
            s.bins = np.flatnonzero(self.dense).astype(np.int32)
            s.counts = self.dense[s.bins]
        return s


# ------------------------------------------------------------------ intervals for kept replicates
#
# The functions below work on every replicate's value (a comparison or a what-if keeps them all):
# percentiles by the inverted empirical CDF, as above, and 95% intervals for a percentile, a mean
# and a paired difference between two percentiles.


def quantile(x: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0 < q < 1) by the inverted empirical CDF; ``inf`` counts as largest."""
    x = np.asarray(x, dtype=float)
    k = rank(q, len(x))
    return float(np.partition(x, k - 1)[k - 1])


def quantile_interval(x: np.ndarray, q: float, z: float = Z95) -> tuple[float, float]:
    """Distribution-free order-statistic interval for the ``q`` quantile of ``x``."""
    n = len(x)
    sd = math.sqrt(n * q * (1 - q))
    lo = min(n, max(1, math.floor(n * q - z * sd)))
    hi = min(n, max(1, math.ceil(n * q + z * sd) + 1))
    s = np.sort(np.asarray(x, dtype=float))
    return float(s[lo - 1]), float(s[hi - 1])


def mean_interval(d: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Mean of ``d`` and its normal interval (``nan`` if any value is not finite)."""
    d = np.asarray(d, dtype=float)
    if len(d) == 0 or not np.all(np.isfinite(d)):
        m = float(np.mean(d)) if len(d) and not np.any(np.isnan(d)) else math.nan
        return m, math.nan, math.nan
    m = float(np.mean(d))
    if len(d) < 2:
        return m, math.nan, math.nan
    half = z * float(np.std(d, ddof=1)) / math.sqrt(len(d))
    return m, m - half, m + half


def bootstrap_weights(n: int, seed: int, label: str, b: int = BOOTSTRAP) -> np.ndarray:
    """``(b, n)`` resampling counts (how often each replicate is drawn in each resample).

    The resamples come from their own stream, keyed by ``label``, so they are the
    same for every estate compared under that label (the pairing survives the resampling).
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(2**32 - 1, stable_hash(f"bootstrap:{label}")))
    rng = np.random.Generator(np.random.PCG64(ss))
    return rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.int32)


def resampled_quantiles(x: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """``(b, len(qs))`` quantiles of ``x`` in each bootstrap resample given by ``weights``.

    In resample ``b`` the ``q`` quantile is the smallest value whose cumulative
    weight, in sorted order, reaches the rank ``ceil(q n)``.
    """
    n = len(x)
    order = np.argsort(x, kind="stable")
    ks = np.array([rank(q, n) for q in qs], dtype=np.int64)
    by_rank = np.argsort(ks, kind="stable")
    out = np.empty((weights.shape[0], len(qs)))
    _compiled_walk(np.ascontiguousarray(x[order], dtype=np.float64), order, weights, ks[by_rank], by_rank, out)
    return out


def _walk(xs, order, weights, ks, slots, out):
    """For each resample, walk the sorted values accumulating their weights and note the value at
    which each rank ``ks`` (ascending) is reached, in column ``slots`` of ``out``."""
    for b in range(weights.shape[0]):
        total = 0
        j = 0
        for i in range(xs.shape[0]):
            total += weights[b, order[i]]
            while j < ks.shape[0] and total >= ks[j]:
                out[b, slots[j]] = xs[i]
                j += 1
            if j == ks.shape[0]:
                break


_compiled_walk = compiled_on_first_use(_walk)


def paired_quantile_differences(
    x: np.ndarray, y: np.ndarray, qs: Sequence[float], weights: np.ndarray
) -> list[tuple[float, float, float]]:
    """For each ``q``: ``Q_q(y) - Q_q(x)`` and its paired-bootstrap 95% percentile interval."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    point = [quantile(y, q) - quantile(x, q) for q in qs]
    if np.array_equal(x, y):
        return [(0.0, 0.0, 0.0) for _ in qs]
    with np.errstate(invalid="ignore"):
        d = resampled_quantiles(y, weights, qs) - resampled_quantiles(x, weights, qs)
    out = []
    for j, p in enumerate(point):
        col = d[:, j]
        if np.any(np.isnan(col)):
            out.append((p, math.nan, math.nan))
        else:
            lo, hi = np.quantile(col, [0.025, 0.975])
            out.append((p, float(lo), float(hi)))
    return out
