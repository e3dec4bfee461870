"""The history store: one SQLite database per user holding every run's journal.

Where it is: ``--history PATH`` if given, else the environment variable
``DRSIM_HISTORY`` (``off`` records nothing), else
``$XDG_DATA_HOME/drsim/history.sqlite`` (``~/.local/share/drsim/history.sqlite``
when ``XDG_DATA_HOME`` is unset).

How it is kept safe:

* the database runs in WAL mode with a busy timeout, and each run is written in
  one ``BEGIN IMMEDIATE`` transaction, so two processes recording at once both
  land (the second waits for the first);
* the schema is versioned (``PRAGMA user_version``) and brought up to date by
  :data:`MIGRATIONS`, in order, inside a transaction; ``PRAGMA application_id``
  marks the file as drsim's;
* before anything is written the file is checked read-only: a file that is not
  a SQLite database, a SQLite database that is not drsim's, or one written by a
  newer drsim (a higher schema version) is refused with one line
  (:class:`HistoryError`) and left exactly as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

#: The environment variable naming the history database (``off``: record nothing).
ENV = "DRSIM_HISTORY"
#: Marks a SQLite file as a drsim history (``PRAGMA application_id``; "DRSM").
APPLICATION_ID = 0x4452534D
#: How long a writer waits for another to finish, in seconds.
BUSY_TIMEOUT = 30.0
#: The SQLite file header: a file that does not start with it is not a database.
HEADER = b"SQLite format 3\x00"

#: The schema's history: migration ``i`` brings a database from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_utc TEXT NOT NULL,
        command TEXT NOT NULL,
        drill TEXT NOT NULL,
        topology TEXT NOT NULL,
        seed INTEGER NOT NULL,
        n INTEGER NOT NULL,
        engine TEXT NOT NULL,
        passed INTEGER NOT NULL,
        drsim_version TEXT NOT NULL,
        journal TEXT NOT NULL
    );
    CREATE INDEX runs_by_drill ON runs (drill, created_utc);
    """,
)
#: The schema version this drsim writes.
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history database cannot be used: its path and why, in one line."""

    def __init__(self, path: object, reason: str):
        super().__init__(path, reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Run:
    """One recorded run: its id in the history and its journal (the JSON of :mod:`drsim.report.journal`)."""

    id: int
    journal: dict

    @property
    def created_utc(self) -> str:
        return self.journal["created_utc"]

    def __getitem__(self, key: str):
        return self.journal[key]


def default_path() -> Path:
    """The per-user history database: under ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "drsim" / "history.sqlite"


def resolve_path(option: str | Path | None = None) -> Path | None:
    """The history database to use: ``--history`` if given, else ``$DRSIM_HISTORY``, else the default;
    None when ``$DRSIM_HISTORY`` is ``off``."""
    if option is not None:
        return Path(option).expanduser()
    env = os.environ.get(ENV, "").strip()
    if env.lower() == "off":
        return None
    return Path(env).expanduser() if env else default_path()


class Store:
    """The history database at ``path``, checked and migrated on first use (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    # ---------------------------------------------------------------- opening

    def check(self) -> int:
        """The schema version of an existing database (0 for none), refusing one drsim cannot use.

        Read-only: nothing is written to the file, whatever it holds.
        """
        if not self.path.exists():
            return 0
        if self.path.is_dir():
            raise HistoryError(self.path, "is a folder, not a history database")
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(len(HEADER))
        except OSError as exc:
            raise HistoryError(self.path, f"cannot be read ({exc.strerror or exc})") from None
        if not head:
            return 0  # an empty file: SQLite treats it as an empty database
        if head != HEADER:
            raise HistoryError(self.path, "is not a SQLite database (corrupt?); left untouched")
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                app = db.execute("PRAGMA application_id").fetchone()[0]
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if version and db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise HistoryError(self.path, "is a damaged SQLite database (quick_check failed); left untouched")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(self.path, f"cannot be read as a SQLite database ({exc}); left untouched") from None
        if app != APPLICATION_ID and (tables or version):
            raise HistoryError(self.path, "is a SQLite database but not a drsim history; left untouched")
        if version > SCHEMA_VERSION:
            raise HistoryError(
                self.path,
                f"was written by a newer drsim (history schema {version}, this drsim reads up to "
                f"{SCHEMA_VERSION}); upgrade drsim or name another file with --history; left untouched",
            )
        return version

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        version = self.check()
        if not write and version == 0:
            raise HistoryError(self.path, "no history yet (run drsim drill or drsim sweep first)")
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(self.path.parent, f"cannot be created ({exc.strerror or exc})") from None
        uri = self.path.resolve().as_uri() + ("" if write else "?mode=ro")
        try:
            db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(self.path, f"cannot be opened ({exc})") from None
        try:
            if write:
                _wal(db)
                _migrate(db)
            yield db
        except sqlite3.Error as exc:
            raise HistoryError(self.path, f"{exc}") from None
        finally:
            db.close()

    # ---------------------------------------------------------------- writing and reading

    def record(self, journal: dict) -> int:
        """Add one run's journal (a :meth:`Journal.to_dict`); its id in the history."""
        row = (
            journal["created_utc"],
            journal["command"],
            journal["drill"],
            journal["topology"],
            journal["seed"],
            journal["n"],
            journal["engine"],
            int(bool(journal["passed"])),
            journal["drsim_version"],
            json.dumps(journal, default=str),
        )
        with self._connect(write=True) as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT INTO runs (created_utc, command, drill, topology, seed, n, engine, passed, drsim_version,"
                " journal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            db.execute("COMMIT")
            assert cur.lastrowid is not None
            return cur.lastrowid

    def runs(self, drill: str | None = None, limit: int | None = None) -> list[Run]:
        """The recorded runs, oldest first (of one drill, as named in its result, if given; the latest
        ``limit`` if given)."""
        sql = "SELECT id, journal FROM runs"
        args: list = []
        if drill is not None:
            sql += " WHERE drill = ?"
            args.append(drill)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._connect(write=False) as db:
            rows = db.execute(sql, args).fetchall()
        return [Run(i, json.loads(j)) for i, j in reversed(rows)]

    def run(self, run_id: int) -> Run:
        """One recorded run by its id."""
        with self._connect(write=False) as db:
            row = db.execute("SELECT id, journal FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(self.path, f"no run {run_id} (drsim history list shows the ids)")
        return Run(row[0], json.loads(row[1]))

    def prune(self, before: str) -> tuple[int, int]:
        """Remove the runs recorded before ``before`` (a UTC time as the journals write it,
        ``2026-01-01T00:00:00Z``); how many were removed and how many are kept.

        One transaction: a run being recorded at the same time is kept or removed whole. A missing
        database is left missing (nothing removed).
        """
        if self.check() == 0:
            return 0, 0
        with self._connect(write=True) as db:
            db.execute("BEGIN IMMEDIATE")
            removed = db.execute("DELETE FROM runs WHERE created_utc < ?", (before,)).rowcount
            kept = db.execute("SELECT count(*) FROM runs").fetchone()[0]
            db.execute("COMMIT")
        return removed, kept


def _wal(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode (kept in the file; another process may be setting it at the same time)."""
    for _ in range(50):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
    db.execute("PRAGMA journal_mode=WAL")


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to :data:`SCHEMA_VERSION`, one migration at a time, in one transaction."""
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated meanwhile
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"history schema {version} is newer than this drsim's {SCHEMA_VERSION}")
        for i in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[i].split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
