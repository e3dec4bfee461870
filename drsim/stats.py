"""Summaries of many replicates that merge exactly, whatever the grouping.

A sweep runs replicates in chunks and combines what each chunk tells about
each metric. Everything here merges exactly, whatever the chunks: counts add,
and the one floating-point sum is kept exactly, as non-overlapping partial sums
(Shewchuk's algorithm, that of :func:`math.fsum`), and rounded once at the end —
so a mean is the same correctly rounded number however the replicates were
cut into chunks.

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


#: Room for the partial sums of an exact sum: finite doubles need at most about 40.
MAX_PARTIALS = 64


def _scan(x, xbits, bounds, n_le, n_lt, values, partials, binned):
    """One pass over ``x`` (and its bit patterns ``xbits``): the exact sum of the finite values
    into ``partials``, the count of ``inf``, min, max, every value into ``values`` (if it has
    room for them) and the counts against each bound; then, if ``binned``, a second pass
    counting the values into histogram bins over only the range they use.

    A metric with one value in every replicate (nothing lost, say) is binned at once:
    bumping one bin once per replicate would make each count wait for the last.

    Returns the number of partial sums used, the count of ``inf``, min, max, the first log
    bin counted and the counts: below the binned range, each log bin from the first on,
    overflow, ``inf``.
    """
    n = x.shape[0]
    keep = values.shape[0] == n
    shift = 52 - BITS

    def grow(m, v):
        """Add ``v`` exactly to the ``m`` non-overlapping partial sums; return how many there are now."""
        i = 0
        for j in range(m):
            y = partials[j]
            if abs(v) < abs(y):
                v, y = y, v
            s = v + y
            err = y - (s - v)
            if err != 0.0:
                partials[i] = err
                i += 1
            v = s
        partials[i] = v
        return i + 1

    m = 0
    n_inf = 0
    lo = np.inf
    hi = -np.inf
    first, last = -1, -1  # replicates holding the smallest and largest value inside the binned range
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
            if v != 0.0:
                m = grow(m, v)
            if 2.0**LOW_EXP <= v < 2.0**HIGH_EXP:
                if first < 0 or v < x[first]:
                    first = i
                if last < 0 or v > x[last]:
                    last = i
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
    if not binned:
        return m, n_inf, lo, hi, 0, np.zeros(0, dtype=np.int64)
    b_first = (xbits[first] >> shift) - _FIRST + 1 if first >= 0 else 1
    width = (xbits[last] >> shift) - _FIRST + 2 - b_first if first >= 0 else 0
    counts = np.zeros(width + 3, dtype=np.int64)

    def slot(v, bits):
        """Where ``v`` (``nan`` counted as ``inf``), whose bits are ``bits``, is counted in ``counts``."""
        if np.isnan(v) or v == np.inf:
            return width + 2
        if v < 2.0**LOW_EXP:
            return 0
        if v >= 2.0**HIGH_EXP:
            return width + 1
        return (bits >> shift) - _FIRST + 2 - b_first

    same = n > 0
    for i in range(n):
        if xbits[i] != xbits[0]:
            same = False
            break
    if same:
        counts[slot(x[0], xbits[0])] += n
    else:
        for i in range(n):
            counts[slot(x[i], xbits[i])] += 1
    return m, n_inf, lo, hi, b_first, counts


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
    #: The sum of the finite values, exactly: non-overlapping partial sums (:attr:`total` rounds it).
    partials: np.ndarray
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
        partials = np.empty(MAX_PARTIALS)
        m, n_inf, lo, hi, b_first, counts = _compiled_scan(
            x, x.view(np.int64), bounds, n_le, n_lt, values, partials, not exact
        )
        s = cls(len(x), partials[:m].copy(), int(n_inf), float(lo), float(hi), bounds, n_le, n_lt)
        if exact:
            s.values = values
        else:
            width = len(counts) - 3
            bins = np.concatenate(([0], np.arange(b_first, b_first + width), [OVER, INF]))
            used = counts > 0
            s.bins = bins[used].astype(np.int32)
            s.counts = counts[used]
        return s

    @property
    def total(self) -> float:
        """The sum of the finite values, correctly rounded (the same whatever the chunks)."""
        return math.fsum(self.partials)

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


def add_exactly(partials: list[float], more: Sequence[float]) -> None:
    """Add every number of ``more`` exactly to the non-overlapping partial sums ``partials``, in place."""
    for v in more:
        i = 0
        for y in partials:
            if abs(v) < abs(y):
                v, y = y, v
            s = v + y
            err = y - (s - v)
            if err:
                partials[i] = err
                i += 1
            v = s
        partials[i:] = [v]


class Accumulator:
    """Merges the summaries of one metric chunk by chunk, in replicate order.

    The sum stays exact (:func:`add_exactly`); a histogram is kept only over the log bins
    some chunk used, so a metric whose values stay within a decade holds a few thousand
    counts, not every bin's.
    """

    def __init__(self, bounds: np.ndarray, exact: bool):
        self.bounds = np.asarray(bounds, dtype=np.float64)
        self.exact = exact
        self.n = 0
        self.partials: list[float] = []
        self.n_inf = 0
        self.lo, self.hi = math.inf, -math.inf
        self.n_le = np.zeros(len(self.bounds), dtype=np.int64)
        self.n_lt = np.zeros(len(self.bounds), dtype=np.int64)
        self.parts: list[np.ndarray] = []
        #: Counts below the binned range, of overflow and of ``inf`` (histogram mode).
        self.edges = np.zeros(3, dtype=np.int64)
        #: Counts of the log bins ``first .. first + len(span) - 1`` (histogram mode).
        self.first = 0
        self.span = np.zeros(0, dtype=np.int64)

    def add(self, s: Summary) -> None:
        if not np.array_equal(s.bounds, self.bounds):
            raise ValueError("summaries to merge must count against the same bounds")
        self.n += s.n
        add_exactly(self.partials, s.partials.tolist())
        self.n_inf += s.n_inf
        self.lo, self.hi = min(self.lo, s.lo), max(self.hi, s.hi)
        self.n_le += s.n_le
        self.n_lt += s.n_lt
        if self.exact:
            assert s.values is not None, "an exact summary keeps its values"
            self.parts.append(s.values)
        else:
            assert s.bins is not None, "a histogram summary to merge"
            assert s.counts is not None, "a histogram summary to merge"
            self._add_bins(np.asarray(s.bins, dtype=np.int64), np.asarray(s.counts, dtype=np.int64))

    def _add_bins(self, bins: np.ndarray, counts: np.ndarray) -> None:
        """Count ``counts`` into ``bins`` (ascending), widening the kept range to the log bins used."""
        for k, edge in enumerate((0, OVER, INF)):
            self.edges[k] += counts[bins == edge].sum()
        inside = (bins > 0) & (bins < OVER)
        b, c = bins[inside], counts[inside]
        if not len(b):
            return
        lo, hi = int(b[0]), int(b[-1])
        if not len(self.span):
            self.first, self.span = lo, np.zeros(hi - lo + 1, dtype=np.int64)
        elif lo < self.first or hi >= self.first + len(self.span):
            first = min(lo, self.first)
            span = np.zeros(max(hi, self.first + len(self.span) - 1) - first + 1, dtype=np.int64)
            span[self.first - first : self.first - first + len(self.span)] = self.span
            self.first, self.span = first, span
        self.span[b - self.first] += c

    def result(self) -> Summary:
        partials = np.array(self.partials, dtype=np.float64)
        s = Summary(self.n, partials, self.n_inf, self.lo, self.hi, self.bounds, self.n_le.copy(), self.n_lt.copy())
        if self.exact:
            s.values = np.concatenate(self.parts) if self.parts else np.empty(0)
        else:
            inside = np.flatnonzero(self.span)
            bins = np.concatenate(([0], inside + self.first, [OVER, INF]))
            counts = np.concatenate((self.edges[:1], self.span[inside], self.edges[1:]))
            used = counts > 0
            s.bins = bins[used].astype(np.int32)
            s.counts = counts[used]
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
