"""Fit the calibration curves (raw policy score -> human 0-10) and write
``interviewer/grading/calibration.json``.

    python eval/fit_calibration.py

What is fitted on what (also in eval/README.md):
- ``authored`` (bank rubrics): the dev rows only — this project's labelled-s1/s2 and the dev
  questions of the independent interview answers (d2, split by question in
  eval/claims/splits.json). Never the test files labelled-s3/s4 or the d2 test questions.
- ``reference`` (rubrics derived from a reference answer): the validation questions of the ASAG
  *train* files (10 % of questions, held out of the claim checker's training by the same rule),
  scaled to 0-10. Never an official test split.
  Plus anchors (added 2026-12-02): the bank's own model answers, graded against their own rubric,
  are answers an interviewer gives 10 — the rubric was written from them. The model answers of
  items that no evaluation set uses (all but the 88 in eval/claims/splits.json) enter the authored
  fit as (raw, 10) with a total weight equal to the human rows' (each anchor weighs
  n_human / n_anchors), so they set the top of the curve without outvoting the people. The 88
  held-out items' model answers stay a test (``interviewer eval grading --set model-answers``
  reports them separately).
Gated answers (empty, gibberish, off-topic, ...) have no raw score and are not used.
The (raw, human) pairs are written to eval/results/calibration-inputs.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def asag_validation_rows() -> list[dict[str, Any]]:
    """The ASAG train files' validation questions (a tenth, by a hash of dataset and question id; the
    claim checker never trained on them): what the ``reference`` curve is fitted on. Each row gets
    ``_q``, its dataset-qualified question id."""
    from interviewer.evaluation.grading import ASAG

    val = []
    for name in ("scientsbank", "beetle", "saf"):
        for line in (ASAG / f"{name}-train.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            q = f"{name}:{r['question_id']}"
            if int(hashlib.sha256(q.encode()).hexdigest(), 16) % 10 == 0:
                val.append(r | {"_q": q})
    return val


CORE_SHARE = 0.85  # the policy: core points decide the grade, supporting points add a little (not fitted)


def fit_weights(feats: list[dict[str, float]], human: list[float]) -> dict[str, float]:
    """The policy's shape is fixed (core 85 %, supporting 15 % of the coverage score); what is fitted
    on the dev rows is how much to trust each signal (claim checker vs embedding similarity, one mix
    α on a grid) and the cost of a stated error, with non-negative least squares:
    human ≈ s·10·(0.85·C_α + 0.15·S_α) − w_c·contradicted − w_m·misconceptions + bias."""
    import numpy as np
    from scipy.optimize import nnls

    y = np.array(human)
    best = None
    for a in np.linspace(0.0, 1.0, 21):
        cov = [CORE_SHARE * (a * f["checker_core"] + (1 - a) * f["embedding_core"])
               + (1 - CORE_SHARE) * (a * f["checker_supporting"] + (1 - a) * f["embedding_supporting"]) for f in feats]
        A = np.array([[10 * c, -f["contradicted_core"], -f["misconceptions"], 1.0] for c, f in zip(cov, feats, strict=True)])
        w, res = nnls(A, y)
        if best is None or res < best[0]:
            best = (res, float(a), w)
    _, a, w = best
    scale, wc, wm, bias = (float(x) for x in w)
    return {"checker_core": round(scale * CORE_SHARE * a, 4), "embedding_core": round(scale * CORE_SHARE * (1 - a), 4),
            "checker_supporting": round(scale * (1 - CORE_SHARE) * a, 4),
            "embedding_supporting": round(scale * (1 - CORE_SHARE) * (1 - a), 4),
            "contradicted_core": round(float(wc), 4), "misconceptions": round(float(wm), 4),
            "bias": round(float(bias), 4), "checker_share": round(a, 2)}


def main() -> int:
    from interviewer.evaluation.grading import stored_verdicts
    from interviewer.grading import calibration
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    saved = calibration.CURVES.with_suffix(".json.previous")
    if calibration.CURVES.exists():
        calibration.CURVES.replace(saved)  # fit from the defaults: no curve, default weights
    calibration.curves.cache_clear()
    calibration.fitted_weights.cache_clear()
    try:
        svc = Services(load_settings(llm={"mode": "none"}))
        with stored_verdicts(svc):
            inputs = _grade_inputs(svc)
    except BaseException:
        if saved.exists():
            saved.replace(calibration.CURVES)
        raise
    saved.unlink(missing_ok=True)
    return _write(svc, *inputs)


def _grade_inputs(svc: Any) -> tuple[dict, list, list, list, list]:
    """Grade the dev rows, the anchors and the ASAG validation rows from the default curve."""
    from interviewer.evaluation.grading import dev_sets, held_in_items, human_scores, model_answer_rows
    from interviewer.grading.batch import grade_rows
    from interviewer.grading.policy import Policy

    dev = [r for _, rows in dev_sets() for r in rows]
    human = human_scores(dev)
    grades = grade_rows(svc, dev)
    used = [(g.features, h) for g, h in zip(grades, human, strict=True) if g.features is not None]
    weights = fit_weights([f for f, _ in used], [h for _, h in used])
    # raw scores with the fitted weights (no curve yet), then the curves; the checker's verdicts
    # do not depend on the weights, so its cache stays
    svc.grader.policy = Policy(hint_penalty=svc.settings.grading.hint_penalty, weights=weights,
                               phrasings=svc.settings.grading.phrasings)
    grades = grade_rows(svc, dev)
    auth = [(g.raw_score, h) for g, h in zip(grades, human, strict=True) if g.raw_score is not None]
    ag = grade_rows(svc, model_answer_rows(held_in_items(svc.bank)))
    anchors = [(g.raw_score, 10.0) for g in ag if g.raw_score is not None]
    val = asag_validation_rows()
    vg = grade_rows(svc, [{"question": r["question"], "reference_answer": r["reference_answer"],
                           "student_answer": r["student_answer"]} for r in val], use_bank=False)
    ref = [(g.raw_score, 10.0 * float(r["score"]) / float(r["score_max"] or 1))
           for r, g in zip(val, vg, strict=True) if g.raw_score is not None]
    return weights, used, auth, anchors, ref


def fit_curves(auth: list, anchors: list, ref: list) -> dict[str, tuple[tuple[float, float], ...]]:
    """The two curves from (raw, human) pairs: ``authored`` from the dev rows plus the anchors (together
    weighing as much as the dev rows), ``reference`` from the ASAG validation rows."""
    from interviewer.grading import calibration

    return {"authored": calibration.fit([a for a, _ in auth + anchors], [b for _, b in auth + anchors],
                                        weight=[1.0] * len(auth) + [len(auth) / len(anchors)] * len(anchors)),
            "reference": calibration.fit([a for a, _ in ref], [b for _, b in ref], min_block=20)}


def _write(svc: Any, weights: dict, used: list, auth: list, anchors: list, ref: list) -> int:
    from interviewer.evaluation.grading import _git_sha
    from interviewer.grading import calibration

    knots = fit_curves(auth, anchors, ref)
    curves = {
        "authored": {"knots": knots["authored"],
                     "n": len(auth), "anchors": len(anchors),
                     "fitted_on": "eval/grading/labelled-s1.jsonl, labelled-s2.jsonl (dev) + d2 dev questions; "
                                  "anchors: model answers of the items no evaluation set uses (= 10, total weight "
                                  "equal to the human rows')"},
        "reference": {"knots": knots["reference"],
                      "n": len(ref), "fitted_on": "ASAG train files, validation questions (sha256 rule), "
                                                  "scores scaled to 0-10"},
    }
    out = {"what": "scoring-policy weights and isotonic calibration curves (raw policy score -> human 0-10), "
                   "fitted by eval/fit_calibration.py on dev rows only",
           "git_sha": _git_sha(), "claim_checker": svc.checker.model_id,
           "policy_weights": {"weights": weights, "n": len(used), "fitted_on": curves["authored"]["fitted_on"],
                              "method": "non-negative least squares on dev rows that pass the gates"},
           "curves": curves}
    calibration.CURVES.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    (ROOT / "eval" / "results" / "calibration-inputs.json").write_text(
        json.dumps({"policy_features": used, "authored": auth, "anchors": anchors, "reference": ref}) + "\n", encoding="utf-8")
    print("weights", weights)
    for k, v in curves.items():
        print(k, v["n"], v["knots"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
