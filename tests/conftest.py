"""Shared fixtures: real models loaded once per session, every store in a temp directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interviewer.tempdb import free_port, wait_port  # noqa: F401 - re-exported for the tests

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("INTERVIEWER_PROFILE", None)
for k in list(os.environ):
    if k.startswith("INTERVIEWER_"):
        del os.environ[k]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
BIN = Path(sys.executable).parent


def make_services(data_dir: Path, **overrides):
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    overrides.setdefault("llm", {"mode": "none"})
    return Services(load_settings(data_dir=data_dir, **overrides))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


class MemoEmbedder:
    """The real embedder, remembering what it embedded in this test run: tests that ingest the whole
    bank again (into a fresh store, into a Chroma server) reuse the session's vectors, which are the
    real model's, instead of spending minutes on a 2-core CPU recomputing them."""

    def __init__(self, inner) -> None:
        self.inner, self._memo = inner, {}

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def embed(self, texts):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            self._memo.update(zip(todo, self.inner.embed(todo), strict=True))
        return np.stack([self._memo[t] for t in texts]) if texts else self.inner.embed([])


@pytest.fixture(scope="session")
def svc(data_dir):
    """Real bank, real MiniLM embedder, real embedded Chroma, real SQLite; no LLM."""
    s = make_services(data_dir)
    memo = MemoEmbedder(s.embedder)
    s.__dict__["embedder"] = memo
    q = s.query_embedder  # the ONNX graph (traced into data_dir/models here), or the embedder itself
    s.__dict__["query_embedder"] = q if q is memo else MemoEmbedder(q)
    s.ensure_index()
    return s


@pytest.fixture()
def fresh_svc(tmp_path, svc):
    """A new progress database and index dir, sharing the already-loaded embedder."""
    s = make_services(tmp_path)
    for shared in ("embedder", "query_embedder", "bank", "chroma", "index", "retriever", "grader", "reranker"):
        s.__dict__[shared] = getattr(svc, shared)
    return s


def run_cli(*args: str, input: str | None = None, env: dict | None = None, timeout: int = 300):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(BIN / "interviewer"), *args], input=input, capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=ROOT)


#: What a process that only searches, asks (or grades in fp32) never imports: about three seconds of imports
HEAVY = ("torch", "transformers", "sentence_transformers")
_LOADED = "LOADED "


def run_cli_counting_imports(*args: str, env: dict | None = None, timeout: int = 180):
    """``interviewer ARGS`` in a new Python process (as ``run_cli``); also returns which of ``HEAVY`` it had
    imported when it exited (read at exit, printed on stderr)."""
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print({_LOADED!r} + ','.join(m for m in {HEAVY!r} if m in sys.modules), "
            "file=sys.stderr))\n"
            "from interviewer.cli import main\n"
            f"sys.exit(main({list(args)!r}))\n")
    r = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                       env={**os.environ, **(env or {})})
    marks = [line[len(_LOADED):] for line in r.stderr.splitlines() if line.startswith(_LOADED)]
    assert marks, f"the process did not exit through Python's atexit: {r.stderr[-2000:]}"
    return r, [m for m in marks[-1].split(",") if m]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None
