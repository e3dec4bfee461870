"""The command line, as resilience teams use it in CI."""

import json

import pytest
import yaml
from builders import auto_service, base_drill, base_topology
from click.testing import CliRunner

from drsim.cli import main
from drsim.model.loader import bundled_names


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


@pytest.fixture
def estate(tmp_path):
    """A one-service estate whose drill passes, and a variant whose drill misses its target."""
    fast = base_topology({"db": auto_service([{"name": "failover", "duration": "5m"}])})
    slow = base_topology({"db": auto_service([{"name": "failover", "duration": "1h"}])})
    return (
        write(tmp_path, "fast.yaml", fast),
        write(tmp_path, "slow.yaml", slow),
        write(tmp_path, "d.yaml", base_drill()),
    )


def test_exit_code_is_0_when_every_target_is_met(estate):
    fast, _, drill = estate
    r = run("drill", drill, "--topology", fast)
    assert r.exit_code == 0, r.output
    assert "all targets met" in r.output


def test_exit_code_is_1_when_a_target_is_missed(estate):
    _, slow, drill = estate
    r = run("drill", drill, "--topology", slow)
    assert r.exit_code == 1, r.output
    assert "db RTO" in r.output


def test_json_output_gives_durations_in_seconds(estate):
    _, slow, drill = estate
    out = json.loads(run("drill", drill, "--topology", slow, "--format", "json").output)
    (db,) = out["services"]
    assert db["rto"] == 3600.0
    assert db["rto_target"] == 900.0
    assert db["rto_met"] is False
    assert out["passed"] is False
    assert [e["t"] for e in out["timeline"]] == sorted(e["t"] for e in out["timeline"])


def test_markdown_output_with_timeline(estate):
    fast, _, drill = estate
    r = run("drill", drill, "--topology", fast, "--format", "markdown", "--timeline")
    assert "| db | tier0 | 5m00s | 15m00s | PASS |" in r.output
    assert "## Timeline" in r.output


def test_bundled_region_loss_runs_by_name_on_the_default_estate():
    r = run("drill", "region-loss", "--timeline")
    assert r.exit_code in (0, 1), r.output
    for heading in ("Services", "Decision latency", "Timeline"):
        assert heading in r.output


@pytest.mark.parametrize("drill", bundled_names("drills"))
def test_every_bundled_drill_runs_on_the_bundled_estate(drill):
    r = run("drill", drill, "--format", "json")
    assert r.exit_code in (0, 1), r.output
    out = json.loads(r.output)
    assert any(s["affected"] for s in out["services"])


def test_same_seed_same_numbers_different_seed_different_numbers():
    a = run("drill", "region-loss", "--seed", "11", "--format", "json").output
    b = run("drill", "region-loss", "--seed", "11", "--format", "json").output
    c = run("drill", "region-loss", "--seed", "12", "--format", "json").output
    assert a == b
    assert json.loads(a)["services"] != json.loads(c)["services"]


def test_list_names_bundled_files_with_descriptions():
    r = run("list")
    assert r.exit_code == 0
    assert "ehr-hybrid" in r.output
    assert "region-loss" in r.output


@pytest.mark.parametrize("kind", ["topology", "drill"])
def test_schema_prints_json_schema(kind):
    schema = json.loads(run("schema", kind).output)
    assert schema["type"] == "object"
    assert "properties" in schema


def test_validate_accepts_the_bundled_files():
    from drsim.model.loader import bundled_dir

    files = [str(p) for p in sorted(bundled_dir("topologies").glob("*.yaml"))]
    files += [str(p) for p in sorted(bundled_dir("drills").glob("*.yaml"))]
    r = run("validate", *files)
    assert r.exit_code == 0, r.output


def test_unknown_drill_name_is_bad_input_with_a_suggestion():
    r = run("drill", "region-los")
    assert r.exit_code == 2
    assert "did you mean 'region-loss'?" in r.output


def test_dangling_reference_names_file_line_and_field(tmp_path):
    topo = base_topology({"db": auto_service([{"name": "x", "duration": "1m"}], depends_on=["dnss"])})
    path = write(tmp_path, "t.yaml", topo)
    r = run("validate", path)
    assert r.exit_code == 2
    assert f"{path}: line" in r.output
    assert "at services.db.depends_on[0]: unknown service 'dnss'" in r.output
    assert "Traceback" not in r.output


def test_dependency_cycle_is_bad_input(tmp_path):
    topo = base_topology(
        {
            "a": auto_service([{"name": "x", "duration": "1m"}], depends_on=["b"]),
            "b": auto_service([{"name": "x", "duration": "1m"}], depends_on=["a"]),
        }
    )
    r = run("validate", write(tmp_path, "t.yaml", topo))
    assert r.exit_code == 2
    assert "dependency cycle: a -> b -> a" in r.output


def test_durations_without_units_are_bad_input(tmp_path):
    topo = base_topology({"db": auto_service([{"name": "x", "duration": 15}])})
    r = run("validate", write(tmp_path, "t.yaml", topo))
    assert r.exit_code == 2
    assert "services.db.recovery.steps[0].duration: expected a duration with units" in r.output


def test_unknown_field_suggests_the_closest_one(tmp_path):
    topo = base_topology({"db": auto_service([{"name": "x", "duration": "1m"}])})
    topo["services"]["db"]["depend_on"] = []
    r = run("validate", write(tmp_path, "t.yaml", topo))
    assert r.exit_code == 2
    assert "unknown field 'depend_on'; did you mean 'depends_on'?" in r.output


def test_malformed_yaml_is_bad_input(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("name: x\nregions: {a: [\n")
    r = run("drill", "region-loss", "--topology", str(p))
    assert r.exit_code == 2
    assert "not valid YAML" in r.output
    assert "Traceback" not in r.output
