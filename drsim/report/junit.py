"""A run's checks as JUnit XML, the test report CI servers read (Jenkins, GitLab, GitHub, Azure).

The document follows the schema those servers share::

    <testsuites name tests failures errors skipped time>
      <testsuite name tests failures errors skipped time timestamp>
        <properties><property name value/>...</properties>
        <testcase name classname time>
          <failure message type>measured against threshold</failure>
          <system-out>...</system-out>
        </testcase>
      </testsuite>
    </testsuites>

One test case per check (:mod:`drsim.report.verdicts`): a replay's targets,
or a sweep's gates; one test suite per grid point (one in all without a grid).
A missed ``fail`` check carries a ``<failure>`` whose message says what was
measured, the threshold and by how much it was missed. A missed ``warn``
check passes, with the warning in its ``<system-out>``: a CI server shows it
without failing the build, as the exit status does.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .verdicts import Check


@dataclass(frozen=True)
class Suite:
    """One test suite: the checks of one grid point (or of the whole run), with what the run was."""

    name: str
    checks: Sequence[Check]
    #: Settings the run was made with (seed, replicates, engine, files): ``<properties>``.
    properties: Mapping[str, Any]


def suites(checks: Sequence[Check], name: str, properties: Mapping[str, Any]) -> list[Suite]:
    """The checks grouped by grid point, one suite each, named ``name`` and the point's values."""
    by_point: dict[int, list[Check]] = {}
    for c in checks:
        by_point.setdefault(c.point, []).append(c)
    out = []
    for _, group in sorted(by_point.items()):
        params = group[0].params
        label = f"{name} [{', '.join(f'{k}={v}' for k, v in params.items())}]" if params else name
        out.append(Suite(label, group, {**properties, **{f"grid.{k}": v for k, v in params.items()}}))
    return out or [Suite(name, [], properties)]


def junit_xml(
    checks: Sequence[Check],
    name: str,
    properties: Mapping[str, Any],
    seconds: float = 0.0,
    timestamp: dt.datetime | None = None,
) -> str:
    """The JUnit XML document of a run's checks.

    Parameters
    ----------
    checks
        The run's checks, in order (a sweep's carry their grid point).
    name
        The run's name: the drill (each test case's class name is ``name`` and
        ``targets`` or ``gates``, so CI groups them).
    properties
        Settings to record in each suite's ``<properties>``.
    seconds
        The run's wall time, shared out over its suites.
    timestamp
        When the run started (UTC; default now).
    """
    when = (timestamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    groups = suites(checks, name, properties)
    root = ET.Element("testsuites", name=f"drsim {name}")
    _counts(root, checks, seconds)
    for suite in groups:
        el = ET.SubElement(root, "testsuite", name=suite.name)
        _counts(el, suite.checks, seconds / len(groups))
        el.set("timestamp", when.strftime("%Y-%m-%dT%H:%M:%S"))
        props = ET.SubElement(el, "properties")
        for k, v in suite.properties.items():
            ET.SubElement(props, "property", name=str(k), value=str(v))
        for c in suite.checks:
            _testcase(el, c, name)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _counts(el: ET.Element, checks: Sequence[Check], seconds: float) -> None:
    el.set("tests", str(len(checks)))
    el.set("failures", str(sum(c.blocking for c in checks)))
    el.set("errors", "0")
    el.set("skipped", "0")
    el.set("time", f"{seconds:.3f}")


def _testcase(parent: ET.Element, c: Check, name: str) -> None:
    """One check as a test case: a ``<failure>`` if it failed, a warning in ``<system-out>`` if it warned."""
    tc = ET.SubElement(parent, "testcase", name=c.name, classname=f"{name}.{c.kind}s", time="0")
    if c.blocking:
        failure = ET.SubElement(tc, "failure", message=c.message(), type=f"{c.kind} missed")
        failure.text = f"{c.verdict}  {c.name}: {c.message()}"
    else:
        out = ET.SubElement(tc, "system-out")
        out.text = f"{c.verdict}  {c.name}: {c.message()}" + (
            " (severity warn: reported, not failed)" if c.verdict == "WARN" else ""
        )


__all__ = ["Suite", "junit_xml", "suites"]
