"""Laws every replay must obey, as property tests on generated estates (both engines).

Each test draws a valid estate and drill (:mod:`strategies`), builds the files a
user would write - or a variant of them (scaled, reordered, one more
responder, a larger buffer, more frequent backups) - and replays both through
both engines on the same seed (:func:`builders.run_both` checks the engines
agree task by task). Same seed means the same draws for every element both
versions share, so each law holds replicate by replicate, not merely on
average.

Budget: ``DRSIM_FUZZ_EXAMPLES`` examples per test (default 60, deterministic);
see :mod:`test_fuzz` for a longer local run.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import numpy as np
from builders import run_both
from click.testing import CliRunner
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import Dur, Spec, specs
from test_fuzz import FUZZ

from drsim.api import run_drill
from drsim.cli import main
from drsim.engine import vectorized
from drsim.engine.draws import Draws
from drsim.model.loader import drill_from_text, topology_from_text
from drsim.plan import compile_plan

N = 12

#: Metrics that are amounts of time (everything but message counts).
COUNTS = (":backlog", ":dropped")


def plan_of(spec: Spec, k: float = 1.0):
    topology_text, drill_text = spec.render(k)
    note(f"--- topology (k={k})\n{topology_text}--- drill\n{drill_text}")
    topo = topology_from_text(topology_text, "topology.yaml")
    return compile_plan(topo, drill_from_text(drill_text, topo, "drill.yaml"))


def replay(spec: Spec, k: float = 1.0) -> dict[str, np.ndarray]:
    return run_both(plan_of(spec, k), spec.seed, n=N, des_n=N)


def is_time(key: str) -> bool:
    return not key.endswith(COUNTS)


def worse_is_larger(key: str) -> bool:
    """Metrics where a larger value is a worse outcome for the hospital."""
    return key.endswith((":rto", ":rpo", ":downtime", ":time", ":dropped")) or key in (
        "latency:acknowledge",
        "latency:total",
    )


#: Two routes to the same instant (a person freed at ``s + d`` or a task ready at ``r``, equal in
#: exact arithmetic) can differ in the last bits of a float: "no worse" allows that much.
ULPS = 1e-12


def assert_no_worse(before: dict, after: dict, keys) -> None:
    for key in keys:
        worse = after[key] > before[key] + ULPS * np.maximum(1.0, np.abs(np.nan_to_num(before[key], posinf=0.0)))
        assert not worse.any(), (key, before[key][worse], after[key][worse])


# ---------------------------------------------------------------- RTO >= 0, RPO >= 0, order of restoration


#: Differences between milestones that need not come in this order: an active-active service (or
#: a fault that clears) can be restored before anyone declares, and the first role paged need not
#: be the one whose triage leads to the decision. They can be negative; see docs/laws.md.
UNORDERED = ("latency:declare", "latency:restore")


@FUZZ
@given(specs())
def test_rto_rpo_and_every_duration_are_never_negative(spec):
    m = replay(spec)
    for key, v in m.items():
        assert not np.isnan(v).any(), key
        if key not in UNORDERED:
            assert (v >= 0).all(), (key, v)


@FUZZ
@given(specs())
def test_no_service_is_restored_before_the_services_it_depends_on(spec):
    plan = plan_of(spec)
    run_both(plan, spec.seed, n=N, des_n=N)  # the engines agree on every task time ...
    draws = Draws.sample(plan.elements(), spec.seed, N)
    finish = vectorized.run_many(plan, draws).finish  # ... so either one's times will do
    for name, o in plan.outages.items():
        for dep in plan.topology.services[name].depends_on:
            d = plan.outages.get(dep)
            if d is None or d.cause == "data-drift":  # a drifting service stays up
                continue
            assert (finish[:, o.restored_task] >= finish[:, d.restored_task]).all(), (name, dep)


# ---------------------------------------------------------------- scaling time


def flat_roster(spec: Spec) -> Spec:
    """The same estate with each role's headcount and pace the same on every shift: neither capacity
    nor pace ever changes."""

    def edit(t, d):
        for r in t["staff"].values():
            for shift in r["shifts"]:
                shift["headcount"] = r["shifts"][0]["headcount"]
                shift["pace"] = r["shifts"][0].get("pace", 1.0)

    return spec.variant(edit)


@FUZZ
@given(specs(), st.sampled_from([2.0, 0.5]))
def test_scaling_every_duration_by_k_scales_every_achieved_time_by_k(spec, k):
    """Every duration in both files times k (rates divided by k): every time metric times k, exactly.

    Shift clock times are not durations and do not scale: capacity follows the roster, so a
    handover at 07:00 falls at a different point of a scaled recovery, and a task works at the
    pace of the shift on duty when it starts. The law is stated for rosters whose headcount and
    pace are the same on every shift of a role (capacity and pace constant over the drill; each
    shift's time to acknowledge still differs, and only the starting shift's applies). A
    counterexample with a handover is in
    :func:`test_roster.test_scaling_durations_does_not_scale_times_across_a_handover`."""
    spec = flat_roster(spec)
    base, scaled = replay(spec), replay(spec, k)
    assert base.keys() == scaled.keys()
    for key in base:
        expect = base[key] * k if is_time(key) else base[key]
        np.testing.assert_array_equal(scaled[key], expect, err_msg=key)


# ---------------------------------------------------------------- more capacity never hurts


def one_more(role: str):
    """An edit adding one person to every shift of ``role``."""

    def edit(t, d):
        for shift in t["staff"][role]["shifts"]:
            shift["headcount"] += 1

    return edit


@FUZZ
@given(specs(), st.data())
def test_adding_a_responder_never_delays_the_first_acknowledgement(spec, data):
    """Pages need nobody free: one more person paged can only bring the first answer forward."""
    role = data.draw(st.sampled_from(list(spec.topology["staff"])))
    before, after = replay(spec), replay(spec.variant(one_more(role)))
    np.testing.assert_array_equal(after["latency:detect"], before["latency:detect"])
    assert_no_worse(before, after, ["latency:acknowledge"])


def staffed_tasks(spec: Spec) -> dict[str, int]:
    """How many tasks of the compiled drill need each role."""
    counts: dict[str, int] = {}
    for t in plan_of(spec).tasks:
        if t.role is not None:
            counts[t.role] = counts.get(t.role, 0) + 1
    return counts


def flat_pace(spec: Spec) -> Spec:
    """The same estate with every shift of a role at the pace of its first shift."""

    def edit(t, d):
        for r in t["staff"].values():
            for shift in r["shifts"]:
                shift["pace"] = r["shifts"][0].get("pace", 1.0)

    return spec.variant(edit)


def uncontended(spec: Spec) -> Spec:
    """The same estate with enough people in every role that no task ever waits for one."""
    counts = staffed_tasks(spec)

    def edit(t, d):
        for role, n in counts.items():
            for shift in t["staff"][role]["shifts"]:
                shift["headcount"] = max(shift["headcount"], n)

    return spec.variant(edit)


@FUZZ
@given(specs(), st.data())
def test_without_contention_adding_a_responder_never_delays_anything(spec, data):
    """With a person free for every task, recovery is a max/min/+ network of the durations,
    monotone in each: an extra page can only make every task finish earlier or at the same time.

    Under contention this is not a law: first-come-first-served dispatch admits Graham's
    anomalies (see :func:`test_a_second_incident_commander_can_delay_a_service`), and an earlier
    failover can beat a site coming back and lose data (see
    :func:`test_an_earlier_failover_can_trade_data_for_time`). Nor is it where shifts differ in
    pace: a task begun earlier, on a slower shift, can finish later (see
    :func:`test_shift_pace.test_starting_earlier_on_a_slower_shift_can_finish_later`), so the
    law is stated with every shift of a role at one pace.
    """
    base = flat_pace(uncontended(spec))
    role = data.draw(st.sampled_from(list(spec.topology["staff"])))
    more = base.variant(one_more(role))
    before, after = replay(base), replay(more)
    assert before.keys() == after.keys()
    # rollback time runs from the decision, which may come earlier while the rollback's own steps
    # do not: the moment the rollback is done is among the task times checked below
    keys = [k for k in before if worse_is_larger(k) and not k.endswith(":rpo") and not k.startswith("rollback:")]
    assert_no_worse(before, after, keys)
    # every task, except break-glass itself: it is skipped (done at once) if the services it gets
    # round are back when it starts, so starting earlier can make it run in full; the access it
    # gives (the first of break-glass and those services returning) is among the tasks checked
    finish = {}
    for name, variant in (("before", base), ("after", more)):
        plan = plan_of(variant)
        f = vectorized.run_many(plan, Draws.sample(plan.elements(), spec.seed, N)).finish
        finish[name] = {t.key: f[:, t.index] for t in plan.tasks if t.kind != "break-glass"}
    for key, t in finish["before"].items():
        assert (finish["after"][key] <= t).all(), key


ONE_DBA = """
name: one-dba
regions: {site: {kind: datacenter}, dr: {kind: cloud-region}}
tiers: {tier0: {rto: 30m, rpo: 5m}}
staff:
  ic:
    shifts: [{name: am, start: "00:00", end: "12:00", headcount: ICS, acknowledge: 1m},
             {name: pm, start: "12:00", end: "00:00", headcount: ICS, acknowledge: 1m}]
    access_via: [portal]
    break_glass: 1m
  dba:
    shifts: [{name: am, start: "00:00", end: "12:00", headcount: 1, acknowledge: 1m},
             {name: pm, start: "12:00", end: "00:00", headcount: 1, acknowledge: 1m}]
