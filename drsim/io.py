"""Writing output files without ever losing what a user already had.

Every file drsim writes goes to a temporary file in the same folder, is flushed
to disk (fsync) and then renamed over the target in one step, so a crash leaves
either the old file or the new one, never half of one. An existing file is
kept unless the caller passes ``force=True`` (the CLI's ``--force``). Whether a
file can be written at all is checked up front (:func:`check_writable` creates
and removes a probe file in its folder), so a read-only folder is found before
an hour of work rather than after it; a write that fails all the same (a full
disk) removes its temporary file and raises :class:`~drsim.errors.OutputError`
naming the file and the reason.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError, OutputExistsError


def check_writable(path: str | Path, force: bool = False) -> Path:
    """The output path, after refusing to overwrite an existing file without ``force`` or to write where
    nothing can be written."""
    p = refuse_existing(path, force)
    check_folder_writable(p.parent, p)
    return p


def refuse_existing(path: str | Path, force: bool = False) -> Path:
    """The output path, after refusing to overwrite an existing file without ``force``."""
    p = Path(path)
    if p.exists() and not force:
        raise OutputExistsError(f"{p} already exists; pass --force to overwrite it")
    if p.exists() and p.is_dir():
        raise OutputExistsError(f"{p} is a directory; expected a file name")
    return p


def check_folder_writable(folder: str | Path, target: str | Path | None = None) -> None:
    """Refuse (:class:`OutputError` about ``target``) a folder where no file can be created.

    The nearest existing folder up the path is probed by creating and removing a
    file there: permission bits alone miss read-only filesystems, and root.
    """
    d = Path(folder).absolute()
    while not d.exists() and d != d.parent:
        d = d.parent
    if not d.is_dir():
        raise OutputError(target if target is not None else folder, f"{d} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".drsim-probe.", dir=d)
    except OSError as exc:
        raise OutputError(target if target is not None else folder, _reason(exc, d)) from None
    os.close(fd)
    os.unlink(probe)


def _reason(exc: OSError, folder: Path | None = None) -> str:
    """The operating system's reason for ``exc``, naming ``folder`` when it is about the folder."""
    reason = exc.strerror or str(exc)
    return f"cannot write in {folder}: {reason}" if folder is not None else reason


def atomic_write(path: str | Path, data: bytes | str | Callable[[Path], None], force: bool = False) -> Path:
    """Write ``data`` (bytes, text, or a function that writes to a given path) atomically."""
    p = refuse_existing(path, force)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        raise OutputError(p, f"cannot write it: {_reason(exc)}") from exc
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
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(p, f"cannot write it: {_reason(exc)}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return p


#: What a spreadsheet reads as the start of a formula (OWASP's list): a text cell starting so is neutralised.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame):
    """A copy of ``frame`` whose text cells cannot be read as spreadsheet formulas.

    A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (a service named ``=HYPERLINK(...)``) gets a leading ``'``, which
    spreadsheets show as text; quoting alone does not stop them evaluating it.
    Only text cells change: a number such as ``-3.5`` stays a number.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v)
    renamed = {c: "'" + c for c in out.columns if isinstance(c, str) and c.startswith(FORMULA_STARTS)}
    return out.rename(columns=renamed) if renamed else out
