"""Services with the real bank and store but a stub grade, for tests about storage and flow
(loading the models in every killed child process would only make those tests slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interviewer.grading.models import Grade, KeyPointResult


class StubGrader:
    llm = None

    def prefetch(self, texts: Any, persist: bool = False) -> None:
        pass

    def rubric_texts(self, item: Any) -> list[str]:
        return []

    def grade_item(self, item: Any, answer: str, use_llm: bool = True, hints: int = 0, late: bool = False,
                   rubric_grade: Grade | None = None) -> Grade:
        if rubric_grade is not None:
            return rubric_grade
        kps = [KeyPointResult(id=k.id, text=k.text, weight=k.weight, status="covered") for k in item.rubric.key_points]
        return Grade(score=9.0, rubric_score=9.0, sources=["rubric"], label="stub", rubric_origin="authored",
                     key_points=kps)


def services(data_dir: Path, **overrides: Any) -> Any:
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    overrides.setdefault("llm", {"mode": "none"})
    svc = Services(load_settings(data_dir=data_dir, **overrides))
    svc.__dict__["grader"] = StubGrader()
    return svc
