"""A journal written by the real Chaos Toolkit, fitted by ``drsim calibrate``.

The test starts an HTTP server on the loopback interface standing in for a
database's failover API: each ``POST /promote`` holds the connection for a
delay drawn from a known lognormal, as a standby's promotion would. A Chaos
Toolkit experiment (a steady-state probe of ``/health``, then thirty
promotions) is run with ``chaos run`` in a subprocess, and the
``journal.json`` it writes is fed to ``drsim calibrate``. Skipped when the
``chaostoolkit`` package (a test extra) is not installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from drsim.calibrate.sources import read_source
from drsim.cli import main
from drsim.model.units import parse_duration

CHAOS = shutil.which("chaos")
pytestmark = pytest.mark.skipif(CHAOS is None, reason="the chaostoolkit test extra is not installed")

#: Promotions the experiment runs, and how long each holds the connection (seconds): lognormal, P50 0.2 s.
PROMOTIONS = 30
DELAYS = 0.2 * np.exp(0.4 * np.random.default_rng(18).standard_normal(PROMOTIONS))
STEP = "topology.services.ehr-db.recovery.steps.0.duration"


class FailoverAPI(BaseHTTPRequestHandler):
    """``GET /health`` answers at once; the n-th ``POST /promote`` answers after the n-th delay."""

    promoted: list[float] = []

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/health" else 404)

    def do_POST(self) -> None:
        if self.path != "/promote":
            self._answer(404)
            return
        delay = float(DELAYS[len(self.promoted) % PROMOTIONS])
        self.promoted.append(delay)
        time.sleep(delay)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # keep the test's output quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    FailoverAPI.promoted = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FailoverAPI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def experiment(base: str) -> dict:
    probe = {
        "type": "probe",
        "name": "ehr-responds",
        "tolerance": 200,
        "provider": {"type": "http", "url": f"{base}/health", "timeout": 10},
    }
    promote = {
        "type": "action",
        "name": "promote-standby",
        "provider": {"type": "http", "url": f"{base}/promote", "method": "POST", "timeout": 30},
    }
    return {
        "version": "1.0.0",
        "title": "EHR database fails over to its standby",
        "description": "Promote the standby of the EHR database, again and again, and time each promotion.",
        "steady-state-hypothesis": {"title": "The EHR answers", "probes": [probe]},
        "method": [promote] * PROMOTIONS,
        "rollbacks": [],
    }


@pytest.fixture(scope="module")
def journal(server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The journal of a real ``chaos run`` of the experiment against the loopback server (run once)."""
    tmp_path = tmp_path_factory.mktemp("chaos")
    exp = tmp_path / "experiment.json"
    exp.write_text(json.dumps(experiment(server), indent=2))
    path = tmp_path / "journal.json"
    home = tmp_path / "home"
    home.mkdir()
    settings = home / "settings.yaml"
    settings.write_text("{}\n")
    cmd = [CHAOS, "--no-version-check", "--settings", str(settings), "--log-file", str(tmp_path / "chaos.log"),
           "run", "--journal-path", str(path), str(exp)]  # fmt: skip
    env = {"HOME": str(home), "PATH": str(Path(CHAOS).parent), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def test_a_real_chaos_toolkit_journal_is_read_activity_by_activity(journal):
    source, records = read_source(journal)
    assert source.kind == "chaostoolkit"
    assert source.sha256 == hashlib.sha256(journal.read_bytes()).hexdigest()
    promotions = [r for r in records if r.labels["activity"] == "promote-standby"]
    assert len(promotions) == PROMOTIONS == len(FailoverAPI.promoted)
    assert {r.labels["phase"] for r in promotions} == {"method"}
    assert {r.labels["status"] for r in promotions} == {"succeeded"}
    assert {r.labels["experiment"] for r in promotions} == {"EHR database fails over to its standby"}
    assert {r.labels["phase"] for r in records if r.labels["activity"] == "ehr-responds"} == {"before", "after"}
    # each promotion ran one after another: its journalled duration is the server's delay plus loopback overhead
    took = np.array([r.durations["duration"] for r in promotions])
    assert np.all(took >= DELAYS - 1e-3)
    assert np.all(took - DELAYS < 2.0)


def test_drsim_calibrate_fits_a_runbook_step_from_the_journal(journal, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "topology": "ehr-hybrid",
                "bootstrap": 100,
                "elements": [
                    {
                        "element": STEP,
                        "measure": "duration",
                        "where": {"activity": "promote-standby", "status": "succeeded"},
                    }
                ],
            }
        )
    )
    out = tmp_path / "calibrated.yaml"
    r = CliRunner().invoke(main, ["calibrate", str(journal), "--map", str(mapping), "-o", str(out)])
    assert r.exit_code == 0, r.output
    overlay = yaml.safe_load(out.read_text())
    assert list(overlay["set"]) == [STEP]
    assert "30 records (0 censored) from journal.json" in overlay["notes"][STEP]
    (source,) = overlay["provenance"]["sources"]
    assert source["format"] == "chaostoolkit"
    assert source["records"] == 2 + PROMOTIONS  # the probe before and after, and every promotion
    assert source["sha256"] == hashlib.sha256(journal.read_bytes()).hexdigest()
    fitted = overlay["provenance"]["elements"][STEP]
    assert fitted["n"] == PROMOTIONS
    assert fitted["censored"] == 0
    assert fitted["files"] == [str(journal)]
    assert len(fitted["date_range"]) == 2  # when the experiment ran, from the journal's timestamps
    # the fitted median lies between the fastest and slowest promotion the server made
    p50 = {k: parse_duration(v) for k, v in fitted["percentiles"]["p50"].items()}
    assert DELAYS.min() < p50["fit"] < DELAYS.max() + 2.0
    assert p50["low"] <= p50["fit"] <= p50["high"]
