"""Runbook steps wait for what they need; validations for their service's dependencies.

A step's ``needs`` names services (restored, when the drill takes them down) or
``service/step name`` (that step done); a validation with no ``needs`` waits
for every dependency the drill takes down; detection can need the services it
runs on. Checked on every bundled drill and topology, against closed forms, and
between the two engines.
"""

import numpy as np
import pytest
from builders import auto_service, base_drill, base_topology, plan_of, role, run_both

from drsim.api import prepare
from drsim.engine import des
from drsim.engine.draws import Draws
from drsim.errors import InputError
from drsim.model.loader import bundled_names
from drsim.plan import compile_plan

N = 100_000
SEEDS = (0, 1, 2)


def _steps_named(topo, drill, service: str) -> dict[str, list[str] | None]:
    """Every step of ``service`` the drill could run, by name, with what it says it needs."""
    rec = topo.services[service].recovery
    steps = [*rec.steps, *rec.restore, *(s for f in drill.faults for s in (f.steps or []))]
    return {s.name: s.needs for s in steps}


def _needs_met(plan, start, finish):
    """Each (task, what it needs, whether it started after that was done) in one replay."""
    topo, drill = plan.topology, plan.drill
    by_label = {t.label: t for t in plan.tasks}
    out = []
    for t in plan.tasks:
        if t.service is None or t.kind not in ("step", "validate") or not np.isfinite(start[t.index]):
            continue
        if t.kind == "validate":
            validation = topo.services[t.service].recovery.validate_
            needs = validation.needs if validation.needs is not None else topo.services[t.service].needs_all()
        else:
            needs = _steps_named(topo, drill, t.service).get(t.label.removeprefix(f"{t.service}: ")) or []
        for need in needs:
            service, _, step = need.partition("/")
            if step:
                done = by_label.get(f"{service}: {step}")
                if done is None:
                    continue  # that step is not run in this drill: nothing to wait for
                at = finish[done.index]
            elif service in plan.outages:
                at = finish[plan.outages[service].restored_task]
            else:
                continue  # up in this drill: nothing to wait for
            out.append((t.label, need, start[t.index] >= at))
    return out


@pytest.mark.parametrize("topology", bundled_names("topologies"))
@pytest.mark.parametrize("drill", bundled_names("drills"))
def test_no_bundled_step_starts_before_what_it_needs(drill, topology):
    plan = prepare(drill, topology)
    draws = Draws.sample(plan.elements(), 7, len(SEEDS))
    for r in range(len(SEEDS)):
        rep = des.replay(plan, draws, r)
        early = [(label, need) for label, need, ok in _needs_met(plan, rep.start, rep.finish) if not ok]
        assert early == [], f"replicate {r}: started before what they need"


def test_the_reference_region_loss_orders_smoke_tests_and_lab_tests():
    plan = prepare("region-loss", "ehr-hybrid")
    rep = des.replay(plan, Draws.sample(plan.elements(), 0, 1), 0)
    checked = {(label, need) for label, need, ok in _needs_met(plan, rep.start, rep.finish) if ok}
    assert ("ehr-app: clinical smoke test: log in, open a chart, place a test order", "ehr-db") in checked
    assert ("lab-feed: send a test result end to end", "interface-engine") in checked
    assert (
        "lab-feed: restart LIS channels",
        "interface-engine/start channels and resend from the last checkpoint",
    ) in checked


def test_ransomware_rebuilds_the_ehr_servers_after_identity():
    plan = prepare("ransomware-restore", "ehr-hybrid")
    rebuild = next(t for t in plan.tasks if t.label == "ehr-app: rebuild application servers from golden images")
    assert plan.outages["sso"].restored_task in rebuild.preds


def _two_restores(needs_of_y, rate_a=1 / 600, rate_b=1 / 1200):
    services = {
        "a": auto_service(
            [
                {"name": "x", "duration": f"exponential(mean={1 / rate_a:.0f}s)"},
                {"name": "y", "duration": "0s", **needs_of_y},
            ]
        ),
        "b": auto_service([{"name": "z", "duration": f"exponential(mean={1 / rate_b:.0f}s)"}]),
    }
    return plan_of(base_topology(services), base_drill())


def test_a_step_needing_another_service_starts_at_the_later_of_the_two_restores():
    # a's step y needs b restored: a is back at max(Exp(alpha), Exp(beta)), both from the fault
    alpha, beta = 1 / 600, 1 / 1200
    rto = run_both(_two_restores({"needs": ["b"]}, alpha, beta), seed=11, n=N)["service:a:rto"]
    mean = 1 / alpha + 1 / beta - 1 / (alpha + beta)
    second = 2 / alpha**2 + 2 / beta**2 - 2 / (alpha + beta) ** 2
    sd = np.sqrt(second - mean**2)
    assert abs(rto.mean() - mean) <= 4 * sd / np.sqrt(N)
    for x in (300.0, 900.0, 1800.0, 3600.0):
        p = (1 - np.exp(-alpha * x)) * (1 - np.exp(-beta * x))
        assert abs(np.mean(rto <= x) - p) <= 4 * np.sqrt(p * (1 - p) / N)


