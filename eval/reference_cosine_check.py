"""Choose the weight of the reference cosine in reference-only grading on the ASAG train files'
validation questions only (eval/README.md, "Reference-only grading with the reference's cosine").
Writes eval/results/reference-cosine-decision.json; reads no test split.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 .venv/bin/python eval/reference_cosine_check.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from fit_calibration import asag_validation_rows  # noqa: E402  (the validation questions the curve is fitted on)


def main() -> int:
    from interviewer.evaluation.grading import _git_sha
    from interviewer.grading import calibration
    from interviewer.grading.batch import grade_rows
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    val = asag_validation_rows()
    grades = grade_rows(svc, [{"question": r["question"], "reference_answer": r["reference_answer"],
                               "student_answer": r["student_answer"]} for r in val], use_bank=False)
    rows = [(r, g) for r, g in zip(val, grades, strict=True) if g.raw_score is not None]
    refs = svc.embedder.embed([r["reference_answer"] for r, _ in rows])
    ans = svc.embedder.embed([" ".join(r["student_answer"].split()) for r, _ in rows])
    cos = np.sum(refs * ans, axis=1)
    raw = np.array([g.raw_score for _, g in rows])
    human = np.array([10.0 * float(r["score"]) / float(r["score_max"] or 1) for r, _ in rows])
    qs = sorted({r["_q"] for r, _ in rows})
    order = sorted(qs, key=lambda q: hashlib.sha256(q.encode()).hexdigest())  # questions dealt into 5 folds
    fold = {q: i % 5 for i, q in enumerate(order)}
    f = np.array([fold[r["_q"]] for r, _ in rows])
    table = []
    for alpha in [round(0.1 * i, 1) for i in range(10)]:
        x = (1 - alpha) * raw + alpha * 10.0 * np.maximum(0.0, cos)
        pred = np.zeros_like(x)
        for k in range(5):
            tr, te = f != k, f == k
            knots = calibration.fit(list(x[tr]), list(human[tr]), min_block=20)
            pred[te] = np.interp(x[te], [a for a, _ in knots], [b for _, b in knots])
        table.append({"alpha": alpha, "pearson_cross_fitted": round(float(np.corrcoef(pred, human)[0, 1]), 4),
                      "pearson_uncalibrated": round(float(np.corrcoef(x, human)[0, 1]), 4)})
        print(table[-1])
    best = max(table, key=lambda t: t["pearson_cross_fitted"])
    base = table[0]["pearson_cross_fitted"]
    out = {"rule": "adopt the best alpha if its cross-fitted Pearson beats alpha = 0 by >= 0.02 (validation questions only)",
           "rows": len(rows), "questions": len(qs), "cosine_alone_pearson": round(float(np.corrcoef(cos, human)[0, 1]), 4),
           "table": table, "best": best, "adopt": best["pearson_cross_fitted"] >= base + 0.02,
           "meta": {"git_sha": _git_sha(), "command": "python eval/reference_cosine_check.py",
                    "claim_checker": svc.checker.model_id, "precision": svc.checker.precision}}
    (ROOT / "eval" / "results" / "reference-cosine-decision.json").write_text(json.dumps(out, indent=1) + "\n")
    print("best", best, "adopt", out["adopt"], "cosine alone", out["cosine_alone_pearson"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
