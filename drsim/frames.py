"""Result frames: one column convention for sweeps, comparisons, sensitivity and advice.

Every analysis hands its numbers to pandas as a *tidy* frame — one row per
metric (per grid point, per estate, per change) — and the same thing has the
same column name in every frame, with its unit in the name:

* **what is measured**: ``metric`` (the outcomes key, ``tier:tier0:rto``),
  ``kind`` (service, tier, workflow, queue, latency, milestone, rollback, drift,
  degraded, failback), ``subject`` (``tier0``, ``ehr-db``), ``measure``
  (rto, rpo, downtime, time, ...), ``unit`` (``s``, ``messages``, ``writes``)
  and ``n``, the replicates it rests on;
* **durations, in seconds** (``_s``): ``target_s``, the percentiles
  ``p50_s``, ``p90_s``, ``p95_s``, ``p99_s``, each with its 95% interval
  ``p50_lo_s``/``p50_hi_s`` (order statistics), and ``mean_s``;
* **counted things** (a queue's backlog in messages, a drift's writes): the
  same statistics ending in ``_count`` (``p90_count``, ``mean_count``);
* **probabilities**, unitless: ``never`` (the share of replicates in which it
  never ended) and ``p_meet``, the probability of meeting the target, with its
  Wilson 95% interval ``p_meet_lo``/``p_meet_hi``;
* **differences** from a baseline carry a ``d_`` prefix (``d_p90_s`` with
  ``d_p90_lo_s``/``d_p90_hi_s``, ``d_mean_s``, ``d_p_meet``).

A sweep adds its grid parameters (one column per dotted path) and ``point``; a
comparison adds ``drill``, ``estate``, ``baseline`` and ``affected``. Sensitivity
and advice read one statistic of one metric (``statistic``, e.g. ``p90_rto:tier0``)
and name its column the same way: the value in ``p90_s`` (or ``mean_s``,
``p_meet``), the effect of a change or a scaling in ``d_p90_s`` with
``d_p90_lo_s``/``d_p90_hi_s``. A value
that does not exist (a percentile of a latency whose event never happens, the
target of a metric without one) is ``NaN``; a duration that never ends is
``inf``. docs/frames.md documents the convention once for every frame.
"""

from __future__ import annotations

import math

import numpy as np

from .stats import PERCENTILES, Summary, mean_interval, quantile, quantile_interval, rank, rank_interval, wilson

#: What a row measures, in every frame.
IDENTITY = ("metric", "kind", "subject", "measure", "unit", "n")
#: A comparison's keys: which drill, which estate, the estate differences are taken from, and whether the
#: estate loses the subject at all.
COMPARISON_KEYS = ("drill", "estate", "baseline", "affected")
#: The suffix of a duration (seconds) and of a counted thing (messages, writes).
SECONDS, COUNT = "_s", "_count"
#: The prefix of a difference from the baseline.
DIFFERENCE = "d_"
#: The probability of meeting the target and its 95% interval.
P_MEET = ("p_meet", "p_meet_lo", "p_meet_hi")


def percentile_columns(suffix: str) -> tuple[str, ...]:
    """``p50{suffix}, p50_lo{suffix}, p50_hi{suffix}, p90{suffix}, ...`` for every reported percentile."""
    return tuple(f"p{p}{part}{suffix}" for p in PERCENTILES for part in ("", "_lo", "_hi"))


#: The statistics of a duration, in order.
DURATION_STATISTICS = ("never", "target_s", *percentile_columns(SECONDS), "mean_s", *P_MEET)
#: The statistics of a counted thing, in order.
COUNT_STATISTICS = (*percentile_columns(COUNT), "mean_count")
#: Every statistic column of a summary frame (a sweep's), in order.
STATISTICS = (*DURATION_STATISTICS, *COUNT_STATISTICS)
#: The differences a comparison reports, each from the baseline estate, in order.
DIFFERENCES = tuple(DIFFERENCE + c for c in (*percentile_columns(SECONDS), "mean_s", "mean_lo_s", "mean_hi_s", *P_MEET))


def split_key(key: str) -> tuple[str, str, str]:
    """An outcomes key's kind, subject and measure.

    ``service:ehr-db:rto`` is ``("service", "ehr-db", "rto")``; a latency has
    no measure in its key and measures a time: ``latency:detect`` is
    ``("latency", "detect", "time")``.
    """
    parts = key.split(":", 1)
    if len(parts) == 1:
        return key, "", "time"
    subject, sep, measure = parts[1].rpartition(":")
    if not sep:
        return parts[0], measure, "time"
    return parts[0], subject, measure


def unit_of(kind: str, measure: str) -> str:
    """The unit of a metric: messages for a queue's backlog and overflow, writes for a drift's divergent
    writes, seconds for everything else."""
    if kind == "queue" and measure in ("backlog", "dropped"):
        return "messages"
    return "writes" if kind == "drift" and measure == "writes" else "s"


