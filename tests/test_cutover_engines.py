"""A cutover runs through the engines: staff, failures, escalation, gates, rollbacks and divergent writes.

Both engines give the same times, replicate by replicate, on shared draws; each mechanism is checked
against its closed form at n = 10^5 within 4 standard errors (deterministic ones exactly).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drsim.analysis.cutover import simulate_cutover
from drsim.model.loader import cutover_from_text, load_cutover, load_topology

N = 100_000
M = 60.0
CORPUS = Path(__file__).parent / "bad_inputs"
TOPO = load_topology(CORPUS / "_topology.yaml")

HEAD = 'name: p\nfreeze: {start: "2026-03-14T22:00", length: 2h}\nrollback: {decision: 5m}\n'


def plan_of(body: str, head: str = HEAD):
    return cutover_from_text(head + body, TOPO, "plan.yaml")


def within(x: np.ndarray, mean: float, sd: float) -> None:
    se = sd / math.sqrt(len(x))
    assert abs(float(np.mean(x)) - mean) < 4 * se, (float(np.mean(x)), mean, se)


def within_p(k: float, n: int, p: float) -> None:
    se = math.sqrt(p * (1 - p) / n)
    assert abs(k - p) < 4 * se, (k, p, se)


#: Two waves at once sharing the one dba on duty (contention), a step that fails and is retried then
#: escalated, a gate judged by the incident commander before the last wave, a step that diverts writes,
#: and an irreversible step.
CONTENDED = """
gates:
  - {name: go-app, measure: logins ok (%), at_least: 98, before: app, decided_by: ic, takes: exponential(mean=10m)}
waves:
  - name: a
    services: [db]
    after: []
    steps:
      - {name: sync, duration: exponential(mean=20m), role: dba, undo: exponential(mean=5m)}
      - {name: switch, duration: 5m, role: dba, undo: 10m, diverts: [held]}
  - name: b
    services: [sso]
    after: []
    steps:
      - name: repoint
        duration: exponential(mean=15m)
        role: dba
        undo: 3m
        failure:
          probability: 0.4
          retry: {limit: 1}
          otherwise: [{name: vendor, duration: exponential(mean=30m), role: oncall}]
  - name: app
    services: [app]
    after: [a, b]
    steps:
      - {name: open, duration: 10m, role: ic, irreversible: true}
      - {name: release, duration: exponential(mean=10m), role: oncall}
entities:
  held: {volume: 120/h, rule: replay, replay_rate: 600/h}
"""


#: Steps, a gate and undos that take no time, among staffed work of the one dba in two waves at once.
INSTANTS = """
gates:
  - {name: g, measure: m, at_least: 1, before: c, decided_by: dba, takes: 0s}
waves:
  - name: a
    services: [db]
    after: []
    steps:
      - {name: a0, duration: 0s, role: dba, undo: 0s}
      - {name: a1, duration: exponential(mean=10m), role: dba, undo: 5m}
      - {name: a2, duration: 0s, role: dba}
  - name: b
    services: [sso]
    after: []
    steps:
      - {name: b0, duration: 0s, role: dba, undo: exponential(mean=5m)}
      - {name: b1, duration: 0s, role: dba, failure: {probability: 0.5, retry: {limit: 1, duration: 3m}}}
      - {name: b2, duration: exponential(mean=10m), role: dba}
  - name: c
    services: [app]
    after: [a, b]
    steps:
      - {name: c0, duration: 0s, role: dba, irreversible: true}