services:
  portal:
    tier: tier0
    region: site
    recovery: {strategy: active-active, standby_region: dr, steps: [{name: notify users, duration: 30m, role: ic}]}
  db:
    tier: tier0
    region: site
    DB
  app:
    tier: tier0
    region: site
    recovery:
      strategy: active-active
      standby_region: dr
      steps: [{name: scale out, duration: 20m}, {name: fix config, duration: 5m, role: dba}]
"""
SITE_LOSS = """
name: site-loss
start: "2026-03-10T10:00"
faults: [{kind: region-loss, targets: [site]FOR}]
detection: {delay: 1m}
response:
  page: [ic, dba]
  triage: {role: ic, duration: 1m}
  declare: {role: ic, duration: 1m}
"""
WARM_DB = "recovery: {strategy: warm-standby, standby_region: dr, steps: [{name: promote, duration: 1h, role: dba}]}"
BACKUP_DB = (
    "data: {backup_interval: 24h}\n"
    "    recovery: {strategy: backup-restore, standby_region: dr, steps: [{name: restore, duration: 10m, role: dba}]}"
)


def pinned(ics: int, db: str, fault: str = "", n: int = 200) -> dict[str, np.ndarray]:
    topo = topology_from_text(ONE_DBA.replace("ICS", str(ics)).replace("DB", db), "one-dba.yaml")
    drill = drill_from_text(SITE_LOSS.replace("FOR", fault), topo, "site-loss.yaml")
    return run_both(compile_plan(topo, drill), seed=1, n=n, des_n=n)


def test_a_second_incident_commander_can_delay_a_service():
    """Graham's anomaly, the example in docs/laws.md. With one incident commander, break-glass access and
    a 30-minute notification come before triage, so the failover is declared at 35m; the one DBA
    fixes the app's config at 20m-25m and then promotes the database. With two, the decision comes
    at 5m, the hour-long promotion takes the DBA first, and the app's 5-minute fix waits until 1h05m."""
    one, two = pinned(1, WARM_DB, n=3), pinned(2, WARM_DB, n=3)
    np.testing.assert_array_equal(one["service:app:rto"], 25 * 60.0)
    np.testing.assert_array_equal(two["service:app:rto"], 70 * 60.0)
    np.testing.assert_array_equal(one["service:db:rto"], 95 * 60.0)
    np.testing.assert_array_equal(two["service:db:rto"], 65 * 60.0)


