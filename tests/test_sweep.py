"""Sweeps: chunking and seeding, merging, grids, summaries, exports and the command line."""

import concurrent.futures
import math
import pickle
import random
import re
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import auto_service, base_drill, base_topology, role
from click.testing import CliRunner

import drsim
from drsim.api import prepare, run_drill
from drsim.cli import main
from drsim.engine import vectorized
from drsim.engine.draws import BLOCK, Draws, element_uniforms
from drsim.engine.outcomes import evaluate
from drsim.errors import InputError, OutputExistsError
from drsim.frames import IDENTITY, STATISTICS, percentile_columns
from drsim.stats import BITS, Accumulator, Summary
from drsim.sweep import (
    ChunkResult,
    SweepSettings,
    SweepSpec,
    build_spec,
    execute,
    parse_grid_option,
    run_chunk,
    sample,
    sweep,
)
from drsim.sweep.executors import Runner


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def estate(tmp_path):
    """A small estate: two jobs for one DBA, so staffing matters; drills with and without gates."""
    services = {
        "db": auto_service([{"name": "promote", "duration": "lognormal(p50=5m, p95=15m)", "role": "dba"}]),
        "app": auto_service([{"name": "restart", "duration": "exponential(mean=5m)", "role": "dba"}], tier="tier1"),
    }
    staff = {
        "ic": role(),
        "dba": {
            "shifts": [
                {"name": "day", "start": "07:00", "end": "19:00", "headcount": 1, "acknowledge": "2m"},
                {"name": "night", "start": "19:00", "end": "07:00", "headcount": 1, "acknowledge": "5m"},
            ]
        },
    }
    topo = tmp_path / "topo.yaml"
    topo.write_text(yaml.safe_dump(base_topology(services, staff=staff), sort_keys=False))
    docs = {
        "pass": base_drill(gates=["tier0 rto p50 <= 2h", "P(tier1 rto <= 4h) >= 0.9"]),
        "fail": base_drill(gates=["tier0 rto p99 <= 1m"]),
        "none": base_drill(),
    }
    paths = {}
    for k, d in docs.items():
        paths[k] = tmp_path / f"{k}.yaml"
        paths[k].write_text(yaml.safe_dump(d, sort_keys=False))
    return topo, paths


# ------------------------------------------------------------------ seeding and chunks


@pytest.mark.parametrize("name", ["region-loss", "cutover-rollback"])
def test_replicate_0_is_drsim_drill_with_the_same_seed(name):
    res = sweep(name, n=3, seed=17, keep_replicates=True)
    one = run_drill(name, seed=17)
    for key, s in res.points[0].metrics.items():
        assert s.values[0] == pytest.approx(one.metrics[key], rel=0, abs=0) or (
            math.isinf(s.values[0]) and math.isinf(one.metrics[key])
        ), key


def test_chunk_i_covers_its_own_replicates():
    plan = prepare("region-loss")
    res = sweep("region-loss", n=10, seed=3, chunk_size=4, keep_replicates=True)
    draws = Draws.sample(plan.elements(), 3, 4, start=4)
    fin = vectorized.run_many(plan, draws)
    direct = evaluate(plan, draws, fin)
    for key, s in res.points[0].metrics.items():
        np.testing.assert_array_equal(s.values[4:8], direct[key], err_msg=key)
    # a longer sweep only adds replicates: the first ones do not move
    longer = sweep("region-loss", n=13, seed=3, chunk_size=4, keep_replicates=True)
    for key, s in res.points[0].metrics.items():
        np.testing.assert_array_equal(longer.points[0].metrics[key].values[:10], s.values, err_msg=key)


@pytest.mark.parametrize("start", [0, 1, BLOCK - 3, BLOCK, 2 * BLOCK + 17])
def test_a_replicates_numbers_do_not_depend_on_where_a_run_of_replicates_starts(start):
    whole = element_uniforms(5, "ehr-db:restore", 3 * BLOCK)
    np.testing.assert_array_equal(element_uniforms(5, "ehr-db:restore", 1000, start), whole[start : start + 1000])


def test_each_block_of_replicates_is_a_stream_of_its_own():
    two = element_uniforms(5, "ehr-db:restore", 2 * BLOCK)
    first, second = two[:BLOCK], two[BLOCK:]
    assert not np.any(first == second)
    # and an element's numbers are not another's
    assert not np.any(element_uniforms(5, "ehr-db:promote", BLOCK) == first)


