"""Faults: a sweep whose saving or merging fails stops at once, and every failure is one line, never a hang.

Each case injects a failure into a real ``drsim`` process (a subprocess with a
timeout, so a regression fails instead of hanging CI) or into an in-process
sweep, and checks the exit status, the one-line message and what is left on disk.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from builders import two_jobs_for_one_dba

from drsim.sweep import build_spec, execute
from drsim.sweep.checkpoint import Checkpoint
from drsim.sweep.executors import InlineRunner
from drsim.sweep.result import ChunkMerger

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a failing sweep may take to exit (a hang is caught by the subprocess timeout instead).
PROMPT = 60


@pytest.fixture
def estate(tmp_path):
    """Two services sharing one DBA: chunks are small and quick."""
    return two_jobs_for_one_dba(tmp_path)


def run_drsim(
    args: list[str], prelude: str = "", timeout: float = 120, **kwargs
) -> tuple[subprocess.CompletedProcess, float]:
    """``drsim ARGS`` in a fresh process, after running ``prelude`` there (to inject a fault); its time taken."""
    code = textwrap.dedent(prelude) + "\nimport sys\nfrom drsim.cli import main\nmain(sys.argv[1:])\n"
    start = time.perf_counter()
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.run([sys.executable, "-c", code, *args], text=True, timeout=timeout, cwd=ROOT, **kwargs)
    return proc, time.perf_counter() - start


FAILING_SAVE = """
import errno
from drsim.sweep.checkpoint import Checkpoint
saved = []
real_save = Checkpoint.save
def save(self, res):
    saved.append(res.chunk)
    if len(saved) > 2:  # a filesystem that fills after two chunks
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path(res.point, res.chunk)))
    return real_save(self, res)
Checkpoint.save = save
"""

FAILING_MERGE = """
from drsim.sweep.result import ChunkMerger
merged = []
real_add = ChunkMerger.add
def add(self, res):
    merged.append(res.chunk)
    if len(merged) > 2:
        raise RuntimeError("merging chunk failed")
    return real_add(self, res)