"""


def _same(a, b) -> None:
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param(lambda: plan_of(CONTENDED), id="contended"),
        pytest.param(lambda: plan_of(INSTANTS), id="instants"),
        pytest.param(
            lambda: load_cutover("ehr-core-to-cloud", load_topology("ehr-hybrid")),
            id="bundled",
        ),
    ],
)
def test_both_engines_give_the_same_cutover_and_rollbacks_replicate_by_replicate(plan):
    p = plan()
    topo = TOPO if p.name == "p" else load_topology("ehr-hybrid")
    v = simulate_cutover(p, topo, 300, seed=5, engine="vectorized")
    d = simulate_cutover(p, topo, 300, seed=5, engine="des")
    _same(v.completion, d.completion)
    _same(v.point_of_no_return, d.point_of_no_return)
    for sv, sd in zip(v.steps, d.steps, strict=True):
        _same(sv.start, sd.start)
        _same(sv.end, sd.end)
    for t in (0.0, 5 * M, 17 * M, 40 * M, 2 * 3600.0):
        rv, rd = v.rollback(t), d.rollback(t)
        _same(rv.time, rd.time)
        assert rv.diverged.keys() == rd.diverged.keys()
        for e in rv.diverged:
            _same(rv.diverged[e], rd.diverged[e])


def test_the_contended_plan_makes_people_wait_and_escalates_some_failures():
    run = simulate_cutover(plan_of(CONTENDED), TOPO, 2000, seed=5)
    sync, switch, repoint = run.steps[0], run.steps[1], run.steps[2]
    # one dba on duty: sync (compiled first) starts at once; repoint, ready as early, waits for it,
    # and is taken before switch, which became ready later
    assert np.all(sync.start == 0.0)
    assert np.all(repoint.start == sync.end)
    assert np.all(switch.start > repoint.start)
    assert np.all(np.isfinite(run.completion))  # every exhausted repoint was escalated to the vendor
    assert 0 < float(np.mean(repoint.end > switch.start)) < 1  # some escalations outlast the dba's work


# ---------------------------------------------------------------- closed forms


def test_fixed_waves_and_a_timed_gate_sum_exactly():
    run = simulate_cutover(
        plan_of(
            """
gates:
  - {name: g, measure: m, at_least: 1, before: second, decided_by: ic, takes: 7m}
waves:
  - {name: first, services: [db], steps: [{name: x, duration: 10m, role: dba}, {name: y, duration: 20m}]}
  - {name: second, services: [app], steps: [{name: z, duration: 15m, role: dba}]}
"""
        ),
        TOPO,
        50,
    )
    assert np.all(run.completion == (10 + 20 + 7 + 15) * M)
    assert np.all(run.steps[2].start == (10 + 20 + 7) * M)


def _attempts(p: float, limit: int) -> tuple[float, float]:
    """Mean and variance of the retries made, min(K, limit) with P(K >= j) = p^j."""
    m1 = sum(p**j for j in range(1, limit + 1))
    m2 = sum((2 * j - 1) * p**j for j in range(1, limit + 1))
    return m1, m2 - m1 * m1


def test_retries_are_geometric_and_an_exhausted_step_without_escalation_leaves_the_cutover_stuck():
    p, limit, d = 0.3, 2, 20 * M
    run = simulate_cutover(
        plan_of(
            f"""
waves:
  - name: w
    services: [db]
    steps:
      - {{name: s, duration: {d:g}s, failure: {{probability: {p}, retry: {{limit: {limit}}}}}}}
"""
        ),
        TOPO,
        N,
        seed=3,
    )
    stuck = p ** (limit + 1)
    within_p(float(np.mean(np.isinf(run.completion))), N, stuck)
    done = run.completion[np.isfinite(run.completion)]
    # given not exhausted, retries made K | K <= limit: P(K = k) proportional to p^k (1 - p)
    w = np.array([p**k * (1 - p) for k in range(limit + 1)])
    w /= w.sum()
    k = np.arange(limit + 1)
    mean, var = float(w @ k), float(w @ k**2) - float(w @ k) ** 2
    within(done, d * (1 + mean), d * math.sqrt(var))


def test_an_exhausted_step_escalates_and_the_cutover_completes_later():
    p, limit = 0.25, 1
    run = simulate_cutover(
        plan_of(
            f"""
waves:
  - name: w
    services: [db]
    steps:
      - name: s
        duration: exponential(mean=10m)
        failure:
          probability: {p}
          retry: {{limit: {limit}}}
          otherwise: [{{name: vendor, duration: 30m}}]
"""
        ),
        TOPO,
        N,
        seed=4,
    )
    m1, v1 = _attempts(p, limit)
    # (1 + min(K, limit)) Exp(10m) draws, plus 30m when every attempt failed (K = limit + 1)
    exhausted = p ** (limit + 1)
    mean = 10 * M * (1 + m1) + 30 * M * exhausted
    # variance by total variance over A = 1 + min(K, limit) attempts and the escalation indicator
    # E[T^2] = m^2 (E[A] + E[A^2]) + 2 e m (1 + limit) P(exhausted) + e^2 P(exhausted)
    ea, ea2 = 1 + m1, 1 + 2 * m1 + (v1 + m1 * m1)
    m, e = 10 * M, 30 * M
    second = m * m * (ea + ea2) + 2 * e * m * (1 + limit) * exhausted + e * e * exhausted
    assert np.all(np.isfinite(run.completion))
    within(run.completion, mean, math.sqrt(second - mean * mean))


def test_the_rollback_curve_for_exponential_steps_follows_its_closed_form():
    # a: Exp(20m) undone in 10m; b: 5m irreversible. Decision 5m; freeze 2h.
    # decided at t: reversible while a runs or ... a ends at A ~ Exp(20m), b (irreversible) starts then:
    # P(reversible at t) = P(A > t) = exp(-t/20), and the rollback (5m + 10m) ends at t + 15m <= 2h.
    run = simulate_cutover(
        plan_of(
            """
