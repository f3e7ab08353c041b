"""``interviewer eval grading``: agreement of the grader with people, on every set we have.

Sets (``--set``):
- ``own``: 180 answers written and scored by this project (``eval/grading/labelled-s*.jsonl``);
  dev = s1/s2, test = s3/s4.
- ``d2``: 150 answers to 30 bank questions written and graded by an independent interviewer
  (``../shared/datasets/interview-answers-d2.jsonl``); dev/test split by question, frozen in
  ``eval/claims/splits.json`` before anything was fitted.
- ``asag``: the official test splits of SciEntsBank, Beetle and SAF (human-graded short answers):
  the claim checker's 5-way/3-way classification and reference-only grading (Pearson/RMSE), next
  to the MiniLM cosine baseline.
- ``model-answers``: every model answer in the bank graded against its own rubric.
- ``key-points``: what the grade card says about each key point (covered / partly / missing /
  contradicted) against per-point labels, on the claim checker's validation answers for the 88
  held-out items (``eval/claims/answers-*.jsonl``; never trained on).

Each results file records the git SHA, the models (embedder, claim checker), precision, the
calibration curves used and the command. For each set: all rows, substantive rows only (no
empty, gibberish, off-topic, keyword-list or manipulation rows), per category, and the rank
agreement within each category.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interviewer.grading.batch import grade_rows, read_batch
from interviewer.settings import ROOT

OWN_DIR = ROOT / "eval" / "grading"
RESULTS = ROOT / "eval" / "results"
DATASETS = ROOT.parent / "shared" / "datasets"
D2 = DATASETS / "interview-answers-d2.jsonl"
ASAG = DATASETS / "asag"
SPLITS = ROOT / "eval" / "claims" / "splits.json"
VERDICTS = RESULTS / "llm-verdicts.jsonl"  # append-only: every judge call made by the eval
DEV_FILES = {"labelled-s1.jsonl", "labelled-s2.jsonl"}
TRIVIAL = {"empty", "gibberish", "off_topic", "keyword_salad", "prompt_injection",
           "off_topic_or_evasive", "manipulation"}


# ------------------------------------------------------------------ metrics
def metrics(y: list[float], p: list[float]) -> dict[str, float | int | None]:
    from scipy.stats import pearsonr, spearmanr

    n = len(y)
    out: dict[str, float | int | None] = {"n": n}
    out["mae"] = round(sum(abs(a - b) for a, b in zip(y, p, strict=True)) / n, 3) if n else None
    out["rmse"] = round(math.sqrt(sum((a - b) ** 2 for a, b in zip(y, p, strict=True)) / n), 3) if n else None
    if n >= 3 and len(set(y)) > 1 and len(set(p)) > 1:
        out["pearson"] = round(float(pearsonr(y, p)[0]), 3)
        out["spearman"] = round(float(spearmanr(y, p)[0]), 3)
    else:
        out["pearson"] = out["spearman"] = None
    return out


def report(y: list[float], p: list[float], cats: list[str], splits: list[str] | None = None) -> dict[str, Any]:
    """All rows, substantive rows, per split, per category, within-category rank agreement."""
    res: dict[str, Any] = {"all": metrics(y, p)}
    sub = [i for i, c in enumerate(cats) if c not in TRIVIAL]
    res["substantive"] = metrics([y[i] for i in sub], [p[i] for i in sub])
    if splits:
        res["per_split"] = {}
        for s in sorted(set(splits)):
            idx = [i for i, x in enumerate(splits) if x == s]
            sidx = [i for i in idx if cats[i] not in TRIVIAL]
            res["per_split"][s] = {"all": metrics([y[i] for i in idx], [p[i] for i in idx]),
                                   "substantive": metrics([y[i] for i in sidx], [p[i] for i in sidx])}
    res["per_category"] = {}
    within: list[tuple[int, float]] = []
    for c in sorted(set(cats)):
        idx = [i for i, x in enumerate(cats) if x == c]
        m = metrics([y[i] for i in idx], [p[i] for i in idx])
        m["mean_human"] = round(sum(y[i] for i in idx) / len(idx), 2)
        m["mean_predicted"] = round(sum(p[i] for i in idx) / len(idx), 2)
        m["min_predicted"] = round(min(p[i] for i in idx), 1)
        m["max_predicted"] = round(max(p[i] for i in idx), 1)
        res["per_category"][c] = m
        if m["spearman"] is not None:
            within.append((int(m["n"] or 0), float(m["spearman"])))
    res["within_category_spearman"] = {c: m["spearman"] for c, m in res["per_category"].items()}
    res["within_category_mean_spearman"] = (round(sum(n * s for n, s in within) / sum(n for n, _ in within), 3)
                                            if within else None)
    return res


def _git_sha() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "interviewer", "knowledge", "prompts"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def meta(svc: Any, command: str, **extra: Any) -> dict[str, Any]:
    from interviewer.grading.calibration import CURVES

    checker = svc.checker
    return {"git_sha": _git_sha(), "date": datetime.now(UTC).strftime("%Y-%m-%d"), "command": command,
            "embedding_model": svc.embedder.model_id, "embedding_precision": getattr(svc.embedder, "precision", "fp32"),
            "embedding_runtime": getattr(svc.embedder, "runtime", "torch"),
            "claim_checker": checker.model_id, "claim_checker_precision": checker.precision,
            "claim_checker_runtime": getattr(checker, "runtime", "torch"),
            "calibration_sha256": hashlib.sha256(CURVES.read_bytes()).hexdigest()[:16] if CURVES.exists() else None,
            "policy": svc.grader.policy.__dict__,
            **({"checker_verdicts_preloaded": checker.preloaded} if getattr(checker, "preloaded", 0) else {}),
            **extra}


def _write(dest: Path, res: dict[str, Any]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(dest)


# ------------------------------------------------------------------ sets
def load_own() -> list[dict[str, Any]]:
    rows = []
    for f in sorted(OWN_DIR.glob("labelled-*.jsonl")):
        for r in read_batch(f):
            r["_file"] = f.name
            r["_split"] = "dev" if f.name in DEV_FILES else "test"
            rows.append(r)
    return rows


def load_d2() -> list[dict[str, Any]]:
    if not D2.exists():
        raise FileNotFoundError(f"{D2} not found (the independent interview answers)")
    split = json.loads(SPLITS.read_text())["interview_answers_d2"]
    test = set(split["test_items"])
    rows = []
    for r in read_batch(D2):
        r["id"] = r.get("item_id")
        r["category"] = r.get("style")
        r["_split"] = "test" if r["id"] in test else "dev"
        rows.append(r)
    return rows


def d2_checks(y: list[float], p: list[float], cats: list[str]) -> dict[str, Any]:
    """The interviewer's bar, as the grading issue states it."""
    top = [(a, b) for a, b, c in zip(y, p, cats, strict=True) if a >= 9 and c not in TRIVIAL]
    low = [(a, b) for a, b, c in zip(y, p, cats, strict=True) if a <= 1 and c not in TRIVIAL]

    def mean(c: str, which: list[float]) -> float | None:
        v = [x for x, k in zip(which, cats, strict=True) if k == c]
        return round(sum(v) / len(v), 2) if v else None

    expert = [b for b, c in zip(p, cats, strict=True) if c in ("concise_expert", "thorough_expert")]
    mis = [b for b, c in zip(p, cats, strict=True) if c == "misconception"]
    return {
        "graded_9_plus_scoring_8_plus": f"{sum(b >= 8 for _, b in top)}/{len(top)}",
        "share_9_plus_scoring_8_plus": round(sum(b >= 8 for _, b in top) / len(top), 3) if top else None,
        "graded_1_or_less_scoring_2_or_less": f"{sum(b <= 2 for _, b in low)}/{len(low)}",
        "share_1_or_less_scoring_2_or_less": round(sum(b <= 2 for _, b in low) / len(low), 3) if low else None,
        "expert_mean_predicted": round(sum(expert) / len(expert), 2) if expert else None,
        "misconception_mean_predicted": round(sum(mis) / len(mis), 2) if mis else None,
        "spoken_informal_mean_human": mean("spoken_informal", y),
        "spoken_informal_mean_predicted": mean("spoken_informal", p),
    }