def test_any_chunk_size_gives_the_same_sweep(monkeypatch):
    """Chunks only split the work: the numbers, the counts, the histograms and the means are the same."""
    monkeypatch.setattr(sys.modules["drsim.sweep.run"], "EXACT_BUDGET", 0)  # histograms, not kept values
    one = sweep("ransomware-restore", n=9000, seed=4, chunk_size=9000, executor="inline")
    assert not one.exact
    for size in (1000, 4096, 2999):
        other = sweep("ransomware-restore", n=9000, seed=4, chunk_size=size, executor="inline")
        assert other.to_dict() == one.to_dict(), size
        for key, s in one.points[0].metrics.items():
            t = other.points[0].metrics[key]
            assert t.mean == s.mean or (math.isnan(t.mean) and math.isnan(s.mean)), key
            np.testing.assert_array_equal(t.bins, s.bins, err_msg=key)
            np.testing.assert_array_equal(t.counts, s.counts, err_msg=key)


def test_spec_cuts_replicates_into_chunks():
    spec = build_spec("az-loss", n=10, chunk_size=4)
    assert spec.n_chunks == 3
    assert [spec.chunk_range(i) for i in range(3)] == [(0, 4), (4, 8), (8, 10)]
    with pytest.raises(IndexError):
        spec.chunk_range(3)
    assert spec.work() == [(0, 0), (0, 1), (0, 2)]


def test_threaded_sampling_gives_the_shared_draws():
    plan = prepare("region-loss")
    a = sample(plan.elements(), 9, 5000, 2 * BLOCK - 1000)  # across a block boundary
    b = Draws.sample(plan.elements(), 9, 5000, start=2 * BLOCK - 1000)
    assert a.values.keys() == b.values.keys()
    for k in a.values:
        np.testing.assert_array_equal(a[k], b[k])


def test_des_and_vectorized_sweeps_agree(estate):
    topo, drills = estate
    a = sweep(str(drills["pass"]), str(topo), n=150, seed=2, chunk_size=64, engine="des")
    b = sweep(str(drills["pass"]), str(topo), n=150, seed=2, chunk_size=64)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert a.events > 0
    assert b.events == 0


# ------------------------------------------------------------------ executors and merging


def test_spec_and_chunk_results_pickle():
    spec = build_spec("idp-outage", n=100, chunk_size=50)
    spec2 = pickle.loads(pickle.dumps(spec))
    assert spec2.config_hash == spec.config_hash
    a, b = run_chunk(spec, 1), pickle.loads(pickle.dumps(run_chunk(spec2, 1)))
    assert a.summaries.keys() == b.summaries.keys()
    for k in a.summaries:
        np.testing.assert_array_equal(a.summaries[k].values, b.summaries[k].values)


def test_an_executor_gives_the_in_process_result():
    kw = dict(n=3000, seed=5, chunk_size=512, grid={"drill.faults.0.duration": ["2h", "6h"]})
    spec = build_spec("region-loss", **kw)
    local = execute(spec)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        pooled = execute(spec, executor=ex)
    pd.testing.assert_frame_equal(local.to_frame(), pooled.to_frame())


def test_results_merge_in_chunk_order_whatever_order_they_arrive_in():
    spec = build_spec("interface-outage", n=900, seed=1, chunk_size=100)
    reference = execute(spec)
    results = [run_chunk(spec, c, p) for p, c in spec.work()]
    rng = random.Random(3)
    shuffled = results + rng.sample(results, 4)  # some chunks reported twice (a retried worker)
    rng.shuffle(shuffled)

    class Shuffled(Runner):
        """A runner whose chunks come back out of order, some of them twice."""

        def run(self, spec, work):
            return iter(shuffled)

    merged = execute(spec, executor=Shuffled())
    pd.testing.assert_frame_equal(merged.to_frame(), reference.to_frame())
    for k, s in merged.points[0].metrics.items():
        np.testing.assert_array_equal(s.values, reference.points[0].metrics[k].values)
        assert s.n == 900


def test_chunk_result_records_its_place():
    spec = build_spec("az-loss", n=10, chunk_size=4)
    res = run_chunk(spec, 2)
    assert isinstance(res, ChunkResult)
    assert (res.point, res.chunk, res.n) == (0, 2, 2)
    assert isinstance(spec, SweepSpec)


