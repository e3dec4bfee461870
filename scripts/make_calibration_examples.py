"""Write the calibration walkthrough's example inputs, drawn from known distributions.

``drsim/data/examples/calibration/`` holds what a hospital's DR lead would bring
to ``drsim calibrate`` and ``drsim backtest``, with the truth known so the
walkthrough shows the fit recovering it:

* ``pagerduty-dba-2025.csv`` — a year of pages to the EHR database's DBAs, as
  PagerDuty's incident analytics export lays them out. Each incident is created
  at a uniformly random moment of 2025 (Europe/London) and acknowledged by the
  shift on duty after a lognormal time: weekday days P50 4m / P95 10m,
  weekend days P50 8m / P95 20m (the estate's own figures), nights P50 22m /
  P95 1h06m (the estate guesses 12m / 30m). A page not acknowledged within the
  30-minute escalation timeout escalates (``escalation_count`` 1), and the
  secondary acknowledges 2-10 minutes later;
* ``mapping.yaml`` — the DBA role's acknowledgement, fitted per shift, with
  escalated pages censored at the timeout;
* ``observed-drills.csv`` — five night region-loss game days as they really
  went: replicates of the drill on the estate with the true acknowledgement
  times (a seed no sweep uses), their acknowledgement milestone and tier-0 RTO;
  one was stopped at 3h with tier 0 not yet back, written ``>=3h``.

Run ``python scripts/make_calibration_examples.py`` to rewrite them (the output is
the same every time).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from drsim.model.units import format_duration, write_duration
from drsim.sweep import sweep
from drsim.sweep.overlay import Overlay

OUT = Path(__file__).resolve().parent.parent / "drsim" / "data" / "examples" / "calibration"
Z95 = 1.6448536269514722
LONDON = ZoneInfo("Europe/London")
#: The true acknowledgement of each DBA shift (P50, P95 in seconds), in the roster's order.
TRUTH = {"day-weekday": (240.0, 600.0), "day-weekend": (480.0, 1200.0), "night": (1320.0, 3960.0)}
INCIDENTS = 480
TIMEOUT = 1800.0
DRILLS = 5
STOPPED = 3 * 3600.0


def shift_of(local: dt.datetime) -> str:
    """The DBA shift on duty at a local time (days 07:00-19:00, nights 19:00-07:00)."""
    if 7 <= local.hour < 19:
        return "day-weekend" if local.weekday() >= 5 else "day-weekday"
    return "night"


def lognormal(rng: np.random.Generator, p50: float, p95: float) -> float:
    return float(p50 * math.exp(math.log(p95 / p50) / Z95 * rng.standard_normal()))


def pagerduty(path: Path, rng: np.random.Generator) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=LONDON)
    year = (dt.datetime(2026, 1, 1, tzinfo=LONDON) - start).total_seconds()
    created = sorted(start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, year, INCIDENTS))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "incident_number", "service_name", "team_name", "urgency", "priority_name",
                    "created_at", "resolved_at", "seconds_to_first_ack", "seconds_to_resolve",
                    "escalation_count"])  # fmt: skip
        for i, when in enumerate(created):
            ack = lognormal(rng, *TRUTH[shift_of(when)])
            escalated = ack > TIMEOUT
            first_ack = TIMEOUT + float(rng.uniform(120, 600)) if escalated else ack
            resolve = first_ack + lognormal(rng, 2400.0, 10800.0)
            utc = when.astimezone(dt.UTC)
            w.writerow([f"Q{i + 1:05d}", 4100 + i, "EHR database", "DBA", "high", "P2",
                        utc.isoformat(timespec="seconds"),
                        (utc + dt.timedelta(seconds=resolve)).isoformat(timespec="seconds"),
                        round(first_ack), round(resolve), int(escalated)])  # fmt: skip


MAPPING = """\
# Which model element the PagerDuty export feeds: the DBA role's time to acknowledge a page,
# one fit per shift of the roster (incidents placed on the shift on duty in London time).
topology: ehr-hybrid
timezone: Europe/London
bootstrap: 200
seed: 0
elements:
  - element: topology.staff.dba.acknowledge
    measure: acknowledge
    where: {service: EHR database, urgency: high}
    escalation_timeout: 30m        # escalated pages: the first level took at least this long
"""


def observed(path: Path) -> None:
    """Game days as they went: the drill on the estate with the true acknowledgement times."""
    values = tuple(
        (
            f"topology.staff.dba.shifts.{i}.acknowledge",
            f"lognormal(p50={write_duration(p50)}, p95={write_duration(p95)})",
        )
        for i, (p50, p95) in enumerate(TRUTH.values())
    )
    truth = Overlay("the true acknowledgement times", values, {})
    result = sweep("region-loss", n=DRILLS, seed=20250314, executor="inline", keep_replicates=True,
                   calibration=[truth])  # fmt: skip
    reps = result.replicates()
    days = ["2025-02-08", "2025-04-12", "2025-06-14", "2025-09-13", "2025-11-08"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["drill", "date", "metric", "observed"])
        for i, day in enumerate(days):
            name = f"night game day {i + 1}"
            ack = float(reps["milestone:acknowledged:time"][i])
            rto = float(reps["tier:tier0:rto"][i])
            w.writerow([name, day, "milestone:acknowledged:time", format_duration(ack)])
            rto_text = f">={format_duration(STOPPED)}" if rto > STOPPED else format_duration(rto)
            w.writerow([name, day, "tier:tier0:rto", rto_text])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pagerduty(OUT / "pagerduty-dba-2025.csv", np.random.default_rng(2025))
    (OUT / "mapping.yaml").write_text(MAPPING)
    observed(OUT / "observed-drills.csv")
    for p in sorted(OUT.iterdir()):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
