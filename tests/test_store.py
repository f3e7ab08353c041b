"""The progress store: migrations of an older release's database, transactions, a kill at every
write of a finishing question, per-user sessions, and the login hardening (real SQLite)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from conftest import ROOT

from interviewer.errors import BackendError, InterviewerError
from interviewer.progress.store import ProgressStore

RELEASE_DB = ROOT / "tests" / "data" / "progress-release-22a12a1.sqlite3"


def test_a_database_written_by_the_previous_release_migrates_forward_in_place(tmp_path):
    db = tmp_path / "progress.sqlite3"
    shutil.copy(RELEASE_DB, db)
    s = ProgressStore(db)
    assert s.revision == "0002"
    # everything the old release stored is still there and readable
    sid = s.latest_active_session("alice")
    assert sid == "c4883debb29c"
    assert [t["kind"] for t in s.turns(sid)] == ["question", "answer", "final", "question", "answer"]
    assert s.score_history("alice")[0]["score"] == 6.5
    assert s.get_card("alice", "question", "002-001")["reviews"] == 1
    assert s.marks("alice") == {"003:1.1", "003:1.2"}
    assert s.load_session(sid)["state"]["current"] == "004-048"
    # the new revision's index exists, and the database keeps working for writes
    idx = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "sessions_user_status" in idx
    s.put_card("alice", "question", "002-001", "NLP Basics", "{}", datetime.now(UTC), 9.0, "{}")
    assert s.get_card("alice", "question", "002-001")["reviews"] == 2
    s.close()
    assert ProgressStore(db).revision == "0002"  # opening again is a no-op


def test_a_transaction_stores_all_or_nothing(tmp_path):
    s = ProgressStore(tmp_path / "p.sqlite3")
    sid = s.create_session("alice", "mock", {}, {"phase": "answer"})
    with pytest.raises(RuntimeError), s.transaction():
        s.add_turn(sid, "004-048", "final", "q", "a")
        s.save_state(sid, {"phase": "idle"})
        raise RuntimeError("killed")
    assert s.turns(sid) == [] and s.load_session(sid)["state"] == {"phase": "answer"}
    with s.transaction():
        s.add_turn(sid, "004-048", "final", "q", "a")
        with s.transaction():  # nested: part of the outer one
            s.save_state(sid, {"phase": "idle"})
    assert len(s.turns(sid)) == 1 and s.load_session(sid)["state"] == {"phase": "idle"}


def test_bad_store_settings_are_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="not supported"):
        ProgressStore(tmp_path / "p.sqlite3", url="mysql://x@y/z")
    bad = tmp_path / "garbage.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackendError, match="cannot open the progress database"):
        ProgressStore(bad)
    with pytest.raises(BackendError, match=r"cannot open the progress database .*u:\*\*\*@127.0.0.1:1.*refused") as e:
        ProgressStore(None, url="postgresql://u:topsecret@127.0.0.1:1/db")
    assert "topsecret" not in str(e.value)


def test_a_session_is_only_its_users(tmp_path):
    s = ProgressStore(tmp_path / "p.sqlite3")
    sid = s.create_session("alice", "mock", {}, {})
    assert s.load_session(sid, "alice")["user"] == "alice"
    with pytest.raises(BackendError, match="no session"):
        s.load_session(sid, "bob")
    assert s.latest_active_session("bob") is None


# A kill -9 between any two writes of a finishing question: the child process finishes a question
# (real bank, real SQLite; a stub grade, because this is about storage) and dies with os._exit at the
# k-th statement of the finishing transaction. The parent resumes and answers again: the question
# ends up graded exactly once, with one review of its card.
CHILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import sqlalchemy as sa
    sys.path.insert(0, {tests!r})
    from stub_grader import services
    from interviewer.interview.engine import InterviewEngine
    svc = services(Path({data!r}))
    eng = InterviewEngine(svc)
    st, _ = eng.start(n_questions=2, question="004-048", user="alice")
    print(st.id, flush=True)
    kill_at = int({kill_at!r})
    count = [0]
    orig = sa.engine.Connection.execute
    def execute(self, *a, **k):
        if armed[0]:
            count[0] += 1
            if count[0] == kill_at:
                os._exit(9)
        return orig(self, *a, **k)
    armed = [False]
    sa.engine.Connection.execute = execute
    real_finish = eng._store_final
    def store_final(*a, **k):
        armed[0] = True
        try:
            return real_finish(*a, **k)
        finally:
            armed[0] = False
    eng._store_final = store_final
    eng.submit(st, "Dropout zeroes random units during training and is switched off at inference.")
    print("finished", count[0], flush=True)
""")


