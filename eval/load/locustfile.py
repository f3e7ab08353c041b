"""Simulated candidates for the load benchmark (run by ``eval/load_test.py``, not by hand).

Each candidate opens the app on one replica (``LOAD_HOSTS``, round robin), starts a two-question
mock interview, answers each question in text (sometimes after a hint; follow-ups get a short
second answer), ends, and builds the report — through Gradio's HTTP API (``gradio_client``), as a
browser would. Every answer the server acknowledged is logged to ``LOAD_LOG`` (session id +
answer) so the runner can check afterwards that each is stored exactly once.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid

from locust import User, between, events, task

HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
LOG = os.environ.get("LOAD_LOG", "load-answers.jsonl")
_next = itertools.count()
_log_lock = threading.Lock()

ANSWERS = [
    "It is a way to reduce overfitting: the model is trained so that it generalises, and the main idea "
    "is to trade a little bias for lower variance.",
    "You compute gradients of the loss with respect to the parameters and update them step by step; "
    "the learning rate controls the step size.",
    "Attention lets every token weigh every other token by the softmax of scaled dot products of "
    "queries and keys, and mixes the values with those weights.",
    "I think it normalises the activations so training is more stable, and at inference it uses the "
    "statistics collected during training.",
]


def _text(msg: dict) -> str:
    c = msg.get("content")
    return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c or [] if isinstance(p, dict))


class Candidate(User):
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        from gradio_client import Client

        self.host = HOSTS[next(_next) % len(HOSTS)]
        self.c = Client(self.host, verbose=False)
        self.rng = random.Random(uuid.uuid4().int)

    def _call(self, name: str, *args: object, api: str) -> object:
        t0 = time.perf_counter()
        exc = None
        out = None
        try:
            out = self.c.predict(*args, api_name=api)
        except Exception as e:  # noqa: BLE001 - reported to locust as a failure
            exc = e
        events.request.fire(request_type="gradio", name=name, response_time=(time.perf_counter() - t0) * 1000,
                            response_length=0, exception=exc, context={"host": self.host})
        if exc is not None:
            raise exc
        return out

    def _log(self, sid: str, answer: str) -> None:
        with _log_lock, open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"session": sid, "answer": answer}) + "\n")

    @task
    def interview(self) -> None:
        try:
            chat, *_ = self._call("start", "mock", "Any", "Any", 2, 0, False, "", api="/start")
            sid = _text(chat[0]).split("`")[1]
            for _ in range(2):
                if self.rng.random() < 0.3:
                    chat, *_ = self._call("hint", chat, False, api="/hint")
                answer = f"{self.rng.choice(ANSWERS)} [{uuid.uuid4().hex[:8]}]"
                chat, *_ = self._call("answer (graded)", answer, chat, False, api="/submit")
                self._log(sid, answer)
                for _ in range(2):  # follow-ups: a short second answer
                    if "Follow-up" not in _text(chat[-1]):
                        break
                    follow = f"Also, it depends on the data and the model size. [{uuid.uuid4().hex[:8]}]"
                    chat, *_ = self._call("follow-up answer", follow, chat, False, api="/submit")
                    self._log(sid, follow)
                if "Session report" in _text(chat[-1]):
                    break
            self._call("end", chat, False, api="/end")
            self._call("report", api="/report")
        except Exception:  # noqa: BLE001 - already counted as a failed request; start over
            pass
