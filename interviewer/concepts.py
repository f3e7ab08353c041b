"""``ask``: answer a free-form concept question from retrieved bank items, citing their ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from interviewer.errors import BackendError
from interviewer.prompts import render

#: below this cosine similarity, the best bank item is not about the question.
COVERAGE_MIN = 0.45


def retrieve_for_question(svc: Any, question: str, k: int = 3) -> list[tuple[Any, float]]:
    """Hybrid hits, each with its dense similarity (used to decide 'not covered')."""
    retr = svc.retriever
    vec = svc.embedder.embed([question])[0]
    hits = retr.search(question, k=k, vector=vec)
    items = [svc.bank.items[h.id] for h in hits]
    if not items:
        return []
    sims = svc.embedder.embed([it.search_text() for it in items]) @ vec
    return [(it, float(s)) for it, s in zip(items, sims, strict=True)]


def answer_question(svc: Any, question: str, stream: bool = True) -> Iterator[str]:
    """Yields the answer text. Without an LLM (or if it fails) it quotes the bank's model answers."""
    if not question.strip():
        yield "Please ask a question."
        return
    hits = retrieve_for_question(svc, question)
    relevant = [(it, s) for it, s in hits if s >= COVERAGE_MIN]
    if not relevant:
        best = ", ".join(f"[{it.id}] {it.question}" for it, _ in hits[:3])
        yield ("The question bank does not cover this question, so I won't guess. "
               f"Closest entries: {best}" if best else "The question bank does not cover this question.")
        return
    context = "\n\n".join(f"[{it.id}] Q: {it.question}\nA: {it.best_answer}" for it, _ in relevant)
    llm = svc.llm
    if llm is not None:
        messages = render(svc.settings.prompts_dir, "ask", question=question, context=context)
        try:
            got_any = False
            for chunk in llm.stream(messages, 320):
                got_any = True
                yield chunk
            if got_any:
                cited = ", ".join(it.id for it, _ in relevant)
                yield f"\n\nSources: {cited}"
                return
        except BackendError as e:
            yield f"(LLM unavailable: {e}; quoting the bank instead)\n\n"
    for it, _ in relevant[:2]:
        yield f"[{it.id}] {it.question}\n{it.best_answer}\n\n"
    yield "Sources: " + ", ".join(it.id for it, _ in relevant)
