"""Usable, not just restored; workflows needing dependency groups; degraded time; failback.

* A service is usable after its technical restore once its ``usable`` steps and the back-entry
  of its paper records (``per_hour`` of work per hour down) are done: usable = X (1 + c) + u.
* A workflow's downtime runs until usable: its services' usable milestones, then its own work,
  whose back-entry scales with the time from the first need down to the last back.
* A workflow needing ``any_of`` is down for the minimum of its members' outages; ``need`` of n for the
  order statistic.
* A service left up on fewer members of a group runs degraded while any member is down.
* Failback: when the failover won the race against the restart in place, the service moves back
  after the primary is back (planned: a window, the resync scaled by the time on the standby,
  a freeze, the switch; forced: at once, exposing every write the standby took).

Closed forms at 10^5 replicates within 4 standard errors; both engines agree on the first few hundred.
"""

from __future__ import annotations

import math

import numpy as np
from builders import auto_service, base_drill, base_topology, plan_of, role, run_both

N = 100_000
HOUR = 3600.0


def within_4_se(sample: np.ndarray, expected: float) -> None:
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - expected) <= 4 * se, (sample.mean(), expected, se)


STAFF = {"ic": role(), "clerk": role(headcount=2), "dba": role()}


def _restart(mean: str, boot: str = "10m") -> list[dict]:
    """A runbook: a fixed boot (so the incident is staffed before it ends), then an exponential wait."""
    return [{"name": "boot", "duration": boot}, {"name": "restart", "duration": f"exponential(mean={mean})"}]


def test_a_service_is_usable_after_reconnecting_and_entering_back_its_paper_records():
    """X = 10 min + Exp(2 h) down; reconnect 10 min, then 20 min of back-entry per hour down by a
    clerk: usable = 10 min + X (1 + 1/3), mean 10 min + (4/3)(2 h 10 min)."""
    usable = {
        "steps": [{"name": "clients reconnect", "duration": "10m"}],
        "backlog_entry": {"per_hour": "20m", "role": "clerk"},
    }
    services = {"ehr": auto_service(_restart("2h"), usable=usable)}
    m = run_both(plan_of(base_topology(services, staff=STAFF), base_drill()), seed=61, n=N)
    rto, usable_at = m["service:ehr:rto"], m["service:ehr:usable"]
    np.testing.assert_allclose(usable_at, 600 + rto * (1 + 1 / 3), rtol=1e-12)
    within_4_se(usable_at, 600 + (4 / 3) * (2 * HOUR + 600))


def test_a_workflow_is_down_until_usable_and_its_back_entry_scales_with_its_downtime():
    """Two services down together, X + Y ~ 10 min + Exp(1 h), Exp(3 h); b usable 5 min after restored;
    the workflow's own back-entry 30 min per hour from the first down to the last usable, then a 5 min
    check: downtime = 1.5 M + 5 min, M = max(X, Y + 5 min)."""
    services = {
        "a": auto_service(_restart("1h")),
        "b": auto_service(_restart("3h"), usable={"steps": [{"name": "re-validate", "duration": "5m"}]}),
    }
    workflows = {
        "journey": {
            "needs": ["a", "b"],
            "tolerance": "1h",
            "usable": {
                "backlog_entry": {"per_hour": "30m", "role": "clerk"},
                "steps": [{"name": "ward check", "duration": "5m", "role": "clerk"}],
            },
        }
    }
    plan = plan_of(base_topology(services, staff=STAFF, workflows=workflows), base_drill())
    m = run_both(plan, seed=62, n=N)
    last = np.maximum(m["service:a:rto"], m["service:b:usable"])
    np.testing.assert_allclose(m["workflow:journey:downtime"], 1.5 * last + 300, rtol=1e-12)
    np.testing.assert_allclose(m["service:b:usable"], m["service:b:rto"] + 300)
    # E[max(X, Y')] with X = 10 min + Exp(1 h), Y' = 15 min + Exp(3 h), by numerical integration
    t = np.linspace(0, 60 * HOUR, 2_000_001)
    cdf_x = np.where(t >= 600, 1 - np.exp(-(t - 600) / HOUR), 0.0)
    cdf_y = np.where(t >= 900, 1 - np.exp(-(t - 900) / (3 * HOUR)), 0.0)
    e_max = np.trapezoid(1 - cdf_x * cdf_y, t)
    within_4_se(m["workflow:journey:downtime"], 1.5 * e_max + 300)


def _gateways(needs: list, hit: list[str], usable: dict | None = None):
    gateway = [{"name": "restart", "duration": "exponential(mean=1h)"}]
    services = {g: auto_service(gateway, region="site") for g in ("visa-gw", "mc-gw", "amex-gw")}
    wf = {"needs": needs, "tolerance": "1h", **({"usable": usable} if usable else {})}
    drill = base_drill(faults=[{"kind": "service-outage", "targets": hit}])
    return plan_of(base_topology(services, staff=STAFF, workflows={"pay": wf}), drill)


