"""Any estate, not just a hospital: starters, defaults taken from the estate, and its own words.

``drsim init`` writes a starter estate and drill that validate and run; a drill
is validated against the topology named beside it; an active-active service
needs no runbook and a drill no triage step (closed forms and two-engine
agreement below); analyses default to the estate's most critical tier; and
reports use healthcare words only where an estate declares them.
"""

import re

import numpy as np
import pytest
import yaml
from builders import auto_service, base_drill, base_topology, plan_of, role, run_both
from click.testing import CliRunner

from drsim.api import prepare
from drsim.cli import common, main
from drsim.cli.init import FILES, TEMPLATES
from drsim.engine import des, vectorized
from drsim.engine.draws import Draws
from drsim.model.vocabulary import GENERIC, HEALTHCARE

#: Words that belong to a hospital; none may appear in what drsim says about another estate.
HOSPITAL_WORDS = re.compile(
    r"clinic|\bwards?\b|patient|hospital|\bEHR\b|downtime procedure|nurse|\bMAR\b|HL7|\bFHIR\b", re.IGNORECASE
)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write(path, doc):
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def starters(tmp_path_factory):
    """Each template written by ``drsim init`` into its own folder."""
    out = {}
    for name in TEMPLATES:
        folder = tmp_path_factory.mktemp(name) / "estate"
        r = run("init", "--template", name, folder)
        assert r.exit_code == 0, r.output
        out[name] = (folder / "topology.yaml", folder / "drill.yaml")
    return out


# ------------------------------------------------------------------ drsim init


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_starter_validates_and_runs(starters, name):
    topo, drill = starters[name]
    r = run("validate", topo, drill)
    assert r.exit_code == 0, r.output
    assert f"on topology {yaml.safe_load(topo.read_text())['name']} ({topo})" in r.output
    r = run("drill", drill, "-t", topo)
    assert r.exit_code in (0, 1), r.output  # a verdict, never bad input
    assert "Decision latency" in r.output


def test_init_says_what_to_run_next(tmp_path):
    r = run("init", tmp_path / "mine")
    assert r.exit_code == 0, r.output
    assert f"drsim validate {tmp_path / 'mine' / 'topology.yaml'} {tmp_path / 'mine' / 'drill.yaml'}" in r.output
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == sorted(FILES)


def test_init_never_overwrites_and_writes_nothing_when_one_file_exists(tmp_path):
    (tmp_path / "topology.yaml").write_text("mine\n")
    r = run("init", "--template", "payments", tmp_path)
    # the status every command gives for "output exists" (handle_errors decides it, for init too)
    assert r.exit_code == common.EXIT_OUTPUT_EXISTS, r.output
    assert "topology.yaml already exists; drsim init never overwrites a file" in r.output
    assert (tmp_path / "topology.yaml").read_text() == "mine\n"
    assert not (tmp_path / "drill.yaml").exists()


def test_payments_starter_has_tiers_t0_to_t3_a_card_network_and_no_hospital_words(starters):
    topo_path, drill_path = starters["payments"]
    topo = yaml.safe_load(topo_path.read_text())
    assert list(topo["tiers"]) == ["t0", "t1", "t2", "t3"]
    assert any(q.get("producer") in topo["externals"] for q in topo["queues"].values())
    for path in (topo_path, drill_path):
        assert not HOSPITAL_WORDS.search(path.read_text()), path


# ------------------------------------------------------------------ validate: which estate a drill is checked against


def test_validate_checks_a_drill_against_the_topology_beside_it(starters):
    topo, drill = starters["minimal"]
    assert run("validate", topo, drill).exit_code == 0
    assert run("validate", drill, topo).exit_code == 0  # the first topology after it, when none is before


def test_a_drill_checked_against_the_bundled_estate_lists_what_it_has_and_suggests_t(starters):
    _, drill = starters["minimal"]
    r = run("validate", drill)
    assert r.exit_code == 2
    assert "unknown region 'primary' (known: cloud-east," in r.output
    assert "unknown staff role 'oncall' (known: clinical-ops-lead," in r.output
    assert "pass your estate with -t TOPOLOGY.yaml" in r.output
    r = run("drill", drill)
    assert r.exit_code == 2
    assert "pass your estate with -t TOPOLOGY.yaml" in r.output
    assert "Traceback" not in r.output


def test_no_t_suggestion_when_the_topology_was_given(starters, tmp_path):
    topo, _ = starters["minimal"]
    drill = write(
        tmp_path / "d.yaml",
        {
            **yaml.safe_load(starters["minimal"][1].read_text()),
            "faults": [{"kind": "region-loss", "targets": ["nowhere"]}],
        },
    )
    for args in (("validate", topo, drill), ("drill", drill, "-t", topo)):
        r = run(*args)
        assert r.exit_code == 2
        assert "unknown region 'nowhere' (known: primary, standby)" in r.output
        assert "-t TOPOLOGY.yaml" not in r.output


