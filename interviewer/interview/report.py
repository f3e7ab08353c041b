"""Session reports: the summary, the text shown at the end, and the Markdown export."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interviewer.bank.loader import Bank
    from interviewer.interview.engine import SessionState


def report(st: SessionState) -> dict[str, Any]:
    """Questions, average and per-topic average score, and the per-question results."""
    per_topic: dict[str, list[float]] = {}
    for r in st.results:
        per_topic.setdefault(r.topic or "Uncategorized", []).append(r.score)
    n = len(st.results)
    return {"session": st.id, "mode": st.mode, "questions": n,
            "average": round(sum(r.score for r in st.results) / n, 1) if n else None,
            "per_topic": {t: round(sum(v) / len(v), 1) for t, v in per_topic.items()},
            "results": st.results}


def report_text(st: SessionState) -> str:
    """The end-of-session report: scores, each answer with the follow-up it answered, weakest topics."""
    rep = report(st)
    if not rep["questions"]:
        return "Session ended. No questions were answered."
    lines = [f"Session report · {rep['questions']} questions · average {rep['average']}/10"]
    for r in st.results:
        lines.append(f"- {r.score:.1f}  [{r.id}] {r.question}")
        fqs = r.followup_questions
        for n, a in enumerate(r.answers):
            asked = "answer" if n == 0 else f"follow-up: {fqs[n - 1]}" if n - 1 < len(fqs) else "follow-up"
            short = " ".join(a.split())
            lines.append(f"    {asked} — {short[:300]}{'…' if len(short) > 300 else ''}")
    weakest = sorted(rep["per_topic"].items(), key=lambda kv: kv[1])[:3]
    lines.append("Weakest topics: " + ", ".join(f"{t} ({s})" for t, s in weakest))
    return "\n".join(lines)


def report_markdown(st: SessionState, bank: Bank, turns: Iterable[dict[str, Any]]) -> str:
    """Everything a candidate wants to keep: each question, every answer and follow-up, the grade with
    its evidence per key point (from the session's stored ``turns``), and the model answer."""
    grades = {}
    for t in turns:
        if t["kind"] == "final" and t.get("grade"):
            grades[t["item_id"]] = json.loads(t["grade"])  # the last final grade per item (a retry replaces it)
    lines = [f"# Interview report — session {st.id}", "", report_text(st), ""]
    for r in st.results:
        lines += [f"## {r.question}", f"**Score: {r.score:.1f}/10** ({r.source})", ""]
        fqs = r.followup_questions
        for n, a in enumerate(r.answers):
            label = "Your answer" if n == 0 else f"Follow-up: *{fqs[n - 1] if n - 1 < len(fqs) else ''}*  \nYour answer"
            lines += [f"{label}:", "", "> " + "\n> ".join((a or "(empty)").splitlines()), ""]
        g = grades.get(r.id) or {}
        if g.get("key_points"):
            lines.append("Key points:")
            for k in g["key_points"]:
                ev = f' — "{k["evidence"]}"' if k.get("evidence") else ""
                lines.append(f"- **{k['status']}** ({k['weight']}) {k['text']}{ev}")
            lines.append("")
        for m in g.get("misconceptions") or []:
            lines += [f'- misconception: "{m["evidence"]}" — {m["correction"]}']
        if g.get("feedback"):
            lines += [g["feedback"], ""]
        rubric = None if r.exercise else bank.get(r.id).rubric  # exercises are not bank items
        if rubric:
            lines += ["Model answer:", "", rubric.model_answer, ""]
    return "\n".join(lines)
