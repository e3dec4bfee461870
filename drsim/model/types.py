"""Field types shared by the topology and drill models.

Durations, sizes and rates are written with units in the files and held as
numbers (seconds, bytes, per second) in the models; a distribution is held as a
:class:`~drsim.model.distributions.Distribution`. Each type writes itself back in the
same grammar, so a model round-trips through YAML/JSON unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic import BaseModel as _PydanticBase

from .distributions import Distribution, parse_distribution
from .names import check_name
from .units import (
    UnitError,
    parse_clock,
    parse_duration,
    parse_rate,
    parse_size,
    parse_throughput,
    write_duration,
)


class Model(_PydanticBase):
    """A frozen, strict record: unknown fields are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=False)


#: The name of a region, tier, role, service, queue or workflow, as a key or in a reference.
Name = Annotated[str, AfterValidator(check_name)]


def clock_time(v, example: str) -> dt.datetime:
    """A drill's or a cutover's start: a datetime as is, or ISO text such as ``example``; else a
    :class:`ValueError` quoting ``example``."""
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            pass
    raise ValueError(f"expected a clock time like {example!r}, found {v!r}")


def _wrap(fn, what):
    def validate(v):
        try:
            return fn(v)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    validate.__name__ = f"parse_{what}"
    return validate


def _positive_duration(v) -> float:
    s = parse_duration(v)
    if s <= 0:
        raise UnitError(f"expected a positive duration, found {v!r}")
    return s


DurationDist = Annotated[
    Distribution,
    PlainValidator(_wrap(parse_distribution, "distribution")),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A duration or duration distribution: '15m', 'lognormal(p50=10m, "
            "p95=45m)', 'triangular(5m, 10m, 30m)', 'exponential(mean=30s)', "
            "'uniform(1m, 5m)', 'empirical([4m, 6m, 9m])', 'gamma(shape=2, scale=5m)', "
            "'weibull(shape=1.5, scale=12m)'.",
            "examples": ["15m", "lognormal(p50=10m, p95=45m)"],
        }
    ),
]

Seconds = Annotated[
    float,
    PlainValidator(_wrap(parse_duration, "duration")),
    PlainSerializer(write_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*(\d+(\.\d*)?\s*(ms|s|m|min|h|d|w)\s*)+$",
            "description": "A fixed duration with units: '90s', '15m', '4h', '1h30m'.",
        }
    ),
]

PositiveSeconds = Annotated[
    float,
    PlainValidator(_wrap(_positive_duration, "positive_duration")),
    PlainSerializer(write_duration, return_type=str),
    WithJsonSchema({"type": "string", "description": "A positive fixed duration: '24h'."}),
]

Clock = Annotated[
    int,
    PlainValidator(_wrap(parse_clock, "clock")),
    PlainSerializer(lambda m: f"{m // 60:02d}:{m % 60:02d}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "description": "'HH:MM'"}),
]

Size = Annotated[
    float,
    PlainValidator(_wrap(parse_size, "size")),
    PlainSerializer(lambda b: f"{b:g}B", return_type=str),
    WithJsonSchema({"type": "string", "description": "A data size: '500GB', '2TiB'."}),
]

Throughput = Annotated[
    float,
    PlainValidator(_wrap(parse_throughput, "throughput")),
    PlainSerializer(lambda r: f"{r:g}B/s", return_type=str),
    WithJsonSchema({"type": "string", "description": "A data rate: '200MB/s', '1TiB/h'."}),
]

Rate = Annotated[
    float,
    PlainValidator(_wrap(parse_rate, "rate")),
    PlainSerializer(lambda r: f"{r:g}/s", return_type=str),
    WithJsonSchema({"type": "string", "description": "An event rate: '40/min', '2/s'."}),
]
