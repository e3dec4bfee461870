"""Execute the notebooks top to bottom and write them back with their outputs, as they are committed.

    python scripts/render_notebooks.py                      # both notebooks, in place (commit the result)
    python scripts/render_notebooks.py -n 5000 notebooks/compare-strategies.ipynb
    python scripts/render_notebooks.py -o build/notebooks   # copies elsewhere; existing ones kept without --force

The committed notebooks carry the outputs of their last rendering, so a
reader sees the tables and charts without running anything; after changing a
notebook or the model, re-render and commit. Each runs in a fresh
``python3`` kernel (``pip install -e '.[notebook]'``); ``-n`` sets the
replicates per estate and what-if (``DRSIM_NOTEBOOK_N``; each notebook's
default keeps it under a minute and is what the committed outputs use).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(path: Path, out_dir: Path, n: int | None, force: bool) -> Path:
    import nbformat
    from nbclient import NotebookClient

    from drsim.io import atomic_write, check_writable

    in_place = out_dir.resolve() == path.resolve().parent
    target = path if in_place else check_writable(out_dir / path.name, force)
    nb = nbformat.read(path, as_version=4)
    if n is not None:
        os.environ["DRSIM_NOTEBOOK_N"] = str(n)
    client = NotebookClient(
        nb, timeout=1800, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(out_dir)}}
    )
    client.execute()
    return atomic_write(target, nbformat.writes(nb) + "\n", force=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="notebooks to render (default: notebooks/*.ipynb)")
    ap.add_argument("-o", "--out", type=Path, default=None, help="folder for rendered copies (default: in place)")
    ap.add_argument("-n", type=int, default=None, help="replicates per estate and what-if (DRSIM_NOTEBOOK_N)")
    ap.add_argument("--force", action="store_true", help="overwrite rendered copies that exist")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    for p in paths:
        t0 = time.perf_counter()
        try:
            out = render(p, args.out or p.parent, args.n, args.force)
        except Exception as exc:  # a clear line, not a traceback, for a missing kernel or an existing file
            print(f"error: {p}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
