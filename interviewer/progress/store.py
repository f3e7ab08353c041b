"""Progress in SQLite: sessions, turns (answers + grades), FSRS cards, checklist marks.

Every write commits at once (WAL mode), so killing the process loses at most the answer
being typed. One connection per operation keeps it safe across Gradio's worker threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interviewer.errors import BackendError

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, user TEXT NOT NULL, mode TEXT NOT NULL, config TEXT NOT NULL,
        state TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
        item_id TEXT, kind TEXT NOT NULL, prompt TEXT NOT NULL DEFAULT '', answer TEXT,
        score REAL, grade TEXT, topic TEXT, created_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id)",
    """CREATE TABLE IF NOT EXISTS cards (
        user TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, topic TEXT,
        card TEXT NOT NULL, due TEXT NOT NULL, last_score REAL, reviews INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL, PRIMARY KEY (user, kind, ref))""",
    """CREATE TABLE IF NOT EXISTS review_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
        log TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS checklist_marks (
        user TEXT NOT NULL, bullet TEXT NOT NULL, done INTEGER NOT NULL, origin TEXT NOT NULL,
        PRIMARY KEY (user, bullet))""",
]


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None = None) -> str:
    return (dt or now()).isoformat()


class ProgressStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._conn() as c:
                c.execute("PRAGMA journal_mode=WAL")
                for stmt in SCHEMA:
                    c.execute(stmt)
        except sqlite3.DatabaseError as e:
            raise BackendError(f"cannot open the progress database {path}: {e}") from None

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------ sessions
    def create_session(self, user: str, mode: str, config: dict[str, Any], state: dict[str, Any]) -> str:
        sid = uuid.uuid4().hex[:12]
        with self._conn() as c:
            c.execute("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?)",
                      (sid, user, mode, json.dumps(config), json.dumps(state), "active", iso(), iso()))
        return sid

    def save_state(self, sid: str, state: dict[str, Any], status: str = "active") -> None:
        with self._conn() as c:
            c.execute("UPDATE sessions SET state=?, status=?, updated_at=? WHERE id=?",
                      (json.dumps(state), status, iso(), sid))

    def load_session(self, sid: str) -> dict[str, Any]:
        with self._conn() as c:
            row = c.execute("SELECT * FROM sessions WHERE id=?", (sid,)).fetchone()
        if row is None:
            raise BackendError(f"no session {sid!r}")
        return {"id": row["id"], "user": row["user"], "mode": row["mode"], "config": json.loads(row["config"]),
                "state": json.loads(row["state"]), "status": row["status"], "created_at": row["created_at"]}

    def latest_active_session(self, user: str) -> str | None:
        with self._conn() as c:
            row = c.execute("SELECT id FROM sessions WHERE user=? AND status='active' ORDER BY updated_at DESC LIMIT 1",
                            (user,)).fetchone()
        return row["id"] if row else None

    def count_sessions(self) -> int:
        with self._conn() as c:
            return int(c.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    # ------------------------------------------------------------ turns
    def add_turn(self, sid: str, item_id: str | None, kind: str, prompt: str = "", answer: str | None = None,
                 topic: str | None = None) -> int:
        with self._conn() as c:
            cur = c.execute("INSERT INTO turns (session_id,item_id,kind,prompt,answer,topic,created_at) VALUES (?,?,?,?,?,?,?)",
                            (sid, item_id, kind, prompt, answer, topic, iso()))
            return int(cur.lastrowid or 0)

    def set_turn_grade(self, turn_id: int, score: float, grade: dict[str, Any]) -> None:
        with self._conn() as c:
            c.execute("UPDATE turns SET score=?, grade=? WHERE id=?", (score, json.dumps(grade), turn_id))

    def turns(self, sid: str) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM turns WHERE session_id=? ORDER BY id", (sid,)).fetchall()
        return [dict(r) for r in rows]

    def asked_items(self, user: str) -> set[str]:
        """Items ever asked to this user (as a main question)."""
        with self._conn() as c:
            rows = c.execute("SELECT DISTINCT t.item_id FROM turns t JOIN sessions s ON s.id=t.session_id "
                             "WHERE s.user=? AND t.kind='question' AND t.item_id IS NOT NULL", (user,)).fetchall()
        return {r[0] for r in rows}

    def score_history(self, user: str) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute("SELECT t.created_at, t.item_id, t.topic, t.score FROM turns t JOIN sessions s "
                             "ON s.id=t.session_id WHERE s.user=? AND t.kind='final' AND t.score IS NOT NULL "
                             "ORDER BY t.id", (user,)).fetchall()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------ cards
    def get_card(self, user: str, kind: str, ref: str) -> dict[str, Any] | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM cards WHERE user=? AND kind=? AND ref=?", (user, kind, ref)).fetchone()
        return dict(row) if row else None

    def put_card(self, user: str, kind: str, ref: str, topic: str | None, card_json: str, due: datetime,
                 score: float | None, log_json: str | None) -> None:
        with self._conn() as c:
            c.execute("""INSERT INTO cards (user,kind,ref,topic,card,due,last_score,reviews,updated_at)
                         VALUES (?,?,?,?,?,?,?,1,?) ON CONFLICT(user,kind,ref) DO UPDATE SET
                         card=excluded.card, due=excluded.due, last_score=excluded.last_score,
                         topic=excluded.topic, reviews=cards.reviews+1, updated_at=excluded.updated_at""",
                      (user, kind, ref, topic, card_json, iso(due), score, iso()))
            if log_json:
                c.execute("INSERT INTO review_logs (user,kind,ref,log,created_at) VALUES (?,?,?,?,?)",
                          (user, kind, ref, log_json, iso()))

    def cards(self, user: str, kind: str = "question") -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM cards WHERE user=? AND kind=?", (user, kind)).fetchall()
        return [dict(r) for r in rows]

    def due(self, user: str, kind: str = "question", at: datetime | None = None) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM cards WHERE user=? AND kind=? AND due<=? ORDER BY due",
                             (user, kind, iso(at))).fetchall()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------ checklist marks
    def import_marks(self, user: str, bullets: list[str]) -> int:
        """Checklist "done" marks as initial progress (never overrides what the user did since)."""
        with self._conn() as c:
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO checklist_marks VALUES (?,?,1,'checklist')",
                          [(user, b) for b in bullets])
            return c.total_changes - before

    def marks(self, user: str) -> set[str]:
        with self._conn() as c:
            rows = c.execute("SELECT bullet FROM checklist_marks WHERE user=? AND done=1", (user,)).fetchall()
        return {r[0] for r in rows}
