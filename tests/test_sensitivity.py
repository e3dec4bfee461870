"""Sensitivity and advice on small estates whose answers are known."""

import math

import numpy as np
import pytest
import yaml
from builders import auto_service, base_drill, base_topology, plan_of, role
from click.testing import CliRunner

from drsim.analysis import sensitivity as sens
from drsim.analysis.advise import advise
from drsim.analysis.metrics import parse_metric
from drsim.api import prepare
from drsim.cli import main
from drsim.errors import InputError
from drsim.model.loader import drill_from_text, topology_from_text

DOMINANT = base_topology(
    {
        "db": auto_service([{"name": "failover", "duration": "lognormal(p50=30m, p95=2h)"}]),
        "app": auto_service([{"name": "start", "duration": "uniform(1m, 3m)"}]),
    }
)


def _models(topology: dict, drill: dict):
    t = topology_from_text(yaml.safe_dump(topology, sort_keys=False), "topology.yaml")
    return t, drill_from_text(yaml.safe_dump(drill, sort_keys=False), t, "drill.yaml")


def test_parameters_group_the_random_elements():
    plan = plan_of(DOMINANT, base_drill())
    assert sens.parameter_groups(plan) == {
        "runbook:app": ["task:svc:app:step:0:start"],
        "runbook:db": ["task:svc:db:step:0:failover"],
    }
    real = sens.parameter_groups(prepare("region-loss", None))
    for g in ("decision", "triage", "detection", "acknowledge:dba", "runbook:ehr-db", "fault-duration"):
        assert g in real


def test_one_at_a_time_ranks_the_dominant_parameter_first():
    plan = plan_of(DOMINANT, base_drill())
    res = sens.one_at_a_time(plan, metric="p90_rto:tier0", n=2000, seed=1)
    first, second = res.ranked()
    assert first["parameter"] == "runbook:db"
    # tier-0 RTO is max(db, app) and db dwarfs app at the 90th percentile: scaling db's draws
    # scales the P90 exactly; app's swing is zero
    assert first["value_high"] == pytest.approx(2 * res.base, rel=1e-12)
    assert first["value_low"] == pytest.approx(0.5 * res.base, rel=1e-12)
    assert first["effect_high_lo"] > 0
    assert first["effect_low_hi"] < 0
    assert second["parameter"] == "runbook:app"
    assert second["swing"] == 0
    df = res.to_frame()
    assert list(df["parameter"]) == ["runbook:app", "runbook:app", "runbook:db", "runbook:db"]
    assert list(df["scale"]) == [0.5, 2.0, 0.5, 2.0]
    db = df[df["parameter"] == "runbook:db"].set_index("scale")
    assert db.loc[2.0, "p90_s"] == first["value_high"]
    assert (db.loc[2.0, "d_p90_lo_s"], db.loc[2.0, "d_p90_hi_s"]) == (first["effect_high_lo"], first["effect_high_hi"])
    assert (df["metric"] == "tier:tier0:rto").all()
    assert (df["statistic"] == "p90_rto:tier0").all()


def test_sobol_gives_the_dominant_parameter_the_variance():
    plan = plan_of(DOMINANT, base_drill())
    res = sens.sobol(plan, metric="p90_rto:tier0", n=256, seed=2, samples=64, groups=["runbook:db", "runbook:app"])
    s = {r["parameter"]: r for r in res.sobol}
    # the metric is (almost surely) a function of the db factor alone: S1 = ST = 1 for it, 0 for app
    assert s["runbook:db"]["ST"] > 0.9
    assert s["runbook:db"]["S1"] > 0.8
    assert abs(s["runbook:app"]["ST"]) < 0.05
    assert "S1" in res.to_frame().columns