def test_settings_as_one_record_or_as_keywords_give_the_same_sweep():
    settings = SweepSettings(n=300, seed=3, chunk_size=100, executor="inline")
    by_record = sweep("az-loss", settings=settings)
    by_keywords = sweep("az-loss", n=300, seed=3, chunk_size=100, executor="inline")
    pd.testing.assert_frame_equal(by_record.to_frame(), by_keywords.to_frame())
    assert (
        build_spec("az-loss", settings=settings).config_hash
        == build_spec("az-loss", n=300, seed=3, chunk_size=100).config_hash
    )
    reseeded = sweep("az-loss", settings=settings, seed=4)  # a keyword replaces one setting of the record
    assert (reseeded.seed, reseeded.n) == (4, 300)
    with pytest.raises(TypeError, match="unexpected keyword argument 'replicates'"):
        sweep("az-loss", replicates=10)


def test_progress_true_draws_nothing_from_the_library_and_says_so():
    with pytest.warns(UserWarning, match="draws no bar outside the command line"):
        res = sweep("az-loss", n=100, seed=1, executor="inline", progress=True)
    assert res.n == 100


# ------------------------------------------------------------------ summaries


def test_histograms_beyond_the_budget_keep_counts_exact_and_percentiles_within_their_resolution(monkeypatch):
    exact = sweep("ransomware-restore", n=20_000, seed=8)
    assert exact.exact
    monkeypatch.setattr(sys.modules["drsim.sweep.run"], "EXACT_BUDGET", 0)
    hist = sweep("ransomware-restore", n=20_000, seed=8)
    assert not hist.exact
    a, b = exact.to_frame(), hist.to_frame()
    for col in ("metric", "n", "target_s", "p_meet", "p_meet_lo", "p_meet_hi", "never"):
        pd.testing.assert_series_equal(a[col], b[col])
    np.testing.assert_allclose(b["mean_s"], a["mean_s"], rtol=1e-12)
    np.testing.assert_allclose(b["mean_count"], a["mean_count"], rtol=1e-12)
    for col in (*percentile_columns("_s"), *percentile_columns("_count")):
        fin = np.isfinite(a[col])
        assert (np.isfinite(b[col]) == fin).all()
        np.testing.assert_allclose(b[col][fin], a[col][fin], rtol=2.0**-BITS, atol=2.0**-10)
    for g, h in zip(exact.points[0].gates, hist.points[0].gates):
        assert g.passed == h.passed
    with pytest.raises(ValueError, match="keep_replicates"):
        hist.replicates()


def test_p_meet_is_the_share_of_replicates_within_target():
    res = sweep("region-loss", n=5000, seed=1, keep_replicates=True)
    pt = res.points[0]
    for key in ("tier:tier0:rpo", "service:ehr-db:rto", "workflow:chart-access:downtime"):
        values = pt.metrics[key].values
        p, lo, hi = pt.p_meet(key)
        assert p == np.mean(values <= pt.targets[key])
        assert lo <= p <= hi
        q = np.sort(values)
        assert pt.percentile(key, 95) == q[math.ceil(0.95 * len(q)) - 1]


def test_a_sum_merged_from_any_chunks_is_the_correctly_rounded_sum():
    rng = np.random.default_rng(3)
    x = rng.lognormal(8, 3, 50_000)  # values over many magnitudes, where the order of additions shows
    x[::101] = np.inf  # never: not in the sum
    finite = x[np.isfinite(x)]
    assert math.fsum(finite) != float(np.sum(finite)) or math.fsum(finite) != sum(finite.tolist())
    for size in (50_000, 1000, 333):
        acc = Accumulator(np.array([]), exact=False)
        for i in range(0, len(x), size):
            acc.add(Summary.of(x[i : i + size], np.array([]), exact=False))
        merged = acc.result()
        assert merged.total == math.fsum(finite), size
        assert merged.mean == math.inf  # some replicate never ended


