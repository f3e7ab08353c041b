"""Train the Ask reranker (a MiniLM-L6 cross-encoder) and write it into the package.

    python eval/train_reranker.py [--epochs 2] [--out interviewer/models/ask-reranker]

Reads (user question, bank entry) and predicts whether the entry answers the question (fully or in
a real part). Data: ``eval/ask/train/questions-*.jsonl``, questions written for every bank entry
by helper sessions that saw only the entry's question, answer opening and core key points (never
``eval/ask/questions.jsonl``): two that the entry answers (casual, scenario), one it partly answers,
one near-miss that reuses its vocabulary but is not answered by it, and off-topic questions.
Pairs:
- answers -> 1, partly -> 0.8 (soft target), near-miss against its own entry -> 0;
- each answered question against the other entries a dense search ranks near it -> 0, unless that
  entry is a near-duplicate of its own (MiniLM cosine of the entries >= 0.75: the bank has a few);
- each off-topic question against its 3 nearest entries -> 0.
"Near" is by dense similarity of the question to the entries' texts; with ``--negatives-from DATA_DIR``
it is the order of the product's hybrid search over the index in that data directory (the user's
search: with the ways entries are asked, where ``knowledge/asked-as/`` exists), so the negatives are
the entries Ask will actually put in front of the reranker.
Training questions that are close paraphrases of an evaluation question (MiniLM cosine >= 0.85 to
any question in ``eval/ask/questions.jsonl``) are dropped, and the count is recorded. 10 % of the
entries (sha256 of the id) are held out: their questions form the validation set (unseen entries).

Starts from the claim checker's encoder (already a cross-encoder for this bank's vocabulary) with a
fresh one-logit head. Seeded; about 10 minutes on this 2-core CPU. Writes fp16 safetensors +
tokenizer + MANIFEST.json (sha256, data counts, command, git SHA, validation metrics) and
``eval/results/ask-reranker-train.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))
from train_claim_checker import head_sha, save_fp16  # noqa: E402  (the same fp16 save and manifest SHA)

TRAIN_DIR = ROOT / "eval" / "ask" / "train"
TARGET = {"answers": 1.0, "partly": 0.8, "does_not_answer": 0.0, "off_topic": 0.0}
ADJACENT_GUARD = 0.6  # MiniLM cosine to any evaluation question above which an adjacent question is dropped


def held_out(item_id: str) -> bool:
    return int(hashlib.sha256(("rerank:" + item_id).encode()).hexdigest(), 16) % 10 == 0


def read_questions(train_dir: Path = TRAIN_DIR, patterns: tuple[str, ...] = ("questions-*.jsonl",)) -> list[dict]:
    rows = []
    for f in sorted({f for p in patterns for f in train_dir.glob(p)}):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                r = json.loads(line)
                if r.get("label") not in TARGET or not str(r.get("question", "")).strip():
                    raise SystemExit(f"{f.name}:{n}: bad row {line[:80]}")
                rows.append(r)
    return rows


def build_pairs(bank, embedder, rows: list[dict], eval_questions: list[str], seed: int,
                other_negatives: int = 2, near_fn=None) -> tuple[list[dict], dict]:
    """(question, entry text, target, group) pairs; group = the entry the question was written for.
    ``near_fn(question) -> entry ids`` orders the entries near a question (default: dense similarity of
    the question to the entry texts)."""
    import numpy as np

    from interviewer.retrieval.rerank import entry_text

    items = sorted(bank.items.values(), key=lambda it: it.id)
    ids = [it.id for it in items]
    texts = [entry_text(it) for it in items]
    ivec = embedder.embed(texts)
    qvec = embedder.embed([r["question"] for r in rows])
    evec = embedder.embed(eval_questions) if eval_questions else np.zeros((0, ivec.shape[1]), np.float32)
    leak = (qvec @ evec.T).max(axis=1) if len(eval_questions) else np.zeros(len(rows))
    dup = ivec @ ivec.T
    pos = {i: n for n, i in enumerate(ids)}
    rng = random.Random(seed)
    pairs: list[dict] = []
    dropped = 0
    dropped_adjacent = 0
    for r, qv, lk in zip(rows, qvec, leak, strict=True):
        # adjacent off-bank questions are dropped already when they share a topic with an evaluation
        # question (0.6), not only when they paraphrase one (0.85): their topics are what is tested
        if lk >= (ADJACENT_GUARD if r.get("style") == "adjacent" else 0.85):
            dropped += 1
            dropped_adjacent += r.get("style") == "adjacent"
            continue
        q, lab, item = r["question"], r["label"], r.get("item")
        if item is not None and item not in pos:
            continue
        if near_fn is None:
            near = [int(j) for j in np.argsort(-(ivec @ qv))[:6]]
        else:
            near = [pos[i] for i in near_fn(q) if i in pos][:6]
        if lab == "off_topic":
            for j in near[:3]:
                pairs.append({"q": q, "e": texts[j], "y": 0.0, "group": ids[j], "kind": "off_topic"})
            continue
        own = pos[item]
        pairs.append({"q": q, "e": texts[own], "y": TARGET[lab], "group": item, "kind": lab})
        if lab == "answers":
            others = [j for j in near if j != own and dup[own, j] < 0.75][:other_negatives]
            for j in others:
                pairs.append({"q": q, "e": texts[j], "y": 0.0, "group": item, "kind": "other_entry"})
    rng.shuffle(pairs)
    counts = {"questions": len(rows), "dropped_close_to_eval": dropped}
    if any(r.get("style") == "adjacent" for r in rows):
        counts["adjacent_dropped_same_topic_as_eval"] = dropped_adjacent
    return pairs, counts


def evaluate(model, tok, recs: list[dict], torch) -> dict:
    model.eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(recs), 64):
            b = recs[s:s + 64]
            enc = tok([r["q"] for r in b], [r["e"] for r in b], truncation="longest_first", max_length=192,
                      padding=True, return_tensors="pt")
            out += torch.sigmoid(model(**enc).logits[:, 0]).tolist()
    model.train()
    res: dict = {"n": len(recs)}
    for kind in sorted({r["kind"] for r in recs}):
        sel = [p for p, r in zip(out, recs, strict=True) if r["kind"] == kind]
        res[f"mean_p_{kind}"] = round(sum(sel) / len(sel), 3)
    # ranking AUC of positives (answers/partly) over negatives
    P = [p for p, r in zip(out, recs, strict=True) if r["y"] > 0.5]
    N = [p for p, r in zip(out, recs, strict=True) if r["y"] <= 0.5]
    if P and N:
        res["auc"] = round(sum((a > b) + 0.5 * (a == b) for a in P for b in N) / (len(P) * len(N)), 4)
        res["accuracy@0.5"] = round((sum(a >= 0.5 for a in P) + sum(b < 0.5 for b in N)) / (len(P) + len(N)), 4)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=1.5)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--init", type=Path, default=ROOT / "interviewer" / "models" / "claim-checker")
    ap.add_argument("--out", type=Path, default=ROOT / "interviewer" / "models" / "ask-reranker")
    ap.add_argument("--results", type=Path, default=ROOT / "eval" / "results" / "ask-reranker-train.json")
    ap.add_argument("--with-symptoms", action=argparse.BooleanOptionalAction, default=True,
                    help="also read ask/train/questions2-*.jsonl (two more answered questions per entry, asked "
                         "as a symptom or indirectly, without naming the concept)")
    ap.add_argument("--with-adjacent", action=argparse.BooleanOptionalAction, default=True,
                    help="also read ask/train/questions3-*.jsonl (ML-adjacent questions the bank does not answer, "
                         "and homonyms, against their nearest entries) and guard against both evaluation sets")
    ap.add_argument("--with-short", action=argparse.BooleanOptionalAction, default=False,
                    help="also read ask/train/questions4-*.jsonl (two short questions per entry that it answers, "
                         "and short questions no entry answers) and guard against every Ask evaluation set")
    ap.add_argument("--negatives-from", type=Path, default=None, metavar="DATA_DIR",
                    help="take each question's near entries (its negatives) from the hybrid search over the index "
                         "in DATA_DIR (built for the checkout's bank; synced first) instead of dense entry texts")
    ap.add_argument("--other-negatives", type=int, default=1,
                    help="other entries near an answered question, used as negatives for it")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from interviewer.bank.loader import load_bank
    from interviewer.grading.claims import file_sha256
    from interviewer.retrieval.embeddings import SentenceTransformerEmbedder, resolve_precision
    from interviewer.settings import load_settings

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    bf16 = resolve_precision("auto") == "bf16"

    settings = load_settings()
    bank = load_bank(ROOT / "knowledge")
    embedder = SentenceTransformerEmbedder(settings.embedding.model)
    # the training questions near an evaluation question are dropped; with --with-adjacent the second
    # held-out set (questions-b.jsonl, written after the first two candidates) is guarded too
    eval_files = ("questions.jsonl", "questions-b.jsonl") if args.with_adjacent else ("questions.jsonl",)
    if args.with_short:  # every evaluation set written since, the blind ones included
        eval_files = tuple(sorted(f.name for f in (ROOT / "eval" / "ask").glob("questions*.jsonl")))
    eval_qs = [json.loads(x)["question"] for f in eval_files for x in (ROOT / "eval" / "ask" / f)
               .read_text(encoding="utf-8").splitlines() if x.strip()]
    patterns = ("questions-*.jsonl", "questions2-*.jsonl") if args.with_symptoms else ("questions-*.jsonl",)
    if args.with_adjacent:
        patterns += ("questions3-*.jsonl",)
    if args.with_short:
        patterns += ("questions4-*.jsonl",)
    near_fn = None
    if args.negatives_from is not None:
        from interviewer.wiring import Services

        svc = Services(load_settings(data_dir=args.negatives_from))
        svc.ensure_index()
        retriever = svc.retriever

        def near_fn(q: str) -> list[str]:
            return [h.id for h in retriever.search(q, k=6)]
    pairs, counts = build_pairs(bank, embedder, read_questions(TRAIN_DIR, patterns), eval_qs, args.seed,
                                args.other_negatives, near_fn)
    if args.negatives_from is not None:
        counts["negatives_from"] = "hybrid search (the product's, over the checkout's bank)"
    train = [p for p in pairs if not held_out(p["group"])]
    val = [p for p in pairs if held_out(p["group"])]
    print(f"pairs: train {len(train)}, val {len(val)}; {counts}", flush=True)

    tok = AutoTokenizer.from_pretrained(str(args.init))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(args.init), num_labels=1, ignore_mismatched_sizes=True, dtype=torch.float32,
        id2label={0: "answers"}, label2id={"answers": 0})
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    steps = math.ceil(len(train) / args.batch * args.epochs)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    rng = random.Random(args.seed)
    t0 = time.time()
    step = 0
    history = [{"step": 0, "val": evaluate(model, tok, val, torch)}]
    print(json.dumps(history[-1]), flush=True)
    while step < steps:
        order = list(range(len(train)))
        rng.shuffle(order)
        for s in range(0, len(order), args.batch):
            if step >= steps:
                break
            b = [train[i] for i in order[s:s + args.batch]]
            enc = tok([r["q"] for r in b], [r["e"] for r in b], truncation="longest_first", max_length=192,
                      padding=True, return_tensors="pt")
            y = torch.tensor([r["y"] for r in b], dtype=torch.float32)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(**enc).logits
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float()[:, 0], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
        history.append({"step": step, "seconds": round(time.time() - t0), "val": evaluate(model, tok, val, torch)})
        print(json.dumps(history[-1]), flush=True)

    save_fp16(model, tok, args.out)
    sha = head_sha()
    init_manifest = json.loads((args.init / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest = {
        "what": "Ask reranker: (user question, bank entry) -> P(the entry answers it, fully or in part)",
        "base_model": "the claim checker's encoder (MiniLM-L6, sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) "
                      "with a new one-logit head",
        "init_sha256": init_manifest.get("sha256", {}),
        "trained_on": {"pairs": len(train), "validation_pairs": len(val), **counts,
                       "held_out_entries": len({p["group"] for p in val})},
        "data": f"eval/ask/train/{' + '.join(patterns)} (written for this project; none of {' or '.join('eval/ask/' + f for f in eval_files)})",
        "command": "python eval/train_reranker.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "git_sha": sha, "seed": args.seed, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
        "precision": "bf16 autocast" if bf16 else "fp32", "train_seconds": round(time.time() - t0),
        "validation": history[-1]["val"],
        "sha256": {"model.safetensors": file_sha256(args.out / "model.safetensors")},
    }
    (args.out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({**manifest, "history": history}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
