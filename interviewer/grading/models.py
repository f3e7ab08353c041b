"""What a grade is: a score with its evidence and where it came from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["covered", "partial", "missing", "contradicted"]


class KeyPointResult(BaseModel):
    id: str
    text: str
    weight: str
    status: Status
    similarity: float = Field(0.0, description="cosine similarity of the best-matching span to the point (the "
                                                "score's embedding signal; the quote may be a clause of that span)")
    evidence: str = Field("", description="the answer span that supports (or contradicts) the point, verbatim")
    span: tuple[int, int] | None = Field(None, description="character offsets of evidence in the answer")
    entailed: float | None = Field(None, description="claim checker: P(the answer states the point)")
    partly: float | None = Field(None, description="claim checker: P(the answer states it in part)")
    contradicted: float | None = Field(None, description="claim checker: P(the answer contradicts it)")
    credit: float = Field(0.0, description="credit 0-1 behind the status: the checker's entailed + partly / 2, mixed "
                          "with embedding similarity as the fitted score mixes them (Policy.combined_credit)")
    llm_status: Status | None = None


class MisconceptionHit(BaseModel):
    id: str
    text: str
    correction: str
    evidence: str
    span: tuple[int, int] | None = None
    similarity: float = 0.0
    probability: float | None = Field(None, description="claim checker: P(the answer states the misconception)")


class Grade(BaseModel):
    """A grade. ``sources`` says what produced ``score``; ``label`` says it in words."""

    score: float = Field(description="0-10, one decimal")
    rubric_score: float
    raw_score: float | None = Field(None, description="rubric evidence score before calibration and caps")
    cap: float | None = Field(None, description="upper bound applied (keyword list, mostly instructions)")
    llm_score: float | None = None
    sources: list[Literal["rubric", "llm"]]
    label: str
    rubric_origin: Literal["authored", "derived from reference answer"]
    checker: str = Field("", description="the claim checker that produced the key-point verdicts")
    core_coverage: float | None = None
    supporting_coverage: float | None = None
    features: dict[str, float] | None = Field(None, description="the signals the policy combined (claim checker "
                                              "and embedding coverage of core/supporting points, errors)")
    gate: str | None = Field(None, description="why the answer was capped at 0-1 (empty, gibberish, ...)")
    flags: list[str] = Field(default_factory=list)
    key_points: list[KeyPointResult] = Field(default_factory=list)
    misconceptions: list[MisconceptionHit] = Field(default_factory=list)
    feedback: str = ""
    llm_feedback: str = ""
    model_answer: str = ""
    hint_penalty: float = 0.0
    penalty: float = Field(0.0, description="points taken off for hints and lateness (policy)")

    @property
    def missed(self) -> list[KeyPointResult]:
        """Contradicted, missing, then partial key points, core before supporting; within each, the
        least similar to anything the answer says first (a follow-up asks about the first, so a point
        the answer may have put in other words is asked about last)."""
        order = {"contradicted": 0, "missing": 1, "partial": 2}
        rest = [k for k in self.key_points if k.status != "covered"]
        return sorted(rest, key=lambda k: (k.weight != "core", order[k.status], k.similarity))
