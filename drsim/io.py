"""Writing output files without ever losing what a user already had.

Every file drsim writes goes to a temporary file in the same folder, is flushed
to disk (fsync) and then renamed over the target in one step, so a crash leaves
either the old file or the new one, never half of one. An existing file is
kept unless the caller passes ``force=True`` (the CLI's ``--force``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputExistsError


def check_writable(path: str | Path, force: bool = False) -> Path:
    """The output path, after refusing to overwrite an existing file without ``force``."""
    p = Path(path)
    if p.exists() and not force:
        raise OutputExistsError(f"{p} already exists; pass --force to overwrite it")
    if p.exists() and p.is_dir():
        raise OutputExistsError(f"{p} is a directory; expected a file name")
    return p


def atomic_write(path: str | Path, data: bytes | str | Callable[[Path], None], force: bool = False) -> Path:
    """Write ``data`` (bytes, text, or a function that writes to a given path) atomically."""
    p = check_writable(path, force)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    tmp_path = Path(tmp)
    try:
        if callable(data):
            os.close(fd)
            data(tmp_path)
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode() if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # the permissions a plain open() would give
        os.replace(tmp_path, p)
        dir_fd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return p