def test_a_merged_histogram_is_the_histogram_of_all_values():
    rng = np.random.default_rng(4)
    parts = [rng.exponential(60, 500), rng.exponential(86400, 500), np.array([0.0, np.inf, 2.0**40])]
    acc = Accumulator(np.array([]), exact=False)
    for part in parts:  # the second part widens the range of bins kept
        acc.add(Summary.of(part, np.array([]), exact=False))
    whole = Summary.of(np.concatenate(parts), np.array([]), exact=False)
    merged = acc.result()
    np.testing.assert_array_equal(merged.bins, whole.bins)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert merged.counts.sum() == 1003


def test_nan_counts_as_never():
    s = Summary.of(np.array([1.0, np.nan, 3.0]), np.array([2.0]), exact=True)
    assert s.n_inf == 1
    assert s.quantile(0.99) == math.inf
    assert s.count("<=", 2.0) == 1


# ------------------------------------------------------------------ grids


def test_a_grid_is_the_cartesian_product_revalidated_point_by_point():
    grid = {"topology.staff.dba.shifts.2.headcount": [1, 2], "drill.faults.0.duration": ["2h", "8h", "1d"]}
    res = drsim.sweep("region-loss", n=200, seed=1, grid=grid)
    assert len(res.points) == 6
    assert [tuple(p.params.values()) for p in res.points][:3] == [(1, "2h"), (1, "8h"), (1, "1d")]
    df = res.to_frame()
    assert list(df.columns[:2]) == list(grid)
    assert len(df) == sum(len(p.metrics) for p in res.points)
    assert list(df.columns[2:]) == ["point", *IDENTITY, *STATISTICS]
    assert (df.n == 200).all()
    caps = [p.plan.capacity["dba"] for p in build_spec("region-loss", n=10, grid=grid).points]
    assert caps == [1, 1, 1, 2, 2, 2]


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("topology.staff.dbx.shifts.0.headcount", [1], "no 'dbx' in topology.staff"),
        ("topology.staff.dba.shifts.9.headcount", [1], "topology.staff.dba.shifts is a list of 3"),
        ("staff.dba.shifts.0.headcount", [1], "must start with 'topology.' or 'drill.'"),
        ("drill.faults.0.duration", [], "needs a non-empty list"),
        ("topology.staff.dba.shifts.2.headcount", [-1], "topology.staff.dba.shifts.2.headcount=-1"),
        ("drill.faults.0.duration", ["8 hours"], "drill.faults.0.duration=8 hours"),
        ("drill.faults.0.colour", ["red"], "unknown field 'colour'"),
    ],
)
def test_bad_grid_keys_and_values_are_input_errors_naming_the_key(key, values, message):
    with pytest.raises(InputError) as exc:
        sweep("region-loss", n=10, grid={key: values})
    assert message in str(exc.value)


def test_grid_options_split_on_top_level_commas():
    assert parse_grid_option("drill.detection.delay=lognormal(p50=3m, p95=10m),5m") == (
        "drill.detection.delay",
        ["lognormal(p50=3m, p95=10m)", "5m"],
    )
    assert parse_grid_option("topology.staff.dba.shifts.2.headcount=1,2,3")[1] == [1, 2, 3]
    assert parse_grid_option("k=0.5,true,x")[1] == [0.5, True, "x"]
    with pytest.raises(InputError, match="KEY=VALUE1"):
        parse_grid_option("no-equals-sign")


@pytest.mark.parametrize(
    ("kw", "field"), [({"n": 0}, "replicates"), ({"engine": "gpu"}, "engine"), ({"chunk_size": 0}, "chunk size")]
)
def test_bad_settings_are_input_errors(kw, field):
    with pytest.raises(InputError, match=field):
        sweep("az-loss", **{"n": 10, **kw})


# ------------------------------------------------------------------ exports


def test_exports_are_atomic_and_refuse_to_overwrite(tmp_path):
    res = sweep("az-loss", n=500, seed=1, keep_replicates=True)
    pq, csv = tmp_path / "s.parquet", tmp_path / "s.csv"
    res.to_parquet(pq)
    res.to_csv(csv)
    pd.testing.assert_frame_equal(pd.read_parquet(pq), res.to_frame())
    back = pd.read_csv(csv)
    np.testing.assert_allclose(back["p95_s"], res.to_frame()["p95_s"])
    with pytest.raises(OutputExistsError):
        res.to_parquet(pq)
    with pytest.raises(OutputExistsError):
        res.to_csv(csv)
    res.to_csv(csv, force=True)
    reps = tmp_path / "r.parquet"
    res.to_parquet(reps, replicates=True)
    df = pd.read_parquet(reps)
    assert len(df) == 500
    np.testing.assert_array_equal(df["tier:tier0:rto"], res.points[0].metrics["tier:tier0:rto"].values)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------ command line


