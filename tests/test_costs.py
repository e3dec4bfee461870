"""Costs as data: amounts of money, where costs sit in a topology, and the bundled figures."""

import json

import pytest
import yaml
from click.testing import CliRunner

from drsim.cli import main
from drsim.errors import InputError
from drsim.model.costs import Cost, format_amount, parse_amount
from drsim.model.loader import load_topology, topology_from_text
from drsim.model.units import UnitError


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("250k", 250_000.0),
        ("1.2M", 1_200_000.0),
        ("2bn", 2_000_000_000.0),
        ("250,000", 250_000.0),
        ("250_000", 250_000.0),
        (" 40K ", 40_000.0),
        (".5M", 500_000.0),
        (250000, 250_000.0),
        (12.5, 12.5),
        (0, 0.0),
    ],
)
def test_an_amount_is_a_number_or_a_number_with_a_suffix(written, amount):
    assert parse_amount(written) == amount


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("-40k", "0 or more"),
        (-1, "0 or more"),
        ("170 thousand", "such as 250000, 250k or 1.2M"),
        ("k", "such as 250000, 250k or 1.2M"),
        ("$250k", "such as 250000, 250k or 1.2M"),
        (True, "such as 250k"),
        ("2000bn", "more than a trillion"),
    ],
)
def test_an_amount_that_is_negative_or_unreadable_is_refused(written, why):
    with pytest.raises(UnitError, match=why.replace("(", r"\(").replace("$", r"\$")):
        parse_amount(written)


def test_a_cost_over_years_is_the_one_off_plus_years_of_running():
    c = Cost(currency="USD", one_off="100k", per_year="160k")
    assert c.total(5) == 100_000 + 5 * 160_000
    assert c.total(0) == 100_000
    assert Cost(per_year="60k").total(3) == 180_000
    assert c.describe() == "USD 100k + 160k/yr"
    assert Cost(per_year="60k").describe("EUR") == "EUR 60k/yr"
    assert Cost(one_off="5k").describe() == "5k once"
    assert format_amount(1_250_000, "USD") == "USD 1.25M"


def _estate(extra: str) -> str:
    return (
        "name: costed\n"
        "regions: {dc: {}, cloud: {}}\n"
        "tiers: {tier0: {rto: 15m, rpo: 1m}}\n"
        "staff:\n"
        "  dba:\n"
        "    cost: {currency: USD, one_off: 25k, per_year: 170k}\n"
        "    shifts:\n"
        "      - {name: all, start: '00:00', end: '00:00', headcount: 1, acknowledge: 5m,\n"
        "         cost: {per_year: 60k}}\n"
        "services:\n"
        "  db:\n"
        "    tier: tier0\n"
        "    region: dc\n"
        "    recovery:\n"
        "      strategy: warm-standby\n"
        "      standby_region: cloud\n"
        "      cost: {currency: USD, one_off: 100k, per_year: 160k}\n"
        "      steps: [{name: promote, duration: 10m, role: dba}]\n" + extra
    )


def test_costs_sit_on_strategies_roles_shifts_and_candidate_changes():
    t = topology_from_text(
        _estate("change_costs:\n  backup: {per_year: 12k}\n  backup:db: {currency: USD, per_year: 40k}\n"), "t.yaml"
    )
    assert t.staff["dba"].cost == Cost(currency="USD", one_off=25_000, per_year=170_000)
    assert t.staff["dba"].shifts[0].cost == Cost(per_year=60_000)
    assert t.services["db"].recovery.cost.total(5) == 100_000 + 5 * 160_000
    assert t.change_costs["backup:db"].per_year == 40_000
    assert t.currency() == "USD"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "change_costs:\n  buffer:nowhere: {per_year: 3k}\n",
            "at change_costs.buffer:nowhere: unknown queue 'nowhere' (known: none defined)",
        ),
        (
            "change_costs:\n  responder:dab: {per_year: 3k}\n",
            "unknown staff role 'dab'; did you mean 'dba'?",
        ),
        (
            "change_costs:\n  backup: {currency: usd, per_year: 3k}\n",
            "at change_costs.backup.currency: expected a three-letter currency code in capitals such as USD",
        ),
        ("change_costs:\n  backup: {per_year: 3k, per_month: 1k}\n", "unknown field 'per_month'"),
    ],
)
def test_a_misplaced_or_misspelt_cost_is_refused_where_it_is(extra, message):
    with pytest.raises(InputError) as err:
        topology_from_text(_estate(extra), "t.yaml")
    assert message in str(err.value)
    assert f"t.yaml: line {len(_estate('').splitlines()) + 2}, column " in str(err.value)


def test_the_schema_describes_costs_and_change_costs():
    r = CliRunner().invoke(main, ["schema", "topology"])
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    defs = schema["$defs"]
    for model in ("Recovery", "StaffRole", "Shift"):
        assert "cost" in defs[model]["properties"], model
    assert "change_costs" in schema["properties"]
    cost = defs["Cost"]["properties"]
    assert set(cost) == {"currency", "one_off", "per_year"}
    assert {"type": "number", "minimum": 0} in cost["per_year"]["anyOf"]


def test_the_reference_estate_prices_people_strategies_and_changes():
    t = load_topology("ehr-hybrid")
    assert t.currency() == "USD"
    assert all(c.currency == "USD" for c in t.costs())
    night_dba = next(s for s in t.staff["dba"].shifts if s.name == "night")
    assert night_dba.cost == Cost(currency="USD", per_year=60_000)
    assert t.services["ehr-db"].recovery.cost == Cost(currency="USD", one_off=100_000, per_year=160_000)
    assert {"backup", "buffer", "backup:ehr-db"} <= set(t.change_costs)


def test_strategy_variants_carry_the_cost_of_their_strategy():
    ref = load_topology("ehr-hybrid")
    by = {name: load_topology(name) for name in ("active-active", "warm-standby", "pilot-light", "backup-restore")}
    app = {name: t.services["ehr-app"].recovery.cost.per_year for name, t in by.items()}
    # shares of ehr-app's production cost (USD 300k a year): 100%, 40%, 15%, 5%
    assert app == {
        "active-active": 300_000,
        "warm-standby": 120_000,
        "pilot-light": 45_000,
        "backup-restore": 15_000,
    }
    # the reference runs ehr-app on warm standby, costed the same as the warm-standby variant
    assert ref.services["ehr-app"].recovery.cost == by["warm-standby"].services["ehr-app"].recovery.cost
    # the legacy estate has no DR arrangement to pay for
    legacy = load_topology("legacy-onprem")
    assert all(s.recovery.cost is None for s in legacy.services.values() if s.recovery.strategy == "none")


def test_a_cost_round_trips_through_yaml():
    t = topology_from_text(_estate(""), "t.yaml")
    text = yaml.safe_dump(t.model_dump(mode="json", by_alias=True, exclude_defaults=True), sort_keys=False)
    assert topology_from_text(text, "again.yaml") == t
