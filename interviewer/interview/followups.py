"""Follow-up questions on the key points an answer missed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from interviewer.errors import BackendError

if TYPE_CHECKING:
    from pathlib import Path

    from interviewer.bank.schema import Item
    from interviewer.llm.base import ChatBackend

GENERIC = "Can you expand on your answer? What important aspect did you leave out?"


def followup_for(item: Item, missed: list[str], answer: str, asked: list[str],
                 llm: Callable[[], ChatBackend | None], prompts_dir: Path) -> tuple[str, str | None]:
    """(key point id, question) for the most important missed point: the rubric's own
    follow-up for it first, then the rubric's "deeper" follow-up, then LLM phrasing when ``llm()``
    returns a backend (called only then), then a neutral template (never revealing the point);
    None when every option was asked already."""
    fus = [f for f in (item.rubric.follow_ups if item.rubric else []) if f.question not in asked]
    for kp_id in missed:
        for f in fus:
            if f.probes == kp_id:
                return kp_id, f.question
    top = missed[0]
    deeper = [f.question for f in fus if f.probes == "deeper"]
    if deeper:
        return top, deeper[0]
    backend = llm()
    kp = next((k for k in (item.rubric.key_points if item.rubric else []) if k.id == top), None)
    if backend is not None and kp is not None:
        from interviewer.prompts import render

        try:
            text = backend.complete(render(prompts_dir, "followup", question=item.question,
                                           answer=answer[:2000], missed_point=kp.text), 60).strip()
            if 10 < len(text) < 300 and text.endswith("?"):
                return top, text
        except BackendError:
            pass
    return top, (GENERIC if GENERIC not in asked else None)