ChunkMerger.add = add
"""

EXECUTORS = {
    "inline": ["--executor", "inline"],
    "local-pool": ["--executor", "local", "--workers", "2"],
    "dask": ["--executor", "dask", "--workers", "1"],
}


# ------------------------------------------------------------------ a failing save or merge stops the sweep


@pytest.mark.parametrize("where", ["save", "merge"])
def test_a_failure_while_saving_or_merging_stops_the_inline_threads_at_once(estate, tmp_path, monkeypatch, where):
    """The runner's results are closed when saving or merging raises: its threads stop taking chunks."""
    spec = build_spec(*estate, n=2_000_000, seed=1, chunk_size=1000)
    cp = Checkpoint.open(tmp_path / "cp", spec)
    runners = sys.modules["drsim.sweep.executors"]  # where the inline runner's threads find run_chunk
    run_chunk = runners.run_chunk
    ran = []

    def counted(spec_, chunk, point=0):
        ran.append(chunk)
        return run_chunk(spec_, chunk, point)

    monkeypatch.setattr(runners, "run_chunk", counted)
    calls = []
    target, name = (Checkpoint, "save") if where == "save" else (ChunkMerger, "add")
    real = getattr(target, name)

    def failing(self, res):
        calls.append(res.chunk)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(self, res)

    monkeypatch.setattr(target, name, failing)
    before = threading.active_count()
    with pytest.raises(OSError, match="No space"):
        execute(spec, executor=InlineRunner(threads=2), checkpoint=cp)
    assert len(ran) < 100  # of 2,000: the threads stopped taking chunks
    # no chunk thread is left running the rest of the sweep in the background
    assert threading.active_count() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("drsim-chunk-")]


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("fault", ["save", "merge"])
def test_every_executor_exits_promptly_when_saving_or_merging_fails(estate, tmp_path, executor, fault):
    if executor == "dask":
        pytest.importorskip("distributed")
    drill, topo = estate
    out = tmp_path / "cp"
    args = ["sweep", drill, "--topology", topo, "-n", "40000", "--chunk-size", "2000", "--out", str(out)]
    proc, took = run_drsim([*args, *EXECUTORS[executor]], FAILING_SAVE if fault == "save" else FAILING_MERGE)
    assert took < PROMPT, f"took {took:.1f} s to exit"
    if fault == "save":
        # a full disk is an I/O error: one line naming the file and the reason, exit 3
        assert proc.returncode == 3, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.splitlines()[-1].startswith("error: ")
        assert "No space left on device" in proc.stderr
        assert "point-0000-chunk-" in proc.stderr
    else:  # a bug: reported as such, but the sweep still stops
        assert proc.returncode not in (0, 2, 3), proc.stderr
        assert "merging chunk failed" in proc.stderr
    assert not list((out / "chunks").glob(".*.tmp"))


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_exits_130_and_says_how_to_resume(estate, tmp_path):
    drill, topo = estate
    out = tmp_path / "cp"
    code = "import sys\nfrom drsim.cli import main\nmain(sys.argv[1:])\n"
    args = ["sweep", drill, "--topology", topo, "-n", "20000000", "--chunk-size", "20000", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal, not a background job
    )
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "chunks").glob("*.npz"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert took < PROMPT
    assert "Traceback" not in err
    assert "Aborted" not in err
    assert err.strip().splitlines()[-1] == (
        f"interrupted; the chunks finished so far are in {out}; run the same command with --resume to continue"
    )
    assert (out / "manifest.json").exists()  # the folder is left ready for --resume
    assert list((out / "chunks").glob("*.npz"))


# ------------------------------------------------------------------ output that cannot be written: exit 3, one line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
def test_standard_output_on_a_full_device_is_one_line_and_exit_3(fmt):
    with open("/dev/full", "w") as full:
        proc, _ = run_drsim(["drill", "region-loss", "--format", fmt], stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 3
    assert proc.stderr == "error: standard output: No space left on device\n"


#: Standard output on a disk with 4,096 bytes left: the first 4,096 bytes are written, then ENOSPC.
NEARLY_FULL_STDOUT = """
import errno, io, os, sys

class NearlyFull(io.RawIOBase):
    room = 4096
    def writable(self):
        return True
    def fileno(self):
        return 1
    def write(self, data):
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = os.write(1, bytes(data[: self.room]))
        self.room -= n
        return n

sys.stdout = io.TextIOWrapper(io.BufferedWriter(NearlyFull()), encoding="utf-8")
"""


@pytest.mark.parametrize("mode", ["w", "a"])
def test_standard_output_to_a_file_that_fills_is_cut_back_not_left_half_written(tmp_path, mode):
    target = tmp_path / "result.json"
    target.write_text("earlier output\n" if mode == "a" else "")
    with open(target, mode) as fh:
        proc, _ = run_drsim(["drill", "region-loss", "--format", "json"], NEARLY_FULL_STDOUT, stdout=fh)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == "error: standard output: No space left on device\n"
    assert target.read_text() == ("earlier output\n" if mode == "a" else "")  # no truncated JSON left


@pytest.mark.skipif(os.access("/sys", os.W_OK) is False or not Path("/sys/kernel").is_dir(), reason="needs /sys")
def test_a_folder_nothing_can_be_written_in_is_refused_before_the_sweep_runs():
    """/sys refuses new files even to root: a read-only folder as every user meets it."""
    started = time.perf_counter()
    proc, _ = run_drsim(["sweep", "region-loss", "-n", "100000000", "--out", "/sys/summary.csv"], timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == "error: /sys/summary.csv: cannot write in /sys: Permission denied\n"
    assert time.perf_counter() - started < PROMPT  # 10^8 replicates were never run


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "region-loss", "-n", "1000", "--out", "{d}/summary.csv"],
        ["sweep", "region-loss", "-n", "1000", "--out", "{d}/summary.parquet"],
        ["timeline", "region-loss", "--format", "md", "-o", "{d}/pack.md"],
        ["timeline", "region-loss", "--format", "html", "-o", "{d}/pack.html"],
    ],
    ids=["csv", "parquet", "md", "html"],
)
def test_a_full_disk_while_writing_a_file_is_one_line_and_leaves_nothing(tmp_path, args):
    prelude = """
    import errno, os
    real_fsync = os.fsync
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    os.fsync = fsync
    """
    proc, _ = run_drsim([a.format(d=tmp_path) for a in args], prelude)
    assert proc.returncode == 3, proc.stderr
    name = args[-1].format(d=tmp_path)
    assert proc.stderr.splitlines()[-1] == f"error: {name}: cannot write it: No space left on device"
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


# ------------------------------------------------------------------ checkpoints: corrupt chunks, two writers


def corrupt_empty(p: Path) -> None:
    p.write_bytes(b"")


def corrupt_truncated(p: Path) -> None:
    p.write_bytes(p.read_bytes()[:100])


