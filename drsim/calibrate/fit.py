"""Fitting a duration distribution to a team's records, by maximum likelihood, censoring included.

Four families are tried — lognormal, gamma, Weibull and exponential, each
starting at zero — and each is fitted by maximum likelihood with
:func:`scipy.stats` ``fit`` on a :class:`scipy.stats.CensoredData`: a record
seen to finish contributes its density, a record still running when last seen
(right-censored) contributes the probability of lasting at least that long.
Dropping censored records, or counting them as finished, would bias the fit
short: the slowest acknowledgements are exactly the ones that escalate.

The family is chosen by the Akaike information criterion (AIC = 2k − 2 log L;
the exponential has one parameter, the others two). How well the chosen fit
matches is reported by the Kolmogorov–Smirnov distance between the fitted CDF
and the Kaplan–Meier estimate of the records (the empirical CDF when nothing
is censored); its p-value comes from a parametric bootstrap that refits each
simulated sample, so it allows for the parameters having been estimated
(Lilliefors) and applies the records' own censoring times. The P50, P90 and P95
come with 95% percentile-bootstrap intervals: records resampled with
replacement, the chosen family refitted. Everything random draws from one
seeded generator, so a calibration is reproducible.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..model.distributions import Distribution, Exponential, Gamma, LogNormal, Weibull

#: The candidate families: name -> (scipy distribution, free parameters with the location fixed at 0).
FAMILIES = {
    "lognormal": (stats.lognorm, 2),
    "gamma": (stats.gamma, 2),
    "weibull": (stats.weibull_min, 2),
    "exponential": (stats.expon, 1),
}
#: Fewest finished (uncensored) records a fit is made from. Below about twenty, AIC cannot tell
#: two-parameter families apart and a P95 is an extrapolation from a handful of points.
MIN_RECORDS = 20
#: Bootstrap resamples for the percentile intervals and the goodness-of-fit p-value.
BOOTSTRAP = 200
PERCENTILES = (50, 90, 95)
#: Significant digits kept when a fitted value is written in the distribution grammar.
DIGITS = 4


class TooFewRecords(ValueError):
    """Too few finished records to fit from: how many there are and how many are needed."""

    def __init__(self, n: int, censored: int, needed: int):
        self.n, self.censored, self.needed = n, censored, needed
        super().__init__(
            f"{n} records ({n - censored} finished, {censored} censored); a fit needs at least {needed} finished records"
        )


@dataclass(frozen=True)
class Candidate:
    """One family fitted by maximum likelihood: its scipy parameters, log-likelihood and AIC."""

    family: str
    params: tuple[float, ...]
    loglik: float
    aic: float

    def frozen(self):
        """The fitted scipy distribution."""
        dist, _ = FAMILIES[self.family]
        return dist(*self.params)


@dataclass(frozen=True)
class Interval:
    """A percentile of the fitted distribution and its 95% bootstrap interval (seconds)."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Fit:
    """The distribution chosen for one element's records, and the evidence for it."""

    family: str
    distribution: Distribution
    n: int
    censored: int
    candidates: tuple[Candidate, ...]
    ks_statistic: float
    ks_pvalue: float
    percentiles: dict[int, Interval]
    bootstrap: int
    seed: int

    @property
    def text(self) -> str:
        """The fitted distribution in drsim's grammar, e.g. ``lognormal(p50=9m48s, p95=44m)``."""
        return str(self.distribution)


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def as_distribution(c: Candidate) -> Distribution:
    """A fitted candidate written as a drsim distribution (values kept to :data:`DIGITS` significant digits)."""
    p = c.params
    if c.family == "lognormal":
        s, _, scale = p
        return LogNormal(_round(scale), _round(scale * math.exp(s * 1.6448536269514722)), 95)
    if c.family == "gamma":
        return Gamma(_round(p[0]), _round(p[2]))
    if c.family == "weibull":
        return Weibull(_round(p[0]), _round(p[2]))
    return Exponential(_round(p[1]))


def _data(x: np.ndarray, censored: np.ndarray):
    if censored.any():
        return stats.CensoredData(uncensored=x[~censored], right=x[censored])
    return x


def loglik(frozen, x: np.ndarray, censored: np.ndarray) -> float:
    """Log-likelihood of records under a distribution: densities of finished ones, survival of censored ones."""
    return float(np.sum(frozen.logpdf(x[~censored])) + np.sum(frozen.logsf(x[censored])))


