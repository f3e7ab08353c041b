"""``interviewer eval grading``: agreement of predicted grades with human scores.

Nothing is fitted on the reported set: the grader's few constants were set by hand while
looking only at the dev files (labelled-s1/s2); the test files (labelled-s3/s4) were not
used for that, and results are reported for dev, test and all.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interviewer.grading.batch import grade_rows, read_batch
from interviewer.settings import ROOT

DEFAULT_DIR = ROOT / "eval" / "grading"
DEFAULT_OUT = ROOT / "eval" / "results" / "grading.json"
DEFAULT_OUT_LLM = ROOT / "eval" / "results" / "grading-llm.json"
VERDICTS = ROOT / "eval" / "results" / "llm-verdicts.jsonl"  # append-only: every judge call made by the eval
DEV_FILES = {"labelled-s1.jsonl", "labelled-s2.jsonl"}


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


def _report(rows: list[dict[str, Any]], preds: list[float]) -> dict[str, Any]:
    scale = [10.0 / float(r.get("score_max") or 10) for r in rows]
    y = [float(r["score"]) * s for r, s in zip(rows, scale, strict=True)]
    res: dict[str, Any] = {"overall": metrics(y, preds)}
    by_cat: dict[str, list[int]] = defaultdict(list)
    by_split: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_cat[r.get("category", "unlabelled")].append(i)
        by_split["dev" if r.get("_file") in DEV_FILES else "test"].append(i)
    res["per_split"] = {k: metrics([y[i] for i in v], [preds[i] for i in v]) for k, v in sorted(by_split.items())}
    res["per_category"] = {}
    for k, v in sorted(by_cat.items()):
        m = metrics([y[i] for i in v], [preds[i] for i in v])
        m["mean_human"] = round(sum(y[i] for i in v) / len(v), 2)
        m["mean_predicted"] = round(sum(preds[i] for i in v) / len(v), 2)
        m["max_predicted"] = round(max(preds[i] for i in v), 1)
        res["per_category"][k] = m
    return res


def load_rows(path: Path | None) -> list[dict[str, Any]]:
    files = [path] if path else sorted(DEFAULT_DIR.glob("labelled-*.jsonl"))
    rows = []
    for f in files:
        for r in read_batch(f):
            r["_file"] = f.name
            if "score" in r:
                rows.append(r)
    return rows


def fit_calibration(raw: list[float], human: list[float]) -> tuple[tuple[float, float], ...]:
    """Isotonic regression, smoothed into a strictly increasing curve: one knot at the mean raw
    score of each constant block of the isotonic fit, plus (0, 0) and (10, 10)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0, y_max=10, out_of_bounds="clip").fit(raw, human)
    fitted = iso.predict(raw)
    blocks: dict[float, list[float]] = {}
    for x, y in zip(raw, fitted, strict=True):
        blocks.setdefault(round(float(y), 6), []).append(float(x))
    knots = sorted((sum(xs) / len(xs), y) for y, xs in blocks.items())
    pts = [(0.0, 0.0)] + [(round(x, 3), round(y, 3)) for x, y in knots if 0.0 < x < 10.0] + [(10.0, 10.0)]
    out = [pts[0]]
    for x, y in pts[1:]:  # keep it strictly increasing in both coordinates
        if x > out[-1][0] and y > out[-1][1]:
            out.append((x, y))
    if out[-1] != (10.0, 10.0):
        out.append((10.0, 10.0))
    return tuple(out)


def loqo_dev_scores(rows: list[dict[str, Any]], grades: list[Any]) -> list[float]:
    """Scores with the calibration re-fitted leave-one-question-out for dev rows.

    The product's calibration curve was fitted on the dev files, so reporting dev rows with it
    would score the curve on its own training data. Each dev row is instead calibrated by an
    isotonic fit on the other dev questions; test rows use the product curve unchanged.
    """
    from interviewer.grading.grader import calibrate

    dev = [i for i, r in enumerate(rows) if r.get("_file") in DEV_FILES and grades[i].raw_score is not None]
    out = [g.score for g in grades]
    for i in dev:
        train = [j for j in dev if rows[j].get("id") != rows[i].get("id")]
        knots = fit_calibration([grades[j].raw_score for j in train], [float(rows[j]["score"]) for j in train])
        s = calibrate(grades[i].raw_score, knots)
        if grades[i].cap is not None:
            s = min(s, grades[i].cap)
        out[i] = round(s, 1)
    return out