def corrupt_flipped(p: Path) -> None:
    data = bytearray(p.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("corrupt", [corrupt_empty, corrupt_truncated, corrupt_flipped], ids=["empty", "cut", "crc"])
def test_a_corrupt_chunk_is_one_line_naming_it_and_what_to_do(estate, tmp_path, corrupt):
    drill, topo = estate
    out = tmp_path / "cp"
    args = ["sweep", drill, "--topology", topo, "-n", "4000", "--chunk-size", "1000", "--out", str(out)]
    first, _ = run_drsim(args)
    assert first.returncode in (0, 1), first.stderr
    chunk = out / "chunks" / "point-0000-chunk-000001.npz"
    corrupt(chunk)
    proc, _ = run_drsim([*args, "--resume"])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Aborted" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: {chunk}: corrupt checkpoint chunk (")
    assert line.endswith(
        "; delete this file to run the chunk again with --resume, or start the sweep afresh with --force"
    )


def test_a_second_sweep_into_a_folder_in_use_is_refused(estate, tmp_path):
    """Two --force sweeps into one folder: the second is refused before it touches anything."""
    spec = build_spec(*estate, n=2000, seed=1, chunk_size=1000)
    other = build_spec(*estate, n=2000, seed=2, chunk_size=1000)
    first = Checkpoint.open(tmp_path / "cp", spec)
    try:
        manifest = (tmp_path / "cp" / "manifest.json").read_text()
        drill, topo = estate
        args = ["sweep", drill, "--topology", topo, "-n", "2000", "--chunk-size", "1000", "--seed", "2"]
        proc, _ = run_drsim([*args, "--out", str(tmp_path / "cp"), "--force"])
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr == (
            f"error: {tmp_path / 'cp'}: another sweep is writing to this checkpoint folder; wait for it to end, "
            "or use another folder\n"
        )
        assert (tmp_path / "cp" / "manifest.json").read_text() == manifest  # untouched
    finally:
        first.close()
    Checkpoint.open(tmp_path / "cp", other, force=True).close()  # free again once the first has ended


# ------------------------------------------------------------------ hostile names in CSV and Markdown

CORPUS = Path(__file__).parent / "bad_inputs"
FORMULA = '=HYPERLINK("//evil.example","y")'  # no colon: compare splits metric keys at colons
HTML = "<script>alert(1)</script>"


def hostile_estate(tmp_path: Path, app: str, meds: str = "meds") -> tuple[str, str]:
    """The corpus estate with its service ``app`` and workflow ``meds`` renamed."""
    text = (CORPUS / "_topology.yaml").read_text()
    app, meds = json.dumps(app), json.dumps(meds)  # a JSON string is a YAML double-quoted one
    text = text.replace("  app:", f"  {app}:", 1).replace("consumer: app", f"consumer: {app}")
    text = text.replace("needs: [db, app]", f"needs: [db, {app}]").replace("  meds:", f"  {meds}:", 1)
    topo = tmp_path / "topo.yaml"
    topo.write_text(text)
    drill = tmp_path / "drill.yaml"
    drill.write_text((CORPUS / "_drill.yaml").read_text())
    return str(drill), str(topo)


