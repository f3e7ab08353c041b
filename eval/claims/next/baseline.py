"""How the shipped claim checker reads the staged answers (a diagnostic before they are trained on).

    python eval/claims/next/baseline.py   →   eval/claims/next/baseline.json

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


def main() -> int:
    from interviewer.bank.loader import load_bank
    from interviewer.evaluation.grading import _git_sha
    from interviewer.grading.claims import ClaimChecker

    bank = load_bank(ROOT / "knowledge")
    checker = ClaimChecker()
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in sorted(HERE.glob("answers-hard-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
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
    out = {style: {"points": s["points"], "label_agreement": round(s["agree"] / s["points"], 3),
                   "contradicted_credited": f"{s['contradicted_credited']} of {s['contradicted']}",
                   "entailed_missed": f"{s['entailed_missed']} of {s['entailed']}"}
           for style, s in sorted(stats.items())}
    out["meta"] = {"git_sha": _git_sha(), "claim_checker": checker.model_id, "precision": checker.precision,
                   "command": "python eval/claims/next/baseline.py"}
    (HERE / "baseline.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
