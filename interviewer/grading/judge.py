"""The LLM judge: the rubric's claims checked one at a time, fused with the rubric score.

The judge does not invent a number. For every key point, and for every authored misconception,
it answers one schema-constrained question — does the answer make this claim? yes / partly /
no / contradicts — and the judge's score is computed from those verdicts with the rubric's
weights, exactly like the embedding score: covered points earn credit, a misconception the
answer makes or a key point it contradicts costs points. Small local models cannot hold a
whole rubric in one verdict (measured: the bundled 1.5B model gave 10/10 to everything when
asked for a holistic score), but they can check one claim against one answer; the answer is
placed before the claim so llama.cpp reuses the evaluated prefix across the checks.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, cast

from pydantic import BaseModel

from interviewer.bank.schema import Rubric
from interviewer.errors import BackendError
from interviewer.grading.models import Grade
from interviewer.llm.base import structured
from interviewer.prompts import render
from interviewer.settings import ROOT

Claim = Literal["yes", "partly", "no", "contradicts"]
CREDIT = {"yes": 1.0, "partly": 0.5, "no": 0.0, "contradicts": 0.0}
STATUS = {"yes": "covered", "partly": "partial", "no": "missing", "contradicts": "missing"}
ERROR_PENALTY = 2.5  # per misconception made or key point contradicted (at most two), as in the rubric score
# A rubric score at or below this means the embeddings found (almost) nothing of the rubric in the
# answer: the judge may lower such a grade but never raise it (measured: the 1.5B judge said "yes"
# to claims for some gibberish and injection answers).
NO_EVIDENCE = 1.0
MAX_ANSWER_CHARS = 4000


class ClaimCheck(BaseModel):
    verdict: Claim


_TAG = re.compile(r"<\s*/?\s*(answer|claim|question|system|user|assistant|im_start|im_end)\b[^>]*>", re.I)
_SPECIAL = re.compile(r"<\|[^|>]{0,40}\|>")


def quote_answer(answer: str) -> str:
    """The answer as inert data: zero-width and control characters removed, tags that look like the
    prompt's own delimiters (``</answer>``), chat-template tokens (``<|im_end|>``) and code fences
    neutralised, angle brackets replaced, so nothing inside can close the quoted block."""
    from interviewer.grading.grader import clean_text

    a = clean_text(answer)
    a = _SPECIAL.sub("[token removed]", _TAG.sub("[tag removed]", a))
    a = a.replace("<", "\u2039").replace(">", "\u203a").replace("```", "\u2018\u2018\u2018")
    return a[:MAX_ANSWER_CHARS]


def verdict_probabilities(llm: Any, messages: list[dict[str, str]]) -> dict[str, float] | None:
    """P(yes / partly / no / contradicts) from the backend's token log-probabilities, where it
    returns them (llama.cpp, OpenAI-compatible servers that support ``logprobs``); else None."""
    fn = getattr(llm, "choice_logprobs", None)
    if fn is None:
        return None
    try:
        top = fn(messages)
    except BackendError:
        return None
    if not top:
        return None
    probs = {c: 0.0 for c in CREDIT}
    for tok, lp in top.items():
        t = tok.strip().strip('"').lower()
        if not t:
            continue
        for c in probs:
            if c.startswith(t) and (len(t) >= 2 or (c == "no" and t == "n")):
                probs[c] += math.exp(lp)
                break
    total = sum(probs.values())
    if total < 0.5:  # the model's first token is not a verdict: no usable distribution
        return None
    return {c: p / total for c, p in probs.items()}


class KeyPointVerdict(BaseModel):
    id: str
    status: Literal["covered", "partial", "missing"]
    claim: Claim


class JudgeVerdict(BaseModel):
    key_points: list[KeyPointVerdict]
    misconceptions: list[str]  # ids of authored misconceptions the answer makes
    contradicted: list[str]  # ids of key points the answer contradicts
    score: float
    feedback: str


def check_claim(llm: Any, question: str, answer: str, claim: str, prompts_dir: Any = None) -> Claim:
    return check_claim_probs(llm, question, answer, claim, prompts_dir)[0]


def check_claim_probs(llm: Any, question: str, answer: str, claim: str,
                      prompts_dir: Any = None) -> tuple[Claim, float, float]:
    """(verdict, credit 0-1, P(contradicts)). With token log-probabilities the credit is continuous
    (P(yes) + P(partly)/2); otherwise it follows the schema-constrained verdict. The verdict's
    schema is fixed here, on the system side: nothing in the answer can change it."""
    messages = render(prompts_dir or ROOT / "prompts", "judge", question=question,
                      answer=quote_answer(answer), claim=claim)
    probs = verdict_probabilities(llm, messages)
    if probs is not None:
        verdict = cast(Claim, max(probs, key=probs.__getitem__))
        return verdict, probs["yes"] + 0.5 * probs["partly"], probs["contradicts"]
    v = structured(llm, messages, ClaimCheck, 24).verdict  # one repair retry inside
    return v, CREDIT[v], 1.0 if v == "contradicts" else 0.0


def judge(llm: Any, question: str, rubric: Rubric, answer: str, prompts_dir: Any = None) -> JudgeVerdict:
    """Every key point and misconception checked; the score follows from the verdicts."""
    kps: list[KeyPointVerdict] = []
    credit = weight = 0.0
    for k in rubric.key_points:
        v, c, _ = check_claim_probs(llm, question, answer, k.text, prompts_dir)
        kps.append(KeyPointVerdict(id=k.id, status=STATUS[v], claim=v))
        credit += k.numeric_weight * c
        weight += k.numeric_weight
    made = [m.id for m in rubric.misconceptions
            if check_claim_probs(llm, question, answer, m.text, prompts_dir)[0] == "yes"]
    contradicted = [k.id for k in kps if k.claim == "contradicts"]
    errors = min(len(made) + len(contradicted), 2)
    score = max(0.0, min(10.0, 10.0 * (credit / weight if weight else 0.0) - ERROR_PENALTY * errors))
    covered = sum(k.status == "covered" for k in kps)
    parts = [f"The LLM found {covered} of {len(kps)} key points stated"]
    if made:
        parts.append(f"and the misconception(s) {', '.join(made)}")
    if contradicted:
        parts.append(f"and a contradiction of {', '.join(contradicted)}")
    return JudgeVerdict(key_points=kps, misconceptions=made, contradicted=contradicted,
                        score=round(score, 1), feedback=" ".join(parts) + ".")


def fused_score(grade: Grade, llm_score: float, weight: float) -> float:
    """The rubric score blended with the judge's. A gate keeps its rubric score, a cap (an answer
    that is mostly instructions to the grader, a keyword list) still caps the blend, and an answer
    with no rubric evidence cannot be lifted: a judge talked into 10/10 changes nothing there."""
    if grade.gate:
        return grade.score
    fused = (1 - weight) * grade.rubric_score + weight * llm_score
    if grade.rubric_score <= NO_EVIDENCE or any(f.startswith("instructions addressed") for f in grade.flags):
        # no rubric evidence, or the answer tried to instruct the grader: the judge may lower, never raise
        fused = min(fused, grade.rubric_score)
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
    fused = fused_score(grade, v.score, weight)
    used = getattr(llm, "last_used", getattr(llm, "name", "LLM"))
    return grade.model_copy(update={"score": fused, "llm_score": v.score, "sources": ["rubric", "llm"],
                                    "label": f"rubric + LLM judge ({used}), weight {weight:.2f}",
                                    "key_points": kps, "llm_feedback": v.feedback})