def test_an_earlier_failover_can_trade_data_for_time():
    """A site back in 30 minutes loses no data; a restore from last night's backup loses up to a
    day. With one incident commander the decision (35m) comes after the site is back; with two it
    comes at 5m and the 10-minute restore wins the race: RTO 30m -> 15m, RPO 0 -> the backup's age."""
    one, two = pinned(1, BACKUP_DB, ", duration: 30m"), pinned(2, BACKUP_DB, ", duration: 30m")
    np.testing.assert_array_equal(one["service:db:rto"], 30 * 60.0)
    np.testing.assert_array_equal(one["service:db:rpo"], 0.0)
    np.testing.assert_array_equal(two["service:db:rto"], 15 * 60.0)
    assert (two["service:db:rpo"] > 0).all()
    assert (two["service:db:rpo"] <= 86400).all()


@FUZZ
@given(specs(), st.data())
def test_enlarging_a_buffer_never_loses_more_data(spec, data):
    queues = list(spec.topology["queues"])
    if not queues:
        return
    q = data.draw(st.sampled_from(queues))
    extra = data.draw(st.integers(1, 50_000))
    bigger = spec.variant(lambda t, d: t["queues"][q].__setitem__("buffer", t["queues"][q]["buffer"] + extra))
    before, after = replay(spec), replay(bigger)
    assert before.keys() == after.keys()
    # a larger buffer keeps messages instead of dropping them: backlog and drain time may grow by design
    keys = [k for k in before if worse_is_larger(k)]
    assert_no_worse(before, after, keys)
    if f"queue:{q}:backlog" in before:
        np.testing.assert_array_equal(after[f"queue:{q}:backlog"] >= before[f"queue:{q}:backlog"], True)


