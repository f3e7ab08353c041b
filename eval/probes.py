"""Two probes the README's "Known limits" quote, as committed results (not evaluations: a handful
of cases each, read by hand; nothing is chosen on them).

    python eval/probes.py   →   eval/results/probes.json

1. ``concise_dropout``: a correct one-sentence dropout answer with a semicolon, graded against
   004-048's rubric — the score and each key point's status and P(contradicted).
2. ``ask_llm_paragraphs``: ``ask --llm`` with the bundled GGUF on the first nine covered dev
   questions of eval/ask/questions.jsonl — each paragraph, every sentence's P(entailed) by the claim
   checker against the cited entries' model answers, and the statements a by-hand reading marked
   as not made (or contradicted) by the entries (``eval/ask/llm-paragraph-labels.json``).
   Generation is greedy (temperature 0, fixed seed), so the paragraphs repeat on the same CPU build.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONCISE_DROPOUT = ("Dropout randomly zeroes units while training so they cannot co-adapt; "
                   "at test time nothing is dropped.")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def main() -> int:
    from interviewer.concepts import LLM_PART, answer_question, confident, coverage_rule, retrieve_for_question
    from interviewer.evaluation.grading import meta
    from interviewer.llm.registry import local_backend
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    svc.ensure_index()
    g = svc.grader.grade_item(svc.bank.get("004-048"), CONCISE_DROPOUT, use_llm=False)
    dropout = {"answer": CONCISE_DROPOUT, "score": g.score,
               "key_points": [{"id": k.id, "weight": k.weight, "status": k.status, "contradicted": k.contradicted}
                              for k in g.key_points]}

    labels = json.loads((ROOT / "eval" / "ask" / "llm-paragraph-labels.json").read_text(encoding="utf-8"))["labels"]
    qs = [json.loads(x) for x in (ROOT / "eval" / "ask" / "questions.jsonl").read_text().splitlines() if x.strip()]
    qs = [q for q in qs if q.get("split") == "dev" and q.get("kind") == "covered"][:9]
    llm = local_backend(svc.settings)
    svc.llm = llm
    rows = []
    for q in qs:
        text = "".join(answer_question(svc, q["question"], llm=True))
        at = text.find(LLM_PART.strip())
        paragraph = text[at:].split(":** ", 1)[-1].strip() if at >= 0 else ""
        cited = confident(retrieve_for_question(svc, q["question"]), coverage_rule(svc))
        entries = " ".join(it.rubric.model_answer for it, _ in cited if it.rubric)
        sents = [s for s in _SENT.split(paragraph) if s.strip()]
        verdicts = svc.checker.check(sents, entries) if sents and entries else []
        rows.append({"question": q["question"], "cited": [it.id for it, _ in cited], "paragraph": paragraph,
                     "sentences": [{"text": s, "entailed": round(v.entailed, 3)} for s, v in zip(sents, verdicts,
                                                                                                 strict=True)],
                     "not_in_entries": next((v for k, v in labels.items() if q["question"].startswith(k)), None)})
    marked = [r for r in rows if r["not_in_entries"]]
    flagged = [s for r in marked for s in r["sentences"] if any(x in s["text"] or s["text"] in x
                                                                for x in r["not_in_entries"])]
    out = {"concise_dropout": dropout,
           "ask_llm_paragraphs": {"model": llm.name, "questions": len(rows),
                                  "paragraphs_with_statements_not_in_entries": len(marked),
                                  "unlabelled": sum(r["not_in_entries"] is None for r in rows),
                                  "marked_sentences_entailed_by_checker": sum(s["entailed"] >= 0.5 for s in flagged),
                                  "marked_sentences": len(flagged), "rows": rows},
           "meta": meta(svc, "python eval/probes.py")}
    dest = ROOT / "eval" / "results" / "probes.json"
    dest.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    a = out["ask_llm_paragraphs"]
    print(f"dropout: {g.score}; paragraphs with statements not in the entries: "
          f"{a['paragraphs_with_statements_not_in_entries']}/{a['questions']} (unlabelled {a['unlabelled']}); "
          f"marked sentences the checker reads as entailed: {a['marked_sentences_entailed_by_checker']}/"
          f"{a['marked_sentences']} → {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
