"""The dev measurement behind "Contradicted key points on the card" (eval/README.md): how often the
grader's *contradicted* key-point status is right, against the per-point labels of dev answers — the
design items' hard answers (``claims/next/answers-hard-*.jsonl``, the ``hard_held_out`` items excluded)
and ``claims/indep/`` (answers the shipped checker never trained on). The held-out key-points set is
not read here. Prints (and with ``--out`` writes) the status against the label per source and a sweep
of stricter rules (P(contradicted) threshold, quote similarity).

    INTERVIEWER_EMBEDDING__PRECISION=fp32 python eval/contradiction_status_check.py [--out FILE]
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


def labelled_dev_rows() -> list[dict]:
    """The dev answers with per-point labels (``_src``: ``hard_design`` or ``indep``): the design items'
    hard answers without the held-out hard items, and ``claims/indep/``."""
    from train_claim_checker import hard_held_out

    def read(pattern: str, src: str) -> list[dict]:
        return [dict(json.loads(line), _src=src) for f in sorted((HERE / "claims").glob(pattern))
                for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]

    rows = [r for r in read("next/answers-hard-*.jsonl", "hard_design") if not hard_held_out(r["item_id"])]
    return rows + read("indep/*.jsonl", "indep")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from interviewer.evaluation.grading import stored_verdicts
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    rows = labelled_dev_rows()
    svc = Services(load_settings(llm={"mode": "none"}))
    base = svc.grader.policy
    svc.grader.policy = dataclasses.replace(base, show_contradicted_key_points=True)  # the status the score counts
    points = []
    try:
        with stored_verdicts(svc):
            for r in rows:
                g = svc.grader.grade_item(svc.bank.items[r["item_id"]], r["answer"], use_llm=False)
                for k in g.key_points:
                    if k.id in r["key_points"]:
                        points.append({"src": r["_src"], "label": r["key_points"][k.id], "status": k.status,
                                       "e": k.entailed or 0.0, "c": k.contradicted or 0.0, "sim": k.similarity})
    finally:
        svc.grader.policy = base

    def summary(ps: list[dict]) -> dict:
        shown = [p for p in ps if p["status"] == "contradicted"]
        return {"points": len(ps), "labelled_contradicted": sum(p["label"] == "contradicted" for p in ps),
                "shown_contradicted": len(shown),
                "shown_contradicted_by_label": dict(collections.Counter(p["label"] for p in shown))}

    sweep = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        for s in (0.0, 0.5, 0.6):
            shown = [p for p in points if p["c"] >= t and p["c"] > p["e"] and p["sim"] >= s]
            sweep.append({"p_contradicted_at_least": t, "quote_similarity_at_least": s, "shown": len(shown),
                          "labelled_contradicted": sum(p["label"] == "contradicted" for p in shown)})
    res = {"dev_status_vs_label": {"hard_design": summary([p for p in points if p["src"] == "hard_design"]),
                                   "indep": summary([p for p in points if p["src"] == "indep"]),
                                   "all": summary(points)},
           "threshold_sweep_dev": sweep}
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
