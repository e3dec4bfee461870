"""Fuzzing: valid estates never break the pipeline; damaged files only ever give a clean error.

Two fuzzers run on a bounded budget in CI (``DRSIM_FUZZ_EXAMPLES`` examples per
test, default 60, drawn deterministically). Locally, a longer randomised run::

    DRSIM_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py tests/test_invariants.py

* **Generated estates** (:mod:`strategies`): random valid topologies and drills
  covering every model type go through load -> validate -> compile -> both
  engines (which must agree task by task) -> outcomes -> the result JSON and
  both reports. They are valid, so nothing at all may be raised.
* **Mutated bundled files**: the reference estate and drills with random byte
  edits, deleted or duplicated lines, swapped values, renamed fields and values
  of the wrong type. Each must either load and run to a result, or be refused
  with an :class:`~drsim.errors.InputError` whose every line names the file -
  never any other exception - and ``drsim validate`` must agree (exit 0 or 2).
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from builders import run_both
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from strategies import specs

from drsim.api import run_drill
from drsim.cli import main
from drsim.errors import InputError
from drsim.model.loader import bundled_dir, bundled_names, drill_from_text, load_topology, topology_from_text
from drsim.plan import compile_plan
from drsim.report.console import render_markdown, render_table

EXAMPLES = int(os.environ.get("DRSIM_FUZZ_EXAMPLES", "60"))
#: Deterministic examples in CI; a longer local run explores afresh each time.
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="DRSIM_FUZZ_EXAMPLES" not in os.environ,
    # a guard against hangs, not a speed test: a healthy example takes well under a second
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pipeline(topology_text, drill_text, seed: int, topology=None, n: int = 8) -> dict:
    """Everything a user can ask of one estate and drill; returns the result as JSON data."""
    topo = topology if topology is not None else topology_from_text(topology_text, "topology.yaml")
    drill = drill_from_text(drill_text, topo, "drill.yaml")
    plan = compile_plan(topo, drill)
    metrics = run_both(plan, seed, n=n, des_n=n)
    assert all(len(v) == n for v in metrics.values())
    result = run_drill(plan, seed=seed)
    out = json.loads(result.to_json())
    render_markdown(result, timeline=True)
    render_table(result, Console(file=io.StringIO(), width=120), timeline=True)
    return out


def test_the_fuzz_pipeline_runs_the_smallest_estate():
    """The pipeline itself works (so the fuzz tests below can fail for the right reason)."""
    corpus = Path(__file__).parent / "bad_inputs"
    out = pipeline((corpus / "_topology.yaml").read_text(), (corpus / "_drill.yaml").read_text(), seed=3)
    assert {s["name"] for s in out["services"] if s["affected"]} == {"db", "app"}


@FUZZ
@given(specs())
def test_generated_valid_estates_run_end_to_end(spec):
    topology_text, drill_text = spec.render()
    try:
        pipeline(topology_text, drill_text, spec.seed)
    except InputError as exc:  # the strategies draw valid files only: this is a bug on one side
        raise AssertionError(f"a valid estate was refused:\n{exc}\n---\n{topology_text}\n---\n{drill_text}") from None


# ---------------------------------------------------------------- mutation fuzzer

BUNDLED = [bundled_dir("topologies") / f"{n}.yaml" for n in bundled_names("topologies")] + [
    bundled_dir("drills") / f"{n}.yaml" for n in bundled_names("drills")
]
#: ``key: value`` pairs, in block or flow style (a value stops at , { } [ ] #).
PAIR = re.compile(rb"(?P<key>[A-Za-z_][\w-]*):[ ]+(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s,{}\[\]#\"'][^,{}\[\]#\n]*)")
WRONG_TYPES = [
    b"123",
    b"-1",
    b"0",
    b"1e400",
    b"1.0e+400",
    b"99999999999999999999999999",
    b"9" * 5000,
    b'"\\ud800"',
    b'"' + b"x" * 10_000 + b'"',
    b".nan",
    b".inf",
    b"yes",
    b"off",
    b"null",
    b"~",
    b"''",
    b"[]",
    b"{}",
    b"1:30",
    b"010",
    b"-5m",
    b"0s",
    b"lognormal(p50=1h, p95=1m)",
    b"poisson(mean=3m)",
    b"&a x",
    b"*a",
    b"!!python/object:os.system x",
    b"2026-13-45",
]
KEYS = [b"name", b"kind", b"targets", b"role", b"duration", b"steps", b"tier", b"region", b"depends_on", b"at"]


@st.composite
def mutations(draw, text: bytes) -> tuple[bytes, list[str]]:
    """``text`` with one to three random edits, and a log of them (for the failure message)."""
    log = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["byte", "line", "dup", "swap", "rename", "type"]))
        pairs = list(PAIR.finditer(text))
        lines = text.split(b"\n")
        if op == "byte" or not pairs:
            pos = draw(st.integers(0, max(len(text) - 1, 0)))
            b = bytes([draw(st.integers(0, 255))])
            how = draw(st.sampled_from(["replace", "insert", "delete"]))
            text = text[:pos] + (b"" if how == "delete" else b) + text[pos + (how != "insert") :]
            log.append(f"{how} byte {b!r} at {pos}")
        elif op in ("line", "dup"):
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if op == "line" else [lines[i], lines[i]]
            text = b"\n".join(lines)
            log.append(f"{'delete' if op == 'line' else 'duplicate'} line {i + 1}")
        elif op == "swap":
            a, b = sorted(draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=2)), key=lambda m: m.start())
            if a.start() == b.start():
                continue
            va, vb = a.group("val"), b.group("val")
            text = text[: a.start("val")] + vb + text[a.end("val") : b.start("val")] + va + text[b.end("val") :]
            log.append(f"swap values {va!r} and {vb!r}")
        elif op == "rename":
            m = draw(st.sampled_from(pairs))
            key = m.group("key")
            new = draw(st.sampled_from([key[:-1] or b"x", key + b"s", key.replace(b"_", b"-"), key.upper(), *KEYS]))
            text = text[: m.start("key")] + new + text[m.end("key") :]
            log.append(f"rename {key!r} to {new!r}")
        else:
            m = draw(st.sampled_from(pairs))
            new = draw(st.sampled_from(WRONG_TYPES))
            text = text[: m.start("val")] + new + text[m.end("val") :]
            log.append(f"set {m.group('key')!r} to {new!r}")
    return text, log


@st.composite
def mutated_files(draw):
    path = draw(st.sampled_from(BUNDLED))
    text, log = draw(mutations(path.read_bytes()))
    return path, text, log, draw(st.integers(0, 2**32 - 1))


_TOPOLOGY = None


def bundled_topology():
    global _TOPOLOGY
    if _TOPOLOGY is None:
        _TOPOLOGY = load_topology()
    return _TOPOLOGY


def test_the_bundled_files_are_there_to_mutate():
    assert len(BUNDLED) >= 2, BUNDLED
    assert any(m for p in BUNDLED for m in PAIR.finditer(p.read_bytes()))


@FUZZ
@given(mutated_files(), st.data())
def test_mutated_bundled_files_give_a_result_or_a_clean_error(case, data):
    path, text, log, seed = case
    is_topology = path.parent.name == "topologies"
    source = "topology.yaml" if is_topology else "drill.yaml"
    try:
        if is_topology:
            topo = topology_from_text(text, source)
            drill = data.draw(st.sampled_from(bundled_names("drills")))
            drill_text = (bundled_dir("drills") / f"{drill}.yaml").read_bytes()
            try:
                pipeline(None, drill_text, seed, topology=topo, n=2)
            except InputError:
                pass  # a bundled drill may name what the mutation removed: a clean refusal
        else:
            pipeline(None, text, seed, topology=bundled_topology(), n=2)
        refused = None
    except InputError as exc:
        refused = exc
        message = str(exc)
        assert message, log
        for line in message.splitlines():
            assert line.startswith(f"{source}: "), (log, message)
    # the command line agrees: exit 0 (valid) or 2 (refused), never a traceback
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / source
        f.write_bytes(text)
        args = ["validate", str(f)]
        r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code in (0, 2), (log, r.output)
    assert "Traceback" not in r.output
    if refused is not None:
        assert r.exit_code == 2, (log, r.output)
