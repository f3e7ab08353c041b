"""Exercise results in the progress store: a hidden-test run counts like an answered question
(a stored turn with its grade, and a spaced-repetition card under the exercise's id)."""

from __future__ import annotations

from typing import Any

from interviewer.exercises.runner import RunResult


def exercise_score(res: RunResult) -> float:
    """0-10 from the hidden tests passed (a run-level error or a forbidden import scores 0)."""
    if res.error or res.disallowed_imports or not res.total:
        return 0.0
    return round(10.0 * res.passed / res.total, 1)


def record_exercise(svc: Any, ex: Any, res: RunResult, code: str, session_id: str | None = None,
                    user: str | None = None) -> float:
    from interviewer.progress.srs import _review, now, rating_for_score

    user = user or svc.settings.user
    store = svc.progress
    score = exercise_score(res)
    topic = ex.topic[0] if ex.topic else "Coding"
    with store.transaction():  # the attempt, its score and its review card: all or nothing
        sid = session_id or store.create_session(user, "exercise", {"exercise": ex.id}, {"exercise": ex.id})
        tid = store.add_turn(sid, ex.id, "exercise", ex.prompt, code, topic=topic)
        store.set_turn_grade(tid, score, {"score": score, "label": f"hidden tests {res.passed}/{res.total}",
                                          "isolation": res.isolation, "weaker_isolation": res.weaker_isolation,
                                          "result": res.model_dump()})
        _review(store, user, "question", ex.id, topic, rating_for_score(score), score, now())
    return score


def explanation_rubric(ex: Any) -> Any:
    """The exercise's spoken points (complexity, edge cases, numerical stability) as a rubric: each
    point is a core claim the candidate's explanation is checked against."""
    from interviewer.bank.schema import KeyPoint, Rubric

    kps = [KeyPoint.model_construct(id=f"kp{i + 1}", text=t, weight="core", compound_reason="")
           for i, t in enumerate(ex.spoken[:9])]
    return Rubric.model_construct(model_answer=" ".join(ex.spoken), key_points=kps, misconceptions=[], follow_ups=[])


def grade_explanation(svc: Any, ex: Any, explanation: str) -> Any:
    """The rubric grade of what the candidate said about their solution (claim checker, no LLM)."""
    return svc.grader.grade(f"{ex.title}: explain your solution", explanation_rubric(ex), explanation,
                            "authored", use_llm=False)
