"""Advice within a budget: what changes cost, which to buy together, and how sure the gain is."""

import itertools

import pytest
import yaml
from builders import base_drill, base_topology, role
from click.testing import CliRunner

from drsim.analysis.advise import advise
from drsim.analysis.changes import apply_all, candidate_changes
from drsim.analysis.compare import simulate
from drsim.analysis.metrics import parse_metric
from drsim.analysis.search import beam_search
from drsim.api import prepare
from drsim.cli import main
from drsim.model.costs import Cost
from drsim.model.loader import drill_from_text, load_topology, topology_from_text
from drsim.plan import compile_plan
from drsim.stats import bootstrap_weights

# ------------------------------------------------------------------ the search alone

#: Six candidates: (cost, gain alone). Candidate 5 costs more than the budget below.
SYNTHETIC = [(100, 50), (100, 45), (100, 40), (300, 60), (200, 10), (500, 400)]
BUDGET = 450
#: Candidates 2 and 4 together buy 200 more than apart: neither is the best buy alone.
SYNERGY = (2, 4, 200)


def synthetic_gain(members):
    gain = sum(SYNTHETIC[i][1] for i in members)
    return gain + (SYNERGY[2] if {SYNERGY[0], SYNERGY[1]} <= set(members) else 0)


def test_the_beam_search_finds_the_known_best_pair():
    costs = [float(c) for c, _ in SYNTHETIC]
    pairs = [p for p in itertools.combinations(range(len(SYNTHETIC)), 2) if sum(costs[i] for i in p) <= BUDGET]
    best_pair = max(pairs, key=lambda p: synthetic_gain(p) / sum(costs[i] for i in p))
    assert best_pair == (2, 4)  # found by trying every pair: 250 for 300
    found = beam_search(costs, synthetic_gain, BUDGET, beam=3, max_changes=2)
    found_pairs = [o for o in found if len(o.members) == 2]
    assert found_pairs[0].members == best_pair
    assert found_pairs[0].gain == 250
    assert found_pairs[0].cost == 300


def test_a_narrower_beam_can_miss_a_pair_whose_members_are_poor_buys_alone():
    costs = [float(c) for c, _ in SYNTHETIC]
    found = beam_search(costs, synthetic_gain, BUDGET, beam=2, max_changes=2)
    # candidate 2 is the third best buy alone: a beam of two never extends it
    assert (2, 4) not in [o.members for o in found]


def test_the_search_never_spends_more_than_the_budget():
    costs = [float(c) for c, _ in SYNTHETIC]
    found = beam_search(costs, synthetic_gain, BUDGET, beam=6, max_changes=4)
    assert found
    assert max(o.cost for o in found) <= BUDGET
    assert all(5 not in o.members for o in found)  # 500 alone is over the budget


def test_the_search_keeps_a_combination_only_if_each_change_adds_something():
    costs = [100.0, 100.0, 100.0]
    found = beam_search(costs, lambda m: 10.0 * (0 in m) + 5.0 * (1 in m), 1000, beam=3, max_changes=3)
    members = [o.members for o in found]
    assert (0, 1) in members
    assert (0, 2) not in members  # candidate 2 buys nothing on top of 0
    assert (0, 1, 2) not in members


def test_a_change_with_no_stated_cost_is_never_bought():
    found = beam_search([100.0, None], lambda m: 1.0 * len(m), 1000)
    assert [o.members for o in found] == [(0,)]


# ------------------------------------------------------------------ priced changes on a small estate


def _contended(promote="30m", costs=True):
    """Four tier-0 services whose failovers each need the only DBA for ``promote``."""
    svc = {
        "tier": "tier0",
        "region": "site",
        "recovery": {
            "strategy": "warm-standby",
            "standby_region": "dr",
            "steps": [{"name": "promote", "duration": promote, "role": "dba"}],
        },
    }
    staff = {"ic": role(), "dba": role(headcount=1), "oncall": role()}
    doc = base_topology({f"s{i}": dict(svc) for i in range(4)}, staff=staff)
    if costs:
        doc["staff"]["dba"]["cost"] = {"currency": "USD", "per_year": "100k"}
        doc["change_costs"] = {"strategy": {"currency": "USD", "per_year": "60k"}}
    t = topology_from_text(yaml.safe_dump(doc, sort_keys=False), "topology.yaml")
    return t, drill_from_text(yaml.safe_dump(base_drill(), sort_keys=False), t, "drill.yaml")


def test_a_change_is_priced_by_the_most_specific_cost_the_estate_states():
    topo, drill = _contended()
    priced = {c.key: c for c in candidate_changes(compile_plan(topo, drill))}
    assert priced["responder:dba"].cost == Cost(currency="USD", per_year=100_000)
    assert priced["responder:dba"].priced_by == "staff.dba.cost"
    assert priced["strategy:s0"].priced_by == "change_costs.strategy"
    assert priced["responder:ic"].cost is None  # nothing states what an incident commander costs
    shift = topo.staff["dba"].shifts[0].model_copy(update={"cost": Cost(per_year=40_000)})
    dba = topo.staff["dba"].model_copy(update={"shifts": [shift, *topo.staff["dba"].shifts[1:]]})
    t2 = topo.model_copy(
        update={
            "staff": {**topo.staff, "dba": dba},
            "change_costs": {**topo.change_costs, "strategy:s1": Cost(one_off=5_000)},
        }
    )
    priced = {c.key: c for c in candidate_changes(compile_plan(t2, drill))}
    assert priced["responder:dba"].cost == Cost(per_year=40_000)  # the shift on duty, before the role
    assert priced["strategy:s1"].cost == Cost(one_off=5_000)  # KIND:SUBJECT before anything else
    assert priced["strategy:s0"].cost == Cost(currency="USD", per_year=60_000)


