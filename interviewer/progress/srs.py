"""Spaced repetition with FSRS: one card per question and per key point.

The only place grades become FSRS ratings.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from fsrs import Card, Rating, Scheduler

from interviewer.grading.models import Grade
from interviewer.progress.store import ProgressStore, now

_SCHEDULER = Scheduler(enable_fuzzing=False)  # stateless; fuzzing off keeps due dates reproducible
LEARNED_SCORE = 7.0


def rating_for_score(score: float) -> Rating:
    if score < 4.0:
        return Rating.Again
    if score < 6.0:
        return Rating.Hard
    if score < 8.5:
        return Rating.Good
    return Rating.Easy


_KP_RATING = {"covered": Rating.Good, "partial": Rating.Hard, "missing": Rating.Again, "contradicted": Rating.Again}


def _review(store: ProgressStore, user: str, kind: str, ref: str, topic: str | None, rating: Rating,
            score: float | None, at: datetime) -> None:
    row = store.get_card(user, kind, ref)
    card = Card.from_json(row["card"]) if row else Card(card_id=zlib.crc32(f"{kind}:{ref}".encode()))
    card, log = _SCHEDULER.review_card(card, rating, review_datetime=at)
    store.put_card(user, kind, ref, topic, card.to_json(), card.due, score, log.to_json())


def record_grade(store: ProgressStore, user: str, item_id: str, topic: str | None, grade: Grade,
                 at: datetime | None = None) -> None:
    """Review the question's card and each key point's card."""
    at = at or now()
    _review(store, user, "question", item_id, topic, rating_for_score(grade.score), grade.score, at)
    for k in grade.key_points:
        _review(store, user, "keypoint", f"{item_id}#{k.id}", topic, _KP_RATING[k.status], None, at)
