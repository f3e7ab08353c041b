import json, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]

sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "eval"))
import numpy as np
from scipy.optimize import nnls
from scipy.stats import spearmanr
from interviewer.grading import calibration
from interviewer.grading.policy import Policy
from interviewer.evaluation.grading import TRIVIAL
D = json.load(open(ROOT / "data" / "contrast-rule-dump.json"))
pol = Policy(weights={"checker_core": 1, "embedding_core": 0, "checker_supporting": 0, "embedding_supporting": 0, "contradicted_core": 0, "misconceptions": 0, "bias": 0})
def base(r):
    pts = [(k["w"], k["k"], k["sim"], pol.status(k["k"], k["e"] or 0, k["c"] or 0)) for k in r["kps"]]
    return pol.features(pts, r["hits"])
def gapf(r, kind):
    core = [k for k in r["kps"] if k["w"] == "core" and k["ct"] is not None]
    if not core: return 0.0
    if kind == "excess": return float(np.mean([max(0.0, k["ct"] - k["k"]) for k in core]))
    if kind == "excess_w": return float(np.mean([k["k"] * max(0.0, k["ct"] - k["k"] + 0.05) for k in core]))
    if kind == "lack": return float(np.mean([k["k"] * (1 - min(1, max(0, (k["k"] - k["ct"]) / 0.2))) for k in core]))
def run(kind):
    dev = [r for r in D if r["set"] in ("d2", "own") and r["gate"] is None]
    def row(r):
        f = base(r)
        cov = 0.85 * f["checker_core"] + 0.15 * f["checker_supporting"]
        x = [10 * cov, -f["misconceptions"], 1.0]
        if kind: x.append(-10 * gapf(r, kind))
        return x
    A = np.array([row(r) for r in dev]); y = np.array([r["human"] for r in dev])
    w, _ = nnls(A, y)
    raw = lambda r: float(np.clip(np.dot(row(r), w), 0, 10))
    anchors = [r for r in D if r["set"] == "anchors" and r["gate"] is None]
    auth = [(raw(r), r["human"]) for r in dev]; anc = [(raw(r), 10.0) for r in anchors]
    curve = calibration.fit([a for a, _ in auth + anc], [b for _, b in auth + anc], weight=[1.0] * len(auth) + [len(auth) / len(anc)] * len(anc))
    def pred(r):
        if r["gate"] is not None: return r["pred"]
        s = calibration.apply(raw(r), curve)
        return round(min(s, r["cap"]) if r["cap"] is not None else s, 1)
    out = {"w": w.round(3).tolist()}
    for s in ("d2", "own"):
        rows = [r for r in D if r["set"] == s]; sub = [r for r in rows if r["cat"] not in TRIVIAL]
        out[s] = round(spearmanr([r["human"] for r in sub], [pred(r) for r in sub])[0], 3)
        if s == "d2":
            top = [r for r in sub if r["human"] >= 9]; low = [r for r in sub if r["human"] <= 1]
            out["9to8"] = f"{sum(pred(r) >= 8 for r in top)}/{len(top)}"; out["1to2"] = f"{sum(pred(r) <= 2 for r in low)}/{len(low)}"
            for c in ("concise_expert", "spoken_informal", "misconception", "confidently_wrong"):
                out[c[:8]] = round(np.mean([pred(r) for r in rows if r["cat"] == c]), 2)
    out["anc<9"] = sum(pred(r) < 9 for r in D if r["set"] == "anchors")
    # leave-one-question-out on d2 dev: refit weights without that question (curve kept) -> spearman
    return out
for kind in (None, "excess", "excess_w", "lack"):
    print(kind, run(kind))