def test_a_region_needs_no_kind_only_a_zone_needs_its_parent(tmp_path, starters):
    topo = yaml.safe_load(starters["minimal"][0].read_text())
    assert topo["regions"] == {"primary": {}, "standby": {}}  # the starter declares no kind
    assert run("validate", write(tmp_path / "t.yaml", topo), starters["minimal"][1]).exit_code == 0
    topo["regions"]["az1"] = {"kind": "zone"}
    r = run("validate", write(tmp_path / "z.yaml", topo))
    assert r.exit_code == 2
    assert "regions.az1.parent" in r.output
    assert "a zone needs the region it belongs to" in r.output


def test_a_drill_beside_an_invalid_topology_is_not_checked_against_another(tmp_path, starters):
    bad = write(tmp_path / "t.yaml", {**yaml.safe_load(starters["minimal"][0].read_text()), "tiers": {}})
    r = run("validate", bad, starters["minimal"][1])
    assert r.exit_code == 2
    assert f"not checked: its topology {bad} is invalid" in r.output


# ------------------------------------------------------------------ sensible defaults


def _no_triage_estate(aa_steps=None):
    services = {
        "db": {
            "tier": "tier0",
            "region": "site",
            "recovery": {
                "strategy": "warm-standby",
                "standby_region": "dr",
                "steps": [{"name": "promote", "duration": "5m", "role": "dba"}],
            },
        },
        "web": auto_service(aa_steps or [], depends_on=["db"]),
    }
    if aa_steps is None:
        del services["web"]["recovery"]["steps"]
    topo = base_topology(services, staff={"ic": role(acknowledge="exponential(mean=5m)"), "dba": role()})
    drill = base_drill()
    del drill["response"]["triage"]
    drill["response"]["declare"] = {"role": "ic", "duration": "10m"}
    return topo, drill


def test_without_triage_the_first_acknowledgement_escalates_closed_form():
    """No triage: detect (1m) + the IC's acknowledgement (exponential, mean 5m) + declare (10m) +
    promote (5m): mean 21m, SD 5m. The DBA is paged at escalation, the IC's acknowledgement, and
    acknowledges (1m) while the IC decides, so never delays the promotion."""
    plan = plan_of(*_no_triage_estate())
    n = 100_000
    m = run_both(plan, seed=3, n=n)
    rto = m["service:db:rto"]
    assert abs(rto.mean() - 21 * 60) <= 4 * 300 / np.sqrt(n), rto.mean()
    # the standard error of a sample SD is sigma * sqrt(kurtosis - 1) / (2 sqrt(n)); an exponential's kurtosis is 9
    assert abs(rto.std() - 300) <= 4 * 300 * np.sqrt(8) / (2 * np.sqrt(n)), rto.std()
    assert rto.min() >= 16 * 60


def test_an_active_active_service_needs_no_runbook_and_is_back_with_what_it_depends_on():
    topo, drill = _no_triage_estate()
    plan = plan_of(topo, drill)
    m = run_both(plan, seed=5, n=2000)  # the two engines agree replicate by replicate
    np.testing.assert_array_equal(m["service:web:rto"], m["service:db:rto"])
    # on its own (nothing it depends on down), it is back at the fault
    alone = base_topology(
        {"web": {"tier": "tier0", "region": "site", "recovery": {"strategy": "active-active", "standby_region": "dr"}}}
    )
    m = run_both(plan_of(alone, drill), seed=5, n=200)
    assert (m["service:web:rto"] == 0).all()


@pytest.mark.parametrize("name", TEMPLATES)
def test_both_engines_agree_on_each_starter(starters, name):
    topo, drill = starters[name]
    plan = prepare(drill, topo)
    draws = Draws.sample(plan.elements(), 7, 300)
    by_des, by_vec = des.run_many(plan, draws), vectorized.run_many(plan, draws)
    np.testing.assert_array_equal(by_vec.finish, by_des.finish)
    np.testing.assert_array_equal(by_vec.start, by_des.start)


def test_a_warm_standby_service_still_needs_a_runbook(tmp_path):
    topo, _ = _no_triage_estate()
    topo["services"]["db"]["recovery"]["steps"] = []
    r = run("validate", write(tmp_path / "t.yaml", topo))
    assert r.exit_code == 2
    assert "strategy warm-standby needs at least one runbook step" in r.output


# ------------------------------------------------------------------ the estate's own words and tiers