def suffix_of(unit: str) -> str:
    """The column suffix of a unit: ``_s`` for seconds, ``_count`` for anything counted."""
    return SECONDS if unit == "s" else COUNT


def identity(key: str, n: int) -> dict[str, object]:
    """The columns saying what a row measures: ``metric``, ``kind``, ``subject``, ``measure``, ``unit``, ``n``."""
    kind, subject, measure = split_key(key)
    return {"metric": key, "kind": kind, "subject": subject, "measure": measure, "unit": unit_of(kind, measure), "n": n}


def summary_statistics(summary: Summary, unit: str, target: float | None) -> dict[str, float]:
    """A metric's statistics from a sweep's summary of its replicates (exact values or a histogram).

    Percentile intervals are the distribution-free order-statistic ones the
    gates use; ``p_meet`` counts the replicates within ``target``.
    """
    n = summary.n
    sfx = suffix_of(unit)
    row: dict[str, float] = {"never": summary.n_inf / n if n else math.nan}
    ks = [k for p in PERCENTILES for k in (rank(p / 100, n), *rank_interval(p / 100, n))]
    values = iter(summary.at_ranks(ks))
    for p in PERCENTILES:
        for part in ("", "_lo", "_hi"):
            row[f"p{p}{part}{sfx}"] = next(values)
    row[f"mean{sfx}"] = summary.mean
    if target is not None:
        k = summary.count("<=", target)
        row["target_s"], row["p_meet"] = target, k / n
        row["p_meet_lo"], row["p_meet_hi"] = wilson(k, n)
    return row


def sample_statistics(x: np.ndarray, target: float | None) -> dict[str, float]:
    """A duration's statistics from every replicate's value (seconds; ``inf`` = never ended).

    A ``NaN`` value (a latency between events that did not both happen) leaves
    the percentiles and ``p_meet`` undefined (``NaN``); the mean is then
    ``NaN`` too.
    """
    n = len(x)
    nanless = not np.any(np.isnan(x))
    row: dict[str, float] = {"never": float(np.count_nonzero(np.isinf(x))) / n if n else math.nan}
    row["target_s"] = target if target is not None else math.nan
    for p in PERCENTILES:
        q = p / 100
        if nanless:
            row[f"p{p}_s"] = quantile(x, q)
            row[f"p{p}_lo_s"], row[f"p{p}_hi_s"] = quantile_interval(x, q)
        else:
            row[f"p{p}_s"] = row[f"p{p}_lo_s"] = row[f"p{p}_hi_s"] = math.nan
    row["mean_s"] = mean_interval(x)[0]
    if target is not None and nanless:
        k = int(np.count_nonzero(x <= target))
        row["p_meet"] = k / n
        row["p_meet_lo"], row["p_meet_hi"] = wilson(k, n)
    else:
        row["p_meet"] = row["p_meet_lo"] = row["p_meet_hi"] = math.nan
    return row


def statistic_column(stat: str, q: float | None, unit: str) -> str:
    """The column holding one statistic of a metric in ``unit``: ``p90_s``, ``mean_s``, ``p90_count``, or
    ``p_meet`` (``stat`` is ``percentile`` with its level ``q``, ``mean`` or ``p_meet``)."""
    if stat == "p_meet":
        return "p_meet"
    sfx = suffix_of(unit)
    if stat == "mean":
        return f"mean{sfx}"
    assert q is not None, "a percentile has a level"
    return f"p{q * 100:g}{sfx}"


def interval_columns(column: str) -> tuple[str, str]:
    """The columns of a statistic's 95% interval: ``p90_s`` has ``p90_lo_s`` and ``p90_hi_s``, ``p_meet``
    has ``p_meet_lo`` and ``p_meet_hi``."""
    for sfx in (SECONDS, COUNT):
        if column.endswith(sfx):
            stem = column.removesuffix(sfx)
            return f"{stem}_lo{sfx}", f"{stem}_hi{sfx}"
    return f"{column}_lo", f"{column}_hi"


def columns(leading: tuple[str, ...], statistics: tuple[str, ...] = STATISTICS) -> list[str]:
    """A frame's columns in order: its own ``leading`` keys, what a row measures, then its statistics."""
    return [*leading, *IDENTITY, *statistics]


__all__ = [
    "COMPARISON_KEYS",
    "COUNT_STATISTICS",
    "DIFFERENCES",
    "DURATION_STATISTICS",
    "IDENTITY",
    "STATISTICS",
    "columns",
    "identity",
    "interval_columns",
    "percentile_columns",
    "sample_statistics",
    "split_key",
    "statistic_column",
    "suffix_of",
    "summary_statistics",
    "unit_of",
]
