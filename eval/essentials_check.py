"""Is the d2 gap in the rubrics or in the claim checker? A diagnostic on d2 **dev** questions only.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 .venv/bin/python eval/essentials_check.py

``../shared/datasets/interview-essentials-d2.jsonl`` lists the 2-4 essential points the interviewer
who graded the d2 answers had in mind per question. Grading the d2 dev answers with those
essentials as the core key points (instead of the bank's authored core points) separates the two
causes of disagreement: if the interviewer's own essentials, read by the same claim checker, agree
better with the interviewer, the rubrics are the gap; if not, the checker's reading is. Nothing is
fitted or shipped; the test questions' rows are not graded. Writes
``eval/results/essentials-check.json``.

Variants (misconceptions, model answer, policy and calibration as shipped in every one):
- ``shipped``: the bank's rubric.
- ``essentials_core_keep_supporting``: core = the essentials; the bank's supporting points kept.
- ``essentials_core_all_bank_points_supporting``: core = the essentials; every bank point supporting.
- ``essentials_only``: the essentials are the only key points.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ESSENTIALS = ROOT.parent / "shared" / "datasets" / "interview-essentials-d2.jsonl"
OUT = ROOT / "eval" / "results" / "essentials-check.json"


def variants(rubric, essentials: list[str]) -> dict:
    from interviewer.bank.schema import KeyPoint

    ess = [KeyPoint.model_construct(id=f"kp{j + 1}", text=t, weight="core", compound_reason="", contrast="",
                                    phrasings=[]) for j, t in enumerate(essentials)]
    sup = [k for k in rubric.key_points if k.weight != "core"]
    n = len(ess)
    return {
        "shipped": rubric,
        "essentials_core_keep_supporting": rubric.model_copy(update={"key_points": ess + [
            k.model_copy(update={"id": f"kp{n + j + 1}"}) for j, k in enumerate(sup)]}),
        "essentials_core_all_bank_points_supporting": rubric.model_copy(update={"key_points": ess + [
            k.model_copy(update={"id": f"kp{n + j + 1}", "weight": "supporting"})
            for j, k in enumerate(rubric.key_points)]}),
        "essentials_only": rubric.model_copy(update={"key_points": ess}),
    }


def main() -> int:
    from scipy.stats import spearmanr

    from interviewer.evaluation.grading import TRIVIAL, load_d2, meta
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    essentials = {}
    for line in ESSENTIALS.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        essentials[r["item_id"]] = r["essentials"]
    items = dict(svc.bank.items)
    rows = [r for r in load_d2() if r["_split"] == "dev"]
    graded: dict[str, list[dict]] = {}
    counts = {}
    for r in rows:
        it = items[r["item_id"]]
        counts[it.id] = {"bank_core": sum(k.weight == "core" for k in it.rubric.key_points),
                         "bank_points": len(it.rubric.key_points), "essentials": len(essentials[it.id])}
        for name, rubric in variants(it.rubric, essentials[it.id]).items():
            g = svc.grader.rubric_grade(it.question, rubric, r["student_answer"])
            graded.setdefault(name, []).append({"id": r["id"], "style": r["style"], "human": float(r["score"]),
                                                "score": g.score, "raw": g.raw_score if g.raw_score is not None
                                                else g.score})
    table = {}
    for name, v in graded.items():
        sub = [x for x in v if x["style"] not in TRIVIAL]
        top = [x for x in sub if x["human"] >= 9]
        low = [x for x in sub if x["human"] <= 1]
        table[name] = {
            "substantive_n": len(sub),
            "substantive_spearman_raw": round(float(spearmanr([x["human"] for x in sub], [x["raw"] for x in sub])[0]), 3),
            "substantive_spearman_calibrated": round(float(spearmanr([x["human"] for x in sub],
                                                                     [x["score"] for x in sub])[0]), 3),
            "graded_9_plus_scoring_8_plus": f"{sum(x['score'] >= 8 for x in top)}/{len(top)}",
            "graded_1_or_less_scoring_2_or_less": f"{sum(x['score'] <= 2 for x in low)}/{len(low)}",
        }
        print(name, table[name])
    out = {"what": "d2 dev answers graded with the interviewer's essentials as core key points instead of the "
                   "bank's authored core points (same checker, policy and calibration): is the d2 gap in the "
                   "rubrics or in the checker's reading? Diagnostic only: nothing fitted or shipped; d2 test "
                   "questions not graded. The calibration was fitted on the shipped rubrics' raw scores, so "
                   "levels (the 9+/8+ counts) of the other variants are indicative; Spearman on raw is not "
                   "affected by it.",
           "variants": table, "items": counts, "rows": graded,
           "meta": meta(svc, "python eval/essentials_check.py", answers=len(rows))}
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
