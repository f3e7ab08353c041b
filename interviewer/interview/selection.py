"""Which question (or coding exercise) a session asks next."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from interviewer.progress.srs import LEARNED_SCORE

if TYPE_CHECKING:
    from interviewer.bank.loader import Bank
    from interviewer.bank.schema import Item
    from interviewer.exercises.schema import Exercise
    from interviewer.interview.engine import SessionState
    from interviewer.interview.results import QuestionResult
    from interviewer.progress.store import ProgressStore


def candidates(bank: Bank, st: SessionState) -> list[Item]:
    """The bank items matching the session's topic and difficulty filters, by id."""
    items = [it for it in bank.items.values()
             if (st.topic is None or (it.topic and it.topic[0] == st.topic))
             and (st.difficulty is None or it.difficulty == st.difficulty)]
    return sorted(items, key=lambda it: it.id)


def pick_next(bank: Bank, store: ProgressStore, st: SessionState) -> Item | None:
    """Due reviews first; then unseen items, favouring weak topics; never a repeat
    across sessions unless due, never twice in one session."""
    now = datetime.now(UTC)
    due = {c["ref"] for c in store.due(st.user, "question", now)}
    seen = store.asked_items(st.user)
    pool = [it for it in candidates(bank, st) if it.id not in st.asked]
    if st.mode == "review":
        pool = [it for it in pool if it.id in due]
        order = {c["ref"]: c["due"] for c in store.due(st.user, "question", now)}
        return min(pool, key=lambda it: (order[it.id], it.id)) if pool else None
    due_pool = [it for it in pool if it.id in due]
    if due_pool and st.mode != "drill":
        return due_pool[0]
    fresh = [it for it in pool if it.id not in seen]
    if st.mode == "drill" and not fresh:
        fresh = [it for it in pool if last_score(store, st.user, it.id) < LEARNED_SCORE]
    if not fresh:
        return None
    weakness = topic_weakness(store, st.user)
    marks = done_items(bank, store, st.user)
    rng = random.Random(_seed(st.id) + len(st.asked))

    def priority(it: Item) -> tuple[float, float]:
        topic = it.topic[0] if it.topic else ""
        w = weakness.get(topic, 0.5)  # 0 = strong, 1 = weak; unknown topics in the middle
        if it.id in marks:
            w -= 0.3  # the user marked this topic done on their checklist
        if it.rubric is None:
            w -= 0.2  # prefer questions we can grade with evidence
        return (-w, rng.random())

    return min(fresh, key=priority)


def last_score(store: ProgressStore, user: str, item_id: str) -> float:
    """The user's last score on an item; -1 when never graded."""
    c = store.get_card(user, "question", item_id)
    return float(c["last_score"]) if c and c["last_score"] is not None else -1.0


def done_items(bank: Bank, store: ProgressStore, user: str) -> set[str]:
    """Items covering the checklist topics the user marked done."""
    marks = store.marks(user)
    return {i for t in bank.topics if t.id in marks for i in t.covered_by}


def topic_weakness(store: ProgressStore, user: str) -> dict[str, float]:
    """1 - mean(last score)/10 per top-level topic, over the user's question cards."""
    acc: dict[str, list[float]] = {}
    for c in store.cards(user, "question"):
        if c["last_score"] is not None and c["topic"]:
            acc.setdefault(c["topic"], []).append(float(c["last_score"]))
    return {t: 1.0 - sum(v) / len(v) / 10.0 for t, v in acc.items()}


def topic_mastered(results: list[QuestionResult]) -> bool:
    """Drill: the last three scores are all at least the learned score."""
    recent = [r.score for r in results[-3:]]
    return len(recent) == 3 and min(recent) >= LEARNED_SCORE


def exercise_due(st: SessionState) -> bool:
    """Whether the session's coding exercise comes now: last in a mock, after the first question in a drill."""
    if not st.coding or st.exercise or any(r.exercise for r in st.results):
        return False
    if st.mode == "mock":
        return len(st.results) == st.n_questions - 1
    return len(st.results) >= 1


def pick_exercise(exercises: dict[str, Exercise], store: ProgressStore, st: SessionState) -> Exercise | None:
    """An exercise on the session's topic if there is one, the user has not practised yet if
    possible; deterministic per session."""
    pool = list(exercises.values())
    if not pool:
        return None
    on_topic = [e for e in pool if st.topic and e.topic[0] == st.topic] or pool
    fresh = [e for e in on_topic if store.get_card(st.user, "question", e.id) is None] or on_topic
    rng = random.Random(_seed(st.id))
    return rng.choice(sorted(fresh, key=lambda e: e.id))


def _seed(session_id: str) -> int:
    return int(hashlib.sha256(session_id.encode()).hexdigest()[:8], 16)
