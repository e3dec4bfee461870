"""Reading runs against each other: what changed between two runs, and how one drill fares over time.

A *figure* is one headline statistic of one metric at one grid point
(``tier:tier0:rto`` ``p90`` at point 0), as the journal records it, with its
95% interval where the journal has one (a sweep's). Between two runs a
figure has *moved* when its value differs; the move is *clear* when both runs
give an interval and the two intervals do not overlap (a move inside the
noise of the replicates is not clear).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .store import Run

#: The statistic trend reads for each tier's RTO: P90 of a sweep, the value of one replay.
TREND_STATISTICS = ("p90", "value")


@dataclass(frozen=True)
class InputChange:
    """One input file (by role and name as given) in two runs: ``same``, ``changed``, ``added`` or ``removed``,
    judged by SHA-256."""

    role: str
    given: str
    status: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class FigureChange:
    """One figure in two runs (None where a run lacks it), with intervals where the journals have them."""

    point: int
    metric: str
    statistic: str
    unit: str
    before: float | None
    after: float | None
    before_interval: tuple[float, float] | None
    after_interval: tuple[float, float] | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def moved(self) -> bool:
        return self.before != self.after

    @property
    def clear(self) -> bool:
        """Moved beyond the replicates' noise: both intervals known and apart."""
        if not self.moved or self.before_interval is None or self.after_interval is None:
            return False
        (a_lo, a_hi), (b_lo, b_hi) = self.before_interval, self.after_interval
        return a_hi < b_lo or b_hi < a_lo


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: their settings, each input's change and each figure's move."""

    before: Run
    after: Run
    settings: dict[str, tuple]
    inputs: tuple[InputChange, ...]
    figures: tuple[FigureChange, ...]

    @property
    def changed_inputs(self) -> list[InputChange]:
        return [i for i in self.inputs if i.status != "same"]

    @property
    def moved(self) -> list[FigureChange]:
        return [f for f in self.figures if f.moved]


def _inputs(before: Run, after: Run) -> tuple[InputChange, ...]:
    a = {(i["role"], i["given"]): i["sha256"] for i in before["inputs"]}
    b = {(i["role"], i["given"]): i["sha256"] for i in after["inputs"]}
    out = []
    for key in list(a) + [k for k in b if k not in a]:
        x, y = a.get(key), b.get(key)
        status = "added" if x is None else "removed" if y is None else "same" if x == y else "changed"
        out.append(InputChange(key[0], key[1], status, x, y))
    return tuple(out)


def _interval(f: dict) -> tuple[float, float] | None:
    lo, hi = f.get("low"), f.get("high")
    return None if lo is None or hi is None else (lo, hi)


def _figures(before: Run, after: Run) -> tuple[FigureChange, ...]:
    a = {(f["point"], f["metric"], f["statistic"]): f for f in before["figures"]}
    b = {(f["point"], f["metric"], f["statistic"]): f for f in after["figures"]}
    out = []
    for key in list(a) + [k for k in b if k not in a]:
        x, y = a.get(key), b.get(key)
        unit = (x or y or {}).get("unit", "s")
        out.append(
            FigureChange(
                *key,
                unit,
                None if x is None else x["value"],
                None if y is None else y["value"],
                None if x is None else _interval(x),
                None if y is None else _interval(y),
            )
        )
    return tuple(out)


def compare_runs(before: Run, after: Run) -> Comparison:
    """What changed from run ``before`` to run ``after``: settings, inputs (by SHA-256) and figures."""
    keys = ("command", "drill", "topology", "seed", "n", "engine", "drsim_version", "passed")
    settings = {k: (before[k], after[k]) for k in keys if before[k] != after[k]}
    return Comparison(before, after, settings, _inputs(before, after), _figures(before, after))


@dataclass(frozen=True)
class Trend:
    """One drill over time: for each run (oldest first), each tier's P90 RTO and P(meeting its RTO target)."""

    drill: str
    tiers: tuple[str, ...]
    runs: tuple[Run, ...]
    #: ``p90[i][tier]``: run i's P90 RTO of the tier in seconds (one replay's value), None if not recorded.
    p90: tuple[dict[str, float | None], ...]
    #: ``p_meet[i][tier]``: run i's P(tier RTO <= target), None for one replay or a tier without a target.
    p_meet: tuple[dict[str, float | None], ...]


def trend(drill: str, runs: Sequence[Run], point: int = 0) -> Trend:
    """Each tier's P90 RTO and P(meet) at grid point ``point`` across ``runs`` of ``drill``."""
    tiers: list[str] = []
    p90s, meets = [], []
    for run in runs:
        p90: dict[str, float | None] = {}
        meet: dict[str, float | None] = {}
        for f in run["figures"]:
            parts = f["metric"].split(":")
            if f["point"] != point or len(parts) != 3 or parts[0] != "tier" or parts[2] != "rto":
                continue
            tier = parts[1]
            if tier not in tiers:
                tiers.append(tier)
            if f["statistic"] in TREND_STATISTICS:
                p90[tier] = f["value"]
            elif f["statistic"] == "p_meet":
                meet[tier] = f["value"]
        p90s.append(p90)
        meets.append(meet)
    return Trend(drill, tuple(sorted(tiers)), tuple(runs), tuple(p90s), tuple(meets))
