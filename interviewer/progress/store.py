"""Progress: sessions, turns (answers + grades), FSRS cards, checklist marks — one interface,
two engines.

- **SQLite** (the embedded default: ``<data_dir>/progress.sqlite3``, WAL mode) and
- **Postgres** for shared deployments (``store.url = "postgresql://user:pass@host/db"``; any number
  of ``interviewer serve`` replicas share it),

through SQLAlchemy Core, with the schema created and migrated by Alembic
(``interviewer/progress/migrations/``; a database written by an older release is migrated forward
in place when it is opened). No SQL dialect switches in this code.

Every write commits at once unless it runs inside :meth:`ProgressStore.transaction`, which makes a
group of writes (finishing a question: the final turn, its grade, the review cards and the session
state) one transaction: a process killed in between leaves all of it or none of it.
"""

from __future__ import annotations

import contextvars
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from interviewer.errors import BackendError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Index("sessions_user_status", "user", "status", "updated_at"),
)
turns = sa.Table(
    "turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("item_id", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False, server_default=""),
    sa.Column("answer", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("grade", sa.Text),
    sa.Column("topic", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("turns_session", "session_id"),
)
cards = sa.Table(
    "cards", metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("ref", sa.Text, primary_key=True),
    sa.Column("topic", sa.Text),
    sa.Column("card", sa.Text, nullable=False),
    sa.Column("due", sa.Text, nullable=False),
    sa.Column("last_score", sa.Float),
    sa.Column("reviews", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.Text, nullable=False),
)
review_logs = sa.Table(
    "review_logs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("log", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)
login_failures = sa.Table(  # the login rate limit's memory, shared by every replica on this database
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("login_failures_at", "at"),
    sa.Index("login_failures_user_at", "user", "at"),
)
checklist_marks = sa.Table(
    "checklist_marks", metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("bullet", sa.Text, primary_key=True),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None = None) -> str:
    return (dt or now()).isoformat()


def database_url(url: str, sqlite_path: Path) -> str:
    """The SQLAlchemy URL for a configured ``store.url`` ("" = the embedded SQLite file).
    ``postgresql://`` and ``postgres://`` use the psycopg 3 driver."""
    url = (url or "").strip()
    if not url:
        return f"sqlite:///{sqlite_path}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("sqlite:", "postgresql+")):
        return url
    raise BackendError(f"store.url {url!r} is not supported: use postgresql://user:password@host:port/db "
                       "or leave it empty for the embedded SQLite file")


def redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for messages
        return "<store url>"


def _head_revision() -> str:
    """The newest revision id, read from the migration files (the one revision nothing points back to)."""
    revs, downs = set(), set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        text = f.read_text(encoding="utf-8")
        rev = re.search(r"^revision(?:: str)? = [\"']([^\"']+)", text, re.M)
        down = re.search(r"^down_revision[^=]*= [\"']([^\"']+)", text, re.M)
        if rev:
            revs.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 else ""


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision (creates a new database; migrates an old one in place).
    Returns the revision now in the database."""
    head = _head_revision()
    try:  # already at the newest revision: no need to load Alembic (a third of a second per start)
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head:
                return head
    except SQLAlchemyError:
        pass  # a new or pre-Alembic database: migrate below
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


class ProgressStore:
    """Thread-safe (a connection per operation, from the engine's pool); holds no user state."""

    def __init__(self, path: Path | None = None, url: str = "") -> None:
        self.path = path
        self.url = database_url(url, path or Path("progress.sqlite3"))
        self.where = str(path) if not url else redact(self.url)
        self._tx: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(f"tx-{id(self)}", default=None)
        try:
            if self.url.startswith("sqlite"):
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                self.engine = sa.create_engine(self.url, connect_args={"timeout": 10})
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                # pre-ping: a restarted Postgres is reconnected to, not reported as a broken pipe
                self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                               connect_args={"connect_timeout": 10})
            self.revision = migrate(self.engine)
        except (SQLAlchemyError, OSError) as e:
            raise BackendError(f"cannot open the progress database {self.where}: {_short(e)}") from None

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------ connections
    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        """The open transaction of :meth:`transaction` when inside one, else a new one that commits
        when the block ends."""
        tx = self._tx.get()
        if tx is not None:
            yield tx
            return
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as e:
            raise BackendError(f"progress database {self.where}: {_short(e)}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call inside the block (in this thread or task) is one transaction: all of it
        is stored, or none of it."""
        if self._tx.get() is not None:  # nested: part of the outer transaction
            yield
            return
        try:
            with self.engine.begin() as conn:
                token = self._tx.set(conn)
                try:
                    yield
                finally:
                    self._tx.reset(token)
        except SQLAlchemyError as e:
            raise BackendError(f"progress database {self.where}: {_short(e)}") from None

    # ------------------------------------------------------------ sessions
    def create_session(self, user: str, mode: str, config: dict[str, Any], state: dict[str, Any]) -> str:
        sid = uuid.uuid4().hex[:12]
        with self._conn() as c:
            c.execute(sessions.insert().values(id=sid, user=user, mode=mode, config=json.dumps(config),
                                               state=json.dumps(state), status="active", created_at=iso(),
                                               updated_at=iso()))
        return sid

    def save_state(self, sid: str, state: dict[str, Any], status: str = "active") -> None:
        with self._conn() as c:
            c.execute(sessions.update().where(sessions.c.id == sid)
                      .values(state=json.dumps(state), status=status, updated_at=iso()))

    def load_session(self, sid: str, user: str | None = None) -> dict[str, Any]:
        """The session; with ``user``, only when it is that user's (else "no session", so that an
        id is no key to somebody else's data)."""
        with self._conn() as c:
            row = c.execute(sessions.select().where(sessions.c.id == sid)).mappings().first()
        if row is None or (user is not None and row["user"] != user):
            raise BackendError(f"no session {sid!r}")
        return {"id": row["id"], "user": row["user"], "mode": row["mode"], "config": json.loads(row["config"]),
                "state": json.loads(row["state"]), "status": row["status"], "created_at": row["created_at"]}

    def session_owner(self, sid: str) -> str | None:
        with self._conn() as c:
            return c.execute(sa.select(sessions.c.user).where(sessions.c.id == sid)).scalar()

    def latest_active_session(self, user: str) -> str | None:
        with self._conn() as c:
            return c.execute(sa.select(sessions.c.id)
                             .where(sessions.c.user == user, sessions.c.status == "active")
                             .order_by(sessions.c.updated_at.desc()).limit(1)).scalar()

    def count_sessions(self) -> int:
        with self._conn() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() or 0)

    # ------------------------------------------------------------ failed logins
    def add_login_failure(self, user: str, at: float, keep: float = 3600.0) -> None:
        """Record a failed login (and forget those older than ``keep`` seconds)."""
        with self._conn() as c:
            c.execute(login_failures.insert().values(user=user[:200], at=at))
            c.execute(login_failures.delete().where(login_failures.c.at < at - keep))

    def login_failures(self, user: str, since: float) -> tuple[int, int]:
        """Failed logins since ``since``: (for ``user``, for everyone)."""
        recent = login_failures.c.at >= since
        with self._conn() as c:
            mine = c.execute(sa.select(sa.func.count()).select_from(login_failures)
                             .where(recent, login_failures.c.user == user[:200])).scalar()
            everyone = c.execute(sa.select(sa.func.count()).select_from(login_failures).where(recent)).scalar()
        return int(mine or 0), int(everyone or 0)

    # ------------------------------------------------------------ turns
    def add_turn(self, sid: str, item_id: str | None, kind: str, prompt: str = "", answer: str | None = None,
                 topic: str | None = None) -> int:
        with self._conn() as c:
            return int(c.execute(turns.insert().values(session_id=sid, item_id=item_id, kind=kind, prompt=prompt,
                                                       answer=answer, topic=topic, created_at=iso())
                                 .returning(turns.c.id)).scalar_one())

    def set_turn_grade(self, turn_id: int, score: float, grade: dict[str, Any]) -> None:
        with self._conn() as c:
            c.execute(turns.update().where(turns.c.id == turn_id).values(score=score, grade=json.dumps(grade)))

    def turns(self, sid: str) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute(turns.select().where(turns.c.session_id == sid).order_by(turns.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def asked_items(self, user: str) -> set[str]:
        """Items ever asked to this user (as a main question)."""
        with self._conn() as c:
            rows = c.execute(sa.select(turns.c.item_id).distinct().join_from(turns, sessions)
                             .where(sessions.c.user == user, turns.c.kind == "question",
                                    turns.c.item_id.is_not(None))).scalars().all()
        return set(rows)

    def score_history(self, user: str) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute(sa.select(turns.c.created_at, turns.c.item_id, turns.c.topic, turns.c.score)
                             .join_from(turns, sessions)
                             .where(sessions.c.user == user, turns.c.kind == "final", turns.c.score.is_not(None))
                             .order_by(turns.c.id)).mappings().all()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------ cards
    def get_card(self, user: str, kind: str, ref: str) -> dict[str, Any] | None:
        with self._conn() as c:
            row = c.execute(cards.select().where(cards.c.user == user, cards.c.kind == kind,
                                                 cards.c.ref == ref)).mappings().first()
        return dict(row) if row else None

    def put_card(self, user: str, kind: str, ref: str, topic: str | None, card_json: str, due: datetime,
                 score: float | None, log_json: str | None) -> None:
        key = (cards.c.user == user, cards.c.kind == kind, cards.c.ref == ref)
        values = {"card": card_json, "due": iso(due), "last_score": score, "topic": topic, "updated_at": iso()}
        with self._conn() as c:
            done = c.execute(cards.update().where(*key).values(reviews=cards.c.reviews + 1, **values)).rowcount
            if not done:
                try:
                    with c.begin_nested():  # a concurrent first review of the same card: update instead
                        c.execute(cards.insert().values(user=user, kind=kind, ref=ref, reviews=1, **values))
                except IntegrityError:
                    c.execute(cards.update().where(*key).values(reviews=cards.c.reviews + 1, **values))
            if log_json:
                c.execute(review_logs.insert().values(user=user, kind=kind, ref=ref, log=log_json, created_at=iso()))

    def cards(self, user: str, kind: str = "question") -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute(cards.select().where(cards.c.user == user, cards.c.kind == kind)).mappings().all()
        return [dict(r) for r in rows]

    def due(self, user: str, kind: str = "question", at: datetime | None = None) -> list[dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute(cards.select().where(cards.c.user == user, cards.c.kind == kind, cards.c.due <= iso(at))
                             .order_by(cards.c.due)).mappings().all()
        return [dict(r) for r in rows]

    def review_count(self, user: str) -> int:
        with self._conn() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(review_logs)
                                 .where(review_logs.c.user == user)).scalar() or 0)

    # ------------------------------------------------------------ checklist marks
    def import_marks(self, user: str, bullets: list[str]) -> int:
        """Checklist "done" marks as initial progress (never overrides what the user did since)."""
        with self._conn() as c:
            have = set(c.execute(sa.select(checklist_marks.c.bullet).where(checklist_marks.c.user == user)).scalars())
            new = [b for b in dict.fromkeys(bullets) if b not in have]
            if new:
                c.execute(checklist_marks.insert(), [{"user": user, "bullet": b, "done": 1, "origin": "checklist"}
                                                     for b in new])
            return len(new)

    def marks(self, user: str) -> set[str]:
        with self._conn() as c:
            rows = c.execute(sa.select(checklist_marks.c.bullet).where(checklist_marks.c.user == user,
                                                                      checklist_marks.c.done == 1)).scalars().all()
        return set(rows)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _short(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return text[0] if text else type(e).__name__


__all__ = ["ProgressStore", "database_url", "metadata", "migrate", "now"]
