"""Stage 1 of "Misconceptions the model answer states" (eval/README.md): how the flags on authored
misconceptions change when a flag whose quote the item's model answer entails is dropped
(``Policy.model_answer_clears``), against the per-misconception labels of dev answers — the design items'
hard answers (``claims/next/answers-hard-*.jsonl``, the ``hard_held_out`` items excluded) and
``claims/indep/`` (answers written from the question alone; the shipped checker trained on neither).
No evaluation set is read.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 python eval/misconception_clear_check.py [--out FILE]

The candidate was rejected at this stage and its code reverted: the script runs at the commit that
added it (``git log -- eval/misconception_clear_check.py``), where ``Policy.model_answer_clears`` exists.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from contradiction_status_check import labelled_dev_rows

    from interviewer.evaluation.grading import _git_sha, stored_verdicts
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    rows = [r for r in labelled_dev_rows() if r.get("misconceptions")]
    svc = Services(load_settings(llm={"mode": "none"}))
    base = svc.grader.policy
    flags: dict[bool, list[dict]] = {}
    try:
        with stored_verdicts(svc):
            for clears in (False, True):
                svc.grader.policy = dataclasses.replace(base, model_answer_clears=clears)  # type: ignore[call-arg]
                out = []
                for r in rows:
                    g = svc.grader.grade_item(svc.bank.items[r["item_id"]], r["answer"], use_llm=False)
                    made = {m.id for m in g.misconceptions}
                    out += [{"src": r["_src"], "style": r.get("style"), "item": r["item_id"], "mc": mid,
                             "label": label, "flagged": mid in made} for mid, label in r["misconceptions"].items()]
                flags[clears] = out
    finally:
        svc.grader.policy = base

    def summary(ps: list[dict]) -> dict:
        flagged = [p for p in ps if p["flagged"]]
        return {"misconceptions": len(ps), "labelled_stated": sum(p["label"] == "entailed" for p in ps),
                "flagged": len(flagged), "flagged_by_label": dict(collections.Counter(p["label"] for p in flagged))}

    res = {"what": "flags on authored misconceptions vs their dev labels, without and with Policy.model_answer_clears",
           "meta": {"git_sha": _git_sha(), "claim_checker": svc.checker.model_id, "precision": svc.checker.precision,
                    "command": "python eval/misconception_clear_check.py", "answers": len(rows)}}
    for clears, ps in flags.items():
        res["with_clear" if clears else "shipped"] = {src: summary([p for p in ps if p["src"] == src])
                                                      for src in ("hard_design", "indep")}
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