waves:
  - name: w
    services: [db]
    steps:
      - {name: a, duration: exponential(mean=20m), undo: 10m}
      - {name: b, duration: 5m, irreversible: true}
"""
        ),
        TOPO,
        N,
        seed=6,
    )
    for t_min, p in [(0, 1.0), (15, math.exp(-15 / 20)), (30, math.exp(-30 / 20)), (105, math.exp(-105 / 20))]:
        got = run.rollback_inside_window(t_min * M)
        if p == 1.0:
            assert got == 1.0
        else:
            within_p(got, N, p)
    assert run.rollback_inside_window(106 * M) == 0.0  # 106m + 15m > 2h
    rb = run.rollback_time(30 * M)
    assert np.all(rb[run.point_of_no_return > 30 * M] == 15 * M)
    assert np.all(np.isnan(rb[run.point_of_no_return <= 30 * M]))


def test_divergent_writes_run_from_the_switch_until_the_rollback_undoes_it():
    # switch (10m, undo 10m) diverts held (120/h) from 10m; then b ~ Exp(30m) (undo 5m), then c irreversible.
    # Decided at 20m while b runs (P = exp(-10/30)): 5m decision, undo b 5m, undo switch 10m -> back at 40m;
    # held written to the new side from 10m to 40m: 60 records exactly.
    run = simulate_cutover(
        plan_of(
            """
waves:
  - name: w
    services: [db]
    steps:
      - {name: switch, duration: 10m, undo: 10m, diverts: [held]}
      - {name: b, duration: exponential(mean=30m), undo: 5m}
      - {name: c, duration: 5m, irreversible: true}
entities:
  held: {volume: 120/h, rule: replay, replay_rate: 600/h}
"""
        ),
        TOPO,
        N,
        seed=8,
    )
    out = run.rollback(20 * M)
    alive = run.point_of_no_return > 20 * M
    assert np.allclose(out.diverged["held"][alive], 60.0)
    assert np.all(out.diverged["held"][~alive] == 0.0)
    within_p(float(np.mean(alive)), N, math.exp(-10 / 30))
    before = run.rollback(5 * M)  # the switch has not ended: nothing diverged
    assert np.all(before.diverged["held"] == 0.0)


def test_work_that_takes_no_time_needs_nobody():
    run = simulate_cutover(plan_of(INSTANTS), TOPO, 20, seed=1)
    tasks = run.tasks.plan.tasks
    roles = {t.key: t.role for t in tasks}
    assert roles["cutover:a:a0"] is None
    assert roles["cutover:a:a1"] == "dba"
    assert roles["cutover:b:b1"] == "dba"  # its retry takes 3m of the dba
    assert not any(t.key.startswith("gate:") for t in tasks)  # judged in no time: no task
    assert np.all(run.steps[0].start == 0.0)
    assert np.all(run.steps[3].start == 0.0)  # b0 does not wait for the dba busy with nothing


def test_night_shift_pace_slows_staffed_steps():
    # oncall's night shift works at pace 1.2 relative to 1 by day: at 22:00 a 10m step takes 12m
    run = simulate_cutover(
        plan_of("waves: [{name: w, services: [app], steps: [{name: s, duration: 10m, role: oncall}]}]\n"),
        TOPO,
        10,
    )
    assert np.allclose(run.completion, 12 * M)


def test_the_command_gives_the_same_figures_on_either_engine():
    import json

    from click.testing import CliRunner

    from drsim.cli import main

    out = {}
    for engine in ("vectorized", "des"):
        args = ["cutover", "ehr-core-to-cloud", "--evidence", "ehr-core-to-cloud-rehearsal", "-n", "200"]
        r = CliRunner().invoke(main, [*args, "--engine", engine, "--format", "json"])
        assert r.exit_code == 1, r.output
        out[engine] = json.loads(r.stdout)
    assert out["des"].pop("engine") == "des"
    assert out["vectorized"].pop("engine") == "vectorized"
    assert out["des"] == out["vectorized"]
