"""The dev measure behind the numbers rule (eval/README.md, "Numbers in key points"): the grader over
the staged hard answers of the 76 design items (the 24 ``hard_held_out`` items are a test and are not
graded), with ``Policy.numbers`` off and on. Prints, per setting, (count, of, share) for:
- key points labelled *contradicted* in ``numbers_changed`` answers that the card shows as covered;
- key points labelled *entailed* in ``spoken_paraphrase`` and ``compact_expert`` answers not shown covered;
- misconceptions labelled *contradicted* (the answer states the correction) / *entailed* flagged as made
  (the measure behind the rejected misconception-numbers candidate, which had a ``--misconceptions``
  switch: git history, results/misconception-numbers-decision.json).

    INTERVIEWER_EMBEDDING__PRECISION=fp32 python eval/claims/numbers_rule_check.py [--out FILE]

(fp32, as the decision was measured; on a CPU with native bf16 the default would be bf16.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from train_claim_checker import hard_held_out

    from interviewer.evaluation.grading import stored_verdicts
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    rows = [json.loads(line) for f in sorted((HERE / "next").glob("answers-hard-*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if not hard_held_out(r["item_id"])]
    base, res = svc.grader.policy, {}
    with stored_verdicts(svc):
        for flag in (False, True):
            svc.grader.policy = dataclasses.replace(base, numbers=flag)
            wrong, right = [0, 0], [0, 0]
            made = {"contradicted": [0, 0], "entailed": [0, 0]}
            for r in rows:
                g = svc.grader.grade_item(svc.bank.items[r["item_id"]], r["answer"], use_llm=False)
                status = {k.id: k.status for k in g.key_points}
                hits = {m.id for m in g.misconceptions}
                for mid, label in r.get("misconceptions", {}).items():
                    if label in made:
                        made[label][0] += mid in hits
                        made[label][1] += 1
                for kid, label in r["key_points"].items():
                    if kid not in status:
                        continue
                    if r["style"] == "numbers_changed" and label == "contradicted":
                        wrong[0] += status[kid] == "covered"
                        wrong[1] += 1
                    if r["style"] in ("spoken_paraphrase", "compact_expert") and label == "entailed":
                        right[0] += status[kid] != "covered"
                        right[1] += 1
            res["numbers" if flag else "without"] = {
                "numbers_changed_contradicted_shown_covered": (*wrong, round(wrong[0] / wrong[1], 3)),
                "spoken_compact_entailed_not_shown_covered": (*right, round(right[0] / right[1], 3)),
                **{f"misconceptions_labelled_{lab}_flagged_made": (*v, round(v[0] / v[1], 3) if v[1] else None)
                   for lab, v in made.items()}}
    svc.grader.policy = base
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
