"""The one-line notice that the vectorized engine is being compiled.

Every command that runs the compiled engine says so on standard error, once,
before it starts, when the engine is not compiled yet (the first run after
installing); nothing is said once it is, nor by a command that only replays
with the DES. Whether the engine is compiled is asked of
:func:`drsim.engine.vectorized.kernel_compiled`, replaced here by a stand-in
that records when it was asked, so the tests neither depend on nor disturb
numba's cache.
"""

import pytest
from click.testing import CliRunner

from drsim.cli import main
from drsim.cli.progress import COMPILING
from drsim.engine import vectorized

#: A command line of each command that runs the compiled engine, kept small.
COMMANDS = {
    "drill -n": ["drill", "region-loss", "-n", "200"],
    "sweep": ["sweep", "region-loss", "-n", "200"],
    "compare": ["compare", "region-loss", "-t", "ehr-hybrid", "-t", "warm-standby", "-n", "200"],
    "sensitivity": ["sensitivity", "region-loss", "-n", "100"],
    "advise": ["advise", "region-loss", "-n", "100", "--top", "2"],
    "timeline --percentile": ["timeline", "region-loss", "--percentile", "90", "--n", "200", "--format", "md"],
    "cutover": ["cutover", "ehr-core-to-cloud", "-n", "200"],
}


@pytest.fixture
def engine_state(monkeypatch):
    """Makes the engine look compiled or not, and records in order when the notice's check and each
    kernel run happened."""
    events: list[str] = []
    state = {"compiled": False}

    def kernel_compiled():
        events.append("asked")
        return state["compiled"]

    real_run = vectorized.simulate

    def run(*args, **kwargs):
        events.append("kernel")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(vectorized, "kernel_compiled", kernel_compiled)
    monkeypatch.setattr(vectorized, "simulate", run)
    return state, events


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_that_compiles_says_so_once_on_stderr_before_the_engine_runs(engine_state, command):
    _, events = engine_state
    r = invoke(COMMANDS[command])
    assert r.exit_code in (0, 1), r.output
    assert r.stderr.count(COMPILING) == 1, r.stderr
    assert COMPILING not in r.stdout
    assert "kernel" in events
    assert events.index("asked") < events.index("kernel")


@pytest.mark.parametrize("command", COMMANDS)
def test_nothing_is_said_once_the_engine_is_compiled(engine_state, command):
    state, _ = engine_state
    state["compiled"] = True
    r = invoke(COMMANDS[command])
    assert r.exit_code in (0, 1), r.output
    assert COMPILING not in r.stderr


def test_a_single_replay_uses_the_des_and_says_nothing(engine_state):
    _, events = engine_state
    r = invoke(["timeline", "region-loss", "--seed", "3", "--format", "md"])
    assert r.exit_code == 0, r.output
    assert COMPILING not in r.stderr
    assert events == []
