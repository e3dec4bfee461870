"""Wording: durations, clock offsets and lists as people say them on paper.

A tabletop pack is read aloud around a table, so its numbers are written the
way people speak them: ``1h52m`` rather than ``1h52m00s``, ``T+15m`` for a
moment fifteen minutes into the drill, ``a, b and c`` for a list. Every page of
the pack and the swimlane chart word things through these helpers, so the
same moment reads the same everywhere.
"""

from __future__ import annotations

import math

from ..model.units import format_duration


def dur(seconds: float | None) -> str:
    """A duration as people say it: ``42s``, ``7m05s``, ``15m``, ``2h``, ``1h52m``, ``never``."""
    if seconds is None:
        return "-"
    s = format_duration(seconds)
    for zero in ("m00s", "h00m", "d0h"):
        if s.endswith(zero):
            return s[: -len(zero) + 1]
    return s


def tplus(seconds: float) -> str:
    """A moment as time since the drill started: ``T+0``, ``T+15m``, or ``never``."""
    return "T+0" if seconds == 0 else ("T+" + dur(seconds) if math.isfinite(seconds) else "never")


def ordinal(p: float) -> str:
    """A percentile as an ordinal: ``1st``, ``50th``, ``92nd``, ``99.9th``."""
    n = f"{p:g}"
    if n.endswith(("11", "12", "13")):
        return n + "th"
    return n + {"1": "st", "2": "nd", "3": "rd"}.get(n[-1], "th")


def share(part: float, whole: float) -> str:
    """``part`` as a share of ``whole``: ``40%``, or ``under 1%`` for a sliver."""
    pct = 100 * part / whole
    return "under 1%" if 0 < pct < 1 else f"{pct:.0f}%"


def spoken_list(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def comma_list(items: list[str], empty: str = "none") -> str:
    """``a, b, c``, or ``empty`` when there is nothing to list."""
    return ", ".join(items) if items else empty


def metric_name(key: str) -> str:
    """An outcome key as a phrase: ``tier:tier0:rto`` is ``tier0 RTO``."""
    if key.startswith("tier:") and key.endswith(":rto"):
        return f"{key.split(':')[1]} RTO"
    return {"latency:total": "time from fault to every service restored", "rollback:total:time": "rollback time"}.get(
        key, key
    )