def test_a_strategy_move_costs_the_new_set_up_and_the_difference_in_running():
    plan = prepare("region-loss", None)
    moves = {c.subject: c for c in candidate_changes(plan, []) if c.kind == "strategy"}
    assert moves["ehr-app"].cost is None  # active-active built without a library: no cost stated for it
    moves = {c.subject: c for c in candidate_changes(plan, [load_topology("active-active")]) if c.kind == "strategy"}
    # ehr-app: warm standby USD 75k + 120k/yr today; active-active 180k + 300k/yr
    assert moves["ehr-app"].cost == Cost(currency="USD", one_off=180_000, per_year=180_000)
    assert moves["ehr-app"].cost.total(5) == 1_080_000


def test_advice_within_a_budget_buys_exactly_what_the_closed_form_says():
    """Declared after 4 minutes, then 4 x 30m of serial DBA work. A second DBA (100k) saves 60m;
    each service moved to active-active (60k) saves one 30m slot; over one year, 220k buys at most
    three moves (180k, -90m) or a DBA and two moves (220k, also -90m)."""
    topo, drill = _contended()
    res = advise(drill, topo, "p90_rto:tier0", n=50, seed=0, library=[], budget=220_000, years=1)
    assert res.base == pytest.approx(4 * 60 + 4 * 1800)
    assert all(r["cost"] <= 220_000 for r in res.within_budget())
    pair = next(r for r in res.combinations() if r["subject"] == "s0 + s1")
    assert pair["effect"] == pytest.approx(-3600)
    assert pair["effect_lo"] == pair["effect_hi"] == pytest.approx(-3600)  # the same draws: no noise
    assert pair["cost"] == 120_000
    # a move on top of a second DBA frees no DBA time: that pair is not kept
    assert not [r for r in res.combinations() if r["changes"] == 2 and "dba" in r["subject"]]
    best = res.best()
    assert best["effect"] == pytest.approx(-5400)
    assert best["cost"] == 180_000  # of the two ways to save 90m, the cheaper
    assert best["changes"] == 3
    first = res.rows[0]
    assert first["subject"] == "dba"  # 60m for 100k is the best value
    assert first["gain_per_cost"] == pytest.approx(3600 / 100_000)
    ic = next(r for r in res.rows if r["subject"] == "ic")
    assert not ic["within_budget"]  # no stated cost: listed last, never bought
    assert res.rows[-1] is ic


def test_a_combinations_gain_is_a_paired_difference_on_the_same_draws():
    topo, drill = _contended(promote="lognormal(p50=20m, p95=60m)")
    n, seed = 400, 7
    res = advise(drill, topo, "p90_rto:tier0", n=n, seed=seed, library=[], budget=300_000, years=1)
    combo = next(r for r in res.combinations() if r["changes"] == 2)
    plan = compile_plan(topo, drill)
    changes = {c.description: c for c in candidate_changes(plan, [])}
    both = apply_all([changes[d] for d in combo["change"].split(" + ")], topo)
    m = parse_metric("p90_rto:tier0", plan)
    base_x = simulate(plan, n, seed)[m.key]
    x = simulate(compile_plan(both, drill), n, seed)[m.key]
    assert combo["effect"] == m.value(x) - m.value(base_x)
    weights = bootstrap_weights(n, seed, f"advise:{drill.name}")
    assert (combo["effect"], combo["effect_lo"], combo["effect_hi"]) == m.effect(base_x, x, weights)
    # the same difference from independent draws is less certain
    unpaired = m.effect(base_x, simulate(compile_plan(both, drill), n, seed + 1)[m.key], weights)
    assert combo["effect_hi"] - combo["effect_lo"] < unpaired[2] - unpaired[1]


# ------------------------------------------------------------------ the command


def test_advise_with_a_budget_prints_a_combination_with_its_cost_and_interval():
    r = CliRunner().invoke(
        main,
        ["advise", "region-loss", "--budget", "800k", "-n", "1000", "--max-changes", "2", "--top", "3"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "budget USD 800k over 5 years" in r.stdout
    combos = r.stdout.split("Changes bought together within the budget", 1)[1]
    assert "│ 1 │" in combos
    assert "+ add" in combos or "+ move" in combos
    assert "USD " in combos
    assert "Most bought within USD 800k:" in r.stdout
    assert "95% paired interval" in r.stdout


def test_advise_refuses_a_budget_it_cannot_read():
    r = CliRunner().invoke(main, ["advise", "region-loss", "--budget", "lots"], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.stderr == "error: --budget: expected an amount of money such as 250000, 250k or 1.2M, found 'lots'\n"
    r = CliRunner().invoke(main, ["advise", "region-loss", "--budget", "-5k"], catch_exceptions=False)
    assert r.exit_code == 2
    assert "0 or more" in r.stderr


def test_the_frontier_chart_shows_the_most_improvement_for_the_money():
    topo, drill = _contended()
    res = advise(drill, topo, "p90_rto:tier0", n=50, seed=0, library=[], budget=220_000, years=1)
    ax = res.plot_frontier()
    assert "cost over 1 years (USD" in ax.get_xlabel()
    assert ax.get_ylabel() == "improvement in P90 tier0 RTO (minutes)"
    # the most saved for the money: one move (60k, 30m), a second DBA (100k, 60m), three moves (180k, 90m)
    assert ax.texts[-1].get_text() == (
        "On the frontier:\n1. s0 -> active-active\n2. +1 dba (am)\n"
        "3. s0 -> active-active + s1 -> active-active + s2 -> active-active"
    )