def fit_family(family: str, x: np.ndarray, censored: np.ndarray, guess: tuple[float, ...] | None = None) -> Candidate:
    """Maximum-likelihood fit of one family (location fixed at 0) to records, censoring included."""
    dist, k = FAMILIES[family]
    shape_guess = () if guess is None or family == "exponential" else (guess[0],)
    scale = {} if guess is None else {"scale": guess[-1]}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        params = tuple(float(v) for v in dist.fit(_data(x, censored), *shape_guess, floc=0, **scale))
    ll = loglik(dist(*params), x, censored)
    return Candidate(family, params, ll, 2 * k - 2 * ll)


def kaplan_meier(x: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier estimate of the CDF: distinct finish times and the CDF just after each."""
    order = np.lexsort((censored, x))  # at a tie, a finish counts before a censoring
    xs, cs = x[order], censored[order]
    at_risk = len(xs) - np.arange(len(xs))
    factors = np.where(cs, 1.0, 1.0 - 1.0 / at_risk)
    survival = np.cumprod(factors)
    keep = ~cs
    return xs[keep], 1.0 - survival[keep]


def ks_distance(frozen, x: np.ndarray, censored: np.ndarray) -> float:
    """Largest gap between the fitted CDF and the Kaplan–Meier CDF, on either side of each finish time."""
    times, cdf = kaplan_meier(x, censored)
    if len(times) == 0:
        return 1.0
    before = np.concatenate(([0.0], cdf[:-1]))
    fitted = frozen.cdf(times)
    return float(max(np.max(np.abs(fitted - cdf)), np.max(np.abs(fitted - before))))


def fit_durations(
    x: Sequence[float] | np.ndarray,
    censored: Sequence[bool] | np.ndarray | None = None,
    *,
    families: Sequence[str] = tuple(FAMILIES),
    min_records: int = MIN_RECORDS,
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
) -> Fit:
    """Fit every family to durations ``x`` (seconds; ``censored[i]`` when ``x[i]`` is only a lower bound),
    choose by AIC, and measure the choice (KS distance with its bootstrap p-value, percentile intervals).

    Raises :class:`TooFewRecords` with fewer than ``min_records`` finished records.
    """
    x = np.asarray(x, dtype=float)
    c = np.zeros(len(x), dtype=bool) if censored is None else np.asarray(censored, dtype=bool)
    finished = int((~c).sum())
    if finished < min_records:
        raise TooFewRecords(len(x), int(c.sum()), min_records)
    candidates = tuple(sorted((fit_family(f, x, c) for f in families), key=lambda cand: cand.aic))
    best = candidates[0]
    frozen = best.frozen()
    rng = np.random.default_rng(seed)
    d = ks_distance(frozen, x, c)
    pvalue = _ks_pvalue(best, x, c, d, bootstrap, rng)
    return Fit(
        best.family,
        as_distribution(best),
        len(x),
        int(c.sum()),
        candidates,
        d,
        pvalue,
        _intervals(best, x, c, bootstrap, rng),
        bootstrap,
        seed,
    )


def _ks_pvalue(best: Candidate, x, c, d: float, b: int, rng: np.random.Generator) -> float:
    """Share of samples simulated from the fit (same censoring times, refitted) at least as far from their fit."""
    if b <= 0:
        return float("nan")
    frozen = best.frozen()
    limit = np.where(c, x, np.inf)
    hits = 0
    for _ in range(b):
        y = frozen.ppf(rng.random(len(x)))
        yc = y > limit
        y = np.where(yc, limit, y)
        if (~yc).sum() < 2:
            hits += 1
            continue
        refit = fit_family(best.family, y, yc, best.params)
        hits += ks_distance(refit.frozen(), y, yc) >= d
    return (hits + 1) / (b + 1)


def _intervals(best: Candidate, x, c, b: int, rng: np.random.Generator) -> dict[int, Interval]:
    """Each percentile of the fit with its 95% percentile-bootstrap interval (records resampled)."""
    q = np.array(PERCENTILES) / 100.0
    estimate = best.frozen().ppf(q)
    draws = []
    for _ in range(b):
        idx = rng.integers(0, len(x), len(x))
        if (~c[idx]).sum() < 2:
            continue
        draws.append(fit_family(best.family, x[idx], c[idx], best.params).frozen().ppf(q))
    if draws:
        lo, hi = np.percentile(np.array(draws), [2.5, 97.5], axis=0)
    else:
        lo = hi = np.full(len(q), np.nan)
    return {p: Interval(float(e), float(a), float(z)) for p, e, a, z in zip(PERCENTILES, estimate, lo, hi)}


__all__ = [
    "BOOTSTRAP",
    "FAMILIES",
    "MIN_RECORDS",
    "Candidate",
    "Fit",
    "Interval",
    "TooFewRecords",
    "as_distribution",
    "fit_durations",
    "fit_family",
    "kaplan_meier",
    "ks_distance",
    "loglik",
]