@pytest.mark.parametrize("name", [FORMULA, "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "+1"])
def test_no_csv_drsim_writes_has_a_text_cell_a_spreadsheet_would_evaluate(tmp_path, name):
    import pandas as pd

    drill, topo = hostile_estate(tmp_path, name, meds=name + " ward")
    out = tmp_path / "summary.csv"
    swept, _ = run_drsim(["sweep", drill, "--topology", topo, "-n", "2000", "--out", str(out)])
    assert swept.returncode in (0, 1), swept.stderr
    compared, _ = run_drsim(["compare", drill, "--topology", topo, "--topology", topo, "-n", "500", "--format", "csv"])
    assert compared.returncode in (0, 1), compared.stderr
    for text in (out.read_text(), compared.stdout):
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        cells = [c for col in frame.columns for c in frame[col]] + list(frame.columns)
        assert f"'{name}" in cells  # the subject column: kept, as text
        assert not [
            c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or (c.startswith("-") and not _number(c))
        ]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_markdown_of_every_renderer_escapes_html_in_names(tmp_path):
    drill, topo = hostile_estate(tmp_path, HTML, meds=HTML + "x")
    single, _ = run_drsim(["drill", drill, "--topology", topo, "--format", "markdown"])
    swept, _ = run_drsim(
        ["sweep", drill, "--topology", topo, "-n", "2000", "--format", "markdown", "--grid", f"drill.name=a{HTML},b"]
    )
    for proc in (single, swept):
        assert proc.returncode in (0, 1), proc.stderr
        assert "<script>" not in proc.stdout
    assert "\\<script\\>alert(1)\\</script\\>" in single.stdout
    assert "\\<script\\>" in swept.stdout  # the grid point's heading


# ------------------------------------------------------------------ compiled-code cache without a writable home


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs /sys, where nobody can create files")
def test_the_compiled_code_cache_falls_back_to_a_private_temporary_folder(monkeypatch, tmp_path):
    from drsim.jit import cache_fallback

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cache_fallback(Path("/sys/kernel"), tmp_path / "home-cache") is None  # a writable user cache will do
    chosen = cache_fallback(Path("/sys/kernel"), Path("/sys/kernel/cache"))
    assert chosen is not None
    assert Path(chosen).parent == tmp_path
    assert Path(chosen).is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == chosen
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/elsewhere")
    assert cache_fallback(Path("/sys/kernel"), Path("/sys/kernel/cache")) is None  # the user's choice stands


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs /sys")
def test_a_fresh_process_with_an_unwritable_home_picks_the_fallback(tmp_path):
    """HOME and XDG_CACHE_HOME in /sys, the package folder checked as /sys too (tests run as root, so only
    a filesystem that refuses everyone stands for a read-only install)."""
    env = {**os.environ, "HOME": "/sys/kernel", "XDG_CACHE_HOME": "/sys/kernel/cache", "TMPDIR": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    code = (
        "import os, pathlib, drsim.jit as jit\n"
        "os.environ.pop('NUMBA_CACHE_DIR', None)\n"
        "print(jit.cache_fallback(pathlib.Path('/sys/kernel')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(str(tmp_path / "drsim-numba-cache-"))


def test_a_named_pipe_nobody_writes_to_is_refused_not_waited_on_for_ever(tmp_path):
    fifo = tmp_path / "estate.yaml"
    os.mkfifo(fifo)
    proc, took = run_drsim(["validate", str(fifo)], timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"error: {fifo}: is a named pipe with nothing written to it for 10 s\n"
    assert took < 30


def test_a_named_pipe_with_a_writer_is_read_like_a_file(tmp_path):
    """Process substitution, ``drsim validate <(generate-estate)``, hands drsim a pipe."""
    fifo = tmp_path / "estate.yaml"
    os.mkfifo(fifo)
    text = (ROOT / "drsim" / "data" / "topologies" / "ehr-hybrid.yaml").read_bytes()

    def write():
        with open(fifo, "wb") as fh:  # blocks until drsim opens the pipe for reading
            fh.write(text)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    proc, _ = run_drsim(["validate", str(fifo)], timeout=60)
    writer.join(5)
    assert proc.returncode == 0, proc.stderr
    assert "valid topology" in proc.stdout


def test_a_device_is_refused_as_not_a_regular_file():
    proc, _ = run_drsim(["validate", "/dev/zero"], timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "error: /dev/zero: is a device, not a regular file; expected a YAML file\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-n", str(10**30)], "at n: the number of replicates must be a whole number from 1 to 10,000,000,000"),
        (["-n", str(10**9), "--chunk-size", "10"], "100,000,000 chunks of 10 replicates are more than the 1,000,000"),
    ],
    ids=["too-many-replicates", "too-many-chunks"],
)
def test_a_sweep_too_large_to_track_is_refused_before_it_starts(args, expected):
    proc, took = run_drsim(["sweep", "region-loss", *args], timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < PROMPT


def test_python_dash_m_drsim_is_the_drsim_command():
    proc = subprocess.run([sys.executable, "-m", "drsim", "list"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "region-loss" in proc.stdout


def test_a_grid_too_large_to_compile_is_refused_before_any_point_is_built(estate):
    drill, topo = estate
    heads = ",".join(str(i) for i in range(1, 201))
    delays = ",".join(f"{i}s" for i in range(1, 101))
    proc, took = run_drsim(
        ["sweep", drill, "-t", topo, "-n", "10", "--grid", f"topology.staff.dba.shifts.0.headcount={heads}",
         "--grid", f"drill.detection.delay={delays}"],
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "the grid has 20,000 points, more than the 10,000 a sweep compiles" in proc.stderr
    assert took < PROMPT


@pytest.mark.parametrize("address", ["not an address", "tcp://nohost"])
def test_a_scheduler_address_that_is_not_one_is_one_line_at_once(estate, address):
    pytest.importorskip("distributed")
    drill, topo = estate
    proc, _ = run_drsim(["sweep", drill, "-t", topo, "-n", "100", "--executor", "dask", "--scheduler", address])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: --scheduler {address}: not a scheduler address (expected tcp://HOST:PORT)")
    assert proc.stderr.count("\n") == 1  # no traceback from a half-built client closing itself, 20 s later
