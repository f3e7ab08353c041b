"""The rule "A misconception's quote must state it" (eval/README.md), on dev data only: with the shipped
policy and with ``Policy.misconception_quote`` on (calibration.json as committed, not refitted),

- stage 1: the flags on authored misconceptions against their dev labels (the design items' hard
  answers without the held-out hard items, and ``claims/indep/``; as ``misconception_clear_check.py``);
- stage 2: ``dev_grading.py``'s numbers (own dev and d2 dev rows) and the held-in model answers (items no
  evaluation set uses, each graded against its own rubric) below 9.

No test row and no held-out item's model answer is graded. Both candidates were rejected at stage 1 and
their code reverted: ``--candidate quote`` runs at the commit that added the script, ``--candidate span`` at
the commit that added that option (``git log -- eval/misconception_quote_check.py``), where
``Policy.misconception_quote`` / ``Policy.misconception_span`` exist.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 python eval/misconception_quote_check.py [--out FILE]
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

RULE = ("eval/README.md, 'A misconception's quote must state it' (2026-12-05): stage 1 goes on only if flags on "
        "misconceptions labelled not stated or contradicted fall by >= 30 % and flags on those labelled stated "
        "fall by <= 4; stage 2 adopts only if, on dev rows with the committed calibration, d2 dev substantive "
        "Spearman falls <= 0.005, own dev substantive <= 0.01, d2 dev graded >= 9 scoring >= 8 and graded <= 1 "
        "scoring <= 2 do not fall, and held-in model answers below 9 do not rise")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--candidate", choices=("quote", "span"), default="quote",
                    help="quote: Policy.misconception_quote (the first rule); span: Policy.misconception_span")
    args = ap.parse_args(argv)

    from contradiction_status_check import labelled_dev_rows

    from interviewer.evaluation.grading import (
        DEV_FILES,
        _git_sha,
        d2_checks,
        held_out_items,
        load_d2,
        load_own,
        report,
        stored_verdicts,
    )
    from interviewer.grading.batch import grade_rows
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    labelled = [r for r in labelled_dev_rows() if r.get("misconceptions")]
    svc = Services(load_settings(llm={"mode": "none"}))
    base = svc.grader.policy
    held_in = sorted(i for i in svc.bank.items if i not in held_out_items())
    own = [r for r in load_own() if r["_file"] in DEV_FILES]
    d2 = [r for r in load_d2() if r["_split"] == "dev"]
    res: dict = {"rule": RULE if args.candidate == "quote" else RULE.replace(
        "'A misconception's quote must state it'", "'A misconception must be stated in some span'"), "meta": {"git_sha": _git_sha(), "claim_checker": svc.checker.model_id,
                                        "precision": svc.checker.precision,
                                        "command": "python eval/misconception_quote_check.py --candidate "
                                                   + args.candidate,
                                        "labelled_answers": len(labelled), "held_in_items": len(held_in)}}
    try:
        with stored_verdicts(svc):
            field = f"misconception_{args.candidate}"
            for name, on in (("shipped", False), (args.candidate, True)):
                svc.grader.policy = dataclasses.replace(base, **{field: on})  # each field exists only at its candidate's commit
                flags = []
                for r in labelled:
                    g = svc.grader.grade_item(svc.bank.items[r["item_id"]], r["answer"], use_llm=False)
                    made = {m.id for m in g.misconceptions}
                    flags += [{"src": r["_src"], "label": "stated" if label in ("entailed", "stated") else label,
                               "flagged": mid in made} for mid, label in r["misconceptions"].items()]
                out: dict = {"stage1": {src: {"misconceptions": sum(f["src"] == src for f in flags),
                                              "flagged_by_label": dict(collections.Counter(
                                                  f["label"] for f in flags if f["src"] == src and f["flagged"]))}
                                        for src in ("hard_design", "indep")}}
                fl = collections.Counter(f["label"] for f in flags if f["flagged"])
                out["stage1"]["flags_stated"] = fl["stated"]
                out["stage1"]["flags_not_stated_or_contradicted"] = fl["not_stated"] + fl["contradicted"]
                for set_name, rows in (("own_dev", own), ("d2_dev", d2)):
                    grades = grade_rows(svc, rows, use_llm=False)
                    y = [float(r["score"]) * 10.0 / float(r.get("score_max") or 10) for r in rows]
                    p = [g.score for g in grades]
                    cats = [r.get("category") or "unlabelled" for r in rows]
                    rep = report(y, p, cats)
                    out[set_name] = {"substantive_spearman": rep["substantive"]["spearman"]}
                    if set_name == "d2_dev":
                        out[set_name]["interviewer_bar"] = d2_checks(y, p, cats)
                        out[set_name]["moved"] = [{"id": r["item_id"], "category": r.get("category"),
                                                   "human": yy, "predicted": pp} for r, yy, pp in zip(rows, y, p, strict=True)]
                low = []
                for iid in held_in:
                    item = svc.bank.items[iid]
                    g = svc.grader.grade_item(item, item.rubric.model_answer, use_llm=False)
                    if g.score < 9:
                        low.append({"id": iid, "score": g.score})
                out["held_in_model_answers_below_9"] = low
                res[name] = out
    finally:
        svc.grader.policy = base

    s, q = res["shipped"], res[args.candidate]
    a, b = s["stage1"], q["stage1"]
    fell = a["flags_not_stated_or_contradicted"] - b["flags_not_stated_or_contradicted"]
    stage1 = (fell >= 0.3 * a["flags_not_stated_or_contradicted"]
              and a["flags_stated"] - b["flags_stated"] <= 4)

    keys = list(s["d2_dev"]["interviewer_bar"])
    stage2 = (q["d2_dev"]["substantive_spearman"] >= s["d2_dev"]["substantive_spearman"] - 0.005
              and q["own_dev"]["substantive_spearman"] >= s["own_dev"]["substantive_spearman"] - 0.01
              and len(q["held_in_model_answers_below_9"]) <= len(s["held_in_model_answers_below_9"]))
    res["interviewer_bar_keys"] = keys
    res["stage1_passes"] = bool(stage1)
    res["stage2_passes_without_bar"] = bool(stage2)
    print(json.dumps({k: v for k, v in res.items()}, indent=1, default=str)[:6000])
    if args.out:
        args.out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
