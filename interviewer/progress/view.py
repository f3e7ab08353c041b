"""The progress view: mastery per topic across the whole bank, due today, weakest topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from interviewer.progress.srs import LEARNED_SCORE


def progress_summary(svc: Any, user: str | None = None) -> dict[str, Any]:
    user = user or svc.settings.user
    store, bank = svc.progress, svc.bank
    cards = {c["ref"]: c for c in store.cards(user, "question")}
    marks = store.marks(user)
    marked_items = {i for t in bank.topics if t.id in marks for i in t.covered_by}
    end_of_day = datetime.now(UTC).replace(hour=23, minute=59, second=59)
    due_today = [c["ref"] for c in store.due(user, "question", end_of_day)]
    topics: dict[str, dict[str, Any]] = {}
    for it in bank.items.values():
        t = it.topic[0] if it.topic else "Uncategorized"
        row = topics.setdefault(t, {"topic": t, "items": 0, "learned": 0, "practised": 0, "scores": [],
                                    "checklist_done": 0})
        row["items"] += 1
        c = cards.get(it.id)
        if c and c["last_score"] is not None:
            row["practised"] += 1
            row["scores"].append(float(c["last_score"]))
            if float(c["last_score"]) >= LEARNED_SCORE:
                row["learned"] += 1
        if it.id in marked_items:
            row["checklist_done"] += 1
    for row in topics.values():
        s = row.pop("scores")
        row["average"] = round(sum(s) / len(s), 1) if s else None
    practised = [r for r in topics.values() if r["average"] is not None]
    weakest = sorted(practised, key=lambda r: r["average"])[:3]
    history = store.score_history(user)
    return {"user": user, "learned": sum(r["learned"] for r in topics.values()), "items": len(bank),
            "practised": sum(r["practised"] for r in topics.values()),
            "due_today": due_today, "due_this_week": len(store.due(user, "question", end_of_day + timedelta(days=6))),
            "weakest_topics": [r["topic"] for r in weakest],
            "checklist_marked_done": len(marks),
            "exercises_practised": sum(1 for ref in cards if ref.startswith("ex-")),
            "exercises_due_today": [r for r in due_today if r.startswith("ex-")],
            "topics": sorted(topics.values(), key=lambda r: r["topic"]), "history": history}


def progress_text(summary: dict[str, Any]) -> str:
    lines = [f"Learned {summary['learned']} / {summary['items']} questions "
             f"(practised {summary['practised']}; {summary['checklist_marked_done']} checklist topics marked done)",
             f"Due today: {len(summary['due_today'])}   due within a week: {summary['due_this_week']}   "
             f"coding exercises practised: {summary.get('exercises_practised', 0)}",
             f"Weakest topics: {', '.join(summary['weakest_topics']) or '—'}", "",
             f"{'topic':32} {'learned':>9} {'practised':>9} {'avg':>5}"]
    for r in summary["topics"]:
        avg = f"{r['average']:.1f}" if r["average"] is not None else "—"
        lines.append(f"{r['topic'][:32]:32} {r['learned']:>4} / {r['items']:<3} {r['practised']:>9} {avg:>5}")
    return "\n".join(lines)
