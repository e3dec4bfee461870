"""Re-run the adversarial cases of the command line, by kind, and say which misbehave.

Each case runs ``python -m drsim`` in a fresh process and is held to three rules:
it ends within its time limit (no hang), it prints no Python traceback, and it
exits with one of the statuses the case allows (0 met, 1 missed, 2 bad input,
3 output cannot be written, 130 interrupted). Some cases check more (nothing
partial left behind, a resumed sweep equal to an uninterrupted one).

Run as root on Linux to include the full-disk cases (they mount a 64 KiB tmpfs);
otherwise they are skipped. ``python scripts/hostile_cases.py [-k WORD]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from builders import auto_service, base_drill, base_topology, role  # noqa: E402


@dataclass
class Case:
    kind: str
    name: str
    #: The command line after ``drsim``; ``{d}`` is the case's scratch folder.
    args: list[str]
    allowed: tuple[int, ...]
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, subprocess.CompletedProcess], str | None] | None = None
    timeout: float = 120
    stdout_to: str | None = None
    needs_root: bool = False
    extra: dict = field(default_factory=dict)


def estate(folder: Path, db: str = "db", app: str = "app") -> None:
    """Two services sharing one DBA, written as topo.yaml and drill.yaml, with the names given."""
    services = {
        db: auto_service([{"name": "promote", "duration": "lognormal(p50=5m, p95=15m)", "role": "dba"}]),
        app: auto_service(
            [{"name": "restart", "duration": "exponential(mean=5m)", "role": "dba"}], depends_on=[db], tier="tier1"
        ),
    }
    topo = base_topology(services, staff={"ic": role(), "dba": role()})
    (folder / "topo.yaml").write_text(yaml.safe_dump(topo, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (folder / "drill.yaml").write_text(yaml.safe_dump(base_drill(), sort_keys=False))


def write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        estate(d)
        data = text if isinstance(text, bytes) else text.encode()
        (d / name).write_bytes(data)

    return setup


def named(db: str, app: str = "app") -> Callable[[Path], None]:
    return lambda d: estate(d, db, app)


def tiny_disk(d: Path) -> None:
    """A 64 KiB filesystem at d/full, nearly filled so outputs really run out of space."""
    estate(d)
    full = d / "full"
    full.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], check=True)
    with open(full / "filler", "wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * (60 * 1024))


def nothing_partial(folder: str) -> Callable[[Path, subprocess.CompletedProcess], str | None]:
    def check(d: Path, proc: subprocess.CompletedProcess) -> str | None:
        where = d / folder
        left = [p.name for p in where.iterdir() if p.name != "filler"] if where.is_dir() else []
        if proc.returncode != 0 and left and not all(p.endswith(".lock") for p in left):
            return f"left behind after a failure: {left}"
        return None

    return check


def no_partial_chunk(d: Path, proc: subprocess.CompletedProcess) -> str | None:
    """A checkpoint folder may stay (its chunks resume the sweep) but holds no half-written chunk."""
    chunks = d / "full" / "cp" / "chunks"
    hidden = [p.name for p in chunks.iterdir() if p.name.startswith(".")] if chunks.is_dir() else []
    return f"half-written chunks left: {hidden}" if hidden else None


def readonly_folder(d: Path) -> None:
    estate(d)
    (d / "ro").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(d / "ro")], check=True)


def corrupt_chunk(how: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        estate(d)
        run(["sweep", "drill.yaml", "-t", "topo.yaml", "-n", "4000", "--chunk-size", "1000", "--out", "cp"], d)
        chunk = sorted((d / "cp" / "chunks").iterdir())[1]
        data = chunk.read_bytes()
        if how == "empty":
            chunk.write_bytes(b"")
        elif how == "truncated":
            chunk.write_bytes(data[: len(data) // 2])
        elif how == "flipped":  # a byte inside the stored values (a header's padding is not data)
            with zipfile.ZipFile(chunk) as z:
                member = max(z.infolist(), key=lambda i: i.compress_size)
            local = data[member.header_offset : member.header_offset + 30]
            name_len, extra_len = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
            mid = member.header_offset + 30 + name_len + extra_len + member.compress_size // 2
            chunk.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :])
        elif how == "manifest":
            (d / "cp" / "manifest.json").write_text("{not json")
        elif how == "foreign":  # a chunk from a sweep with another seed
            run(
                [
                    "sweep",
                    "drill.yaml",
                    "-t",
                    "topo.yaml",
                    "-n",
                    "4000",
                    "--chunk-size",
                    "1000",
                    "--seed",
                    "9",
                    "--out",
                    "other",
                ],
                d,
            )
            shutil.copy(sorted((d / "other" / "chunks").iterdir())[1], chunk)

    return setup


def run(args: list[str], d: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "drsim", *args], cwd=d, text=True, capture_output=True, timeout=timeout, **kw
    )


# ------------------------------------------------------------------ cases that need more than one process


def killed_and_resumed(d: Path, sig: int) -> str | None:
    estate(d)
    base = ["sweep", "drill.yaml", "-t", "topo.yaml", "-n", "200000", "--chunk-size", "1000", "--seed", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "drsim", *base, "--out", "cp"],
        cwd=d,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    chunks = d / "cp" / "chunks"
    while proc.poll() is None and time.monotonic() < deadline:
        if chunks.is_dir() and len(list(chunks.glob("*.npz"))) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "did not end within 60 s of the signal"
    if "Traceback" in err:
        return f"traceback after signal {sig}: {err[-400:]}"
    if sig == signal.SIGINT and proc.returncode != 130:
        return f"Ctrl-C exited {proc.returncode}, expected 130"
    resumed = run([*base, "--out", "cp", "--resume", "--format", "json"], d)
    whole = run([*base, "--format", "json"], d)
    if resumed.returncode not in (0, 1) or "Traceback" in resumed.stderr:
        return f"resume exited {resumed.returncode}: {resumed.stderr[-400:]}"
    a, b = json.loads(resumed.stdout), json.loads(whole.stdout)
    for doc in (a, b):
        doc.pop("checkpoint", None)
        doc.pop("elapsed", None)
    if json.dumps(a.get("points"), sort_keys=True) != json.dumps(b.get("points"), sort_keys=True):
        return "the resumed sweep differs from the uninterrupted one"
    return None


def two_force_sweeps(d: Path) -> str | None:
    estate(d)
    args = ["sweep", "drill.yaml", "-t", "topo.yaml", "-n", "100000", "--chunk-size", "1000", "--out", "cp", "--force"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "drsim", *args, "--seed", str(s)],
            cwd=d,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for s in (1, 2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    if any("Traceback" in err for _, err in outs):
        return "traceback"
    if codes[0] not in (0, 1) or codes[1] != 3:  # one runs, the other is refused: the folder is in use
        return f"exit statuses {codes}: both sweeps wrote into one folder at once"
    manifest = json.loads((d / "cp" / "manifest.json").read_text())
    if "seed" in manifest and manifest["seed"] not in (1, 2):
        return "manifest of neither sweep"
    return None


def stdout_to_full_device(d: Path) -> str | None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "drsim", "drill", "region-loss", "--format", "json"],
            cwd=d,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    if "Traceback" in proc.stderr or proc.returncode != 3:
        return f"exit {proc.returncode}: {proc.stderr[-300:]}"
    return None


SPECIAL: dict[str, Callable[[Path], str | None]] = {
    "SIGKILL mid-sweep, then --resume": lambda d: killed_and_resumed(d, signal.SIGKILL),
    "SIGINT mid-sweep exits 130, then --resume": lambda d: killed_and_resumed(d, signal.SIGINT),
    "SIGTERM mid-sweep, then --resume": lambda d: killed_and_resumed(d, signal.SIGTERM),
    "two --force sweeps into one folder at once": two_force_sweeps,
    "stdout on /dev/full": stdout_to_full_device,
}

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")
)
T = ["-t", "topo.yaml"]

CASES = [
    # hostile files
    Case("file", "empty topology", ["validate", "empty.yaml"], (2,), write("empty.yaml", "")),
    Case("file", "binary garbage", ["validate", "bin.yaml"], (2,), write("bin.yaml", bytes(range(256)) * 40)),
    Case("file", "YAML alias bomb", ["validate", "bomb.yaml"], (2,), write("bomb.yaml", BOMB)),
    Case("file", "nesting 10,000 deep", ["validate", "deep.yaml"], (2,), write("deep.yaml", "[" * 10000 + "]" * 10000)),
    Case("file", "a 20 MB file", ["validate", "big.yaml"], (2,), write("big.yaml", "# x\n" * 5_000_000)),
    Case("file", "a drill given as a topology", ["validate", "drill.yaml", "drill.yaml"], (2,), estate),
    Case("file", "a folder given as a file", ["validate", "."], (2,), estate),
    Case("file", "a missing file", ["drill", "nowhere.yaml"], (2,), estate),
    Case(
        "file",
        "a named pipe nobody writes to",
        ["validate", "fifo.yaml"],
        (2,),
        lambda d: os.mkfifo(d / "fifo.yaml"),
        timeout=40,
    ),
    Case("file", "a device", ["validate", "/dev/zero"], (2,)),
    Case("file", "Latin-1 bytes", ["validate", "l1.yaml"], (2,), write("l1.yaml", "name: caf\xe9\n".encode("latin-1"))),
    Case(
        "file",
        "tabs for indentation",
        ["validate", "tab.yaml"],
        (2,),
        write("tab.yaml", "name: x\nregions:\n\tsite: {}\n"),
    ),
    Case(
        "file",
        "a Python object tag",
        ["validate", "tag.yaml"],
        (2,),
        write("tag.yaml", "!!python/object/apply:os.system ['echo pwned']\n"),
    ),
    Case(
        "file",
        "a million-element list",
        ["validate", "list.yaml"],
        (2,),
        write("list.yaml", "[" + "1," * 1_000_000 + "1]"),
    ),
    Case(
        "file",
        "a duplicate key",
        ["validate", "dup.yaml"],
        (2,),
        lambda d: (estate(d), (d / "dup.yaml").write_text((d / "topo.yaml").read_text() + "name: again\n")),
    ),
    Case(
        "file",
        "a NaN duration",
        ["drill", "drill.yaml", *T],
        (2,),
        lambda d: (
            estate(d),
            (d / "topo.yaml").write_text((d / "topo.yaml").read_text().replace("lognormal(p50=5m, p95=15m)", ".nan")),
        ),
    ),
    Case(
        "file",
        "a distribution reaching 1e25 s",
        ["drill", "drill.yaml", *T],
        (2,),
        lambda d: (
            estate(d),
            (d / "topo.yaml").write_text(
                (d / "topo.yaml").read_text().replace("lognormal(p50=5m, p95=15m)", "lognormal(p50=1ms, p95=3650d)")
            ),
        ),
    ),
    # hostile names
    Case(
        "name",
        "=HYPERLINK service in sweep CSV",
        ["sweep", "drill.yaml", *T, "-n", "500", "--out", "s.csv"],
        (0, 1),
        named('=HYPERLINK("http://x","y")'),
        check=lambda d, p: (
            "formula cell"
            if any(
                c.startswith(("=", "+", "-", "@"))
                for line in (d / "s.csv").read_text().splitlines()
                for c in line.split(",")
            )
            else None
        ),
    ),
    Case(
        "name",
        "-2+3+cmd service in sweep CSV",
        ["sweep", "drill.yaml", *T, "-n", "500", "--out", "s.csv"],
        (0, 1),
        named("-2+3+cmd|' /C calc'!A0"),
    ),
    Case(
        "name",
        "<script> service in drill Markdown",
        ["drill", "drill.yaml", *T, "--format", "markdown"],
        (0, 1),
        named("<script>alert(1)</script>"),
        check=lambda d, p: "raw HTML" if "<script>" in p.stdout else None,
    ),
    Case(
        "name",
        "<script> service in sweep Markdown",
        ["sweep", "drill.yaml", *T, "-n", "500", "--format", "markdown"],
        (0, 1),
        named("<script>alert(1)</script>"),
        check=lambda d, p: "raw HTML" if "<script>" in p.stdout else None,
    ),
    Case("name", "a right-to-left override in a name", ["validate", "topo.yaml"], (2,), named("db\u202egpj")),
    Case("name", "a zero-width space in a name", ["validate", "topo.yaml"], (2,), named("d\u200bb")),
    Case(
        "name",
        "a Cyrillic look-alike beside its Latin twin",
        ["validate", "topo.yaml"],
        (0,),
        named("\u0430pp", "app"),
        check=lambda d, p: None if "warning" in p.stderr else "no look-alike warning",
    ),
    Case("name", "a 10,000-character name", ["drill", "drill.yaml", *T], (0, 1, 2), named("d" * 10000)),
    Case("name", "a newline in a name", ["validate", "topo.yaml"], (2,), named("d\nb")),
    # disks
    Case(
        "disk",
        "read-only output folder, found before the sweep runs",
        ["sweep", "drill.yaml", *T, "-n", "100000000", "--out", "ro/s.csv"],
        (3,),
        readonly_folder,
        timeout=60,
        needs_root=True,
    ),
    *[
        Case(
            "disk",
            f"full disk: {what}",
            [*args],
            (0, 1, 3),
            tiny_disk,
            check=no_partial_chunk if "checkpoint" in what else nothing_partial("full"),
            needs_root=True,
        )
        for what, args in {
            "sweep csv": ["sweep", "region-loss", "-n", "2000", "--out", "full/s.csv"],
            "sweep parquet": ["sweep", "region-loss", "-n", "2000", "--out", "full/s.parquet"],
            "sweep checkpoint folder": [
                "sweep",
                "drill.yaml",
                *T,
                "-n",
                "20000",
                "--chunk-size",
                "2000",
                "--out",
                "full/cp",
            ],
            "timeline html": ["timeline", "region-loss", "--format", "html", "-o", "full/p.html"],
            "timeline pdf": ["timeline", "region-loss", "-o", "full/p.pdf"],
            "timeline md": ["timeline", "region-loss", "--format", "md", "-o", "full/p.md"],
            "drill plot": ["drill", "region-loss", "--plot", "full/g.png"],
        }.items()
    ],
    Case(
        "disk",
        "an output folder that does not exist yet",
        ["sweep", "drill.yaml", *T, "-n", "500", "--out", "new/deeper/s.csv"],
        (0, 1, 3),
        estate,
    ),
    Case(
        "disk",
        "an existing --plot file",
        ["drill", "drill.yaml", *T, "--plot", "g.png"],
        (4,),  # an output in the way, told apart from bad input (2)
        lambda d: (estate(d), (d / "g.png").write_bytes(b"mine")),
        check=lambda d, p: None if (d / "g.png").read_bytes() == b"mine" else "the user's file was overwritten",
    ),
    Case(
        "disk",
        "an existing --out file",
        ["sweep", "drill.yaml", *T, "-n", "500", "--out", "s.csv"],
        (4,),
        lambda d: (estate(d), (d / "s.csv").write_text("mine")),
        check=lambda d, p: None if (d / "s.csv").read_text() == "mine" else "the user's file was overwritten",
    ),
    # corrupt checkpoints
    *[
        Case(
            "checkpoint",
            f"a {how} chunk, then --resume",
            ["sweep", "drill.yaml", *T, "-n", "4000", "--chunk-size", "1000", "--out", "cp", "--resume"],
            (2,),
            corrupt_chunk(how),
        )
        for how in ("empty", "truncated", "flipped", "foreign")
    ],
    Case(
        "checkpoint",
        "a manifest that is not JSON, then --resume",
        ["sweep", "drill.yaml", *T, "-n", "4000", "--chunk-size", "1000", "--out", "cp", "--resume"],
        (2,),
        corrupt_chunk("manifest"),
    ),
    Case(
        "checkpoint",
        "--resume with another seed",
        ["sweep", "drill.yaml", *T, "-n", "4000", "--chunk-size", "1000", "--out", "cp", "--resume", "--seed", "3"],
        (2,),
        corrupt_chunk("none"),
    ),
    Case(
        "checkpoint",
        "--resume with another chunk size",
        ["sweep", "drill.yaml", *T, "-n", "4000", "--chunk-size", "500", "--out", "cp", "--resume"],
        (2,),
        corrupt_chunk("none"),
    ),
    # sizes and executors
    Case("size", "-n 10^30", ["sweep", "region-loss", "-n", str(10**30)], (2,), timeout=60),
    Case(
        "size",
        "-n 10^9 in chunks of 10",
        ["sweep", "region-loss", "-n", str(10**9), "--chunk-size", "10"],
        (2,),
        timeout=60,
    ),
    Case(
        "size",
        "a grid of 10^6 points",
        [
            "sweep",
            "drill.yaml",
            *T,
            "-n",
            "10",
            "--grid",
            "topology.staff.dba.shifts.0.headcount=" + ",".join(map(str, range(1, 1001))),
            "--grid",
            "drill.detection.delay=" + ",".join(f"{i}s" for i in range(1, 1001)),
        ],
        (2,),
        estate,
        timeout=120,
    ),
    Case(
        "dask",
        "an unreachable scheduler",
        ["sweep", "drill.yaml", *T, "-n", "500", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
        (2, 3),
        estate,
        timeout=120,
    ),
    Case(
        "dask",
        "a scheduler address that is not one",
        ["sweep", "drill.yaml", *T, "-n", "500", "--executor", "dask", "--scheduler", "not an address"],
        (2,),
        estate,
        timeout=120,
    ),
    Case(
        "dask",
        "a determinism check across executors",
        [
            "sweep",
            "drill.yaml",
            *T,
            "-n",
            "3000",
            "--chunk-size",
            "1000",
            "--executor",
            "local",
            "--workers",
            "2",
            "--format",
            "json",
        ],
        (0, 1),
        estate,
        check=lambda d, p: (
            None
            if json.loads(p.stdout)["points"]
            == json.loads(
                run(
                    [
                        "sweep",
                        "drill.yaml",
                        *T,
                        "-n",
                        "3000",
                        "--chunk-size",
                        "1000",
                        "--executor",
                        "inline",
                        "--format",
                        "json",
                    ],
                    d,
                ).stdout
            )["points"]
            else "processes and inline differ"
        ),
    ),
]


def run_case(case: Case, d: Path) -> str | None:
    if case.name in SPECIAL:
        return SPECIAL[case.name](d)
    if case.setup:
        case.setup(d)
    try:
        proc = run(case.args, d, timeout=case.timeout)
    except subprocess.TimeoutExpired:
        return f"no exit within {case.timeout:g} s"
    if "Traceback" in proc.stderr:
        return "traceback: " + proc.stderr.strip().splitlines()[-1][:200]
    if proc.returncode not in case.allowed:
        return f"exit {proc.returncode}, expected one of {case.allowed}: {proc.stderr.strip()[:300]}"
    if case.check:
        return case.check(d, proc)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only cases whose kind or name contains this")
    opts = parser.parse_args()
    cases = [*CASES, *(Case("process", name, [], ()) for name in SPECIAL)]
    cases = [c for c in cases if opts.k.lower() in f"{c.kind} {c.name}".lower()]
    root = os.geteuid() == 0 and sys.platform.startswith("linux")
    bad = 0
    for i, case in enumerate(cases, 1):
        if case.needs_root and not root:
            print(f"{i:2d} [{case.kind}] {case.name}: skipped (needs root on Linux)")
            continue
        d = Path(tempfile.mkdtemp(prefix="drsim-hostile-"))
        started = time.perf_counter()
        try:
            problem = run_case(case, d)
        except Exception as exc:  # a broken case is reported, not fatal to the others
            problem = f"the case itself failed: {exc!r}"
        finally:
            for mount in ("full", "ro"):
                if os.path.ismount(d / mount):
                    subprocess.run(["umount", str(d / mount)], check=False)
            shutil.rmtree(d, ignore_errors=True)
        took = time.perf_counter() - started
        bad += problem is not None
        print(
            f"{i:2d} [{case.kind}] {case.name}: {'ok' if problem is None else 'PROBLEM: ' + problem} ({took:.1f} s)",
            flush=True,
        )
    print(f"{len(cases) - bad} of {len(cases)} cases as they should be")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