def human_scores(rows: list[dict[str, Any]]) -> list[float]:
    """Each row's human grade on the 0-10 scale."""
    return [float(r["score"]) * 10.0 / float(r.get("score_max") or 10) for r in rows]


def dev_sets() -> list[tuple[str, list[dict[str, Any]]]]:
    """The rows grading changes are decided on: the own set's dev files and the d2 dev questions."""
    return [("own_dev", [r for r in load_own() if r["_file"] in DEV_FILES]),
            ("d2_dev", [r for r in load_d2() if r["_split"] == "dev"])]


def dev_reports(svc: Any) -> dict[str, dict[str, Any]]:
    """What `interviewer eval grading` reports, on the dev rows only, graded rubric-only with the current
    settings: ``report`` per dev set, and the interviewer's bar on d2 dev."""
    out = {}
    for name, rows in dev_sets():
        grades = grade_rows(svc, rows, use_llm=False)
        y, p = human_scores(rows), [g.score for g in grades]
        cats = [r.get("category") or "unlabelled" for r in rows]
        out[name] = report(y, p, cats)
        if name == "d2_dev":
            out[name]["interviewer_bar"] = d2_checks(y, p, cats)
    return out


def run_bank_set(svc: Any, which: str, with_llm: bool = False, out: Path | None = None) -> str:
    rows = load_own() if which == "own" else load_d2()
    t = time.perf_counter()
    grades = grade_rows(svc, rows, use_llm=False)
    elapsed = time.perf_counter() - t
    y = human_scores(rows)
    cats = [r.get("category") or "unlabelled" for r in rows]
    splits = [r["_split"] for r in rows]
    preds = [g.score for g in grades]
    res: dict[str, Any] = {"rubric": report(y, preds, cats, splits)}
    if which == "d2":
        res["rubric"]["interviewer_bar"] = d2_checks(y, preds, cats)
        res["rubric"]["interviewer_bar_test_split"] = d2_checks(
            [y[i] for i, s in enumerate(splits) if s == "test"], [preds[i] for i, s in enumerate(splits) if s == "test"],
            [cats[i] for i, s in enumerate(splits) if s == "test"])
    llm_rows: list[dict[str, Any]] = []
    if with_llm and svc.llm is not None:
        res["llm"], llm_rows = _llm_columns(svc, rows, grades)
        res["llm_only"] = report(y, [x["llm_only"] for x in llm_rows], cats, splits)
        res["fused"] = report(y, [x["fused"] for x in llm_rows], cats, splits)
    command = f"interviewer eval grading --set {which}" + (" --with-llm" if with_llm else "")
    res["meta"] = meta(svc, command, answers=len(rows), grading_seconds=round(elapsed, 2))
    res["predictions"] = [{"id": r.get("id"), "category": c, "split": s, "human": h, "predicted": g.score,
                           "raw": g.raw_score, "gate": g.gate,
                           "core_coverage": g.core_coverage, "errors": [k.id for k in g.key_points
                                                                        if k.status == "contradicted"]
                           + [m.id for m in g.misconceptions]}
                          for r, c, s, h, g in zip(rows, cats, splits, y, grades, strict=True)]
    for p, extra in zip(res["predictions"], llm_rows or [{}] * len(rows), strict=True):
        p.update(extra)
    name = {"own": "grading.json", "d2": "grading-d2.json"}[which]
    if with_llm:
        name = name.replace(".json", "-llm.json")
    dest = out or RESULTS / name
    _write(dest, res)
    lines = [f"{which}: {len(rows)} answers ({elapsed:.1f} s)"]
    for col in ("rubric", "llm_only", "fused"):
        if col in res:
            a, s = res[col]["all"], res[col]["substantive"]
            lines.append(f"  {col:8} all: spearman {a['spearman']} pearson {a['pearson']} MAE {a['mae']} | "
                         f"substantive: spearman {s['spearman']} MAE {s['mae']} | within-category "
                         f"{res[col]['within_category_mean_spearman']}")
            for sp, m in res[col].get("per_split", {}).items():
                lines.append(f"     {sp:5} all {m['all']['spearman']}  substantive {m['substantive']['spearman']}")
    if which == "d2":
        lines.append(f"  bar: {res['rubric']['interviewer_bar']}")
    for c, m in res["rubric"]["per_category"].items():
        lines.append(f"   {c:24} n={m['n']:3d} human {m['mean_human']:5.2f} pred {m['mean_predicted']:5.2f} "
                     f"[{m['min_predicted']:4.1f}-{m['max_predicted']:4.1f}] within {m['spearman']}")
    lines.append(f"written to {dest}")
    return "\n".join(lines)


