"""How near the held-out uncovered Ask questions are to the adjacent training questions, and the
refusal recall of each committed rule without the near ones (the caveat in eval/README.md, "Ask
reranker, third candidate").

    python eval/ask_topic_overlap.py   →   eval/results/ask-topic-overlap.json

A held-out uncovered question counts as near when a kept ``ask/train/questions3-*.jsonl`` question
(MiniLM cosine < 0.6 to every evaluation question, i.e. not dropped by the training guard) has
cosine ≥ 0.45 to it. Refusal is read from each results file's per-question confidence and threshold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))
from train_reranker import ADJACENT_GUARD  # noqa: E402

NEAR = 0.45
RUNS = {"third reranker (shipped)": "ask.json", "second reranker": "ask-reranker-v2.json",
        "first reranker": "ask-reranker-v1.json", "cosine": "ask-cosine.json"}


def main() -> int:
    from interviewer.evaluation.grading import _git_sha
    from interviewer.retrieval.embeddings import SentenceTransformerEmbedder
    from interviewer.settings import load_settings

    ask = ROOT / "eval" / "ask"
    train = [json.loads(x)["question"] for f in sorted((ask / "train").glob("questions3-*.jsonl"))
             for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    evals = [json.loads(x)["question"] for f in ("questions.jsonl", "questions-b.jsonl")
             for x in (ask / f).read_text(encoding="utf-8").splitlines() if x.strip()]
    embedder = SentenceTransformerEmbedder(load_settings().embedding.model)
    sim = embedder.embed(evals) @ embedder.embed(train).T
    kept = sim.max(axis=0) < ADJACENT_GUARD
    nearest = {q: float(sim[i][kept].max()) for i, q in enumerate(evals)}
    res: dict = {"near_cosine": NEAR, "kept_adjacent_training_questions": int(kept.sum())}
    for split in ("test", "test-b"):
        out: dict = {}
        for name, f in RUNS.items():
            d = json.loads((ROOT / "eval" / "results" / f).read_text(encoding="utf-8"))
            unc = [q for q in d["per_question"] if q["split"] == split and q["kind"] == "not_covered"]
            far = [q for q in unc if nearest[q["question"]] < NEAR]
            refused = lambda qs, t=d["threshold_in_use"]: sum((q["confidence"] or 0.0) < t for q in qs)  # noqa: E731
            out[name] = {"refused": f"{refused(unc)} of {len(unc)}", "refused_far_only": f"{refused(far)} of {len(far)}"}
        res[split] = {"near": sorted(q["question"] for q in unc if nearest[q["question"]] >= NEAR), "rules": out}
    res["meta"] = {"git_sha": _git_sha(), "embedding_model": embedder.model_id,
                   "command": "python eval/ask_topic_overlap.py"}
    dest = ROOT / "eval" / "results" / "ask-topic-overlap.json"
    dest.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v["rules"] for k, v in res.items() if k in ("test", "test-b")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