def test_a_need_on_another_services_step_waits_for_that_step_only():
    # a's y needs b's step z done: b has no validation, so the same max as above, exactly
    with_step = run_both(_two_restores({"needs": ["b/z"]}), seed=12, n=2000)["service:a:rto"]
    with_service = run_both(_two_restores({"needs": ["b"]}), seed=12, n=2000)["service:a:rto"]
    np.testing.assert_array_equal(with_step, with_service)


def test_a_need_on_a_service_that_stays_up_adds_no_wait():
    topo = base_topology(
        {
            "a": auto_service([{"name": "x", "duration": "5m", "needs": ["b"]}]),
            "b": auto_service([{"name": "z", "duration": "5m"}], region="elsewhere"),
        }
    )
    plan = plan_of(topo, base_drill())
    x = next(t for t in plan.tasks if t.label == "a: x")
    assert x.preds == [plan.fault_tasks[0]]


def _with_validation(needs=None):
    validate = {"name": "check", "duration": "2m", **({} if needs is None else {"needs": needs})}
    db = auto_service([{"name": "promote", "duration": "30m"}])
    app = auto_service([{"name": "start", "duration": "5m"}], depends_on=["db"])
    app["recovery"]["validate"] = validate
    return plan_of(base_topology({"db": db, "app": app}), base_drill())


def test_validation_waits_for_the_services_dependencies_unless_its_needs_say_otherwise():
    waits = run_both(_with_validation(), seed=1, n=10)
    assert np.all(waits["service:app:rto"] == 32 * 60)  # db back at 30m, then the 2m check
    own = run_both(_with_validation(needs=[]), seed=1, n=10)
    assert np.all(own["service:app:rto"] == 30 * 60)  # checked at 7m, restored with db at 30m


def _monitored(detection_needs):
    services = {
        "db": auto_service([{"name": "promote", "duration": "exponential(mean=10m)", "role": "dba"}]),
        "monitoring": auto_service([{"name": "fail over", "duration": "exponential(mean=15m)"}]),
    }
    staff = {"ic": role(acknowledge="exponential(mean=2m)"), "dba": role(acknowledge="exponential(mean=3m)")}
    drill = base_drill(detection={"delay": "exponential(mean=4m)", "needs": detection_needs})
    drill["response"]["escalate"] = ["dba"]
    return plan_of(base_topology(services, staff=staff), drill)


def test_detection_that_needs_monitoring_waits_for_it_and_both_engines_agree():
    plan = _monitored(["monitoring"])
    detect = plan.tasks[plan.milestones["detected"]].preds[0]
    assert plan.outages["monitoring"].restored_task in plan.tasks[detect].preds
    m = run_both(plan, seed=5, n=N, des_n=300)
    # detected = Exp(15m) + Exp(4m): hypoexponential mean 19m
    mean, sd = 19 * 60.0, np.sqrt(15**2 + 4**2) * 60
    assert abs(m["latency:detect"].mean() - mean) <= 4 * sd / np.sqrt(N)


def test_a_faults_own_detect_needs_replace_the_drills():
    plan = _monitored(["monitoring"])
    drill = plan.drill.model_copy(update={"faults": [plan.drill.faults[0].model_copy(update={"detect_needs": []})]})
    own = compile_plan(plan.topology, drill)
    detect = own.tasks[own.milestones["detected"]].preds[0]
    assert own.tasks[detect].preds == [own.fault_tasks[0]]


def test_detection_with_nothing_to_wait_for_waits_for_the_fault_only():
    unchanged = _monitored([])
    detect = unchanged.tasks[unchanged.milestones["detected"]].preds[0]
    assert unchanged.tasks[detect].preds == [unchanged.fault_tasks[0]]


def test_a_need_that_makes_a_step_wait_for_itself_is_refused_naming_the_chain():
    # app depends on db; a db step needing app restored could never start
    services = {
        "db": auto_service([{"name": "promote", "duration": "5m", "needs": ["app"]}]),
        "app": auto_service([{"name": "start", "duration": "5m"}], depends_on=["db"]),
    }
    with pytest.raises(InputError) as err:
        plan_of(base_topology(services), base_drill())
    assert "'db: promote' waits for 'app restored' waits for 'db restored' waits for 'db: promote'" in str(err.value)
