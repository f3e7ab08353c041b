"""``interviewer eval retrieval``: recall@1/3/5 and MRR per method, search latency."""

from __future__ import annotations

import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interviewer.errors import KnowledgeError
from interviewer.settings import ROOT

DEFAULT_DIR = ROOT / "eval" / "retrieval"
DEFAULT_OUT = ROOT / "eval" / "results" / "retrieval.json"


def load_queries(path: Path | None) -> list[dict[str, Any]]:
    files = [path] if path else sorted(DEFAULT_DIR.glob("queries-*.jsonl"))
    rows = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise KnowledgeError(f"{f}:{n}: invalid JSON: {e.msg}") from None
                row["_file"] = f.name
                rows.append(row)
    if not rows:
        raise KnowledgeError("no retrieval queries found")
    return rows


def evaluate(retriever: Any, queries: list[dict[str, Any]]) -> dict[str, Any]:
    for q in queries:  # ids of duplicates merged into another item count as that item
        q["expected"] = list(dict.fromkeys(retriever.bank.resolve(e) for e in q["expected"]))
    unknown = [q for q in queries for e in q["expected"] if e not in retriever.bank.items]
    if unknown:
        raise KnowledgeError(f"queries expect unknown item ids: {sorted({e for q in unknown for e in q['expected'] if e not in retriever.bank.items})}")
    vecs = retriever.embedder.embed([q["query"] for q in queries])
    results: dict[str, Any] = {}
    for method in ("bm25", "dense", "hybrid"):
        r1 = r3 = r5 = mrr = 0.0
        misses = []
        for q, v in zip(queries, vecs, strict=True):
            hits = [h.id for h in retriever.search(q["query"], k=10, method=method, vector=v)]
            ranks = [hits.index(e) + 1 for e in q["expected"] if e in hits]
            best = min(ranks) if ranks else None
            r1 += best is not None and best <= 1
            r3 += best is not None and best <= 3
            r5 += best is not None and best <= 5
            mrr += 1.0 / best if best else 0.0
            if method == "hybrid" and (best is None or best > 3):
                misses.append({"query": q["query"], "expected": q["expected"], "got": hits[:3]})
        n = len(queries)
        results[method] = {"recall@1": round(r1 / n, 3), "recall@3": round(r3 / n, 3),
                           "recall@5": round(r5 / n, 3), "mrr": round(mrr / n, 3)}
        if method == "hybrid":
            results["hybrid_misses_at_3"] = misses
    # latency of the whole search call, query embedding included (what a user waits for)
    for q in queries[:5]:
        retriever.search(q["query"], k=5)  # warm-up
    times = []
    for _ in range(3):
        for q in queries:
            t = time.perf_counter()
            retriever.search(q["query"], k=5)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    results["latency_ms"] = {"p50": round(statistics.median(times), 1),
                             "p95": round(times[int(0.95 * (len(times) - 1))], 1), "n": len(times)}
    return results


def run_retrieval_eval(svc: Any, path: Path | None, out: Path | None) -> str:
    queries = load_queries(path)
    res = evaluate(svc.retriever, queries)
    res["meta"] = {"queries": len(queries), "bank_items": len(svc.bank), "bank_version": svc.bank.version,
                   "embedding_model": svc.embedder.model_id, "vectorstore": svc.settings.vectorstore.mode,
                   "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
                   "date": datetime.now(UTC).strftime("%Y-%m-%d"),
                   "command": "interviewer eval retrieval"}
    dest = out or DEFAULT_OUT
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    lines = [f"{len(queries)} queries over {len(svc.bank)} items ({svc.embedder.model_id})",
             f"{'method':8} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6}"]
    for m in ("bm25", "dense", "hybrid"):
        r = res[m]
        lines.append(f"{m:8} {r['recall@1']:6.3f} {r['recall@3']:6.3f} {r['recall@5']:6.3f} {r['mrr']:6.3f}")
    lat = res["latency_ms"]
    lines.append(f"hybrid search latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms (n={lat['n']})")
    lines.append(f"written to {dest}")
    return "\n".join(lines)
