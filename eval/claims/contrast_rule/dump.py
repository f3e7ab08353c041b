"""Dev data for the contrast rule: per answer, per key point: checker credit, contrast credit, etc.
Sets: hard answers of the design items (not hard_held_out), d2 dev, own dev, held-in model answers (anchors)."""
import json, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]
, glob
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "eval"))
from train_claim_checker import hard_held_out
from interviewer.evaluation.grading import DEV_FILES, load_d2, load_own, stored_verdicts, held_out_items
from interviewer.grading.batch import grade_rows
from interviewer.grading.policy import Policy
from interviewer.settings import load_settings
from interviewer.wiring import Services
svc = Services(load_settings(llm={"mode": "none"}))
svc.grader.policy = Policy(hint_penalty=svc.settings.grading.hint_penalty, contrast_margin=0.0)
which = ["hard", "d2", "own", "anchors"]
sets = {}
if "hard" in which:
    hard = [json.loads(l) for f in sorted(glob.glob(str(ROOT / "eval/claims/next/answers-hard-*.jsonl"))) for l in open(f)]
    sets["hard"] = [{"id": r["item_id"], "question": svc.bank.items[r["item_id"]].question, "student_answer": r["answer"],
                     "category": r["style"], "labels": r["key_points"], "held": hard_held_out(r["item_id"])} for r in hard]
if "d2" in which:
    sets["d2"] = [r for r in load_d2() if r["_split"] == "dev"]
if "own" in which:
    sets["own"] = [r for r in load_own() if r["_file"] in DEV_FILES]
if "anchors" in which:
    ho = held_out_items()
    sets["anchors"] = [{"id": it.id, "question": it.question, "student_answer": it.rubric.model_answer, "score": 10, "category": "model_answer"}
                       for it in svc.bank.items.values() if it.rubric is not None and it.id not in ho]
out = []
with stored_verdicts(svc):
    for name, rows in sets.items():
        for g, r in zip(grade_rows(svc, rows), rows):
            out.append({"set": name, "id": r.get("id"), "cat": r.get("category") or "?", "held": r.get("held", False),
                        "labels": r.get("labels"),
                        "human": float(r["score"]) * 10 / float(r.get("score_max") or 10) if "score" in r else None,
                        "pred": g.score, "gate": g.gate, "cap": g.cap, "hits": len(g.misconceptions),
                        "kps": [{"id": k.id, "w": k.weight, "e": k.entailed, "p": k.partly, "c": k.contradicted, "sim": k.similarity,
                                 "k": (k.entailed or 0) + 0.5 * (k.partly or 0), "ct": k.contrast} for k in g.key_points]})
        print(name, len(rows), flush=True)
json.dump(out, open(ROOT / "data" / "contrast-rule-dump.json", "w"))
