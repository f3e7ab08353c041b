"""Choose the Ask lexical-support rule's two constants on the questions already read (eval/README.md,
"Ask lexical support"): over a fixed grid, the pair that refuses the most uncovered questions of the
552 read ones (dev, test, test-b … test-f) while covered citation (any right item) loses at most one
question and partly covered questions answered fall by at most ten. test-g is never read here.
Writes eval/results/ask-lexical-sweep.json.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 .venv/bin/python eval/ask_lexical_sweep.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interviewer.concepts import coverage_rule  # noqa: E402
from interviewer.evaluation import ask as ev  # noqa: E402
from interviewer.evaluation.grading import _git_sha  # noqa: E402
from interviewer.settings import load_settings  # noqa: E402
from interviewer.wiring import Services  # noqa: E402

BELOW = (0.2, 0.3, 0.45, 0.6)
MINIMUM = (0.15, 0.2, 0.25, 0.3, 0.35)
COVERED_LOSS, PARTLY_LOSS = 1, 10
OUT = ROOT / "eval" / "results" / "ask-lexical-sweep.json"


def counts(rows: list[dict], rule) -> dict:
    s = ev._score(rows, rule)
    refused_uncovered = sum(ev.refuses(r, rule) for r in rows if r["kind"] == "not_covered")
    cov, part = s["covered"], s["partly"]
    return {"uncovered_refused": refused_uncovered, "refusal_recall": s["refusal_recall"],
            "refusal_precision": s["refusal_precision"],
            "covered_citation_any": round(cov["citation_correct_any"] * cov["n"]), "covered_answered": cov["answered"],
            "partly_answered": part["answered"]}


def main() -> None:
    svc = Services(load_settings())
    svc.ensure_index()
    rows = ev.read_before("test-g")  # test-g decides; later sets came after it
    ev.retrieve_rows(svc, rows)
    off = dataclasses.replace(coverage_rule(svc), lexical_below=0.0)
    base = counts(rows, off)
    table, chosen = [], None
    for m in MINIMUM:  # ties: the smaller minimum first, then the smaller "below"
        for b in BELOW:
            c = counts(rows, dataclasses.replace(off, lexical_below=b, lexical_min=m))
            ok = (c["covered_citation_any"] >= base["covered_citation_any"] - COVERED_LOSS
                  and c["partly_answered"] >= base["partly_answered"] - PARTLY_LOSS)
            table.append({"lexical_below": b, "lexical_min": m, "allowed": ok, **c})
            if ok and c["uncovered_refused"] > (chosen or base)["uncovered_refused"]:
                chosen = table[-1]
            print(table[-1])
    out = {"rule": (f"most uncovered questions refused, with covered citation (any) losing <= {COVERED_LOSS} question "
                    f"and partly answered falling by <= {PARTLY_LOSS}; ties to the smaller lexical_min, then lexical_below"),
           "questions": len(rows), "splits": sorted({str(r.get("split")) for r in rows}),
           "n_covered": sum(r["kind"] == "covered" for r in rows), "n_partly": sum(r["kind"] == "partly" for r in rows),
           "n_not_covered": sum(r["kind"] == "not_covered" for r in rows),
           "without_rule": base, "chosen": chosen, "grid": table,
           "meta": {"git_sha": _git_sha(), "command": "python eval/ask_lexical_sweep.py",
                    "reranker": svc.reranker.model_id if svc.reranker is not None else None,
                    "precision": getattr(svc.embedder, "precision", None)}}
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("chosen:", chosen)


if __name__ == "__main__":
    main()
