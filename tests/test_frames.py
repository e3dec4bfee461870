"""Result frames: the same thing has the same column name in every frame, and a frame written to CSV or
Parquet reads back as the frame itself."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import drsim
from drsim.frames import (
    COMPARISON_KEYS,
    DIFFERENCE,
    DURATION_STATISTICS,
    IDENTITY,
    STATISTICS,
    sample_statistics,
    split_key,
    summary_statistics,
    unit_of,
)
from drsim.stats import Summary


@pytest.fixture(scope="module")
def frames():
    sw = drsim.sweep("region-loss", n=400, seed=3, grid={"topology.staff.dba.shifts.2.headcount": [1, 2]})
    cmp = drsim.compare(["ehr-hybrid", "warm-standby"], "region-loss", n=400, seed=3)
    return sw, sw.to_frame(), cmp.to_frame()


def test_sweep_and_compare_frames_share_their_column_names(frames):
    _, sweep, compare = frames
    shared = [*IDENTITY, *DURATION_STATISTICS]
    assert [c for c in sweep.columns if c in shared] == shared
    assert [c for c in compare.columns if c in shared] == shared
    # what is left is each frame's own keys, counted metrics, and differences named after the shared columns
    assert set(sweep.columns) - set(shared) == {"topology.staff.dba.shifts.2.headcount", "point"} | (
        set(STATISTICS) - set(DURATION_STATISTICS)
    )
    own = set(compare.columns) - set(shared)
    assert set(COMPARISON_KEYS) <= own
    for d in own - set(COMPARISON_KEYS):
        assert d.startswith(DIFFERENCE)
        assert d.removeprefix(DIFFERENCE) in shared or d.removeprefix(DIFFERENCE) in ("mean_lo_s", "mean_hi_s")


def test_the_same_metric_means_the_same_thing_in_both_frames(frames):
    """The baseline estate of a comparison on the same seed is the sweep's first grid point's twin: one
    DBA on the night shift is how ehr-hybrid is modelled, so every statistic agrees exactly (the mean up to the
    rounding of a sum taken in another order)."""
    sw, sweep, compare = frames
    one = sweep[(sweep["point"] == 0)].set_index("metric")
    base = compare[compare["estate"] == "ehr-hybrid"].set_index("metric")
    assert sw.points[0].params == {"topology.staff.dba.shifts.2.headcount": 1}
    for key in ("tier:tier0:rto", "tier:tier1:rpo", "service:ehr-db:rto"):
        for col in ("n", "target_s", "p50_s", "p90_lo_s", "p95_s", "p99_hi_s", "p_meet", "p_meet_hi"):
            assert one.loc[key, col] == base.loc[key, col], (key, col)
        assert one.loc[key, "mean_s"] == pytest.approx(base.loc[key, "mean_s"], rel=1e-12)


def test_a_duration_has_seconds_and_a_count_has_counts(frames):
    _, sweep, _ = frames
    queue = sweep[sweep["unit"] == "messages"]
    seconds = sweep[sweep["unit"] == "s"]
    assert len(queue) > 0
    assert queue["p90_s"].isna().all()
    assert queue["p90_count"].notna().all()
    assert seconds["p90_count"].isna().all()
    assert seconds["p90_s"].notna().all()


def test_to_frame_csv_and_parquet_agree(frames, tmp_path):
    sw, sweep, _ = frames
    sw.to_csv(tmp_path / "s.csv")
    sw.to_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s.parquet"), sweep)
    back = pd.read_csv(tmp_path / "s.csv")
    assert list(back.columns) == list(sweep.columns)
    for col in sweep.columns:
        if pd.api.types.is_numeric_dtype(sweep[col]):
            np.testing.assert_allclose(back[col].to_numpy(float), sweep[col].to_numpy(float), rtol=1e-15)
        else:
            assert (back[col].astype(str) == sweep[col].astype(str)).all(), col


def test_summary_and_sample_statistics_agree_on_the_same_values():
    rng = np.random.default_rng(7)
    x = rng.exponential(600.0, 1001)
    x[3] = math.inf
    from_summary = summary_statistics(Summary.of(x, np.array([900.0]), exact=True), "s", 900.0)
    from_sample = sample_statistics(x, 900.0)
    assert from_summary.keys() == from_sample.keys()
    for k, v in from_sample.items():
        assert from_summary[k] == (pytest.approx(v, rel=1e-12) if k == "mean_s" else v), k
    assert from_sample["never"] == 1 / 1001
    assert from_sample["p_meet"] == np.mean(x <= 900.0)
    assert from_sample["p90_lo_s"] <= from_sample["p90_s"] <= from_sample["p90_hi_s"]


@pytest.mark.parametrize(
    ("key", "parts", "unit"),
    [
        ("tier:tier0:rto", ("tier", "tier0", "rto"), "s"),
        ("latency:declare", ("latency", "declare", "time"), "s"),
        ("queue:hl7-adt:backlog", ("queue", "hl7-adt", "backlog"), "messages"),
        ("drift:ehr-db:writes", ("drift", "ehr-db", "writes"), "writes"),
        ("milestone:declared:time", ("milestone", "declared", "time"), "s"),
    ],
)
def test_a_metric_key_names_its_kind_subject_measure_and_unit(key, parts, unit):
    assert split_key(key) == parts
    assert unit_of(parts[0], parts[2]) == unit


def test_advice_and_sensitivity_name_the_metric_and_its_statistic_as_the_other_frames_do():
    advice = drsim.advise("az-loss", metric="p90_rto:tier0", n=200, seed=3).to_frame()
    oat = drsim.one_at_a_time("az-loss", metric="p_meet_rto:tier0", n=200, seed=3).to_frame()
    for frame in (advice, oat):
        assert [c for c in frame.columns if c in IDENTITY] == list(IDENTITY)
        assert (frame["metric"] == "tier:tier0:rto").all()
    # a percentile in seconds, its effect with a d_ prefix and the interval of the shared convention
    assert {"p90_s", "d_p90_s", "d_p90_lo_s", "d_p90_hi_s", "gain_s"} <= set(advice.columns)
    assert (advice["statistic"] == "p90_rto:tier0").all()
    # a probability has no unit, and its bound is the target
    assert {"p_meet", "d_p_meet", "d_p_meet_lo", "d_p_meet_hi", "swing"} <= set(oat.columns)
    assert (oat["target_s"] == 900.0).all()
    assert set(oat["scale"]) == {0.5, 2.0}