def _contended():
    """Four tier-0 services whose failovers each need the only DBA for 30 minutes."""
    svc = {
        "tier": "tier0",
        "region": "site",
        "recovery": {
            "strategy": "warm-standby",
            "standby_region": "dr",
            "steps": [{"name": "promote", "duration": "30m", "role": "dba"}],
        },
    }
    staff = {"ic": role(), "dba": role(headcount=1), "oncall": role()}
    return base_topology({f"s{i}": dict(svc) for i in range(4)}, staff=staff)


def test_advice_puts_the_bottleneck_role_first_with_its_exact_effect():
    """Serial DBA work: 4 x 30m. A second DBA halves it (-60m); making one service active-active
    saves one slot (-30m); another incident commander saves nothing."""
    topo, drill = _models(_contended(), base_drill())
    res = advise(drill, topo, "p90_rto:tier0", n=50, seed=0, library=[])
    assert res.base == pytest.approx(4 * 60 + 4 * 1800)
    best = res.rows[0]
    assert best["kind"] == "responder"
    assert best["subject"] == "dba"
    assert best["effect"] == pytest.approx(-3600)
    assert best["effect_lo"] == best["effect_hi"] == pytest.approx(-3600)
    assert best["improves"]
    by = {r["change"]: r for r in res.rows}
    strategy = [r for r in res.rows if r["kind"] == "strategy"]
    assert len(strategy) == 4
    assert all(r["effect"] == pytest.approx(-1800) for r in strategy)
    ic = next(r for r in res.rows if r["subject"] == "ic")
    assert ic["effect"] == 0
    assert not ic["improves"]
    assert len(by) == len(res.rows)


def test_advice_halving_a_backup_interval_halves_the_loss():
    svc = {
        "tier": "tier0",
        "region": "site",
        "data": {"backup_interval": "4h", "size": "10GB", "restore_throughput": "100MiB/s"},
        "recovery": {
            "strategy": "backup-restore",
            "standby_region": "dr",
            "steps": [{"name": "restore", "duration": "10m", "restore": True}],
        },
    }
    topo, drill = _models(base_topology({"db": svc}), base_drill())
    res = advise(drill, topo, "mean_rpo:db", n=4000, seed=3, library=[])
    row = next(r for r in res.rows if r["kind"] == "backup")
    # the backup age is uniform on [0, interval]: halving the interval halves every draw (CRN)
    assert row["value"] == pytest.approx(res.base / 2, rel=1e-12)
    assert res.base == pytest.approx(2 * 3600, rel=4 * (4 * 3600 / math.sqrt(12)) / math.sqrt(4000) / 7200)
    assert res.rows[0]["kind"] == "backup"


def test_metric_grammar():
    plan = prepare("region-loss", None)
    m = parse_metric("p90_rto:tier0", plan)
    assert (m.stat, m.key, m.q, m.target) == ("percentile", "tier:tier0:rto", 0.9, 900.0)
    m = parse_metric("p_meet_rto:tier0@3h", plan)
    assert m.target == 3 * 3600
    assert m.higher_is_better
    assert m.value(np.array([3600.0, 4 * 3600.0])) == 0.5
    assert parse_metric("p90_downtime:medication-administration", plan).key == (
        "workflow:medication-administration:downtime"
    )
    assert parse_metric("mean_rpo:ehr-db", plan).key == "service:ehr-db:rpo"
    for bad in (
        "p90_rto",
        "p90_rto:nowhere",
        "p90_downtime:tier0",
        "p90_rto@3h:tier0",
        "p90_rto:tier0@3h",
        "p100_rto:tier0",
    ):
        with pytest.raises(InputError):
            parse_metric(bad, plan)


