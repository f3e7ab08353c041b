"""The progress store: migrations of an older release's database, transactions, a kill at every
write of a finishing question, per-user sessions, and the login hardening (real SQLite)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
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
    assert s.revision == "0003"
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
    assert {"sessions_user_status", "login_failures_user_at"} <= idx
    s.put_card("alice", "question", "002-001", "NLP Basics", "{}", datetime.now(UTC), 9.0, "{}")
    assert s.get_card("alice", "question", "002-001")["reviews"] == 2
    s.close()
    assert ProgressStore(db).revision == "0003"  # opening again is a no-op


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


# A kill -9 between any two writes of a finishing question, at every one of them: the test process
# loads the bank once and forks a child per kill point. The child opens a fresh store on a copy of a
# database holding a started session (real bank, real SQLite; a stub grade, because this is about
# storage), resumes the session, submits an answer and dies with os._exit at the k-th SQL statement
# or COMMIT (a process death: no exception, no rollback, no cleanup). The points are every statement
# of the finishing transaction, its COMMIT, and the first statement after it, as counted in a run
# that is not killed. The test then resumes in a fresh store and answers again where needed: the
# question ends up graded exactly once, with one review of each card, and the typed answer kept.
ANSWER = "Dropout zeroes random units during training and is switched off at inference."
KILLED = 77  # the child's exit code when it died at its kill point


def _child_finish(data, bank, sid: str, kill_at: int | None) -> int:
    import sqlalchemy as sa
    from stub_grader import services

    from interviewer.interview.engine import InterviewEngine

    svc = services(data)
    svc.__dict__["bank"] = bank
    eng = InterviewEngine(svc)
    st, _ = eng.resume(sid, user="alice")
    log: list[tuple[str, int, str, bool]] = []  # (statement | commit, transaction number, SQL, inserts a final turn)
    tx = [0]

    def event(kind: str, sql: str = "", params=()) -> None:
        values = params.values() if isinstance(params, dict) else params
        final = sql.lstrip().upper().startswith("INSERT INTO TURNS") and "final" in values
        log.append((kind, tx[0], sql, final))
        if len(log) == kill_at:
            os._exit(KILLED)

    engine = svc.progress.engine
    sa.event.listen(engine, "begin", lambda conn: tx.__setitem__(0, tx[0] + 1))
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, context, many: event("statement", sql, params))
    sa.event.listen(engine, "commit", lambda conn: event("commit"))
    eng.submit(st, ANSWER)
    (data / "events.json").write_text(json.dumps(log))
    return 0


def _fork_finish(template, data, bank, sid: str, kill_at: int | None = None) -> int:
    """The child's exit code (0: finished, KILLED: died at its kill point)."""
    data.mkdir()
    for f in template.glob("progress.sqlite3*"):  # the database (closed: no WAL left), not the caches
        shutil.copy2(f, data)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 3
        try:
            code = _child_finish(data, bank, sid, kill_at)
        except BaseException:  # noqa: BLE001 - reported to the parent through a file
            (data / "child-error.txt").write_text(traceback.format_exc())
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            err = data / "child-error.txt"
            assert code in (0, KILLED), (kill_at, code, err.read_text() if err.exists() else "")
            return code
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the child killed at {kill_at} hung")
        time.sleep(0.005)


def _cards(store: ProgressStore) -> dict[tuple[str, str], int]:
    return {(c["kind"], c["ref"]): c["reviews"] for kind in ("question", "keypoint") for c in store.cards("alice", kind)}


def test_a_kill_between_any_two_writes_of_a_finishing_question_leaves_one_graded_answer(tmp_path):
    from stub_grader import services

    from interviewer.interview.engine import InterviewEngine

    # a started session (question 004-048 asked), in a database the children copy
    template = tmp_path / "template"
    svc = services(template)
    bank = svc.bank  # loaded once; the forked children share it
    st, _ = InterviewEngine(svc).start(n_questions=2, question="004-048", user="alice")
    sid = st.id
    for t in threading.enumerate():
        if t.name == "prefetch":
            t.join()
    svc.progress.close()

    # the run that is not killed: every statement and COMMIT of submitting the answer, in order
    assert _fork_finish(template, tmp_path / "full", bank, sid) == 0
    log = json.loads((tmp_path / "full" / "events.json").read_text())
    (finish_tx,) = {tx for _, tx, _, final in log if final}  # the transaction that stores the final turn
    finish = [n for n, (_, tx, _, _) in enumerate(log, 1) if tx == finish_tx]
    assert finish == list(range(finish[0], finish[-1] + 1))  # contiguous: one transaction
    kinds = [log[n - 1][0] for n in finish]
    assert kinds == ["statement"] * (len(finish) - 1) + ["commit"], kinds
    statements = len(finish) - 1
    assert statements >= 5  # the final turn, its grade, the question card (+ log), the key-point cards, the state
    after = finish[-1] + 1  # the first statement once the finish is committed (asking the next question)
    assert after <= len(log) and log[after - 1][0] == "statement"
    points = [*finish, after]
    assert len(points) == statements + 2  # every statement, the COMMIT, the one after: nothing sampled
    full = services(tmp_path / "full")
    full.__dict__["bank"] = bank
    reference = _cards(full.progress)  # each card reviewed once
    assert reference[("question", "004-048")] == 1 and set(reference.values()) == {1}
    full.progress.close()

    for k in points:
        data = tmp_path / f"kill-{k}"
        assert _fork_finish(template, data, bank, sid, k) == KILLED, k
        svc = services(data)
        svc.__dict__["bank"] = bank
        eng = InterviewEngine(svc)
        st, ev = eng.resume(sid, user="alice")
        turns = svc.progress.turns(sid)
        assert [t["answer"] for t in turns if t["kind"] == "answer"] == [ANSWER], k  # the typed answer is kept
        finals = [t for t in turns if t["kind"] == "final"]
        committed = k > finish[-1]
        assert bool(finals) == committed, (k, finals)  # all of the finish is stored, or none of it
        if committed:  # the next question is asked, never this one again
            assert st.current not in (None, "004-048") and ev[-1].kind == "question", k
        else:  # the same question is asked again
            assert st.current == "004-048" and ev[-1].kind == "question", k
            eng.submit(st, "Dropout zeroes random units during training; inverted dropout rescales.")
        turns = svc.progress.turns(sid)
        finals = [t for t in turns if t["kind"] == "final"]
        assert len(finals) == 1 and finals[0]["item_id"] == "004-048", (k, finals)
        assert all(t["score"] is not None for t in finals), (k, finals)  # no orphan ungraded final
        assert [r["id"] for r in svc.progress.load_session(sid)["state"]["results"]] == ["004-048"], k
        assert _cards(svc.progress) == reference, k  # one review of each card, none lost, none twice
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

    # two replicas sharing one progress database share the limit (failures on one lock the other)
    store = ProgressStore(tmp_path / "shared.sqlite3")
    wall = [1_800_000_000.0]
    replica_a, replica_b = (make_auth(UI, RateLimiter(attempts=5, window=60, clock=lambda: wall[0], store=store))
                            for _ in range(2))
    for _ in range(5):
        assert not replica_a("alice", "wrong guess")
    assert not replica_b("alice", "correct horse battery")
    assert replica_b("bob", "another long passphrase")
    assert store.login_failures("alice", wall[0] - 60) == (5, 5)
    wall[0] += 61
    assert replica_b("alice", "correct horse battery")
    store.add_login_failure("mallory", wall[0] + 7200)  # failures older than an hour are forgotten
    assert store.login_failures("alice", 0) == (0, 1)
    store.close()

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
