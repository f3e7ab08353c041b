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
import time
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
    assert s.revision == "0003"
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


class Deployment:
    """The servers of the shared deployment. The Chroma and LLM servers can be killed and started
    again on the same port (and, for Chroma, the same path); replicas can be added."""

    def __init__(self, postgres: TempPostgres, tmp) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.replicas: dict[str, tuple[subprocess.Popen, str]] = {}
        self.chroma_port, self.llm_port = free_port(), free_port()
        self.env = {"INTERVIEWER_STORE__URL": postgres.url, "INTERVIEWER_VECTORSTORE__MODE": "http",
                    "INTERVIEWER_VECTORSTORE__PORT": str(self.chroma_port), "INTERVIEWER_LLM__MODE": "openai",
                    "INTERVIEWER_LLM__BASE_URL": f"http://127.0.0.1:{self.llm_port}/v1",
                    "INTERVIEWER_LLM__MODEL": "smollm2", "INTERVIEWER_LLM__TIMEOUT": "120",
                    "INTERVIEWER_UI__VOICE": "false", "INTERVIEWER_VOICE__TTS": "none",
                    "INTERVIEWER_UI__USERS_FILE": str(tmp / "users.json"), "GRADIO_ANALYTICS_ENABLED": "False"}
        self.chroma = self.llm = None

    def _spawn(self, cmd: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def start_chroma(self, wait: bool = True) -> subprocess.Popen:
        self.chroma = self._spawn([str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(self.chroma_port),
                                   "--path", str(self.tmp / "chroma")],
                                  env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
        if wait:
            wait_port(self.chroma_port, self.chroma)
        return self.chroma

    def start_llm(self, wait: bool = True) -> subprocess.Popen:
        from interviewer.llm.models import smollm_path

        self.llm = self._spawn([sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path()),
                                "--host", "127.0.0.1", "--port", str(self.llm_port), "--n_ctx", "2048",
                                "--n_threads", "1"])
        if wait:
            wait_port(self.llm_port, self.llm, timeout=120)
        return self.llm

    def start_replica(self, name: str, wait: bool = True, **env: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        log = open(self.tmp / f"replica-{name}.log", "w")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen([str(BIN / "interviewer"), "--data-dir", str(self.tmp / f"replica-{name}"), "serve",
                              "--port", str(port)], env={**os.environ, **self.env, **env}, stdout=log,
                             stderr=subprocess.STDOUT, cwd=ROOT)
        self.procs.append(p)
        self.replicas[name] = (p, f"http://127.0.0.1:{port}/")
        if wait:
            wait_port(port, p, timeout=180)
        return self.replicas[name]

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                stop(p)


@pytest.fixture(scope="module")
def deployment(postgres, svc, tmp_path_factory):
    """Chroma server + llama_cpp.server + users file + two replicas on Postgres."""
    d = Deployment(postgres, tmp_path_factory.mktemp("shared"))
    tmp, env, users = d.tmp, d.env, d.tmp / "users.json"
    try:
        d.start_chroma(wait=False)
        d.start_llm(wait=False)
        wait_port(d.chroma_port, d.chroma)
        wait_port(d.llm_port, d.llm, timeout=120)
        for name, pw in (("alice", "ivory tower crossing 42"), ("bob", "quiet harbor lantern 7")):
            r = run_cli("user", "add", name, "--users-file", str(users), input=f"{pw}\n{pw}\n")
            assert r.returncode == 0, r.stderr
        r = run_cli("--data-dir", str(tmp / "ingest"), "ingest", env=env)  # once, into the Chroma server
        assert r.returncode == 0 and "rubric vectors: " in r.stdout, r.stderr
        r = run_cli("--data-dir", str(tmp / "ingest"), "doctor", env=env)
        assert "[ok] rubric vectors: " in r.stdout and "the whole bank" in r.stdout, r.stdout
        assert "postgresql+psycopg://postgres@127.0.0.1" in r.stdout and "schema 0003" in r.stdout, r.stdout
        assert "http: collection" in r.stdout and "answered" in r.stdout, r.stdout
        for name in ("a", "b"):
            d.start_replica(name, wait=False)
        for p, url in d.replicas.values():
            wait_port(int(url.rsplit(":", 1)[1].strip("/")), p, timeout=180)
        yield d
    finally:
        d.stop()


def text_of(msg: dict) -> str:
    c = msg["content"]
    return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c if isinstance(p, dict))


def test_a_session_survives_its_replica_and_belongs_to_its_user(deployment, postgres):
    from gradio_client import Client

    replicas, tmp = deployment.replicas, deployment.tmp
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
    # counted in Postgres, where every replica reads them (tests/test_store.py: one replica's
    # failures lock the user out of the other)
    assert store.login_failures("alice", time.time() - 60)[0] >= 5
    store.close()
    for c in (alice, bob, alice_b):
        c.close()
    (tmp / "done").write_text(json.dumps({"session": sid}))


# Faults of the shared servers: kill -9 of the Chroma server and of the LLM server while a replica
# serves. Requests fall back, labelled (Ask: keyword search over the bank; grading: rubric only);
# nothing stored is lost; once the server is started again on the same port, the same replica
# process serves as before. One replica with the LLM judge on (the two above grade rubric-only).
CAROL = ("carol", "amber meadow compass 19")


@pytest.fixture(scope="module")
def judged_replica(deployment):
    from interviewer.ui.auth import add_user

    add_user(deployment.tmp / "users.json", *CAROL)  # read when the replica starts
    return deployment.start_replica("judged", INTERVIEWER_GRADING__LLM_JUDGE="on")


def model_answer(svc, item_id: str) -> str:
    it = svc.bank.get(item_id)
    return it.rubric.model_answer if it.rubric else it.best_answer


def answer_until_graded(client, chat: list, answer: str, store: ProgressStore, sid: str) -> tuple[list, dict]:
    """Answer the open question (again, while it asks follow-ups) until its final turn is stored;
    the chat and the stored final turn."""
    item = [t for t in store.turns(sid) if t["kind"] == "question"][-1]["item_id"]
    for _ in range(3):  # at most two follow-ups
        chat, *_ = client.predict(answer, chat, False, api_name="/submit")
        finals = [t for t in store.turns(sid) if t["kind"] == "final" and t["item_id"] == item]
        if finals:
            assert len(finals) == 1 and finals[0]["score"] is not None, finals
            return chat, finals[0]
    raise AssertionError(f"{item} was not graded: {[text_of(m) for m in chat[-3:]]}")


def test_a_killed_chroma_server_is_a_clear_error_then_recovers_without_a_restart(deployment, judged_replica,
                                                                                   postgres, svc):
    import chromadb
    from gradio_client import Client

    from interviewer.concepts import KEYWORD_ONLY

    proc, url = judged_replica
    carol = Client(url, auth=CAROL, verbose=False)
    store = ProgressStore(None, url=postgres.url)
    question = svc.bank.get("004-048").question

    def index_size() -> dict[str, int]:
        c = chromadb.HttpClient(host="127.0.0.1", port=deployment.chroma_port)
        return {col.name: col.count() for col in c.list_collections()}

    asked, box = carol.predict(question, [], api_name="/ask")
    assert "[004-048]" in text_of(asked[-1]) and box == "", text_of(asked[-1])
    size = index_size()
    assert size and all(size.values()), size
    chat, *_ = carol.predict("mock", "Any", "Any", 2, 0, False, "004-048", api_name="/start")
    sid = text_of(chat[0]).split("`")[1]

    deployment.kill9(deployment.chroma)  # the Chroma server dies while the replica serves
    asked, box = carol.predict(question, [], api_name="/ask")
    reply = text_of(asked[-1])  # Ask falls back to keyword search over the bank, and says why
    assert (f"{KEYWORD_ONLY} (cannot reach the Chroma server at 127.0.0.1:{deployment.chroma_port}"
            in reply and "is `chroma run` running?" in reply and "[004-048]" in reply), reply
    assert box == ""
    # the interview in progress does not need the index: the answer is graded and stored
    answer = model_answer(svc, "004-048")
    chat, final = answer_until_graded(carol, chat, answer, store, sid)
    assert any(text_of(m).startswith("**Score ") for m in chat), [text_of(m) for m in chat]
    assert answer in [t["answer"] for t in store.turns(sid) if t["kind"] == "answer"]
    assert json.loads(final["grade"])["score"] == final["score"]

    deployment.start_chroma()  # the same port and path; the replica is not restarted
    assert index_size() == size  # nothing the server stored is lost
    asked, box = carol.predict(question, [], api_name="/ask")
    assert "[004-048]" in text_of(asked[-1]) and KEYWORD_ONLY not in text_of(asked[-1]), text_of(asked[-1])
    assert proc.poll() is None
    carol.close()
    store.close()


def test_a_killed_llm_server_gives_labelled_rubric_grades_then_recovers_without_a_restart(deployment, judged_replica,
                                                                                          postgres, svc):
    from gradio_client import Client

    from interviewer.llm.openai_compat import OpenAICompatBackend

    proc, url = judged_replica
    carol = Client(url, auth=CAROL, verbose=False)
    store = ProgressStore(None, url=postgres.url)
    chat, *_ = carol.predict("mock", "Any", "Any", 2, 0, False, "004-048", api_name="/start")
    sid = text_of(chat[0]).split("`")[1]
    llm_url = f"http://127.0.0.1:{deployment.llm_port}/v1"
    # a client of the server, as the replica's judge uses it: first-token logprobs (the judge's verdicts)
    probe, yes_no = OpenAICompatBackend(llm_url, "smollm2"), [{"role": "user", "content": "Is the sky blue?"}]
    assert probe.choice_logprobs(yes_no)

    deployment.kill9(deployment.llm)  # the LLM server dies mid-interview
    with pytest.raises(BackendError, match="cannot reach the LLM API"):
        probe.choice_logprobs(yes_no)
    chat, final = answer_until_graded(carol, chat, model_answer(svc, "004-048"), store, sid)
    grade = json.loads(final["grade"])
    # graded all the same: rubric only, and the grade says why
    assert grade["sources"] == ["rubric"] and final["score"] == grade["score"], grade
    assert f"rubric only (LLM judge unavailable: cannot reach the LLM API at {llm_url}" in grade["label"], grade
    shown = " ".join(text_of(m) for m in chat)
    assert "The LLM judge could not refine the grade" in shown and "LLM judge unavailable" in shown, shown
    assert "Question 2/2" in shown  # the interview goes on

    deployment.start_llm()  # the same port; the replica is not restarted
    assert probe.choice_logprobs(yes_no)  # a dead server was not taken for one without logprobs
    second = [t for t in store.turns(sid) if t["kind"] == "question"][-1]["item_id"]
    assert second != "004-048"
    chat, final = answer_until_graded(carol, chat, model_answer(svc, second), store, sid)
    grade = json.loads(final["grade"])
    assert grade["sources"] == ["rubric", "llm"] and grade["llm_score"] is not None, grade
    assert grade["label"].startswith(f"rubric + LLM judge (openai:smollm2@{llm_url})"), grade
    assert "by the LLM judge" in text_of(chat[-1]), text_of(chat[-1])  # "Grade confirmed/refined by ..."
    # nothing stored is lost: both answers, both graded finals, in Postgres
    finals = [t for t in store.turns(sid) if t["kind"] == "final"]
    assert [t["item_id"] for t in finals] == ["004-048", second] and all(t["score"] is not None for t in finals)
    assert proc.poll() is None
    carol.close()
    store.close()