def test_cli_sensitivity_and_advise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(
        main, ["sensitivity", "region-loss", "-n", "300", "--top", "5", "--plot", "t.png"], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    assert "runbook:ehr-db" in r.output  # the EHR database rebuild dominates a region loss once a trigger declares
    assert (tmp_path / "t.png").stat().st_size > 1000
    r = runner.invoke(
        main, ["advise", "region-loss", "-n", "300", "--top", "3", "--format", "csv"], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[0].startswith("change,label,change_kind,change_subject,changes,metric,kind,subject,")
    assert ",p90_s,d_p90_s,d_p90_lo_s,d_p90_hi_s," in lines[0]
    assert len(lines) > 3
    r = runner.invoke(main, ["advise", "region-loss", "--metric", "p90_bogus:tier0"], catch_exceptions=False)
    assert r.exit_code == 2
    assert "--metric" in r.output


def test_what_ifs_use_the_same_replicates_as_a_sweep():
    """Scaling nothing reproduces the sweep's replicates exactly, so every what-if is paired with them."""
    from drsim.analysis.compare import simulate

    plan = prepare("region-loss", None)
    groups = sens.parameter_groups(plan)
    xs = sens.scaled_replicates(plan, "tier:tier0:rto", groups, ["decision"], np.array([[1.0], [2.0]]), 500, 9)
    np.testing.assert_array_equal(xs[0], simulate(plan, 500, 9)["tier:tier0:rto"])
    assert np.all(xs[1] >= xs[0])  # a slower decision never brings tier 0 back sooner


def _dominant_sobol(**kw):
    plan = plan_of(DOMINANT, base_drill())
    return sens.sobol(plan, metric="p90_rto:tier0", n=256, seed=2, groups=["runbook:db", "runbook:app"], **kw)


def test_sobol_takes_as_many_samples_as_intervals_of_a_tenth_need():
    res = _dominant_sobol()
    assert res.samples in (256, 512, 1024, 2048, 4096)
    assert res.widest <= 0.1
    assert res.sure_enough
    widest = max(2 * max(r["S1_conf"], r["ST_conf"]) for r in res.sobol)
    assert res.widest == widest  # the widest of the S1 and ST intervals, each twice SALib's half-width
    assert res.samples_needed is None
    # the first size that is enough: half as many samples leave an interval wider than 0.1
    assert _dominant_sobol(samples=res.samples // 2).widest > 0.1
    # doubling reuses the what-ifs already run: the same indices as that many samples at once
    assert _dominant_sobol(samples=res.samples).sobol == res.sobol
    assert (
        res.sobol_note()
        == f"Sobol indices from {res.samples} samples; widest 95% interval {res.widest:.3f} (at most 0.1)"
    )


def test_sobol_short_of_its_interval_says_how_many_samples_would_do():
    res = _dominant_sobol(width=0.01, max_samples=64)
    assert res.samples == 64
    assert not res.sure_enough
    # intervals shrink as 1/sqrt(samples): the next power of two past 64 x (widest / 0.01)^2
    assert res.samples_needed == 2 ** math.ceil(math.log2(64 * (res.widest / 0.01) ** 2))
    assert res.samples_needed > 64
    assert f"run with --samples {res.samples_needed}" in res.sobol_note()


def test_cli_sobol_warns_when_its_intervals_are_wider_than_asked(tmp_path):
    both_matter = base_topology(
        {
            "db": auto_service([{"name": "failover", "duration": "lognormal(p50=30m, p95=2h)"}]),
            "app": auto_service([{"name": "start", "duration": "lognormal(p50=25m, p95=90m)"}]),
        }
    )
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(both_matter, sort_keys=False))
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(base_drill(), sort_keys=False))
    args = ["sensitivity", str(tmp_path / "d.yaml"), "-t", str(tmp_path / "t.yaml"), "--method", "sobol", "-n", "64"]
    r = CliRunner().invoke(main, [*args, "--max-samples", "32"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.stderr.startswith("warning: Sobol indices from 32 samples; widest 95% interval ")
    assert "wider than 0.1: about " in r.stderr
    r = CliRunner().invoke(main, [*args, "--samples", "256", "--width", "0.5"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    assert "Sobol indices from 256 samples; widest 95% interval " in r.stdout
