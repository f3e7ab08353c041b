"""Does the claim checker read truth, or only topic? Minimal pairs answer that without labels.

    python eval/claims/contrast_gap.py [--checker DIR]   →   eval/results/contrast-gap[-<checker id>].json
    python eval/claims/contrast_gap.py --checker DIR --dev-only   (prints dev items only; for decision rules)

Every key point has a contrast (``knowledge/contrasts/``): a false minimal edit of it in its own
words. A checker that reads truth credits the point and not its contrast in an answer that states
the point, and the reverse in one that states the wrong version. Measured, with the checker reading
each answer as ``baseline.py`` does (the whole answer, in windows; the strongest evidence wins):

- ``model_answers``: every authored model answer against its own key points and their contrasts —
  all true, so the contrast should get little credit;
- ``hard_answers``: the staged answers in ``next/`` with per-point labels — how well the point's
  credit alone, and its credit minus the contrast's, separate points labelled entailed from points
  labelled contradicted (ROC AUC; 0.5 = no signal);
- ``misconception_pairs``: the authored misconceptions and their corrections as the other minimal
  pair, on the same answers (labelled: the answer states the misconception / its correction).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "eval" / "results" / "contrast-gap.json"


def auc(pos: list[float], neg: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties count half."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


def main(argv: list[str] | None = None) -> int:
    import argparse

    from interviewer.evaluation.grading import _git_sha, stored_verdicts
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    ap = argparse.ArgumentParser()
    ap.add_argument("--checker", type=Path, default=None, help="a claim-checker directory (default: the shipped one)")
    ap.add_argument("--dev-only", action="store_true",
                    help="leave out the 24 hard_held_out items (a test set) and print without writing a file: "
                         "what a decision rule may read")
    args = ap.parse_args(argv)
    if args.checker:  # as eval/dev_grading.py takes a candidate: through the setting, the rest unchanged
        os.environ["INTERVIEWER_GRADING__CHECKER_PATH"] = str(args.checker)
    svc = Services(load_settings(llm={"mode": "none"}))
    checker, bank = svc.checker, svc.bank
    items = {i.id: i for i in bank.items.values() if i.rubric is not None}
    out: dict = {}
    with stored_verdicts(svc):
        k_ma, c_ma = [], []
        if args.dev_only:  # the held-in items only (the calibration's anchors); the 88 held-out ones are a test
            from interviewer.evaluation.grading import held_out_items

            held_out = held_out_items()
            items = {i: it for i, it in items.items() if i not in held_out}
        for it in items.values():
            kps = [k for k in it.rubric.key_points if k.contrast]
            vs = checker.check([k.text for k in kps] + [k.contrast for k in kps], it.rubric.model_answer)
            k_ma += [v.credit for v in vs[:len(kps)]]
            c_ma += [v.credit for v in vs[len(kps):]]
        gaps = [a - b for a, b in zip(k_ma, c_ma, strict=True)]
        out["model_answers"] = {
            "items": len(items), "key_points": len(k_ma), "point_credit_mean": mean(k_ma),
            "contrast_credit_mean": mean(c_ma),
            "contrast_credited_share": round(sum(c >= 0.5 for c in c_ma) / len(c_ma), 3),
            "told_apart_share": round(sum(g >= 0.2 for g in gaps) / len(gaps), 3),
            "what": "each model answer against its own key points (true) and their contrasts (false); "
                    "contrast_credited_share: contrasts with credit >= 0.5; told_apart_share: points whose credit "
                    "exceeds their contrast's by >= 0.2"}

        rows = [json.loads(line) for f in sorted((HERE / "next").glob("answers-hard-*.jsonl"))
                for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        sys.path.insert(0, str(ROOT / "eval"))
        from train_claim_checker import hard_held_out

        mis: dict[str, list[tuple[float, float]]] = {"entailed": [], "contradicted": [], "not_stated": []}
        by_set: dict[str, dict[str, list[tuple[float, float]]]] = {"design": {}, "hard_held_out": {}}
        if args.dev_only:
            rows = [r for r in rows if not hard_held_out(r["item_id"])]
        for r in rows:
            it = items[r["item_id"]]
            part = by_set["hard_held_out" if hard_held_out(it.id) else "design"]
            kps = {k.id: k for k in it.rubric.key_points if k.contrast}
            ids = [i for i in r["key_points"] if i in kps]
            vs = checker.check([kps[i].text for i in ids] + [kps[i].contrast for i in ids], r["answer"])
            for n, i in enumerate(ids):
                part.setdefault(r["key_points"][i], []).append((vs[n].credit, vs[len(ids) + n].credit))
            mcs = {m.id: m for m in it.rubric.misconceptions}
            mids = [i for i in r.get("misconceptions", {}) if i in mcs]
            vm = checker.check([mcs[i].text for i in mids] + [mcs[i].correction for i in mids], r["answer"])
            for n, i in enumerate(mids):
                mis.setdefault(r["misconceptions"][i], []).append((vm[n].entailed, vm[len(mids) + n].entailed))
        labels = dict.fromkeys(["entailed", "contradicted", "not_stated", *by_set["design"], *by_set["hard_held_out"]])
        pts = {lab: by_set["design"].get(lab, []) + by_set["hard_held_out"].get(lab, []) for lab in labels}
        ent, con = pts["entailed"], pts["contradicted"]
        out["hard_answers"] = {
            "answers": len(rows),
            "per_label": {lab: {"points": len(v), "point_credit_mean": mean([a for a, _ in v]),
                                "contrast_credit_mean": mean([b for _, b in v]),
                                "contrast_at_least_point_share": round(sum(b >= a for a, b in v) / len(v), 3) if v else None}
                          for lab, v in pts.items()},
            "auc_entailed_vs_contradicted_point_credit": auc([a for a, _ in ent], [a for a, _ in con]),
            "auc_entailed_vs_contradicted_credit_minus_contrast": auc([a - b for a, b in ent], [a - b for a, b in con]),
            "per_item_set": {
                name: {"auc_point_credit": auc([a for a, _ in v.get("entailed", [])],
                                               [a for a, _ in v.get("contradicted", [])]),
                       "auc_credit_minus_contrast": auc([a - b for a, b in v.get("entailed", [])],
                                                        [a - b for a, b in v.get("contradicted", [])])}
                for name, v in by_set.items()},
            "what": "points labelled entailed vs contradicted, separated by the point's credit alone and by its credit "
                    "minus its contrast's (0.5 = no signal); per_item_set: the 76 design items (dev for a checker "
                    "trained without --with-hard) and the 24 hard_held_out items (test)"}
        out["misconception_pairs"] = {
            lab: {"n": len(v), "misconception_entailed_mean": mean([a for a, _ in v]),
                  "correction_entailed_mean": mean([b for _, b in v]),
                  "misconception_above_correction_share": round(sum(a > b for a, b in v) / len(v), 3) if v else None}
            for lab, v in mis.items()}
        out["misconception_pairs"]["what"] = ("the hard answers' misconception labels (entailed: the answer states the "
                                              "misconception; contradicted: it states the correction)")
    out["meta"] = {"git_sha": _git_sha(), "claim_checker": checker.model_id, "precision": checker.precision,
                   "command": "python eval/claims/contrast_gap.py" + (f" --checker {args.checker}" if args.checker else "")}
    if args.dev_only:
        del out["hard_answers"]["per_item_set"]["hard_held_out"]
    else:
        dest = OUT.with_name(f"contrast-gap-{checker.model_id.split(':')[-1]}.json") if args.checker else OUT
        dest.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
