"""Rubric vectors kept on disk, so a grade never waits for its rubric to be embedded.

Grading compares an answer's spans with the rubric's texts (question, model answer, key points,
misconceptions). Embedding a rubric is most of a grade's CPU time when it happens at grade time
(one item's texts, one thread: ~0.2 s here, against ~0.07 s for the rest of the grade), and with
several sessions at once those seconds queue. The bank's rubric texts are few (about 5,400) and
fixed, so they are embedded once per data directory, in batches (`interviewer ingest`; without
it, each rubric is stored the first time the interview asks its question), and read from this file
afterwards.

One SQLite file per embedding model and precision (``vectors-<model>-<precision>.sqlite3`` in the
data directory's cache), keyed by the SHA-256 of the text — as simonw/llm stores the model id and
a content hash per row. Only rubric texts go in, never answers. It is a cache: a missing,
unreadable or read-only file costs time, never a grade (every failure falls back to embedding).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]


class VectorCache:
    def __init__(self, cache_dir: Path, model_id: str, precision: str, fingerprint: str = "") -> None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id).strip("-")
        self.path = Path(cache_dir) / f"vectors-{slug}-{precision}.sqlite3"
        # the model files' identity: a different model under the same id (another directory with the
        # same name) empties the file instead of reading another model's vectors
        self.model_id, self.precision, self.fingerprint = model_id, precision, fingerprint
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.execute("INSERT OR IGNORE INTO meta VALUES ('model_id', ?), ('precision', ?)",
                           (self.model_id, self.precision))
                row = db.execute("SELECT value FROM meta WHERE name = 'fingerprint'").fetchone()
                if row is None or row[0] != self.fingerprint:
                    if row is not None:  # another model's vectors under this id
                        db.execute("DELETE FROM vectors")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (self.fingerprint,))
                db.commit()
                self._db = db
            except (sqlite3.Error, OSError) as e:
                self._fail(e)
        return self._db

    def _fail(self, e: Exception) -> None:
        if not self._broken:
            warnings.warn(f"rubric vector cache {self.path} not used ({e}); rubrics are embedded when graded",
                          stacklevel=3)
        self._broken = True
        self._db = None

    def _select(self, texts: Iterable[str], columns: str) -> list[tuple]:
        """Rows (``columns``) of the stored ``texts``, by key in chunks; [] when the file is unusable."""
        ks = list({_key(t) for t in texts})
        out: list[tuple] = []
        with self._lock:
            db = self._conn()
            if db is None:
                return []
            try:
                for s in range(0, len(ks), 500):
                    chunk = ks[s:s + 500]
                    out += db.execute(f"SELECT {columns} FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall()
            except sqlite3.Error as e:
                self._fail(e)
                return []
        return out

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ``texts`` that have one."""
        keys = {_key(t): t for t in texts}
        return {keys[k]: np.frombuffer(blob, dtype=np.float32).copy() for k, blob in self._select(texts, "key, vec")}

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()])
                db.commit()
            except sqlite3.Error as e:
                self._fail(e)

    def missing(self, texts: Iterable[str]) -> list[str]:
        """Those ``texts`` (deduplicated, in order) without a stored vector."""
        uniq = list(dict.fromkeys(texts))
        have = {k for (k,) in self._select(uniq, "key")}  # keys only: no vector is read
        return [t for t in uniq if _key(t) not in have]

    def keep_only(self, texts: Iterable[str]) -> int:
        """Delete the vectors of every text not in ``texts`` (the bank's rubric texts now: an edited key
        point leaves its old wording's vector behind). Returns how many were deleted."""
        keep = {_key(t) for t in texts}
        with self._lock:
            db = self._conn()
            if db is None:
                return 0
            try:
                stale = [(k,) for (k,) in db.execute("SELECT key FROM vectors") if k not in keep]
                db.executemany("DELETE FROM vectors WHERE key = ?", stale)
                db.commit()
                return len(stale)
            except sqlite3.Error as e:
                self._fail(e)
                return 0

    def count(self) -> int:
        with self._lock:
            db = self._conn()
            if db is None:
                return 0
            try:
                return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            except sqlite3.Error as e:
                self._fail(e)
                return 0


__all__ = ["VectorCache"]