def held_out_items() -> set[str]:
    """The bank items that some evaluation set uses (``eval/claims/splits.json``): never trained on
    by the claim checker, never calibration anchors."""
    return set(json.loads(SPLITS.read_text(encoding="utf-8"))["held_out_items_for_claim_checker"])


def held_in_items(bank: Any) -> list[Any]:
    """The items with a rubric that no evaluation set uses: their model answers are the calibration's
    anchors (``eval/fit_calibration.py``), dev data for "a model answer scores >= 9"."""
    held_out = held_out_items()
    return [it for it in bank.items.values() if it.rubric is not None and it.id not in held_out]


def model_answer_rows(items: list[Any]) -> list[dict[str, Any]]:
    """Each item's model answer as a row to grade against its own rubric (``grade_rows``)."""
    return [{"id": it.id, "question": it.question, "student_answer": it.rubric.model_answer} for it in items]


def run_model_answers(svc: Any, out: Path | None = None) -> str:
    """Every model answer in the bank, graded against its own rubric."""
    from interviewer.grading.batch import CHUNK

    items = [it for it in svc.bank.items.values() if it.rubric is not None]
    t = time.perf_counter()
    scores = []
    # the same call path as grade_item (authored rubric, no judge), in chunks whose texts are embedded
    # together: item by item (one embedding call per item) the run took 2,109 s, in chunks 889 s
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        grades = grade_rows(svc, model_answer_rows(chunk))
        for it, g in zip(chunk, grades, strict=True):
            scores.append({"id": it.id, "score": g.score, "gate": g.gate,
                           "not_covered": [k.id for k in g.key_points if k.status != "covered"]})
    low = [s for s in scores if s["score"] < 9]
    # the model answers of the items no evaluation set uses are calibration anchors
    # (eval/fit_calibration.py); the held-out items' are the test of "a model answer scores >= 9"
    held_out = held_out_items()
    test = [s for s in scores if s["id"] in held_out]
    res = {"items": len(items), "below_9": len(low),
           "scores": {s["id"]: s["score"] for s in scores},
           "held_out_items": {"n": len(test), "below_9": sum(s["score"] < 9 for s in test),
                              "min": min((s["score"] for s in test), default=None),
                              "note": "not used by the calibration's anchors"},
           "min": min(s["score"] for s in scores),
           "mean": round(sum(s["score"] for s in scores) / len(scores), 2), "low": low,
           "meta": meta(svc, "interviewer eval grading --set model-answers",
                        bank_version=svc.bank.version, rubric_version=svc.bank.rubric_version,
                        seconds=round(time.perf_counter() - t, 1))}
    dest = out or RESULTS / "model-answers.json"
    _write(dest, res)
    return f"model answers: {len(items)} graded, {len(low)} below 9, min {res['min']}, mean {res['mean']}; {dest}"


