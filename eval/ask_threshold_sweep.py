"""Re-choose the Ask reranker threshold on the questions already read (eval/README.md, "Ask threshold
re-chosen"): the smallest observed confidence at which, on the dev, test and test-b … test-e questions
pooled, refusal recall is >= 0.9 and covered citation (any right item) >= 0.9. test-f is never read
here. Writes eval/results/ask-threshold-sweep.json.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 .venv/bin/python eval/ask_threshold_sweep.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interviewer.concepts import confidence, coverage_rule  # noqa: E402
from interviewer.evaluation import ask as ev  # noqa: E402
from interviewer.evaluation.grading import _git_sha  # noqa: E402
from interviewer.settings import load_settings  # noqa: E402
from interviewer.wiring import Services  # noqa: E402

RECALL, CITATION = 0.9, 0.9
PREVIOUS = 0.1


def main() -> None:
    svc = Services(load_settings())
    svc.ensure_index()
    # test-f decided it and is never read here; test-g … test-k came later
    rows = ev.read_before("test-f")
    ev.retrieve_rows(svc, rows)
    # the threshold in use when the rule was written (0.1): the sweep starts there, so it reproduces after
    # its choice was shipped as RERANK_MIN; and the rule as it was then (no lexical-support refusal)
    rule = dataclasses.replace(coverage_rule(svc), minimum=PREVIOUS, lexical_below=0.0)
    cands = sorted({round(confidence(r["_hits"]), 3) for r in rows if r["_hits"]} | {rule.minimum})
    table, chosen = [], None
    for t in cands:
        if t < rule.minimum:
            continue
        s = ev._score(rows, dataclasses.replace(rule, minimum=t))
        row = {"threshold": t, "refusal_recall": s["refusal_recall"], "refusal_precision": s["refusal_precision"],
               "covered_citation_any": s["covered"]["citation_correct_any"],
               "covered_answered": s["covered"]["answered"], "partly_answered": s["partly"]["answered"]}
        table.append(row)
        if chosen is None and row["refusal_recall"] >= RECALL and row["covered_citation_any"] >= CITATION:
            chosen = t
        if t > 0.6:
            break
    out = {"rule": f"smallest threshold with pooled refusal recall >= {RECALL} and covered citation (any) >= {CITATION}",
           "questions": len(rows), "splits": sorted({str(r.get("split")) for r in rows}),
           "n_covered": sum(r["kind"] == "covered" for r in rows), "n_partly": sum(r["kind"] == "partly" for r in rows),
           "n_not_covered": sum(r["kind"] == "not_covered" for r in rows),
           "threshold_in_use": rule.minimum, "chosen": chosen,
           "at_in_use": ev._score(rows, rule) | {"per_split": None},
           "sweep": table,
           "meta": {"git_sha": _git_sha(), "command": "python eval/ask_threshold_sweep.py",
                    "reranker": svc.reranker.model_id if svc.reranker is not None else None,
                    "precision": getattr(svc.embedder, "precision", None)}}
    dest = ROOT / "eval" / "results" / "ask-threshold-sweep.json"
    dest.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("chosen", chosen)
    for row in table[:40]:
        print(row)


if __name__ == "__main__":
    main()
