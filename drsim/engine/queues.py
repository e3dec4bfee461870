"""Interface queues as a fluid: messages pile up while the producer is up and the consumer down.

A queue's messages arrive at its ``rate`` — scaled, with a rate profile, by the
multiplier of the clock hour and the weekday (piecewise constant, so the
arrivals over any window are integrated exactly) — but only while its producer
is up: a producer that is down sends nothing. While the consumer is down they
pile up in the buffer; once it is full, further arrivals are dropped. So, with
the consumer down over ``[cd, cu]`` and the producer down over ``[pd, pu]``
(none: ``pd = pu = inf``):

* **arrived** = arrivals over ``[cd, min(cu, pd)]`` + arrivals over ``[max(cd, pu), cu]``;
* **backlog** = min(arrived, buffer); **dropped** = arrived - backlog;
* **lost window** (added to the consumer's RPO): the producer's up time from the
  moment the buffer filled until the consumer came back — with a constant rate,
  dropped / rate;
* **drain time** = backlog / (drain - r), where r is the arrival rate the moment
  the consumer comes back (0 if the producer is down then).

Times are seconds after the drill starts; the profile's clock is the drill's
``start`` plus that offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..model import Drill, Topology
from ..model.topology import ALL_DAYS, RateProfile

HOUR = 3600.0
WEEK = 7 * 24 * HOUR


@dataclass(frozen=True)
class Arrivals:
    """How many messages of one queue arrive over a window, with the producer up all along.

    Attributes
    ----------
    rate
        The queue's rate (messages per second); without a profile, the rate at every instant.
    knots
        With a profile: cumulative arrivals from Monday 00:00 at each of the 169 hour
        boundaries of the week (None without a profile).
    phase
        Seconds from Monday 00:00 of the drill's first week to the drill's start.
    """

    rate: float
    knots: np.ndarray | None = None
    phase: float = 0.0

    @classmethod
    def of(cls, topo: Topology, drill: Drill, queue: str) -> Arrivals:
        """The arrivals of ``queue`` of ``topo`` during ``drill``."""
        return cls.profiled(topo.queues[queue].rate, topo.profile_of(queue), drill.start)

    @classmethod
    def profiled(cls, rate: float, profile: RateProfile | None, start: dt.datetime) -> Arrivals:
        """Arrivals at ``rate`` (per second) shaped by ``profile``, with time 0 at clock time ``start``."""
        if profile is None:
            return cls(rate)
        phase = start.weekday() * 24 * HOUR + start.hour * HOUR + start.minute * 60.0 + start.second
        per_hour = [rate * HOUR * h * profile.days.get(d, 1.0) for d in ALL_DAYS for h in profile.hours]
        return cls(rate, np.concatenate([[0.0], np.cumsum(per_hour)]), phase)

    def _absolute(self, x: np.ndarray) -> np.ndarray:
        """Arrivals from Monday 00:00 of the first week to ``x`` seconds after it (finite x)."""
        assert self.knots is not None
        weeks = np.floor(x / WEEK)
        return weeks * self.knots[-1] + np.interp(x - weeks * WEEK, np.arange(169) * HOUR, self.knots)

    def between(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Arrivals over ``[lo, hi]`` (0 where ``hi <= lo``; infinite where ``hi`` is and ``lo`` is not)."""
        with np.errstate(invalid="ignore"):
            if self.knots is None:
                return np.where(hi > lo, self.rate * (hi - lo), 0.0)
            if not np.any(hi > lo):
                return np.zeros(np.broadcast(lo, hi).shape)
            lo_f = np.where(np.isfinite(lo), lo, 0.0)
            hi_f = np.where(np.isfinite(hi), hi, 0.0)
            span = self._absolute(self.phase + hi_f) - self._absolute(self.phase + lo_f)
            return np.where(hi > lo, np.where(np.isinf(hi), np.inf, span), 0.0)

    def rate_at(self, t: np.ndarray) -> np.ndarray:
        """The arrival rate (per second) at ``t`` (the queue's rate where ``t`` is not finite)."""
        if self.knots is None:
            return np.full(np.shape(t), self.rate)
        t_f = np.where(np.isfinite(t), t, 0.0)
        hour = np.floor(np.mod(self.phase + t_f, WEEK) / HOUR).astype(np.int64)
        return np.where(np.isfinite(t), np.diff(self.knots)[hour] / HOUR, self.rate)

    def time_when(self, start: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """The first instant by which ``amount`` messages have arrived since ``start`` (finite start)."""
        if self.knots is None:
            return start + amount / self.rate
        target = self._absolute(self.phase + start) + amount
        week = self.knots[-1]
        weeks = np.floor(target / week)
        x = weeks * WEEK + np.interp(target - weeks * week, self.knots, np.arange(169) * HOUR)
        return x - self.phase


@dataclass(frozen=True)
class QueueFlow:
    """One queue over the replicates: backlog, dropped messages, lost window, drain time, when full.

    ``full_at`` is the instant the buffer filled (NaN where it never did).
    """

    backlog: np.ndarray
    dropped: np.ndarray
    lost: np.ndarray
    drain: np.ndarray
    full_at: np.ndarray


def queue_flow(
    arr: Arrivals,
    buffer: float,
    drain: float,
    consumer: tuple[np.ndarray, np.ndarray],
    producer: tuple[np.ndarray, np.ndarray] | None,
    full_at: bool = True,
) -> QueueFlow:
    """The fluid queue of the module docstring, element by element over the replicates.

    ``consumer`` and ``producer`` are (down, up) times; ``producer`` None means it never goes down.
    ``full_at`` False skips the instant the buffer filled where nothing needs it (NaN then).
    """
    cd, cu = consumer
    pd, pu = producer if producer is not None else (np.full_like(cd, np.inf), np.full_like(cd, np.inf))
    end1 = np.minimum(cu, pd)
    start2 = np.maximum(cd, pu)
    a1 = arr.between(cd, end1)
    arrived = a1 + arr.between(start2, cu) if producer is not None else a1
    backlog = np.minimum(arrived, buffer)
    with np.errstate(invalid="ignore"):
        dropped = np.where(np.isinf(arrived), np.inf, arrived - backlog)
        full = dropped > 0
        in_first = a1 >= buffer
        filled = np.full_like(cd, np.nan)
        if (full_at or arr.knots is not None) and full.any():
            filled = np.where(
                in_first,
                arr.time_when(np.where(np.isfinite(cd), cd, 0.0), np.full_like(cd, buffer)),
                arr.time_when(np.where(np.isfinite(start2), start2, 0.0), np.maximum(buffer - a1, 0.0)),
            )
            filled = np.where(full, filled, np.nan)
        if arr.knots is None:
            lost = dropped / arr.rate
        else:
            second = np.where(cu > start2, cu - start2, 0.0)
            after_full = np.where(in_first, np.maximum(end1 - filled, 0.0) + second, cu - filled)
            lost = np.where(full, after_full, 0.0)
        producer_up = ~((pd <= cu) & (cu < pu))
        r = np.where(producer_up, arr.rate_at(cu), 0.0)
        drain_time = backlog / (drain - r)
    return QueueFlow(backlog, dropped, lost, drain_time, filled)
