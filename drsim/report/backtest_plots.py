"""Charts of a backtest: does what real drills measured look like draws from the simulated model?

* :func:`pit_histogram` — the observations' PIT values counted by tenths of (0, 1).
  Under the model every bar's count is binomial(m, 1/10); the band marks its
  central 95%. A pile at the right means real drills took longer than simulated
  (too optimistic), at the left shorter (too pessimistic); a U shape, a spread
  too narrow (too confident); a hump, one too wide.
* :func:`calibration_curve` — the calibration (reliability) plot: for each
  nominal probability τ, the share of observations at or below the model's
  τ-quantile (the PIT's empirical CDF) against τ. A calibrated model follows
  the diagonal; the band is the Kolmogorov–Smirnov test's 95% band around it,
  so a curve leaving the band is the KS test rejecting.
* :func:`backtest_figure` — both, side by side, titled with the verdict.

Censored observations (``>=2h``) enter with their randomized PIT, as in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

from ..calibrate.backtest import Backtest
from .plots import COLOURS

#: The PIT histogram's bins: tenths of (0, 1), as the backtest counts them.
BINS = 10


def ks_band(m: int, alpha: float = 0.05) -> float:
    """Half-width of the Kolmogorov–Smirnov (1 - ``alpha``) band of an empirical CDF of ``m`` values."""
    return float(sps.kstwo.ppf(1 - alpha, m))


def pit_histogram(pits: Sequence[float], ax=None):
    """The PIT values counted by tenths, with the count expected under the model and its 95% band."""
    from matplotlib.ticker import MaxNLocator  # imported on use: matplotlib loads only when a chart is drawn

    ax = _axes(ax)
    u = np.asarray(pits, dtype=float)
    m = len(u)
    counts = np.bincount(np.minimum((u * BINS).astype(int), BINS - 1), minlength=BINS)
    edges = np.arange(BINS) / BINS
    ax.bar(edges, counts, width=1 / BINS, align="edge", color=COLOURS[2], edgecolor="black", hatch="///", alpha=0.8,
           label="observations")  # fmt: skip
    lo, hi = sps.binom.ppf([0.025, 0.975], m, 1 / BINS)
    ax.axhspan(lo, hi, color="0.85", zorder=0, label="95% band under the model")
    ax.axhline(m / BINS, color="black", linestyle="--", label=f"expected ({m / BINS:g} per tenth)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT: the simulated percentile of what was observed")
    ax.set_ylabel("observations")
    ax.set_title("PIT histogram (flat if calibrated)")
    ax.legend(loc="upper center", fontsize=8)
    return ax


def calibration_curve(pits: Sequence[float], ax=None):
    """The share of observations below each nominal quantile of the model, against the quantile."""
    ax = _axes(ax)
    u = np.sort(np.asarray(pits, dtype=float))
    m = len(u)
    tau = np.linspace(0, 1, 201)
    share = np.searchsorted(u, tau, side="right") / m
    band = ks_band(m)
    ax.fill_between(tau, np.clip(tau - band, 0, 1), np.clip(tau + band, 0, 1), color="0.85",
                    label="Kolmogorov–Smirnov 95% band")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", label="perfectly calibrated")
    ax.step(tau, share, where="post", color=COLOURS[5], linewidth=2, label=f"observed ({m} observations)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal probability τ (the model's τ-quantile)")
    ax.set_ylabel("share of observations at or below it")
    ax.set_title("Calibration plot")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def backtest_figure(bt: Backtest):
    """The PIT histogram and the calibration plot of ``bt``, side by side, titled with the verdict."""
    import matplotlib.pyplot as plt  # imported on use: matplotlib loads only when a chart is drawn

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    pits = [s.pit for s in bt.scored]
    pit_histogram(pits, left)
    calibration_curve(pits, right)
    u = bt.uniformity
    fig.suptitle(
        f"Backtest of {bt.drill} on {bt.topology}: {bt.verdict} "
        f"(KS p = {u.ks_p:.3g}, PIT mean {u.mean:.2f} z-test p = {u.mean_p:.3g})"
    )
    return fig


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # imported on use: matplotlib loads only when a chart is drawn

    _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    return ax


__all__ = ["BINS", "backtest_figure", "calibration_curve", "ks_band", "pit_histogram"]
