"""Calibration against theory: fits recover what the records were drawn from, censoring included,
and every source format is read as its vendor documents it (bad rows named by file, line and column)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from drsim.calibrate.fit import TooFewRecords, fit_durations, fit_family
from drsim.calibrate.run import calibrate
from drsim.calibrate.sources import detect, read_source
from drsim.cli import main
from drsim.errors import InputError
from drsim.sweep.overlay import apply_overlays, load_overlay

HERE = Path(__file__).parent / "calibrate"
Z95 = 1.6448536269514722
#: lognormal(p50=10m, p95=45m), the acknowledgement of the issue's worked example
P50, P95 = 600.0, 2700.0
SIGMA = math.log(P95 / P50) / Z95


def lognormal_acks(n: int, seed: int) -> np.ndarray:
    return P50 * np.exp(SIGMA * np.random.default_rng(seed).standard_normal(n))


def write_pagerduty(path: Path, acks: np.ndarray, escalated: np.ndarray | None = None, seed: int = 0) -> Path:
    """A PagerDuty incident export (the analytics columns) holding ``acks`` as seconds_to_first_ack."""
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "incident_number", "service_name", "team_name", "created_at", "resolved_at",
                    "seconds_to_first_ack", "seconds_to_resolve", "escalation_count", "urgency"])  # fmt: skip
        for i, ack in enumerate(acks):
            created = t0 + dt.timedelta(minutes=float(rng.uniform(0, 60 * 24 * 300)))
            res = ack + 1800.0
            esc = int(escalated[i]) if escalated is not None else 0
            w.writerow([f"P{i:05d}", i + 1, "EHR database", "DBA", created.isoformat(),
                        (created + dt.timedelta(seconds=res)).isoformat(), f"{ack:.3f}", f"{res:.3f}", esc, "high"])  # fmt: skip
    return path


# ------------------------------------------------------------------ fitting against theory


def test_five_hundred_lognormal_acknowledgements_are_recovered_inside_their_bootstrap_intervals():
    fit = fit_durations(lognormal_acks(500, seed=0), bootstrap=200, seed=0)
    assert fit.family == "lognormal"
    for p, true in ((50, P50), (95, P95)):
        iv = fit.percentiles[p]
        assert iv.low <= true <= iv.high, (p, iv)
        assert iv.low < iv.estimate < iv.high
    # sigma's standard error is sigma / sqrt(2n): recovered within 4 of them
    cand = fit.candidates[0]
    assert abs(cand.params[0] - SIGMA) <= 4 * SIGMA / math.sqrt(2 * 500)
    assert abs(math.log(cand.params[2] / P50)) <= 4 * SIGMA / math.sqrt(500)


def test_bootstrap_intervals_cover_the_true_percentiles_over_repeated_seeds():
    """Nominal 95% intervals from 40 independent samples of 200: the percentile bootstrap is known to
    under-cover a little at this size (measured: P50 39/40, P95 35/40), so at least 32 of 40 must cover."""
    k = 40
    hits = np.zeros(2)
    for seed in range(100, 100 + k):
        fit = fit_durations(lognormal_acks(200, seed), families=("lognormal",), bootstrap=100, seed=seed)
        hits += [fit.percentiles[p].low <= true <= fit.percentiles[p].high for p, true in ((50, P50), (95, P95))]
    assert np.all(hits >= 32), hits


def test_censored_records_are_counted_as_at_least_what_was_seen_and_the_fit_is_unbiased():
    """A third of the acknowledgements escalate (censored at 15 minutes). The censored fit recovers the
    median within 4 standard errors; dropping the censored records biases it short by far more."""
    n = 2000
    x = lognormal_acks(n, seed=2)
    cap = 900.0
    cens = x > cap
    seen = np.minimum(x, cap)
    assert 0.25 < cens.mean() < 0.45
    fitted = fit_family("lognormal", seen, cens)
    se = 1.3 * SIGMA / math.sqrt(n)  # censoring loses information: a little wider than uncensored
    assert abs(math.log(fitted.params[2] / P50)) <= 4 * se
    assert abs(fitted.params[0] - SIGMA) <= 4 * 1.5 * SIGMA / math.sqrt(2 * n)
    naive = stats.lognorm.fit(seen[~cens], floc=0)  # what ignoring censoring would give
    assert math.log(P50 / naive[2]) > 10 * se


@pytest.mark.parametrize(
    ("family", "sample"),
    [
        ("weibull", lambda rng: stats.weibull_min(c=3.0, scale=600).rvs(3000, random_state=rng)),
        ("lognormal", lambda rng: stats.lognorm(s=1.0, scale=600).rvs(3000, random_state=rng)),
        ("gamma", lambda rng: stats.gamma(a=6.0, scale=100).rvs(3000, random_state=rng)),
    ],
)
def test_aic_chooses_the_family_the_records_were_drawn_from(family, sample):
    fit = fit_durations(sample(np.random.default_rng(5)), bootstrap=0)
    assert fit.family == family, [(c.family, c.aic) for c in fit.candidates]
    assert fit.candidates[0].aic < fit.candidates[1].aic


def test_too_few_records_are_refused_with_the_number_needed():
    with pytest.raises(TooFewRecords, match=r"12 records \(9 finished, 3 censored\); a fit needs at least 20"):
        fit_durations(np.arange(1, 13) * 60.0, np.arange(12) >= 9)


def test_the_fit_is_reproducible_from_its_seed():
    x = lognormal_acks(200, seed=3)
    a, b = fit_durations(x, bootstrap=40, seed=9), fit_durations(x, bootstrap=40, seed=9)
    assert a.percentiles == b.percentiles
    assert a.ks_pvalue == b.ks_pvalue


# ------------------------------------------------------------------ readers


def test_pagerduty_export_is_read_with_unacknowledged_and_open_incidents():
    src, recs = read_source(HERE / "pagerduty.csv")
    assert src.kind == "pagerduty"
    assert len(src.sha256) == 64
    assert [r.id for r in recs] == ["PABC001", "PABC002", "PABC003"]
    assert recs[0].durations == {"acknowledge": 420.0, "resolve": 3000.0}
    assert recs[0].labels["service"] == "EHR database"
    assert recs[1].durations == {"resolve": 2400.0}
    assert recs[1].escalations == 1
    assert recs[2].durations == {"acknowledge": 95.0}
    assert recs[2].open_for is None


def test_opsgenie_export_is_read_in_milliseconds():
    src, recs = read_source(HERE / "opsgenie.csv")
    assert src.kind == "opsgenie"
    assert recs[0].durations == {"acknowledge": 420.0, "resolve": 3000.0}
    assert recs[0].labels["responder"] == "dana"
    assert recs[1].durations == {"resolve": 2400.0}
    assert recs[2].durations == {}
    assert recs[2].open_for is None


def test_chaos_toolkit_journal_gives_one_record_per_activity():
    src, recs = read_source(HERE / "journal.json")
    assert src.kind == "chaostoolkit"
    by = {(r.labels["phase"], r.labels["activity"]): r for r in recs}
    assert set(by) == {("before", "ehr-responds"), ("after", "ehr-responds"), ("method", "stop-primary"),
                       ("method", "promote-standby")}  # fmt: skip
    assert by[("method", "promote-standby")].durations == {"duration": 1200.0}
    assert by[("method", "promote-standby")].labels["status"] == "failed"
    assert by[("method", "stop-primary")].start == dt.datetime(2025, 3, 1, 2, 10, 2, tzinfo=dt.UTC)


def test_steps_csv_in_both_layouts():
    assert detect(HERE / "steps.csv") == detect(HERE / "steps-times.csv") == "steps"
    _, recs = read_source(HERE / "steps.csv")
    assert [r.durations["duration"] for r in recs] == [720.0, 570.0, 240.0]
    _, recs = read_source(HERE / "steps-times.csv")
    assert [r.durations["duration"] for r in recs] == [720.0, 1800.0]
    assert recs[1].censored == {"duration"}


PD_HEAD = "id,created_at,seconds_to_first_ack,seconds_to_resolve\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,seconds_to_first_ack\nP1,30\n", r"line 1: missing column 'created_at'"),
        (PD_HEAD + "P1,yesterday,30,60\n", r"line 2, column 2, at created_at: expected an ISO 8601 timestamp"),
        (
            PD_HEAD + "P1,2025-03-01T02:10:00Z,30,60\nP2,2025-03-01T03:10:00,30,60\n",
            r"line 3, column 2, at created_at: mixed time zones: .* has no offset but the timestamp on line 2 has",
        ),
        (PD_HEAD + "P1,2025-03-01T02:10:00Z,0,60\n", r"line 2, column 3, at seconds_to_first_ack: a duration must be"),
        (PD_HEAD + "P1,2025-03-01T02:10:00Z,-5,60\n", r"line 2, column 3, .*must be positive"),
        (
            PD_HEAD + "P1,2025-03-01T02:10:00Z,30,60\nP1,2025-03-01T03:10:00Z,30,60\n",
            r"line 3, column 1, at id: duplicate id 'P1' \(first on line 2\)",
        ),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "incidents.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        read_source(path, "pagerduty")
    assert str(path) in str(err.value)


def test_a_journal_that_is_not_json_is_named_by_line_and_column(tmp_path):
    path = tmp_path / "journal.json"
    path.write_text('{"run": [\n  {"activity": }\n]}')
    with pytest.raises(InputError, match=r"line 2, column 16: not valid JSON"):
        read_source(path, "chaostoolkit")


def test_an_unknown_format_says_which_formats_are_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("when,what\n1,2\n")
    with pytest.raises(InputError, match="not a format drsim reads: expected a PagerDuty"):
        detect(path)


# ------------------------------------------------------------------ end to end


def _mapping(tmp_path: Path, elements: list[dict], **extra) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump({"topology": "ehr-hybrid", "bootstrap": 30, **extra, "elements": elements}))
    return path


def test_calibrate_splits_a_roles_acknowledgements_by_the_shift_on_duty(tmp_path):
    src = write_pagerduty(tmp_path / "pd.csv", lognormal_acks(300, seed=4))
    m = _mapping(tmp_path, [{"element": "topology.staff.dba.acknowledge", "measure": "acknowledge"}])
    result = calibrate([src], m)
    paths = [e.target.path for e in result.elements]
    assert paths == [f"topology.staff.dba.shifts.{i}.acknowledge" for i in range(len(paths))]
    assert sum(e.fit.n for e in result.elements) == 300  # every incident on exactly one shift
    data = yaml.safe_load(result.overlay_text())
    assert set(data["set"]) == set(paths)
    assert data["provenance"]["sources"][0]["sha256"] == result.sources[0].sha256
    for p in paths:
        assert data["provenance"]["elements"][p]["n"] >= 20


def test_escalated_incidents_are_censored_for_the_first_level(tmp_path):
    acks = lognormal_acks(400, seed=6)
    escalated = acks > 600.0
    src = write_pagerduty(tmp_path / "pd.csv", acks, escalated)
    entry = {
        "element": "topology.staff.dba.shifts.0.acknowledge",
        "measure": "acknowledge",
        "escalation_timeout": "10m",
    }
    m = _mapping(tmp_path, [entry], min_records=5)
    (e,) = calibrate([src], m).elements
    obs = e.observations
    acked = np.array([r.durations["acknowledge"] for r in obs.records])
    np.testing.assert_array_equal(obs.censored, acked > 600.0)  # escalated: only "at least the timeout" is known
    np.testing.assert_array_equal(obs.seconds, np.minimum(acked, 600.0))
    assert 0 < e.fit.censored < e.fit.n


def test_cli_writes_an_overlay_that_drill_and_sweep_apply(tmp_path):
    src = write_pagerduty(tmp_path / "pd.csv", lognormal_acks(400, seed=8) * 4)  # a slow DBA
    m = _mapping(tmp_path, [{"element": "topology.staff.dba.acknowledge", "measure": "acknowledge"}], min_records=10)
    out = tmp_path / "overlay.yaml"
    runner = CliRunner()
    r = runner.invoke(main, ["calibrate", str(src), "--map", str(m), "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "AIC" in r.output
    assert out.exists()
    overlay = load_overlay(out)
    topo, _ = apply_overlays("region-loss", None, [overlay])
    assert str(topo.staff["dba"].shifts[0].acknowledge).startswith("lognormal(")
    r = runner.invoke(main, ["drill", "region-loss", "--overlay", str(out), "--format", "json"], catch_exceptions=False)
    assert r.exit_code in (0, 1), r.output
    # a run with an overlay says so in its journal, and what to run next names the drill, not a loaded model
    journal = tmp_path / "journal.json"
    r = runner.invoke(main, ["drill", "region-loss", "--overlay", str(out), "--journal", str(journal)])
    assert r.stdout.splitlines()[-1].startswith("next: drsim advise region-loss "), r.stdout
    inputs = json.loads(journal.read_text())["inputs"]
    assert [(i["role"], i["given"]) for i in inputs] == [
        ("topology", "ehr-hybrid"),
        ("drill", "region-loss"),
        ("overlay", str(out)),
    ]
    assert inputs[2]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    # nothing a user had is overwritten
    r = runner.invoke(main, ["calibrate", str(src), "--map", str(m), "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 4
    assert "already exists" in r.output


def test_too_few_records_exit_2_and_write_nothing(tmp_path):
    src = write_pagerduty(tmp_path / "pd.csv", lognormal_acks(8, seed=9))
    m = _mapping(tmp_path, [{"element": "topology.staff.dba.shifts.0.acknowledge", "measure": "acknowledge"}])
    out = tmp_path / "overlay.yaml"
    r = CliRunner().invoke(main, ["calibrate", str(src), "--map", str(m), "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 2
    assert "too few records to fit" in r.output
    assert "needs at least 20 finished records" in r.output
    assert "map.yaml: line 3, column 12, at elements[0].element" in r.output  # the mapping entry, located
    assert not out.exists()


def test_an_element_the_estate_lacks_is_refused_with_what_it_has(tmp_path):
    src = write_pagerduty(tmp_path / "pd.csv", lognormal_acks(30, seed=10))
    m = _mapping(tmp_path, [{"element": "topology.staff.dbas.acknowledge", "measure": "acknowledge"}])
    with pytest.raises(InputError, match=r"no role 'dbas' in the estate \(it has: .*dba"):
        calibrate([src], m)
    m = _mapping(tmp_path, [{"element": "topology.services.ehr-db.tier", "measure": "duration"}])
    with pytest.raises(InputError, match="not a duration; only a duration can be calibrated"):
        calibrate([src], m)


def test_a_where_label_no_record_carries_is_refused(tmp_path):
    src = write_pagerduty(tmp_path / "pd.csv", lognormal_acks(30, seed=11))
    m = _mapping(tmp_path, [{"element": "topology.staff.dba.acknowledge", "measure": "acknowledge",
                             "where": {"servce": "EHR database"}}])  # fmt: skip
    with pytest.raises(InputError, match=r"no record has a label 'servce' \(labels in these sources: .*service"):
        calibrate([src], m)


def test_steps_and_journals_feed_a_runbook_step_and_detection(tmp_path):
    rng = np.random.default_rng(12)
    rows = ["element,duration"] + [f"promote,{v:.1f}s" for v in stats.gamma(a=3, scale=200).rvs(60, random_state=rng)]
    rows += [f"detection,{v:.1f}s" for v in rng.exponential(120, 40)]
    src = tmp_path / "steps.csv"
    src.write_text("\n".join(rows) + "\n")
    m = _mapping(
        tmp_path,
        [
            {
                "element": "topology.services.ehr-db.recovery.steps.0.duration",
                "measure": "duration",
                "where": {"element": "promote"},
            },
            {"element": "drill.detection.delay", "measure": "duration", "where": {"element": "detection"}},
        ],
        drill="region-loss",
    )
    result = calibrate([src], m)
    assert [e.fit.n for e in result.elements] == [60, 40]
    overlay_path = tmp_path / "o.yaml"
    overlay_path.write_text(result.overlay_text())
    _, d = apply_overlays("region-loss", None, [load_overlay(overlay_path)])
    assert str(d.detection.delay) == result.elements[1].fit.text