@FUZZ
@given(specs(), st.data())
def test_shortening_a_backup_interval_never_increases_rpo(spec, data):
    backed = [s for s, v in spec.topology["services"].items() if "backup_interval" in (v.get("data") or {})]
    if not backed:
        return
    name = data.draw(st.sampled_from(backed))
    old = spec.topology["services"][name]["data"]["backup_interval"].args[0]
    new = data.draw(st.integers(1, old))

    def shorten(t, d):
        t["services"][name]["data"]["backup_interval"] = Dur("fixed", (new,))

    before, after = replay(spec), replay(spec.variant(shorten))
    assert_no_worse(before, after, [k for k in before if k.endswith(":rpo")])


# ---------------------------------------------------------------- the file's order means nothing


def reordered(spec: Spec, rng: random.Random) -> Spec:
    def shuffle(t, d):
        items = list(t["services"].items())
        rng.shuffle(items)
        t["services"] = dict(items)
        for s in t["services"].values():
            if "depends_on" in s:
                rng.shuffle(s["depends_on"])

    return spec.variant(shuffle)


@FUZZ
@given(specs(), st.randoms(use_true_random=False))
def test_reordering_services_and_dependencies_in_the_file_changes_nothing(spec, rng):
    other = reordered(spec, rng)
    before, after = replay(spec), replay(other)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    a = run_drill(plan_of(spec), seed=spec.seed).to_json()
    b = run_drill(plan_of(other), seed=spec.seed).to_json()
    assert a == b


# ---------------------------------------------------------------- same seed, same bytes


@FUZZ
@given(specs())
def test_the_same_seed_gives_byte_identical_json(spec):
    topology_text, drill_text = spec.render()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "topology.yaml").write_text(topology_text)
        (Path(tmp) / "drill.yaml").write_text(drill_text)
        args = ["drill", str(Path(tmp) / "drill.yaml"), "--topology", str(Path(tmp) / "topology.yaml")]
        args += ["--seed", str(spec.seed), "--format", "json"]
        first = CliRunner().invoke(main, args, catch_exceptions=False)
        second = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code in (0, 1), first.output
    assert (second.exit_code, second.stdout_bytes) == (first.exit_code, first.stdout_bytes)