def test_a_workflow_needing_any_of_two_is_down_for_the_shorter_outage():
    """any_of two gateways, both down: min(X1, X2) ~ Exp(30 min); with 5 min of own work after."""
    plain = run_both(_gateways([{"any_of": ["visa-gw", "mc-gw"]}], ["visa-gw", "mc-gw"]), seed=63, n=N)
    shortest = np.minimum(plain["service:visa-gw:rto"], plain["service:mc-gw:rto"])
    np.testing.assert_array_equal(plain["workflow:pay:downtime"], shortest)
    within_4_se(plain["workflow:pay:downtime"], HOUR / 2)
    usable = {"steps": [{"name": "settle", "duration": "5m"}]}
    after = run_both(_gateways([{"any_of": ["visa-gw", "mc-gw"]}], ["visa-gw", "mc-gw"], usable), seed=63, n=N)
    np.testing.assert_allclose(after["workflow:pay:downtime"], shortest + 300)


def test_a_workflow_needing_two_of_three_is_down_for_the_second_order_statistic():
    """need 2 of three gateways, all down: the 2nd of three Exp(1 h), mean 1/3 + 1/2 h; one member up:
    down for the first of the two back; a plain need beside the group counts as well."""
    group = {"need": 2, "of": ["visa-gw", "mc-gw", "amex-gw"]}
    m = run_both(_gateways([group], ["visa-gw", "mc-gw", "amex-gw"], {"steps": []}), seed=64, n=N)
    members = np.sort(np.stack([m[f"service:{g}:rto"] for g in ("visa-gw", "mc-gw", "amex-gw")]), axis=0)
    np.testing.assert_allclose(m["workflow:pay:downtime"], members[1])
    within_4_se(m["workflow:pay:downtime"], HOUR * (1 / 3 + 1 / 2))
    one_up = run_both(_gateways([group], ["visa-gw", "mc-gw"]), seed=65, n=N)
    within_4_se(one_up["workflow:pay:downtime"], HOUR / 2)
    mixed = run_both(
        _gateways(["amex-gw", {"any_of": ["visa-gw", "mc-gw"]}], ["visa-gw", "mc-gw", "amex-gw"]), seed=66, n=2000
    )
    expected = np.maximum(
        mixed["service:amex-gw:rto"], np.minimum(mixed["service:visa-gw:rto"], mixed["service:mc-gw:rto"])
    )
    np.testing.assert_allclose(mixed["workflow:pay:downtime"], expected)


def test_a_service_left_up_on_one_gateway_runs_degraded_while_the_other_is_down():
    """A switch needing any of two gateways, one hit: up throughout, degraded for that outage."""
    gateway = [{"name": "restart", "duration": "exponential(mean=1h)"}]
    services = {g: auto_service(gateway, region="site") for g in ("visa-gw", "mc-gw")}
    services["switch"] = auto_service(
        [{"name": "fail over", "duration": "1m"}], depends_on=[{"any_of": ["visa-gw", "mc-gw"]}], region="elsewhere"
    )
    drill = base_drill(faults=[{"kind": "service-outage", "targets": ["visa-gw"]}])
    m = run_both(plan_of(base_topology(services), drill), seed=67, n=N)
    assert "service:switch:rto" not in m
    np.testing.assert_array_equal(m["degraded:switch:time"], m["service:visa-gw:rto"])
    within_4_se(m["degraded:switch:time"], HOUR)


def _failback(mode: str, **extra):
    """Failover X ~ Exp(2 h) from the fault; the site is back at D = 3 h (restart in place at once)."""
    failback = {
        "mode": mode,
        "freeze": {"name": "stop writes", "duration": "5m", "role": "dba"},
        "steps": [{"name": "switch back", "duration": "10m", "role": "dba"}],
        **extra,
    }
    service = auto_service([{"name": "fail over", "duration": "exponential(mean=2h)"}])
    service["recovery"]["failback"] = failback
    drill = base_drill(faults=[{"kind": "region-loss", "targets": ["site"], "duration": "3h"}])
    return plan_of(base_topology({"ehr": service}, staff=STAFF), drill)


A, D = 2 * HOUR, 3 * HOUR
P_FAILED_OVER = 1 - math.exp(-D / A)
#: E[X; X < D] for X ~ Exp(mean A)
E_X_BEFORE = A - (A + D) * math.exp(-D / A)


