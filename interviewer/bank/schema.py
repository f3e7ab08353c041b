"""The one bank schema: items, rubrics and checklist topics (pydantic, validated on load)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BANK_SCHEMA_VERSION = 2

Difficulty = Literal["Beginner", "Intermediate", "Advanced", "Expert", "Math/Code"]
DIFFICULTIES: tuple[str, ...] = ("Beginner", "Intermediate", "Advanced", "Expert", "Math/Code")

#: Top-level topics. Every item's topic path starts with one of these, so per-topic
#: mastery, filters and stats stay meaningful across sources.
TOPICS: tuple[str, ...] = (
    "NLP Fundamentals",
    "Embeddings & Representations",
    "Transformers & Attention",
    "LLM Training & Fine-tuning",
    "Alignment & RLHF",
    "Decoding & Prompting",
    "RAG & Agents",
    "Evaluation & Metrics",
    "Efficiency & Inference",
    "Deep Learning Foundations",
    "Optimization & Training",
    "Classical ML",
    "Math & Statistics",
    "Reinforcement Learning",
    "Computer Vision",
    "Generative Models",
    "Multimodal",
    "MLOps & Production",
    "Safety, Security & Ethics",
    "Theory & Interpretability",
    "Coding",
)

_WORDS = re.compile(r"[A-Za-z0-9']+")


def word_count(text: str) -> int:
    """Words as an interviewer would count them (formulas count as words too)."""
    return len(_WORDS.findall(text))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KeyPoint(_Strict):
    """An atomic, independently checkable fact that an excellent answer contains."""

    id: str = Field(pattern=r"^kp[1-9]$", description="kp1..kp6, unique within the item")
    text: str = Field(min_length=12, description="the fact, phrased so a paraphrase matches")
    weight: Literal["core", "supporting"] = Field(description="core decides the grade; supporting adds a little")
    compound_reason: str = Field(
        default="", description="why this point stays one claim although the compound lint flags it")
    contrast: str = Field(
        default="", description="a false statement in the point's own words (a minimal edit that makes it wrong), "
                                "from knowledge/contrasts/: with the point, a minimal pair that measures whether "
                                "the claim checker reads truth or only topic (eval/claims/contrast_gap.py)")
    phrasings: list[str] = Field(
        default_factory=list, description="the same fact in other words (core points: one plain, one spoken), "
                                          "from knowledge/phrasings/: the claim checker credits the point when the "
                                          "answer states it in any of these wordings")

    @property
    def numeric_weight(self) -> float:
        return 2.0 if self.weight == "core" else 1.0


class Misconception(_Strict):
    """A specific wrong statement candidates make, and what is true instead."""

    id: str = Field(pattern=r"^m[1-9]$")
    text: str = Field(min_length=12, description="the wrong claim, as a candidate would say it")
    correction: str = Field(min_length=12)


class FollowUp(_Strict):
    """A follow-up question and what it probes (a key point id or "deeper")."""

    question: str = Field(min_length=12)
    probes: str = Field(pattern=r"^(kp[1-9]|deeper)$")


class Rubric(_Strict):
    """What a grade is checked against."""

    model_answer: str
    key_points: list[KeyPoint] = Field(min_length=3, max_length=9)
    misconceptions: list[Misconception] = Field(min_length=1, max_length=3)
    follow_ups: list[FollowUp] = Field(min_length=2, max_length=3)

    @field_validator("model_answer")
    @classmethod
    def _answer_length(cls, v: str) -> str:
        n = word_count(v)
        if not 60 <= n <= 180:
            raise ValueError(f"model_answer has {n} words; it must have 60-180")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [k.id for k in self.key_points]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate key point ids: {ids}")
        texts = [k.text.lower() for k in self.key_points]
        if len(set(texts)) != len(texts):
            raise ValueError("two key points have the same text")
        if not any(k.weight == "core" for k in self.key_points):
            raise ValueError("at least one key point must be core")
        mids = [m.id for m in self.misconceptions]
        if len(set(mids)) != len(mids):
            raise ValueError(f"duplicate misconception ids: {mids}")
        for f in self.follow_ups:
            if f.probes != "deeper" and f.probes not in ids:
                raise ValueError(f"follow-up probes {f.probes!r}, which is not a key point id")
        return self


class Provenance(_Strict):
    """Where an item came from: file + item number (+ the seed's own text, verbatim)."""

    source: str = Field(description="file name in knowledge/sources/ or an imported file")
    number: int | None = None
    line: int | None = None
    question: str = ""
    answer: str = Field(default="", description="the source's own answer text, never overwritten")
    difficulty: str | None = None

    @property
    def key(self) -> str:
        return f"{self.source[:3]}:{self.number}" if self.number is not None else self.source


class Item(_Strict):
    """One bank item: a question, its reference answer, rubric and provenance."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    question: str = Field(min_length=3)
    reference_answer: str = Field(default="", description="the seed/imported answer text")
    explanation: str = ""
    code: str = ""
    topic: list[str] = Field(default_factory=list, description="topic path, top level first")
    difficulty: Difficulty | None = None
    tags: list[str] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)
    rubric: Rubric | None = None
    correction_note: str = Field(default="", description="what the model answer corrects in the seed")
    covers: list[str] = Field(default_factory=list, description="checklist bullet ids this item covers")

    @property
    def sources(self) -> list[str]:
        return [p.key for p in self.provenance]

    @property
    def best_answer(self) -> str:
        """The answer to grade against: the authored model answer, else the reference."""
        if self.rubric is not None:
            return self.rubric.model_answer
        return self.reference_answer or self.explanation

    def content_hash(self) -> str:
        """Hash of what is embedded and filtered on; changes trigger re-ingest."""
        # everything dense_texts() and search_text() put into the index: key points included
        kps = [k.text for k in self.rubric.key_points] if self.rubric else []
        payload = json.dumps([self.question, self.best_answer, kps, self.dense_texts(), self.search_text(),
                              self.topic, self.difficulty, self.sources, self.tags], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def search_text(self) -> str:
        """The text that represents the item for BM25: question, answer, key points."""
        kps = " ".join(k.text for k in self.rubric.key_points) if self.rubric else ""
        return f"{self.question}\n{self.best_answer}\n{kps}"

    def dense_texts(self) -> dict[str, str]:
        """One vector each (an item matches by its best one): question, key points, answer."""
        out = {"q": self.question, "a": self.best_answer or self.question}
        if self.rubric:
            out["kp"] = self.question + "\n" + " ".join(k.text for k in self.rubric.key_points)
        return out


class CoveredThing(_Strict):
    """One thing a checklist bullet lists, and the key point that covers it."""

    thing: str = Field(min_length=2, description="as the bullet names it, e.g. 'audio models'")
    key_point: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}:kp[1-9]$", description="item-id:kpN")


class Topic(_Strict):
    """One checklist bullet, as a topic, and where it is covered."""

    id: str
    source: str
    path: list[str]
    text: str
    line: int
    done: bool = False
    notes: list[str] = Field(default_factory=list)
    covered_by: list[str] = Field(default_factory=list)
    things: list[CoveredThing] = Field(default_factory=list, description="what the bullet lists -> key points")


# --------------------------------------------------------------- authored files
class AuthoredEntry(_Strict):
    """One entry of ``knowledge/rubrics/*.yaml`` or ``knowledge/topics/*.yaml``.

    For a seed item, ``id`` is the item's id ("004-048") and only the authored fields
    are given. For a new item (a checklist topic no seed item covers), ``question``,
    ``difficulty`` and ``topic`` are required as well.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    question: str | None = None
    difficulty: Difficulty | None = None
    topic: list[str] = Field(min_length=1, max_length=3)
    tags: list[str] = Field(default_factory=list)
    correction_note: str = ""
    rubric: Rubric | None = None
    merged_into: str = Field(
        default="", description="this question duplicates that item: it is kept as provenance of that "
        "item (question and file), its id resolves to that item, and it needs no rubric of its own")
    merge_reason: str = ""

    @model_validator(mode="after")
    def _rubric_unless_merged(self) -> AuthoredEntry:
        if self.rubric is None and not self.merged_into:
            raise ValueError("rubric is required (unless the entry is merged_into another item)")
        return self

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, v: list[str]) -> list[str]:
        if v[0] not in TOPICS:
            raise ValueError(f"topic must start with one of {list(TOPICS)}, got {v[0]!r}")
        return v


class TopicLink(_Strict):
    """``knowledge/topics/*.yaml`` coverage entry: a bullet and the items that cover it."""

    bullet: str = Field(pattern=r"^\d{3}:\d+\.\d+\.\d+$")
    items: list[str] = Field(min_length=1)
    note: str = ""
    things: list[CoveredThing] = Field(
        default_factory=list, description="each thing the bullet lists, mapped to a key point covering it")