def test_cli_sweep_exit_codes_follow_the_gates(estate):
    topo, drills = estate
    r = cli("sweep", drills["pass"], "--topology", topo, "-n", 2000)
    assert r.exit_code == 0, r.output
    assert re.search(r"PASS\s*│\s*tier0 rto p50 <= 2h", r.output)
    assert "Tiers: achieved RTO and RPO" in r.output
    r = cli("sweep", drills["fail"], "--topology", topo, "-n", 2000)
    assert r.exit_code == 1, r.output
    assert re.search(r"FAIL\s*│\s*tier0 rto p99 <= 1m", r.output)
    r = cli("sweep", drills["none"], "--topology", topo, "-n", 100)
    assert r.exit_code == 0, r.output
    assert "Gates: none" in r.output


def test_cli_sweep_json_and_markdown_carry_the_verdicts_for_ci(estate, tmp_path):
    import json

    topo, drills = estate
    for name, code, verdict in (("pass", 0, "PASS"), ("fail", 1, "FAIL")):
        out = tmp_path / f"{name}.csv"
        r = CliRunner().invoke(
            main,
            [str(a) for a in ("sweep", drills[name], "--topology", topo, "-n", 2000, "--format", "json", "--out", out)],
        )
        assert r.exit_code == code, r.output
        doc = json.loads(r.stdout)  # nothing but the document on standard output
        assert doc["passed"] is (code == 0)
        assert doc["n"] == 2000
        gates = doc["points"][0]["gates"]
        assert gates
        assert all(g["passed"] is (code == 0) for g in gates)
        rto = next(m for m in doc["points"][0]["metrics"] if m["metric"] == "tier:tier0:rto")
        assert rto["p50_s"] > 0
        assert "p50_count" not in rto  # a duration's row carries no statistics of counted things
        assert f"wrote {out}" in r.stderr
        md = cli("sweep", drills[name], "--topology", topo, "-n", 2000, "--format", "markdown")
        assert md.exit_code == code, md.output
        assert "| tier0 | RTO |" in md.output
        assert f"- **{verdict}** `tier0 rto" in md.output


def test_cli_sweep_grid_and_out(estate, tmp_path):
    topo, drills = estate
    out = tmp_path / "grid.csv"
    args = [
        "sweep",
        drills["pass"],
        "--topology",
        topo,
        "-n",
        300,
        "--grid",
        "topology.staff.dba.shifts.0.headcount=1,2",
    ]
    r = cli(*args, "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert sorted(df["topology.staff.dba.shifts.0.headcount"].unique()) == [1, 2]
    r = cli(*args, "--out", out)
    assert r.exit_code == 4
    assert "already exists" in r.output
    r = cli(*args, "--out", out, "--force")
    assert r.exit_code == 0, r.output
    r = cli(*args, "--out", tmp_path / "grid.xlsx")
    assert r.exit_code == 2
    assert ".parquet or .csv" in r.output


def test_cli_sweep_bad_grid_is_exit_2(estate):
    topo, drills = estate
    r = cli("sweep", drills["pass"], "--topology", topo, "-n", 10, "--grid", "topology.staff.nobody.shifts=1")
    assert r.exit_code == 2
    assert "grid key 'topology.staff.nobody.shifts'" in r.output


def test_cli_drill_with_replicates_judges_the_gates(estate):
    topo, drills = estate
    r = cli("drill", drills["pass"], "--topology", topo, "-n", 1000)
    assert r.exit_code == 0, r.output
    assert re.search(r"PASS\s*│\s*P\(tier1 rto <= 4h\) >= 0.9", r.output)
    r = cli("drill", drills["fail"], "--topology", topo, "-n", 1000, "--format", "json")
    assert r.exit_code == 1, r.output
    import json

    doc = json.loads(r.output)
    assert doc["passed"] is False
    assert doc["points"][0]["gates"][0]["passed"] is False
    r = cli("drill", drills["fail"], "--topology", topo, "-n", 100, "--timeline")
    assert r.exit_code == 2