def test_a_planned_failback_waits_for_its_window_and_the_resync_and_loses_nothing():
    """Failed over when X < D: window W = 1 h, resync 6 min per hour on the standby (X until D + W),
    freeze 5 min, switch 10 min. time = W + 0.1 (D + W - X) + 15 min; downtime 10 min; exposure 0;
    the failover's RTO stays min(X, D)."""
    w = HOUR
    plan = _failback("planned", after="1h", resync={"per_hour": "6m"})
    m = run_both(plan, seed=68, n=N)
    moved = m["failback:ehr:downtime"] > 0
    np.testing.assert_allclose(m["failback:ehr:downtime"][moved], 600)
    np.testing.assert_array_equal(m["failback:ehr:exposure"], 0.0)
    x = m["service:ehr:rto"]
    np.testing.assert_array_equal(moved, x < D)
    np.testing.assert_allclose(m["failback:ehr:time"], np.where(x < D, w + 0.1 * (D + w - x) + 900, 0.0))
    expected = (w + 900 + 0.1 * (D + w)) * P_FAILED_OVER - 0.1 * E_X_BEFORE
    within_4_se(m["failback:ehr:time"], expected)
    within_4_se(np.minimum(x, D), A * (1 - math.exp(-D / A)))  # E[min(X, D)]: RTO untouched by failback


def test_a_forced_failback_switches_at_once_and_exposes_the_standby_s_writes():
    """Forced: freeze at D, 5 min; the standby took writes from X until D + 5 min: exposure
    D + 5 min - X when X < D; resync after the switch 6 min per hour of that."""
    m = run_both(_failback("forced", resync={"per_hour": "6m"}), seed=69, n=N)
    x = m["service:ehr:rto"]
    np.testing.assert_allclose(m["failback:ehr:exposure"], np.where(x < D, D + 300 - x, 0.0))
    np.testing.assert_allclose(m["failback:ehr:time"], np.where(x < D, 900 + 0.1 * (D + 300 - x), 0.0))
    within_4_se(m["failback:ehr:exposure"], (D + 300) * P_FAILED_OVER - E_X_BEFORE)


def _cli(*args):
    from click.testing import CliRunner

    from drsim.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_the_reference_estate_reports_usable_time_beside_rto_and_the_ehr_db_failback():
    """region-loss on ehr-hybrid: ehr-app usable after its paper records are entered back (two
    clerks for an hour per hour down), ehr-db failing back in a planned window with nothing exposed."""
    import json

    r = _cli("drill", "region-loss", "--seed", "1", "--format", "json")
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    app = next(s for s in doc["services"] if s["name"] == "ehr-app")
    # reconnect (3-30 min) + 30 min sorting + an hour per hour down: more than twice the RTO
    assert app["usable"] >= 2 * app["rto"] + 30 * 60
    assert all("usable" not in s for s in doc["services"] if s["name"] != "ehr-app")
    meds = next(w for w in doc["workflows"] if w["name"] == "medication-administration")
    assert meds["downtime"] == app["usable"]  # on paper until the EHR is usable
    (fb,) = doc["failback"]
    assert fb["service"] == "ehr-db"
    assert fb["mode"] == "planned"
    assert fb["exposure"] == 0
    assert fb["time"] > fb["downtime"] > 0
    text = _cli("drill", "region-loss", "--seed", "1").stdout
    assert "usable" in text
    assert "Failback of ehr-db (planned)" in text


def test_sweep_tables_show_drift_exposure_and_degraded_time(tmp_path):
    """Console, Markdown and CSV of a sweep carry the drift window (data-sync-drift) and the time a
    service ran degraded on one gateway."""
    import csv

    import yaml

    drift = _cli("sweep", "data-sync-drift", "-n", "500", "--executor", "inline")
    assert "drift: divergent-write window" in drift.stdout, drift.output
    md = _cli("sweep", "data-sync-drift", "-n", "500", "--executor", "inline", "--format", "markdown")
    assert "| chart-viewer | drift: divergent-write window |" in md.stdout

    gateway = [{"name": "restart", "duration": "exponential(mean=1h)"}]
    services = {g: auto_service(gateway, region="site") for g in ("visa-gw", "mc-gw")}
    services["switch"] = auto_service(
        [{"name": "fail over", "duration": "1m"}], depends_on=[{"any_of": ["visa-gw", "mc-gw"]}], region="elsewhere"
    )
    topo, drill = tmp_path / "t.yaml", tmp_path / "d.yaml"
    topo.write_text(yaml.safe_dump(base_topology(services)))
    drill.write_text(yaml.safe_dump(base_drill(faults=[{"kind": "service-outage", "targets": ["visa-gw"]}])))
    common = ["sweep", drill, "--topology", topo, "-n", "500", "--executor", "inline"]
    assert "degraded (a group member down)" in _cli(*common).stdout
    assert "| switch | degraded (a group member down) |" in _cli(*common, "--format", "markdown").stdout
    out = tmp_path / "s.csv"
    assert _cli(*common, "--out", out).exit_code == 0
    rows = {r["metric"]: r for r in csv.DictReader(out.open())}
    assert rows["degraded:switch:time"]["unit"] == "s"
    assert float(rows["degraded:switch:time"]["p50_s"]) > 0
