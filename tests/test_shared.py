"""A shared deployment on loopback: a real Postgres (Debian's server, started by the test as the
``postgres`` user in a temporary directory), a real ``chroma run``, a real ``llama_cpp.server`` with
the small model, and two ``interviewer serve`` replicas with logins. One replica is killed with
SIGKILL mid-interview; the session resumes on the other with every stored answer; another user
can never resume it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from conftest import BIN, ROOT, free_port, run_cli, stop, wait_port

from interviewer.errors import BackendError
from interviewer.progress.store import ProgressStore
from interviewer.tempdb import TempPostgres


@pytest.fixture(scope="module")
def postgres():
    pg = TempPostgres()
    yield pg
    pg.stop()


def test_the_store_on_postgres(postgres):
    s = ProgressStore(None, url=postgres.url)
    assert s.revision == "0002"
    sid = s.create_session("alice", "mock", {"n": 1}, {"phase": "answer"})
    tid = s.add_turn(sid, "004-048", "final", "q", "an answer", topic="Deep Learning Foundations")
    s.set_turn_grade(tid, 7.5, {"score": 7.5})
    assert s.score_history("alice")[0]["score"] == 7.5
    with pytest.raises(RuntimeError), s.transaction():
        s.add_turn(sid, "004-049", "final", "q", "lost")
        raise RuntimeError
    assert [t["item_id"] for t in s.turns(sid)] == ["004-048"]
    with pytest.raises(BackendError):
        s.load_session(sid, "bob")
    assert s.import_marks("alice", ["a", "b"]) == 2 and s.import_marks("alice", ["b", "c"]) == 1

    # two replicas review the same new card at the same moment: both reviews count, no error
    other = ProgressStore(None, url=postgres.url)
    errors: list[BaseException] = []

    def review(store: ProgressStore) -> None:
        try:
            for _ in range(20):
                store.put_card("alice", "question", "race", None, "{}", datetime.now(UTC), 5.0, "{}")
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=review, args=(st,)) for st in (s, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and s.get_card("alice", "question", "race")["reviews"] == 40
    assert s.review_count("alice") == 40
    other.close()
    s.close()


def test_a_killed_postgres_is_a_clear_error_then_recovers_without_a_restart(postgres):
    s = ProgressStore(None, url=postgres.url)
    sid = s.create_session("carol", "mock", {}, {"phase": "answer"})
    s.add_turn(sid, "004-048", "answer", "q", "stored before the crash")
    postgres.kill9()
    with pytest.raises(BackendError, match="progress database postgresql\\+psycopg://postgres@127.0.0.1"):
        s.add_turn(sid, "004-048", "answer", "q", "while the database is down")
    postgres.start()
    s.add_turn(sid, "004-048", "answer", "q", "after the restart")  # the same process, reconnected
    assert [t["answer"] for t in s.turns(sid)] == ["stored before the crash", "after the restart"]
    s.close()


@pytest.fixture(scope="module")
def deployment(postgres, svc, tmp_path_factory):
    """Chroma server + llama_cpp.server + users file + two replicas on Postgres."""
    from interviewer.llm.models import smollm_path

    tmp = tmp_path_factory.mktemp("shared")
    procs: list[subprocess.Popen] = []
    chroma_port, llm_port = free_port(), free_port()
    procs.append(subprocess.Popen([str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(chroma_port),
                                   "--path", str(tmp / "chroma")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env={"ANONYMIZED_TELEMETRY": "False",
                                                                  "PATH": "/usr/bin:/bin"}))
    procs.append(subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path()),
                                   "--host", "127.0.0.1", "--port", str(llm_port), "--n_ctx", "2048",
                                   "--n_threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    users = tmp / "users.json"
    env = {"INTERVIEWER_STORE__URL": postgres.url, "INTERVIEWER_VECTORSTORE__MODE": "http",
           "INTERVIEWER_VECTORSTORE__PORT": str(chroma_port), "INTERVIEWER_LLM__MODE": "openai",
           "INTERVIEWER_LLM__BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "INTERVIEWER_LLM__MODEL": "smollm2",
           "INTERVIEWER_LLM__TIMEOUT": "120", "INTERVIEWER_UI__VOICE": "false", "INTERVIEWER_VOICE__TTS": "none",
           "INTERVIEWER_UI__USERS_FILE": str(users), "GRADIO_ANALYTICS_ENABLED": "False"}
    replicas: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        wait_port(chroma_port, procs[0])
        wait_port(llm_port, procs[1], timeout=120)
        for name, pw in (("alice", "ivory tower crossing 42"), ("bob", "quiet harbor lantern 7")):
            r = run_cli("user", "add", name, "--users-file", str(users), input=f"{pw}\n{pw}\n")
            assert r.returncode == 0, r.stderr
        r = run_cli("--data-dir", str(tmp / "ingest"), "ingest", env=env)  # once, into the Chroma server
        assert r.returncode == 0, r.stderr
        r = run_cli("--data-dir", str(tmp / "ingest"), "doctor", env=env)
        assert "postgresql+psycopg://postgres@127.0.0.1" in r.stdout and "schema 0002" in r.stdout, r.stdout
        assert "http: collection" in r.stdout and "answered" in r.stdout, r.stdout
        for name in ("a", "b"):
            port = free_port()
            log = open(tmp / f"replica-{name}.log", "w")  # noqa: SIM115 - closed with the process
            p = subprocess.Popen([str(BIN / "interviewer"), "--data-dir", str(tmp / f"replica-{name}"), "serve",
                                  "--port", str(port)], env={**os.environ, **env}, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=ROOT)
            procs.append(p)
            replicas[name] = (p, f"http://127.0.0.1:{port}/")
        for p, url in replicas.values():
            wait_port(int(url.rsplit(":", 1)[1].strip("/")), p, timeout=180)
        yield replicas, tmp
    finally:
        for p in procs:
            if p.poll() is None:
                stop(p)


def text_of(msg: dict) -> str:
    c = msg["content"]
    return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c if isinstance(p, dict))


def test_a_session_survives_its_replica_and_belongs_to_its_user(deployment, postgres):
    from gradio_client import Client

    replicas, tmp = deployment
    (proc_a, url_a), (_, url_b) = replicas["a"], replicas["b"]
    alice = Client(url_a, auth=("alice", "ivory tower crossing 42"), verbose=False)
    chat, *_ = alice.predict("mock", "Any", "Any", 2, 0, False, "004-048", api_name="/start")
    sid = text_of(chat[0]).split("`")[1]
    assert "dropout" in text_of(chat[-1]).lower()
    first = "Dropout randomly zeroes units during training so they cannot co-adapt."
    chat, *_ = alice.predict(first, chat, False, api_name="/submit")
    proc_a.send_signal(signal.SIGKILL)  # the replica dies mid-interview
    proc_a.wait(timeout=30)

    # the other replica: bob cannot resume alice's session; alice can, with her answer
    bob = Client(url_b, auth=("bob", "quiet harbor lantern 7"), verbose=False)
    with pytest.raises(Exception, match="No session"):
        bob.predict(sid, api_name="/resume_session")
    alice_b = Client(url_b, auth=("alice", "ivory tower crossing 42"), verbose=False)
    chat, card = alice_b.predict(sid, api_name="/resume_session")
    assert any(first in text_of(m) for m in chat)
    for _ in range(4):
        chat, card, *_ = alice_b.predict("At inference dropout is off; inverted dropout rescales by 1/(1-p).",
                                         chat, False, api_name="/submit")
        if "Question 2/2" in text_of(chat[-1]):
            break
    assert "Question 2/2" in text_of(chat[-1])
    # every answer stored once, one graded final for the first question, in Postgres
    store = ProgressStore(None, url=postgres.url)
    turns = store.turns(sid)
    assert [t["answer"] for t in turns if t["kind"] == "answer"].count(first) == 1
    assert len([t for t in turns if t["kind"] == "final" and t["item_id"] == "004-048"]) == 1
    assert store.load_session(sid)["user"] == "alice"
    # progress is per user: bob's Progress tab does not show alice's scores
    bob_progress = bob.predict(api_name="/progress")
    alice_progress = alice_b.predict(api_name="/progress")
    assert "(practised 0;" in bob_progress[0], bob_progress[0]
    assert "(practised 1;" in alice_progress[0], alice_progress[0]
    # wrong passwords are refused, and after five of them even the right one waits (rate limit)
    for _ in range(5):
        with pytest.raises(ValueError, match="Could not login"):
            Client(url_b, auth=("alice", "not her passphrase"), verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(url_b, auth=("alice", "ivory tower crossing 42"), verbose=False)
    store.close()
    for c in (alice, bob, alice_b):
        c.close()
    (tmp / "done").write_text(json.dumps({"session": sid}))
