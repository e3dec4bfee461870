"""Execute the notebooks and write copies with their outputs (the committed notebooks have none).

    python scripts/render_notebooks.py                      # both notebooks -> build/notebooks/
    python scripts/render_notebooks.py -o out --force -n 5000 notebooks/compare-strategies.ipynb

The notebooks are committed without outputs so that diffs stay readable and
nothing stale is ever shown; this renders them on demand, top to bottom, in a
fresh ``python3`` kernel (``pip install -e '.[notebook]'``). ``-n`` sets the
replicates per estate and what-if (``DRSIM_NOTEBOOK_N``; each notebook's
default keeps it under a minute). Existing output files are kept unless
``--force``.
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

    target = check_writable(out_dir / path.name, force)
    nb = nbformat.read(path, as_version=4)
    if n is not None:
        os.environ["DRSIM_NOTEBOOK_N"] = str(n)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(out_dir)}}).execute()
    return atomic_write(target, nbformat.writes(nb), force=force)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="notebooks to render (default: notebooks/*.ipynb)")
    ap.add_argument(
        "-o", "--out", type=Path, default=ROOT / "build" / "notebooks", help="folder for the rendered copies"
    )
    ap.add_argument("-n", type=int, default=None, help="replicates per estate and what-if (DRSIM_NOTEBOOK_N)")
    ap.add_argument("--force", action="store_true", help="overwrite rendered copies that exist")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    for p in paths:
        t0 = time.perf_counter()
        try:
            out = render(p, args.out, args.n, args.force)
        except Exception as exc:  # a clear line, not a traceback, for a missing kernel or an existing file
            print(f"error: {p}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
