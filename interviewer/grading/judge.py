"""The LLM judge: a schema-constrained verdict fused with the rubric score."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from interviewer.bank.schema import Rubric
from interviewer.errors import BackendError
from interviewer.grading.models import Grade
from interviewer.llm.base import parse_json_reply
from interviewer.prompts import render
from interviewer.settings import ROOT


class KeyPointVerdict(BaseModel):
    id: str
    status: Literal["covered", "partial", "missing"]


class JudgeVerdict(BaseModel):
    key_points: list[KeyPointVerdict]
    score: int = Field(ge=0, le=10)
    feedback: str


def verdict_schema(kp_ids: list[str]) -> dict[str, Any]:
    """Flat JSON schema; integer range as an enum (llama.cpp grammars ignore min/max)."""
    return {
        "type": "object",
        "properties": {
            "key_points": {"type": "array", "items": {
                "type": "object",
                "properties": {"id": {"type": "string", "enum": kp_ids},
                               "status": {"type": "string", "enum": ["covered", "partial", "missing"]}},
                "required": ["id", "status"]}, "minItems": len(kp_ids), "maxItems": len(kp_ids)},
            "score": {"type": "integer", "enum": list(range(11))},
            "feedback": {"type": "string", "maxLength": 300},
        },
        "required": ["key_points", "score", "feedback"],
    }


def judge(llm: Any, question: str, rubric: Rubric, answer: str, prompts_dir: Any = None) -> JudgeVerdict:
    messages = render(prompts_dir or ROOT / "prompts", "judge", question=question,
                      key_points="\n".join(f"- {k.id} ({k.weight}): {k.text}" for k in rubric.key_points),
                      model_answer=rubric.model_answer, answer=answer[:4000])
    schema = verdict_schema([k.id for k in rubric.key_points])
    reply = llm.complete_json(messages, schema, 320)
    try:
        return parse_json_reply(reply, JudgeVerdict)
    except ValueError as first:
        retry = messages + [{"role": "assistant", "content": reply},
                            {"role": "user", "content": f"Invalid JSON ({str(first)[:200]}). Reply with valid JSON only."}]
        try:
            return parse_json_reply(llm.complete_json(retry, schema, 320), JudgeVerdict)
        except ValueError as e:
            raise BackendError(f"the LLM judge returned invalid JSON twice: {str(e)[:120]}") from None


def fused_score(grade: Grade, llm_score: float, weight: float) -> float:
    """The rubric score blended with the judge's. A gate keeps its rubric score and a cap (an
    answer that is mostly instructions to the grader, a keyword list) still caps the blend: a
    judge talked into 10/10 cannot lift an answer the rubric capped."""
    if grade.gate:
        return grade.score
    fused = (1 - weight) * grade.rubric_score + weight * llm_score
    if grade.cap is not None:
        fused = min(fused, grade.cap)
    return round(fused, 1)


def fuse_llm_judgement(llm: Any, question: str, rubric: Rubric, answer: str, grade: Grade,
                       weight: float) -> Grade:
    """Rubric score fused with the judge's; on failure a labelled rubric-only grade."""
    try:
        v = judge(llm, question, rubric, answer)
    except BackendError as e:
        return grade.model_copy(update={"label": f"rubric only (LLM judge unavailable: {e})"})
    by_id = {k.id: k.status for k in v.key_points}
    kps = [k.model_copy(update={"llm_status": by_id.get(k.id)}) for k in grade.key_points]
    fused = fused_score(grade, float(v.score), weight)
    used = getattr(llm, "last_used", getattr(llm, "name", "LLM"))
    return grade.model_copy(update={"score": fused, "llm_score": float(v.score), "sources": ["rubric", "llm"],
                                    "label": f"rubric + LLM judge ({used}), weight {weight:.2f}",
                                    "key_points": kps, "llm_feedback": v.feedback})
