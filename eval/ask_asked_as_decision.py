"""The decision on indexing Ask entries by the ways they are asked (eval/README.md, "Ask: entries
indexed by the ways they are asked", 2026-12-06): pooled counts over every read split of
``interviewer eval ask`` results, shipped vs candidates, and the rule applied.

    python eval/ask_asked_as_decision.py SHIPPED.json A.json B.json --retrieval R0.json RA.json RB.json \
        [--out eval/results/ask-asked-as-decision.json]
    python eval/ask_asked_as_decision.py SHIPPED.json H.json --retrieval R0.json RH.json --second \
        [--out eval/results/ask-asked-as-h-decision.json]
    python eval/ask_asked_as_decision.py SHIPPED.json R.json --retrieval R0.json RR.json --one r \
        [--out eval/results/ask-asked-as-r-decision.json]

Candidates (A), (B) and (h) ran at commit d2b9cab's code (the loader of ``knowledge/asked-as/`` and the
search changes), reverted in the next commit. The result files are full ``interviewer eval ask --out`` runs (A: the index with the ways asked; B: the
same plus those questions in BM25; H: the second rule's variant (h), see the README) and
``interviewer eval retrieval --out`` runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

READ = ["dev", "test", "test_b", "test_c", "test_d", "test_e", "test_f", "test_g", "test_h", "test_i", "test_j",
        "test_k", "test_l", "test_m", "test_n", "basic_dev", "basic_test", "basic2", "basic3"]


def pooled(path: Path, splits: list[str] = READ) -> dict[str, int]:
    d = json.loads(path.read_text())
    out = {"covered": 0, "covered_cited": 0, "partly": 0, "partly_cited": 0, "not_covered": 0,
           "not_covered_refused": 0}
    for s in splits:
        r = d[s]
        cov, part = r.get("covered", {"n": 0}), r.get("partly", {"n": 0})
        nc = r["n"] - cov["n"] - part["n"]
        out["covered"] += cov["n"]
        out["covered_cited"] += round(cov.get("citation_correct_any", 0) * cov["n"])
        out["partly"] += part["n"]
        out["partly_cited"] += round(part.get("citation_correct_any", 0) * part["n"]) if part["n"] else 0
        out["not_covered"] += nc
        out["not_covered_refused"] += round((r.get("refusal_recall") or 0) * nc)
    return out


def recall3(path: Path) -> float:
    return float(json.loads(path.read_text())["hybrid"]["recall@3"])


def decide(base: dict[str, int], cand: dict[str, int], r0: float, rc: float) -> dict[str, object]:
    checks = {
        "covered citation rises by >= 10": cand["covered_cited"] - base["covered_cited"] >= 10,
        "uncovered refusals fall by <= 5": base["not_covered_refused"] - cand["not_covered_refused"] <= 5,
        "partly cited falls by <= 5": base["partly_cited"] - cand["partly_cited"] <= 5,
        "retrieval recall@3 falls by <= 0.01": r0 - rc <= 0.01 + 1e-9,
    }
    return {"checks": checks, "dev_conditions_met": all(checks.values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("shipped", type=Path)
    ap.add_argument("candidates", type=Path, nargs="+", help="A and B, or (with --second) H")
    ap.add_argument("--retrieval", type=Path, nargs="+", required=True, help="shipped's, then each candidate's")
    ap.add_argument("--second", action="store_true", help="one candidate: the second rule's (h)")
    ap.add_argument("--one", metavar="NAME", help="one candidate of that name (r: the retrained reranker's line)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    names = [args.one] if args.one else ["h"] if args.second else ["A", "B"]
    if len(args.candidates) != len(names) or len(args.retrieval) != len(names) + 1:
        ap.error(f"give the shipped run and {'/'.join(names)}, and as many retrieval runs plus the shipped one")
    base = pooled(args.shipped)
    r0 = recall3(args.retrieval[0])
    runs = {n: (pooled(p), recall3(r)) for n, p, r in zip(names, args.candidates, args.retrieval[1:], strict=True)}
    pick = max(names, key=lambda n: (runs[n][0]["covered_cited"], -names.index(n)))
    report = {
        "rule": "eval/README.md, 'Ask: entries indexed by the ways they are asked' (2026-12-06)"
                + (f", candidate ({args.one})" if args.one else ", second rule (h)" if args.second else ""),
        "splits": READ,
        "shipped": {**base, "retrieval_hybrid_recall@3": r0},
        **{n: {**c, "retrieval_hybrid_recall@3": r} for n, (c, r) in runs.items()},
        "picked_by_covered_citation": pick,
        "decision": decide(base, runs[pick][0], r0, runs[pick][1]),
        "inputs": [str(p) for p in (args.shipped, *args.candidates, *args.retrieval)],
    }
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
