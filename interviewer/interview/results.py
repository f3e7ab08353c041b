"""Per-question results of a session: typed, plain data (saved with the session state as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class QuestionResult:
    """One graded (or skipped) question or coding exercise, with what a report needs to show it."""

    id: str  # bank item id, or exercise id when ``exercise``
    question: str = ""  # the question text (an exercise's title)
    topic: str | None = None
    score: float = 0.0  # after a retry: the better attempt
    source: str = ""  # how the grade was made (grade label, "skipped", "hidden tests 3/4")
    hints: int = 0
    followups: int = 0  # follow-up questions asked
    missed: list[str] = field(default_factory=list)  # missed key points (an exercise's failed tests)
    answers: list[str] = field(default_factory=list)  # main answer + follow-up answers (an exercise's code)
    followup_questions: list[str] = field(default_factory=list)
    attempts: list[float] | None = None  # [previous score, retry score] after a retry
    skipped: bool = False
    exercise: bool = False
    explanation_score: float | None = None  # an exercise's spoken explanation, when graded

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuestionResult:
        """From :func:`dataclasses.asdict` output or the older free-form dicts (unknown keys are dropped)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
