"""Units people write in drill files: durations, clock times, data sizes and rates.

Every duration inside drsim is a float number of **seconds**. Every data size is
a float number of **bytes**; every rate is *per second*. This module is the one
place where the strings people write (``90s``, ``15m``, ``1h30m``, ``500GB``,
``200MB/s``, ``40/min``) become those numbers, and where numbers become
readable strings again.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "UnitError",
    "format_duration",
    "parse_clock",
    "parse_duration",
    "parse_rate",
    "parse_size",
    "parse_throughput",
    "write_duration",
]

SECONDS_PER = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}

BYTES_PER = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|min|s|m|h|d|w)\s*")
_SIZE = re.compile(rf"^\s*({_NUMBER})\s*(B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)\s*$")
_PER = re.compile(r"^\s*(.+?)\s*/\s*(ms|s|sec|min|m|h|hour|d|day)\s*$")
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")

# The largest duration drsim accepts: ten years. Larger numbers are typos.
MAX_DURATION = 10 * 365 * 86400.0


class UnitError(ValueError):
    """A value written with missing, unknown or impossible units."""


def parse_duration(text: str | int | float) -> float:
    """Seconds in a written duration such as ``90s``, ``15m``, ``4h`` or ``1h30m``.

    Bare numbers are refused: ``15`` could mean seconds or minutes, and a wrong
    guess silently changes every result.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a duration with units such as '90s', '15m' or '4h', found {text!r}")
    s = text.strip()
    if not s:
        raise UnitError("expected a duration such as '90s', '15m' or '4h', found an empty string")
    pos, total, parts = 0, 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or m.end() == pos:
            raise UnitError(
                f"expected a duration with units (ms, s, m, h, d, w) such as '90s', '15m' or '1h30m', found {text!r}"
            )
        total += float(m.group(1)) * SECONDS_PER[m.group(2)]
        parts += 1
        pos = m.end()
    if not math.isfinite(total) or total > MAX_DURATION:
        raise UnitError(f"duration {text!r} is longer than ten years; is it a typo?")
    return total


def format_duration(seconds: float) -> str:
    """A short human reading of a number of seconds: ``42s``, ``7m05s``, ``2h14m``, ``3d4h``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    if math.isinf(seconds):
        return "never"
    neg = seconds < 0
    s = abs(float(seconds))
    if s < 60:
        out = f"{s:.0f}s" if s >= 10 or s == int(s) else f"{s:.1f}s"
    elif s < 3600:
        m, sec = divmod(round(s), 60)
        out = f"{m}m{sec:02d}s"
    elif s < 86400:
        h, rem = divmod(round(s), 3600)
        out = f"{h}h{rem // 60:02d}m"
    else:
        d, rem = divmod(round(s), 86400)
        out = f"{d}d{rem // 3600}h"
    return ("-" if neg else "") + out


def write_duration(seconds: float) -> str:
    """A duration written back in the files' grammar, exactly: ``90s``, ``15m``, ``1.5s``.

    Unlike :func:`format_duration`, which rounds for reading, this is what a model
    writes when it is saved: parsing the result gives back the same number of seconds.
    The largest whole unit is used (``2h`` rather than ``120m``); anything else is
    written in seconds with every digit kept.
    """
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size) == int(seconds / size):
            return f"{int(seconds / size)}{unit}"
    return f"{seconds!r}s" if seconds != int(seconds) else f"{int(seconds)}s"


def parse_clock(text: str) -> int:
    """Minutes after midnight of a wall-clock time written ``HH:MM`` (24-hour)."""
    if not isinstance(text, str):
        raise UnitError(f"expected a clock time 'HH:MM' in quotes, found {text!r}")
    m = _CLOCK.match(text)
    if not m:
        raise UnitError(f"expected a clock time 'HH:MM' (00:00-23:59), found {text!r}")
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_size(text: str) -> float:
    """Bytes in a written data size such as ``500GB`` or ``2TiB``."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a data size with units such as '500GB', found {text!r}")
    m = _SIZE.match(text)
    if not m:
        raise UnitError(
            f"expected a data size such as '500GB' or '2TiB' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), found {text!r}"
        )
    return float(m.group(1)) * BYTES_PER[m.group(2)]


def _per_second(unit: str) -> float:
    return {
        "ms": 0.001,
        "s": 1.0,
        "sec": 1.0,
        "min": 60.0,
        "m": 60.0,
        "h": 3600.0,
        "hour": 3600.0,
        "d": 86400.0,
        "day": 86400.0,
    }[unit]


def parse_throughput(text: str) -> float:
    """Bytes per second in a written data rate such as ``200MB/s`` or ``1TiB/h``."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a data rate such as '200MB/s', found {text!r}")
    m = _PER.match(text)
    if not m:
        raise UnitError(f"expected a data rate such as '200MB/s' or '1TiB/h', found {text!r}")
    size = parse_size(m.group(1))
    rate = size / _per_second(m.group(2))
    if rate <= 0:
        raise UnitError(f"a data rate must be positive, found {text!r}")
    return rate


def parse_rate(text: str) -> float:
    """Events per second in a written rate such as ``40/min`` or ``2.5/s``."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a rate such as '40/min' or '2/s', found {text!r}")
    m = _PER.match(text)
    if not m or not re.fullmatch(_NUMBER, m.group(1)):
        raise UnitError(f"expected a rate such as '40/min', '2/s' or '3000/h', found {text!r}")
    return float(m.group(1)) / _per_second(m.group(2))
