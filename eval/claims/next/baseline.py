"""How the shipped claim checker reads the staged answers (a diagnostic before they are trained on).

    python eval/claims/next/baseline.py   →   eval/claims/next/baseline.json
    python eval/claims/next/baseline.py --held-out [--checker DIR]   →   baseline-held-out[-<checker id>].json

``--held-out`` reads only the items the training script keeps out (``hard_held_out``: a fifth of
the items, never trained on), the measure for a checker trained with ``--with-hard``.

Each (key point, answer) pair is checked as the grader does (the answer in windows, the strongest
evidence wins); per style: how often a point labelled contradicted gets credit ≥ 0.5 (credited
although wrong), how often a point labelled entailed gets credit < 0.5 (missed although stated),
and 4-way label agreement.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    import argparse

    from interviewer.bank.loader import load_bank
    from interviewer.evaluation.grading import _git_sha
    from interviewer.grading.claims import ClaimChecker

    ap = argparse.ArgumentParser()
    ap.add_argument("--held-out", action="store_true", help="only the items never trained on (hard_held_out)")
    ap.add_argument("--checker", type=Path, default=None, help="a claim-checker directory (default: the shipped one)")
    ap.add_argument("--precision", default="fp32", help="fp32 (default, as every quality measurement), bf16 or auto")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "eval"))
    from train_claim_checker import hard_held_out

    bank = load_bank(ROOT / "knowledge")
    checker = ClaimChecker(args.checker, precision=args.precision)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in sorted(HERE.glob("answers-hard-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if args.held_out and not hard_held_out(r["item_id"]):
                continue
            kps = {k.id: k.text for k in bank.items[r["item_id"]].rubric.key_points}
            ids = [i for i in r["key_points"] if i in kps]
            for i, v in zip(ids, checker.check([kps[i] for i in ids], r["answer"]), strict=True):
                gold, s = r["key_points"][i], stats[r["style"]]
                s["points"] += 1
                s["agree"] += v.label == gold
                if gold == "contradicted":
                    s["contradicted"] += 1
                    s["contradicted_credited"] += v.credit >= 0.5
                if gold == "entailed":
                    s["entailed"] += 1
                    s["entailed_missed"] += v.credit < 0.5
    out: dict = {style: {"points": s["points"], "label_agreement": round(s["agree"] / s["points"], 3),
                         "contradicted_credited": f"{s['contradicted_credited']} of {s['contradicted']}",
                         "entailed_missed": f"{s['entailed_missed']} of {s['entailed']}"}
                 for style, s in sorted(stats.items())}
    wrong = [stats[k] for k in ("numbers_changed", "same_vocab_wrong")]
    right = [stats[k] for k in ("spoken_paraphrase", "compact_expert")]
    out["summary"] = {
        "contradicted_credited_share": round(sum(s["contradicted_credited"] for s in wrong)
                                             / max(1, sum(s["contradicted"] for s in wrong)), 3),
        "entailed_missed_share_spoken_compact": round(sum(s["entailed_missed"] for s in right)
                                                      / max(1, sum(s["entailed"] for s in right)), 3)}
    out["meta"] = {"git_sha": _git_sha(), "claim_checker": checker.model_id, "precision": checker.precision,
                   "command": "python eval/claims/next/baseline.py" + (" --held-out" if args.held_out else "")
                   + (f" --checker {args.checker}" if args.checker else ""), "held_out_only": args.held_out}
    name = "baseline" + ("-held-out" if args.held_out else "")
    if args.checker:
        name += "-" + checker.model_id.split(":")[-1]
    (HERE / f"{name}.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