def test_payments_estate_runs_every_command_without_bad_input_or_hospital_words(starters, tmp_path):
    topo, drill = starters["payments"]
    other = tmp_path / "cardpay-b.yaml"
    other.write_text(topo.read_text().replace("name: cardpay", "name: cardpay-b"))
    commands = {
        "validate": ("validate", topo, drill),
        "drill": ("drill", drill, "-t", topo),
        "drill markdown": ("drill", drill, "-t", topo, "--format", "markdown"),
        "drill json": ("drill", drill, "-t", topo, "--format", "json"),
        "sweep": ("sweep", drill, "-t", topo, "-n", 200),
        "compare": ("compare", drill, "-t", topo, "-t", other, "-n", 200, "--workflows", "--plot", tmp_path / "c.png"),
        "sensitivity": ("sensitivity", drill, "-t", topo, "-n", 10),
        "advise": ("advise", drill, "-t", topo, "-n", 10),
        "timeline": ("timeline", drill, "-t", topo, "--format", "md"),
        "timeline participant": ("timeline", drill, "-t", topo, "--format", "md", "--edition", "participant"),
        "timeline console": ("timeline", drill, "-t", topo, "--format", "console"),
        "timeline bad night": ("timeline", drill, "-t", topo, "--format", "md", "--percentile", 90, "--n", 200),
    }
    for what, args in commands.items():
        r = run(*args)
        assert r.exit_code in (0, 1), (what, r.output)
        assert "is not a tier" not in r.output, what
        assert not HOSPITAL_WORDS.search(r.output), (what, HOSPITAL_WORDS.search(r.output))
    assert (tmp_path / "c.png").stat().st_size > 0
    assert "P90 t0 RTO" in run(*commands["advise"]).output  # the most critical tier, by its own name
    pack = run(*commands["timeline"]).output
    assert "stand-in processing" in pack  # the estate's declared words
    assert "merchants" in pack
    bad_night = run(*commands["timeline bad night"]).output
    assert "## Improvement plan" in bad_night  # the improvement plan and replay questions speak its words too
    assert "From this replay" in bad_night
    assert '<section id="facilitator"' in run(*commands["timeline console"]).output


def test_a_tier_that_is_not_there_lists_the_estates_tiers(starters):
    topo, drill = starters["payments"]
    r = run("advise", drill, "-t", topo, "-n", 10, "--metric", "p90_rto:tier0")
    assert r.exit_code == 2
    assert "'tier0' is not a tier, service or workflow of 'cardpay'" in r.output
    assert "its tiers: t0, t1, t2, t3" in r.output


def test_healthcare_words_only_where_declared(starters):
    hospital = run("drill", starters["hospital"][1], "-t", starters["hospital"][0]).output
    assert "Clinical workflows" in hospital
    minimal = run("drill", starters["minimal"][1], "-t", starters["minimal"][0]).output
    assert "Workflows" in minimal
    assert not HOSPITAL_WORDS.search(minimal)


def test_vocabulary_presets_and_a_mapping(tmp_path):
    assert HEALTHCARE.workflows_heading == "Clinical workflows"
    assert HEALTHCARE.communicate_label == "tell wards: switch to downtime procedures"
    assert GENERIC.workflows_heading == "Workflows"
    assert GENERIC.communicate_label == "tell users: switch to fallback procedures"
    topo, drill = _no_triage_estate()
    topo["workflows"] = {"checkout": {"needs": ["web"], "tolerance": "1m"}}
    topo["vocabulary"] = {"workflow": "customer journey", "users": "shoppers"}
    plan = plan_of(topo, drill)
    words = plan.topology.words()
    assert (words.workflows_heading, words.users, words.fallback) == (
        "Customer journeys",
        "shoppers",
        "fallback procedures",
    )
    out = run(
        "drill", write(tmp_path / "d.yaml", drill), "-t", write(tmp_path / "t.yaml", topo), "--format", "markdown"
    ).output
    assert "## Customer journeys" in out
    topo["vocabulary"] = "veterinary"
    r = run("validate", write(tmp_path / "t2.yaml", topo))
    assert r.exit_code == 2
    assert "at vocabulary" in r.output


def test_a_sensitivity_grid_defaults_to_the_estates_most_critical_tier_and_its_runbook(starters):
    from drsim.analysis.sensitivity import grid

    topo, drill = starters["payments"]
    g = grid(drill, topo, n=50)
    assert g.metric.text == "p90_rto:t0"  # not tier0, which this estate does not have
    assert g.y == "runbook:dns"  # the first t0 service with uncertain runbook durations
    assert g.x == "decision"
    assert g.values.shape == (4, 4)
    hospital = grid("region-loss", n=50)
    assert (hospital.metric.text, hospital.y) == ("p90_rto:tier0", "runbook:ehr-db")