def _child(data, kill_at: int) -> tuple[str, str]:
    code = CHILD.format(tests=str(ROOT / "tests"), data=str(data), kill_at=kill_at)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = p.stdout.split()
    assert lines, p.stderr[-2000:]
    return lines[0], p.stdout


def test_a_kill_between_any_two_writes_of_a_finishing_question_leaves_one_graded_answer(tmp_path):
    from stub_grader import services

    from interviewer.interview.engine import InterviewEngine

    # how many statements finishing takes, from a run that is not killed
    sid, out = _child(tmp_path / "full", 10_000)
    writes = int(out.split("finished")[1].split()[0])
    assert writes >= 5  # turn, grade, cards (update/insert + log each), session state
    # every statement of the first writes (the final turn, its grade, the question card), then every
    # sixth through the key-point cards, and the last ones (the session state): about 13 kills
    points = sorted({*range(1, 7), *range(10, writes, 6), writes - 1, writes})
    for k in points:
        data = tmp_path / f"kill-{k}"
        sid, out = _child(data, k)
        assert "finished" not in out
        svc = services(data)
        eng = InterviewEngine(svc)
        st, ev = eng.resume(sid, user="alice")
        finals = [t for t in svc.progress.turns(sid) if t["kind"] == "final" and t["item_id"] == "004-048"]
        if finals:  # the whole finish was committed before the kill: the next question is asked
            assert st.current != "004-048", k
        else:  # none of it was: the same question is asked again, the typed answer kept
            assert st.current == "004-048" and ev[-1].kind == "question", k
            eng.submit(st, "Dropout zeroes random units during training; inverted dropout rescales.")
        finals = [t for t in svc.progress.turns(sid) if t["kind"] == "final" and t["item_id"] == "004-048"]
        assert len(finals) == 1 and finals[0]["score"] is not None, (k, finals)
        card = svc.progress.get_card("alice", "question", "004-048")
        assert card is not None and card["reviews"] == 1, (k, card)
        svc.progress.close()


def test_passwords_and_login_rate_limit(tmp_path):
    from interviewer.ui.auth import RateLimiter, add_user, make_auth, read_users, verify_password, weak_password

    for weak in ("", "   ", "a", "short", "password1", "aaaaaaaaaaaa", "alice-is-great"):
        assert weak_password(weak, "alice"), weak
    assert weak_password("correct horse battery", "alice") is None
    users = tmp_path / "users.json"
    with pytest.raises(InterviewerError, match="refused"):
        add_user(users, "alice", "1234")
    add_user(users, "alice", "correct horse battery")
    add_user(users, "bob", "another long passphrase")
    stored = read_users(users)
    assert set(stored) == {"alice", "bob"} and "correct horse" not in users.read_text()
    assert verify_password("correct horse battery", stored["alice"])
    assert not verify_password("correct horse batterY", stored["alice"])
    assert oct(users.stat().st_mode & 0o777) == "0o600"

    clock = [0.0]

    class UI:
        users_file, username, password, trusted_user_header = str(users), "", "", ""

    check = make_auth(UI, RateLimiter(attempts=5, window=60, clock=lambda: clock[0]))
    assert check("alice", "correct horse battery")
    for _ in range(5):
        assert not check("alice", "wrong guess")
    assert not check("alice", "correct horse battery")  # limited: even the right password waits
    assert check("bob", "another long passphrase")  # other users are not locked out
    clock[0] += 61
    assert check("alice", "correct horse battery")

    class Weak:
        users_file, username, password, trusted_user_header = "", "admin", " ", ""

    with pytest.raises(InterviewerError, match="ui.password is refused"):
        make_auth(Weak)
    users.write_text("{not json", encoding="utf-8")
    with pytest.raises(InterviewerError, match="not readable JSON"):
        make_auth(UI)


def test_user_add_cli(tmp_path):
    users = tmp_path / "users.json"
    cmd = [sys.executable, "-m", "interviewer", "user", "add", "carol", "--users-file", str(users)]
    p = subprocess.run(cmd, input="tiny\ntiny\n", capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "refused" in p.stderr and not users.exists()
    p = subprocess.run(cmd, input="a good long passphrase\na good long passphrase\n", capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert list(json.loads(users.read_text())) == ["carol"]
