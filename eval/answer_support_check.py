"""Dev rows only: does the model answer support what an answer says? A diagnostic, not a grader change.

    python eval/answer_support_check.py [--out eval/results/answer-support-check.json]

The grader reads recall: which key points an answer states. A confidently wrong answer in the rubric's
words scores well on that. This measures the other direction on the dev rows (the own set's
labelled-s1/s2 and the d2 dev questions, substantive rows, not gated): each answer sentence (4 words or
more) is checked by the claim checker as a claim against the item's model answer, and summarised per
answer (mean entailment, least-entailed sentence, largest contradiction, share of sentences entailed
below 0.5). Reported: each feature's Spearman correlation with the human grade, and with the human
grade's residual after a straight-line fit on the shipped score (does it add anything the grade does
not already hold?), and the per-category means. eval/README.md, "Does the model answer support the
answer's sentences?".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = ("ent_mean", "ent_min", "con_max", "unsupported")


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 4]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "answer-support-check.json")
    args = ap.parse_args(argv)

    import numpy as np
    from scipy.stats import spearmanr

    from interviewer.evaluation.grading import TRIVIAL, dev_sets, human_scores, stored_verdicts
    from interviewer.grading.batch import grade_rows
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    out: dict = {"claim_checker": svc.checker.model_id, "command": "python eval/answer_support_check.py"}
    with stored_verdicts(svc):
        for name, rows in dev_sets():
            rows = [r for r in rows if (r.get("category") or "") not in TRIVIAL]
            grades = grade_rows(svc, rows, use_llm=False)
            feats = []
            for r, g, human in zip(rows, grades, human_scores(rows), strict=True):
                ss = sentences(r.get("student_answer") or r.get("answer") or "")
                if g.gate or not ss:
                    continue
                vs = svc.checker.check_pairs([(s, svc.bank.items[r["id"]].rubric.model_answer) for s in ss])
                ent = [v.entailed for v in vs]
                feats.append({"category": r.get("category"), "human": human,
                              "score": g.score, "ent_mean": float(np.mean(ent)), "ent_min": float(np.min(ent)),
                              "con_max": float(max(v.contradicted for v in vs)),
                              "unsupported": float(np.mean([e < 0.5 for e in ent]))})
            y = np.array([f["human"] for f in feats])
            p = np.array([f["score"] for f in feats])
            resid = y - np.poly1d(np.polyfit(p, y, 1))(p)
            res: dict = {"n": len(feats), "spearman_score": round(float(spearmanr(y, p)[0]), 3), "features": {}}
            for k in FEATURES:
                x = np.array([f[k] for f in feats])
                res["features"][k] = {"spearman_human": round(float(spearmanr(y, x)[0]), 3),
                                      "spearman_residual": round(float(spearmanr(resid, x)[0]), 3)}
            res["per_category"] = {c: {"n": len(fs), **{k: round(float(np.mean([f[k] for f in fs])), 3)
                                                        for k in ("human", "score", *FEATURES)}}
                                   for c in sorted({f["category"] for f in feats})
                                   for fs in [[f for f in feats if f["category"] == c]]}
            out[name] = res
    print(json.dumps(out, indent=1))
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
