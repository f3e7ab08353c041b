"""Who is using the UI: logins (one configured user, or a users file with hashed passwords),
login rate limiting, weak-password refusal, and a reverse proxy's trusted header.

Three ways, in this order (``settings.ui``):

1. ``trusted_user_header`` (e.g. ``X-Forwarded-User``): a reverse proxy authenticates and names the
   user; the app trusts the header and has no login page. Only for a process bound to 127.0.0.1
   behind that proxy — anything that can reach the port directly can claim any name.
2. ``users_file``: a JSON file ``{"alice": "pbkdf2_sha256$600000$<salt>$<hash>", ...}`` written by
   ``interviewer user add NAME``; every session and all progress are keyed by the login name.
3. ``username`` + ``password``: one login (everybody who knows it is the same user).

Without any of them the process is single-user (``settings.user``) and refuses to bind to
anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interviewer.errors import BackendError, InterviewerError

ITERATIONS = 600_000
MIN_PASSWORD = 10
_COMMON = {"password", "password1", "123456789", "1234567890", "qwertyuiop", "letmein123", "iloveyou12",
           "interviewer", "changeme123", "administrator"}


def weak_password(password: str, username: str = "") -> str | None:
    """Why a password is refused, or None."""
    if not password or not password.strip():
        return "the password is empty or only whitespace"
    if len(password) < MIN_PASSWORD:
        return f"the password is shorter than {MIN_PASSWORD} characters"
    if password.lower() in _COMMON or (username and username.lower() in password.lower()):
        return "the password is a common one or contains the user name"
    if len(set(password)) < 4:
        return "the password repeats too few characters"
    return None


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, iters, salt, digest = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iters)).hex()
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, digest)


def read_users(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InterviewerError(f"users file {path} does not exist (create it with `interviewer user add NAME`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InterviewerError(f"users file {path} is not readable JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InterviewerError(f"users file {path} must map user names to password hashes")
    return data


def add_user(path: Path, username: str, password: str) -> None:
    username = username.strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise InterviewerError("a user name is 1-64 letters, digits or . _ - @")
    why = weak_password(password, username)
    if why:
        raise InterviewerError(f"refused: {why}")
    users = read_users(path) if path.exists() else {}
    users[username] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(users, indent=1) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


class RateLimiter:
    """At most ``attempts`` failed logins per user name (and ``10 x attempts`` in all) per ``window``
    seconds; while limited, even the right password is refused. With a ``store`` (the progress
    database) the failures are also kept there, so every replica sharing the database enforces one
    limit; this process's own count still holds while the database is unreachable."""

    def __init__(self, attempts: int = 5, window: float = 60.0, clock: Callable[[], float] | None = None,
                 store: Any = None) -> None:
        self.attempts, self.window, self.store = attempts, window, store
        # replicas compare times: the wall clock with a store, a monotonic one in one process
        self.clock = clock or (time.time if store is not None else time.monotonic)
        self._fails: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def limited(self, username: str) -> bool:
        now = self.clock()
        with self._lock:
            per = self._trim(self._fails.setdefault(username, deque()), now)
            if self._over(len(per), len(self._trim(self._all, now))):
                return True
        if self.store is not None:
            try:
                return self._over(*self.store.login_failures(username, now - self.window))
            except BackendError:
                return False
        return False

    def _over(self, mine: int, everyone: int) -> bool:
        """Failures in the window, for this name and for all: is that the limit?"""
        return mine >= self.attempts or everyone >= 10 * self.attempts

    def failed(self, username: str) -> None:
        now = self.clock()
        if self.store is not None:
            with contextlib.suppress(BackendError):  # this process's count below still holds
                self.store.add_login_failure(username, now, keep=max(3600.0, self.window))
        with self._lock:
            self._fails.setdefault(username, deque()).append(now)
            self._all.append(now)
            if len(self._fails) > 10_000:  # bounded memory under a spray of names
                self._fails = {k: v for k, v in self._fails.items() if self._trim(v, now)}


def login_configured(ui: object) -> bool:
    """Whether the app shows its own login page: a users file or a single user and password, and
    no authenticating proxy (``trusted_user_header``) in front."""
    if getattr(ui, "trusted_user_header", ""):
        return False
    return bool(getattr(ui, "users_file", "") or (getattr(ui, "username", "") and getattr(ui, "password", "")))


def make_auth(ui: object, limiter: RateLimiter | None = None, store: Any = None) -> Callable[[str, str], bool] | None:
    """Gradio's ``auth`` callable for the configured login, or None (no login page). ``store``: the
    progress database, where failed logins are counted for every replica that shares it."""
    if not login_configured(ui):
        return None
    users_file = getattr(ui, "users_file", "")
    single = (getattr(ui, "username", ""), getattr(ui, "password", ""))
    if users_file:
        users = read_users(Path(users_file))
        if not users:
            raise InterviewerError(f"users file {users_file} has no users")
    else:
        why = weak_password(single[1], single[0])
        if why:
            raise InterviewerError(f"ui.password is refused: {why}")
        users = {single[0]: hash_password(single[1], 50_000)}
    limiter = limiter or RateLimiter(store=store)

    def check(username: str, password: str) -> bool:
        username = (username or "").strip()
        if limiter.limited(username):
            return False
        ok = username in users and verify_password(password or "", users[username])
        if not ok:
            limiter.failed(username)
        return ok

    return check


__all__ = ["RateLimiter", "add_user", "hash_password", "login_configured", "make_auth", "read_users", "verify_password",
           "weak_password"]