def _verdict_key(row: dict[str, Any], rubric: Any) -> str:
    """What a judge verdict depends on besides model and prompt: the answer and the claims checked
    (an edited key point or misconception must be judged again)."""
    claims = [[k.id, k.text, k.weight] for k in rubric.key_points] + [[m.id, m.text] for m in rubric.misconceptions]
    raw = json.dumps([row.get("id"), row["question"], row["student_answer"], claims], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _llm_columns(svc: Any, rows: list[dict[str, Any]], rubric: list[Any], scores: list[float],
                 path: Path | None, verdicts: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """LLM-only and fused scores for every row.

    Every judge call is appended to ``verdicts`` (model, prompt hash, key of answer + rubric
    claims, score) and reused when the same model, judge prompt, answer and claims come again:
    a killed run resumes, and a change to the rubric grader's code re-fuses without re-running
    the LLM. A reused verdict came from exactly the call the product makes. Gated answers
    (empty, gibberish, off-topic) never reach the judge and keep their rubric score in every
    column; a failed judge call keeps the rubric score and is counted.
    """
    import sys

    from interviewer.errors import BackendError
    from interviewer.grading.batch import rubric_for
    from interviewer.grading.judge import fused_score, judge

    w = svc.settings.grading.llm_weight
    prompt_sha = hashlib.sha256((svc.settings.prompts_dir / "judge.md").read_bytes()).hexdigest()[:16]
    cached: dict[str, float] = {}
    if verdicts.exists():
        for line in verdicts.read_text(encoding="utf-8").splitlines():
            try:
                v = json.loads(line)
            except ValueError:
                continue  # a line cut short by a killed run
            if v.get("model") == svc.llm.name and v.get("prompt_sha") == prompt_sha and "key" in v:
                cached[v["key"]] = float(v["score"])
    verdicts.parent.mkdir(parents=True, exist_ok=True)
    out: list[dict[str, Any]] = []
    failures = reused = 0
    t = time.perf_counter()
    with verdicts.open("a", encoding="utf-8") as log:
        for n, (r, g, s) in enumerate(zip(rows, rubric, scores, strict=True), 1):
            v: float | None = None
            key = None
            if not g.gate:
                rub, _ = rubric_for(svc, r, use_bank=path is None)
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
                                              "id": r.get("id"), "category": r.get("category"), "score": v,
                                              "seconds": round(time.perf_counter() - t1, 1)}) + "\n")
                        log.flush()
            # the rubric part of the blend is the reported (dev: leave-one-question-out) score
            g_rep = g.model_copy(update={"score": s, "rubric_score": s})
            out.append({"llm": v, "llm_only": v if v is not None else s,
                        "fused": fused_score(g_rep, v, w) if v is not None else s, "verdict_key": key})
            if n % 10 == 0 or n == len(rows):
                print(f"  LLM judge {n}/{len(rows)}  {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    meta = {"model": svc.llm.name, "prompt_sha": prompt_sha, "weight": w, "judge_failures": failures,
            "judged": sum(1 for x in out if x["llm"] is not None), "reused_verdicts": reused,
            "seconds": round(time.perf_counter() - t, 1),
            "note": "gated answers keep their rubric score in every column; a failed judge call keeps "
                    "the rubric score and is counted in judge_failures"}
    return meta, out


def run_grading_eval(svc: Any, path: Path | None, out: Path | None, with_llm: bool = False,
                     split: str | None = None) -> str:
    rows = load_rows(path)
    if split:
        rows = [r for r in rows if (r.get("_file") in DEV_FILES) == (split == "dev")]
    t = time.perf_counter()
    rubric = grade_rows(svc, rows, use_llm=False, use_bank=path is None)
    elapsed = time.perf_counter() - t
    scores = loqo_dev_scores(rows, rubric) if path is None else [g.score for g in rubric]
    res: dict[str, Any] = {"rubric_only": _report(rows, scores)}
    llm_rows: list[dict[str, Any]] = []
    if with_llm and svc.llm is not None:
        res["llm"], llm_rows = _llm_columns(svc, rows, rubric, scores, path, VERDICTS if path is None else
                                            (out or DEFAULT_OUT_LLM).with_suffix(".verdicts.jsonl"))
        res["llm_only"] = _report(rows, [x["llm_only"] for x in llm_rows])
        res["fused"] = _report(rows, [x["fused"] for x in llm_rows])
    res["meta"] = {"answers": len(rows), "files": sorted({r["_file"] for r in rows}),
                   "embedding_model": svc.embedder.model_id,
                   "embedding_precision": getattr(svc.embedder, "precision", "fp32"), "rubric_grading_seconds": round(elapsed, 2),
                   "date": datetime.now(UTC).strftime("%Y-%m-%d"),
                   "command": "interviewer eval grading" + (" --with-llm" if with_llm else "")
                   + (f" --split {split}" if split else "")}
    res["predictions"] = [{"id": r.get("id"), "category": r.get("category"), "human": r["score"],
                           "rubric": s, "product_score": g.score, "raw": g.raw_score, "gate": g.gate, "file": r["_file"]}
                          for r, g, s in zip(rows, rubric, scores, strict=True)]
    for p, extra in zip(res["predictions"], llm_rows or [{}] * len(rows), strict=True):
        p.update(extra)
    dest = out or (DEFAULT_OUT_LLM if with_llm else DEFAULT_OUT)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    lines = [f"{len(rows)} labelled answers"]
    for name in ("rubric_only", "llm_only", "fused"):
        if name in res:
            o = res[name]["overall"]
            lines.append(f"{name:12} pearson {o['pearson']}  spearman {o['spearman']}  MAE {o['mae']}  RMSE {o['rmse']}")
            for split, m in res[name]["per_split"].items():
                lines.append(f"   {split:6} n={m['n']:3d} spearman {m['spearman']}  MAE {m['mae']}")
    lines.append("per category (rubric only): human mean / predicted mean / max predicted")
    for c, m in res["rubric_only"]["per_category"].items():
        lines.append(f"   {c:22} n={m['n']:3d}  {m['mean_human']:5.2f} / {m['mean_predicted']:5.2f} / {m['max_predicted']:4.1f}  MAE {m['mae']}")
    lines.append(f"written to {dest}")
    return "\n".join(lines)
