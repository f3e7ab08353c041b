"""Grades as text/Markdown for the terminal, the UI and reports."""

from __future__ import annotations

from interviewer.grading.models import Grade

_ICON = {"covered": "✔", "partial": "◐", "missing": "✘", "contradicted": "⚠"}


def grade_to_markdown(g: Grade, reveal_model_answer: bool = True) -> str:
    lines = [f"### Score: {g.score:.1f} / 10", f"*{g.label}; rubric {g.rubric_origin}*"]
    if g.llm_score is not None:
        lines.append(f"*rubric {g.rubric_score:.1f}, LLM judge {g.llm_score:.0f}*")
    if g.hint_penalty:
        lines.append(f"*hint used: −{g.hint_penalty:.1f}*")
    if g.gate:
        lines.append(f"**Capped: {g.gate}.**")
    for f in g.flags:
        lines.append(f"> ⚠ {f}")
    if g.key_points:
        lines.append("\n**Key points**")
        for k in g.key_points:
            ev = f' — "{k.evidence}"' if k.evidence else ""
            lines.append(f"- {_ICON[k.status]} **{k.status}** ({k.weight}) {k.text}{ev}")
    if g.misconceptions:
        lines.append("\n**Misconceptions**")
        for m in g.misconceptions:
            lines.append(f'- ✘ "{m.evidence}" — {m.correction}')
    if g.feedback:
        lines.append(f"\n{g.feedback}")
    if g.llm_feedback:
        lines.append(f"\nLLM judge: {g.llm_feedback}")
    if reveal_model_answer and g.model_answer:
        lines.append(f"\n**Model answer**\n\n{g.model_answer}")
    return "\n".join(lines)


def grade_to_text(g: Grade) -> str:
    return grade_to_markdown(g).replace("**", "").replace("### ", "")