# ------------------------------------------------------------------ key-point status on the card
CLAIM_ANSWERS = ROOT / "eval" / "claims"
CARD_FOR_LABEL = {"entailed": "covered", "partly": "partial", "not_stated": "missing", "contradicted": "contradicted"}


def run_key_points(svc: Any, out: Path | None = None, limit: int = 0) -> str:
    """Per key point: the label a person gave (entailed / partly / not stated / contradicted) against
    the status the card shows, for the shipped rule and for the rules it replaced (the checker's
    contradiction verdict shown as such; the stronger of checker credit and embedding credit), all
    computed from the same grading pass."""
    from interviewer.grading.policy import embedding_credit

    pol = svc.grader.policy
    held_out = held_out_items()
    rows = []
    for f in sorted(CLAIM_ANSWERS.glob("answers-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if svc.bank.resolve(r["item_id"]) in held_out:
                    rows.append(r)
    rows = rows[:limit] if limit else rows
    t = time.perf_counter()
    contra_rule = "contradictions shown (before 2026-12-05)"
    rules: dict[str, dict[str, int]] = {"shipped": {}, contra_rule: {}, "stronger signal (before 2026-12-03)": {}}
    for r in rows:
        it = svc.bank.items[svc.bank.resolve(r["item_id"])]
        g = svc.grader.grade_item(it, r["answer"], use_llm=False)
        for k in g.key_points:
            label = r["key_points"].get(k.id)
            if label not in CARD_FOR_LABEL:
                continue
            old = max((k.entailed or 0.0) + (k.partly or 0.0) / 2, embedding_credit(k.similarity))
            old_status = pol.status(old, k.entailed or 0.0, k.contradicted or 0.0)
            # the card before 2026-12-05 showed the checker's contradiction verdict (today: missing, credit 0)
            contra = pol.contradicts(k.entailed or 0.0, k.contradicted or 0.0)
            for rule, status in (("shipped", k.status), (contra_rule, "contradicted" if contra else k.status),
                                 ("stronger signal (before 2026-12-03)", old_status)):
                key = f"{label} -> {status}"
                rules[rule][key] = rules[rule].get(key, 0) + 1
    summary = {}
    for rule, conf in rules.items():
        def n(pred: Any, conf: dict[str, int] = conf) -> int:
            return sum(v for k, v in conf.items() if pred(*k.split(" -> ")))
        total = n(lambda a, b: True)
        summary[rule] = {
            "points": total,
            "agreement": round(n(lambda a, b: CARD_FOR_LABEL[a] == b) / total, 3) if total else None,
            "not_stated_shown_covered": n(lambda a, b: a == "not_stated" and b == "covered"),
            "not_stated": n(lambda a, b: a == "not_stated"),
            "contradicted_shown_covered": n(lambda a, b: a == "contradicted" and b == "covered"),
            "contradicted": n(lambda a, b: a == "contradicted"),
            "shown_contradicted": n(lambda a, b: b == "contradicted"),
            "shown_contradicted_labelled_so": n(lambda a, b: a == "contradicted" and b == "contradicted"),
            "entailed_shown_missing": n(lambda a, b: a == "entailed" and b == "missing"),
            "entailed": n(lambda a, b: a == "entailed"),
            "confusion": dict(sorted(conf.items()))}
    res = {"answers": len(rows), "items": len({r["item_id"] for r in rows}), "rules": summary,
           "note": "labels were written with the answers (eval/claims/); these items are the claim checker's "
                   "validation questions, never trained on",
           "meta": meta(svc, "interviewer eval grading --set key-points", seconds=round(time.perf_counter() - t, 1))}
    dest = out or RESULTS / "key-points.json"
    _write(dest, res)
    s = summary["shipped"]
    return (f"key points: {s['points']} labelled points in {len(rows)} answers; card agrees {s['agreement']}, "
            f"not-stated shown covered {s['not_stated_shown_covered']}; {dest}")


# ------------------------------------------------------------------ ASAG (public human-graded sets)
ASAG_TESTS = ("scientsbank-test-ua", "scientsbank-test-uq", "scientsbank-test-ud", "beetle-test-ua",
              "beetle-test-uq", "saf-test-ua", "saf-test-uq")
FIVE = ("correct", "partially_correct_incomplete", "contradictory", "irrelevant", "non_domain")
FROM_CHECKER = {"entailed": "correct", "partly": "partially_correct_incomplete", "contradicted": "contradictory",
                "not_stated": "irrelevant", "non_domain": "non_domain"}


def _three(label: str) -> str:
    return label if label in ("correct", "contradictory") else "incorrect"


def macro_f1(y: list[str], p: list[str], labels: list[str]) -> float:
    f1 = []
    for c in labels:
        tp = sum(a == c and b == c for a, b in zip(y, p, strict=True))
        fp = sum(a != c and b == c for a, b in zip(y, p, strict=True))
        fn = sum(a == c and b != c for a, b in zip(y, p, strict=True))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return round(sum(f1) / len(f1), 4)


def weighted_f1(y: list[str], p: list[str], labels: list[str]) -> float:
    tot = 0.0
    for c in labels:
        tp = sum(a == c and b == c for a, b in zip(y, p, strict=True))
        fp = sum(a != c and b == c for a, b in zip(y, p, strict=True))
        fn = sum(a == c and b != c for a, b in zip(y, p, strict=True))
        tot += (2 * tp / (2 * tp + fp + fn) if tp else 0.0) * sum(a == c for a in y)
    return round(tot / len(y), 4)


def run_asag(svc: Any, out: Path | None = None, limit: int = 0) -> str:
    import numpy as np

    checker, emb = svc.checker, svc.embedder
    res: dict[str, Any] = {"files": {}}
    lines = []
    for name in ASAG_TESTS:
        path = ASAG / f"{name}.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        if limit:
            rows = rows[:limit]
        t = time.perf_counter()
        entry: dict[str, Any] = {"n": len(rows)}
        probs = checker.probabilities([(r["reference_answer"], r["student_answer"]) for r in rows])
        pred5 = [FROM_CHECKER[checker.labels[int(np.argmax(pr))]] for pr in probs]
        if rows[0]["dataset"] != "saf":
            gold3 = [r.get("label_3way") or _three(r["label"]) for r in rows]
            entry["3way"] = {"macro_f1": macro_f1(gold3, [_three(x) for x in pred5],
                                                  ["correct", "contradictory", "incorrect"]),
                             "weighted_f1": weighted_f1(gold3, [_three(x) for x in pred5],
                                                        ["correct", "contradictory", "incorrect"]),
                             "accuracy": round(sum(a == _three(b) for a, b in zip(gold3, pred5, strict=True))
                                               / len(rows), 4)}
            five = [i for i, r in enumerate(rows) if r.get("label") in FIVE]
            if five:
                g5 = [rows[i]["label"] for i in five]
                p5 = [pred5[i] for i in five]
                entry["5way"] = {"n": len(five), "macro_f1": macro_f1(g5, p5, list(FIVE)),
                                 "weighted_f1": weighted_f1(g5, p5, list(FIVE)),
                                 "accuracy": round(sum(a == b for a, b in zip(g5, p5, strict=True)) / len(five), 4)}
        scored = [r for r in rows if r.get("score") is not None]
        if scored:
            grades = grade_rows(svc, [{"question": r["question"], "reference_answer": r["reference_answer"],
                                       "student_answer": r["student_answer"]} for r in scored],
                                use_llm=False, use_bank=False)
            y = [float(r["score"]) for r in scored]
            p = [g.score * float(r["score_max"] or 1) / 10.0 for g, r in zip(grades, scored, strict=True)]
            ref = emb.embed([r["reference_answer"] for r in scored])
            ans = emb.embed([r["student_answer"] for r in scored])
            cos = [float(a @ b) for a, b in zip(ref, ans, strict=True)]
            entry["reference_only"] = metrics(y, p)
            entry["minilm_cosine_baseline"] = {"pearson": metrics(y, cos)["pearson"],
                                               "spearman": metrics(y, cos)["spearman"]}
            entry["zero_predictions"] = sum(1 for x in p if x == 0)
        entry["seconds"] = round(time.perf_counter() - t, 1)
        res["files"][name] = entry
        lines.append(f"{name:22} n={len(rows):5d} " + " ".join(
            f"{k}={v}" for k, v in [("3way", entry.get("3way", {}).get("macro_f1")),
                                     ("5way", entry.get("5way", {}).get("macro_f1")),
                                     ("pearson", entry.get("reference_only", {}).get("pearson")),
                                     ("rmse", entry.get("reference_only", {}).get("rmse")),
                                     ("cosine", entry.get("minilm_cosine_baseline", {}).get("pearson"))]))
        print(lines[-1], file=sys.stderr, flush=True)
    res["meta"] = meta(svc, "interviewer eval grading --set asag" + (f" --limit {limit}" if limit else ""),
                       note="reference-only grading: each row's reference answer is the only rubric; "
                            "classification: the claim checker's label for (reference, answer)")
    dest = out or RESULTS / "grading-asag.json"
    _write(dest, res)
    return "\n".join(lines + [f"written to {dest}"])


# ------------------------------------------------------------------ LLM judge columns
def _verdict_key(row: dict[str, Any], rubric: Any) -> str:
    claims = [[k.id, k.text, k.weight] for k in rubric.key_points] + [[m.id, m.text] for m in rubric.misconceptions]
    raw = json.dumps([row.get("id"), row["question"], row["student_answer"], claims], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _llm_columns(svc: Any, rows: list[dict[str, Any]], grades: list[Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """LLM-only and fused scores; every judge call is appended to the verdict log and reused."""
    from interviewer.errors import BackendError
    from interviewer.grading.batch import rubric_for
    from interviewer.grading.judge import fused_score, judge

    w = svc.settings.grading.llm_weight
    prompt_sha = hashlib.sha256((svc.settings.prompts_dir / "judge.md").read_bytes()).hexdigest()[:16]
    cached: dict[str, float] = {}
    if VERDICTS.exists():
        for line in VERDICTS.read_text(encoding="utf-8").splitlines():
            try:
                v = json.loads(line)
            except ValueError:
                continue
            if v.get("model") == svc.llm.name and v.get("prompt_sha") == prompt_sha and "key" in v:
                cached[v["key"]] = float(v["score"])
    out: list[dict[str, Any]] = []
    failures = reused = 0
    t = time.perf_counter()
    with VERDICTS.open("a", encoding="utf-8") as log:
        for n, (r, g) in enumerate(zip(rows, grades, strict=True), 1):
            v = None
            if not g.gate:
                rub, _ = rubric_for(svc, r)
                key = _verdict_key(r, rub)
                if key in cached:
                    v, reused = cached[key], reused + 1
                else:
                    t1 = time.perf_counter()
                    try:
                        v = float(judge(svc.llm, r["question"], rub, r["student_answer"]).score)
                    except BackendError:
                        failures += 1
                    else:
                        log.write(json.dumps({"model": svc.llm.name, "prompt_sha": prompt_sha, "key": key,
                                              "id": r.get("id"), "score": v,
                                              "seconds": round(time.perf_counter() - t1, 1)}) + "\n")
                        log.flush()
            out.append({"llm": v, "llm_only": v if v is not None else g.score,
                        "fused": fused_score(g, v, w) if v is not None else g.score})
            if n % 10 == 0:
                print(f"  LLM judge {n}/{len(rows)}  {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return {"model": svc.llm.name, "prompt_sha": prompt_sha, "weight": w, "judge_failures": failures,
            "reused_verdicts": reused, "seconds": round(time.perf_counter() - t, 1)}, out


@contextlib.contextmanager
def stored_verdicts(svc: Any) -> Iterator[None]:
    """Evaluation runs share the claim checker's verdicts through a file under the data dir (keyed by
    the weights' hash and precision): fitting the calibration grades the bank's model answers, and
    the model-answers set grades them again; each (claim, answer) pair is computed once."""
    checker = svc.checker
    path = checker.store_path(Path(svc.settings.data_dir) / "eval-cache")
    n = checker.load_verdicts(path)
    if n:
        print(f"claim-checker verdicts: {n} reused from {path}", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        checker.save_verdicts(path)


def run_grading_eval(svc: Any, which: str = "all", with_llm: bool = False, out: Path | None = None,
                     limit: int = 0) -> str:
    with stored_verdicts(svc):
        return _run_grading_eval(svc, which, with_llm, out, limit)


def _run_grading_eval(svc: Any, which: str, with_llm: bool, out: Path | None, limit: int) -> str:
    parts = []
    sets = ["own", "d2", "model-answers", "key-points", "asag"] if which == "all" else [which]
    for s in sets:
        if s in ("own", "d2"):
            parts.append(run_bank_set(svc, s, with_llm, out if len(sets) == 1 else None))
        elif s == "model-answers":
            parts.append(run_model_answers(svc, out if len(sets) == 1 else None))
        elif s == "key-points":
            parts.append(run_key_points(svc, out if len(sets) == 1 else None, limit))
        elif s == "asag":
            parts.append(run_asag(svc, out if len(sets) == 1 else None, limit))
        else:
            raise ValueError(f"unknown evaluation set {s!r}")
    return "\n".join(parts)
