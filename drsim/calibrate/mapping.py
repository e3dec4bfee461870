"""The mapping file: which model element each record feeds, and how it is selected.

A calibration needs to know that the PagerDuty incidents of the EHR database
service measure the DBA's acknowledgement, and that the ``promote-standby``
activity of a chaos journal measures a runbook step::

    topology: ehr-hybrid          # the estate the elements belong to (default: the reference estate)
    drill: region-loss            # needed only for drill.* elements
    timezone: Europe/London       # the shifts' local time, for placing records on the roster
    elements:
      - element: topology.staff.dba.acknowledge           # one fit per shift of the role
        measure: acknowledge
        where: {service: [EHR database]}
        escalation_timeout: 10m
      - element: topology.services.ehr-db.recovery.steps.0.duration
        measure: duration
        where: {activity: promote-standby, status: succeeded}
      - element: drill.detection.delay
        measure: duration
        where: {element: detection}

``element`` is a dotted path into the documents, exactly as ``--grid`` and
overlays take it, ending at a duration. ``topology.staff.ROLE.acknowledge``
(no shift) stands for every shift of the role: each record goes to the shift
on duty when it was created, in ``timezone``, and each shift gets its own fit.
``measure`` is what the record timed (``acknowledge`` and ``resolve`` from
incident exports, ``duration`` from journals and steps files); ``where``
keeps the records whose labels match (a list means any of them); ``files``
keeps records from the named source files only.

An incident escalated past its first responders was not acknowledged by them
in time: with ``escalated: censor`` (the default) its first-level
acknowledgement counts as *at least* ``escalation_timeout`` (or at least the
time the acknowledgement finally came, without one). ``escalated: keep``
counts whoever acknowledged first as the role.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import Field

from ..errors import InputError, Problem
from ..model.loader import model_from_text, parse_yaml, read_user_file
from ..model.types import Model, PositiveSeconds
from .fit import BOOTSTRAP, FAMILIES, MIN_RECORDS
from .records import parse_timestamp

Measure = Literal["acknowledge", "resolve", "duration"]
Family = Literal["lognormal", "gamma", "weibull", "exponential"]


class ElementMap(Model):
    """One model element and the records that feed it."""

    element: str = Field(description="Dotted path to a duration, as --grid takes it (e.g. drill.detection.delay).")
    measure: Measure = Field(description="What the records timed: acknowledge, resolve or duration.")
    where: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Label -> value (or list of values) a record must have."
    )
    files: list[str] | None = Field(None, description="Only records from these source files (path or file name).")
    escalated: Literal["censor", "keep"] = "censor"
    escalation_timeout: PositiveSeconds | None = Field(
        None, description="The escalation policy's timeout: an escalated first-level acknowledgement exceeds it."
    )
    families: list[Family] | None = Field(None, min_length=1, description="Families to try (default: all four).")
    min_records: int | None = Field(None, ge=2, le=100_000)


class CalibrationMap(Model):
    """A mapping file: the estate, the records' local time, and the elements to calibrate."""

    description: str = ""
    topology: str | None = Field(None, description="Bundled topology name or YAML file (default: --topology).")
    drill: str | None = Field(None, description="Bundled drill name or YAML file, for drill.* elements.")
    timezone: str = Field("UTC", description="IANA time zone of the shifts, e.g. Europe/London.")
    as_of: str | None = Field(
        None,
        description="When the exports were taken (ISO 8601); open records are censored here (default: the "
        "latest timestamp in their file).",
    )
    min_records: int = Field(MIN_RECORDS, ge=2, le=100_000, description="Fewest finished records to fit from.")
    bootstrap: int = Field(BOOTSTRAP, ge=0, le=100_000, description="Bootstrap resamples (0: no intervals).")
    seed: int = Field(0, ge=0, description="Seed of the bootstrap.")
    elements: list[ElementMap] = Field(min_length=1)


def load_mapping(path: str | Path) -> tuple[CalibrationMap, dt.tzinfo, dt.datetime | None]:
    """The mapping in ``path``, its time zone and its ``as_of`` instant, validated with file, line and field."""
    source = str(path)
    raw = read_user_file(path)
    model = model_from_text(raw, CalibrationMap, source)
    assert isinstance(model, CalibrationMap)
    doc = parse_yaml(raw, source)
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(model.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            source,
            [
                Problem(
                    f"unknown time zone {model.timezone!r}; expected an IANA name such as Europe/London or UTC",
                    ("timezone",),
                    *doc.locate(("timezone",)),
                )
            ],
        ) from None
    as_of = None
    if model.as_of is not None:
        try:
            as_of = parse_timestamp(model.as_of)
        except ValueError as exc:
            raise InputError(source, [Problem(str(exc), ("as_of",), *doc.locate(("as_of",)))]) from None
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=tz)
    for i, e in enumerate(model.elements):
        unknown = [f for f in (e.families or []) if f not in FAMILIES]
        if unknown:  # pragma: no cover - Literal already refuses
            raise InputError(source, [Problem(f"unknown family {unknown[0]!r}", ("elements", i, "families"))])
    return model, tz, as_of


def locate(path: str | Path, field: tuple) -> tuple[int | None, int | None]:
    """Line and column of a field of the mapping file (for errors found after loading)."""
    try:
        return parse_yaml(read_user_file(path), str(path)).locate(field)
    except InputError:  # pragma: no cover - the file loaded a moment ago
        return None, None


__all__ = ["CalibrationMap", "ElementMap", "load_mapping", "locate"]
