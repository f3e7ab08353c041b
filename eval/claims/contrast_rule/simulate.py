"""Offline: contrast rule variants on the dev dump -> dev metrics (refit weights + curve as fit_calibration does)."""
import json, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]

sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "eval"))
import numpy as np
from scipy.stats import spearmanr
from fit_calibration import fit_weights
from interviewer.grading import calibration
from interviewer.grading.policy import Policy, embedding_credit
from interviewer.evaluation.grading import TRIVIAL

D = json.load(open(ROOT / "data" / "contrast-rule-dump.json"))

def kp_state(pol, k, use):
    ck = k["k"]
    if use and k["ct"] is not None:
        ck = pol.contrasted(k["k"], k["ct"])
    st = pol.status(ck, k["e"] or 0, k["c"] or 0)  # checker share 1 (the fitted weights give similarity none)
    if use and k["ct"] is not None and pol.states_contrast(k["k"], k["ct"]):
        st = "contradicted"
    return ck, st

def feats(pol, r, use):
    pts = []
    for k in r["kps"]:
        ck, st = kp_state(pol, k, use)
        pts.append((k["w"], ck, k["sim"], st))
    return pol.features(pts, r["hits"])

def run(margin, stated=0.5, use=True, verbose=False):
    pol = Policy(contrast_margin=margin, contrast_stated=stated, weights={"checker_core": 1, "embedding_core": 0, "checker_supporting": 0, "embedding_supporting": 0, "contradicted_core": 0, "misconceptions": 0, "bias": 0})
    dev = [r for r in D if r["set"] in ("d2", "own") and r["gate"] is None]
    F = [feats(pol, r, use) for r in dev]
    w = fit_weights(F, [r["human"] for r in dev])
    pw = Policy(contrast_margin=margin, contrast_stated=stated, weights=w)
    def raw(r):
        return pw.raw_score([(k["w"], *kp_state(pol, k, use)[:1], k["sim"], kp_state(pol, k, use)[1]) for k in r["kps"]], r["hits"])[0]
    anchors = [r for r in D if r["set"] == "anchors" and r["gate"] is None]
    auth = [(raw(r), r["human"]) for r in dev]
    anc = [(raw(r), 10.0) for r in anchors]
    curve = calibration.fit([a for a, _ in auth + anc], [b for _, b in auth + anc], weight=[1.0] * len(auth) + [len(auth) / len(anc)] * len(anc))
    def pred(r):
        if r["gate"] is not None:
            return r["pred"]
        s = calibration.apply(raw(r), curve)
        if r["cap"] is not None:
            s = min(s, r["cap"])
        return round(s, 1)
    out = {"w": w}
    for s in ("d2", "own"):
        rows = [r for r in D if r["set"] == s]
        sub = [r for r in rows if r["cat"] not in TRIVIAL]
        out[s + "_sub_sp"] = round(spearmanr([r["human"] for r in sub], [pred(r) for r in sub])[0], 3)
        if s == "d2":
            top = [r for r in sub if r["human"] >= 9]; low = [r for r in sub if r["human"] <= 1]
            out["d2_9to8"] = f"{sum(pred(r) >= 8 for r in top)}/{len(top)}"
            out["d2_1to2"] = f"{sum(pred(r) <= 2 for r in low)}/{len(low)}"
            for c in ("concise_expert", "spoken_informal", "misconception", "confidently_wrong"):
                out[c] = round(np.mean([pred(r) for r in rows if r["cat"] == c]), 2)
    out["anchors_below9"] = sum(pred(r) < 9 for r in D if r["set"] == "anchors")
    hard = [r for r in D if r["set"] == "hard" and not r["held"]]
    cc = ct = em = et = 0
    for r in hard:
        for k in r["kps"]:
            lab = (r["labels"] or {}).get(k["id"])
            ck, _ = kp_state(pol, k, use)
            if lab == "contradicted" and r["cat"] in ("numbers_changed", "same_vocab_wrong"):
                ct += 1; cc += ck >= 0.5
            if lab == "entailed" and r["cat"] in ("spoken_paraphrase", "compact_expert"):
                et += 1; em += ck < 0.5
    out["hard_contra_credited"] = f"{cc}/{ct}={cc/max(ct,1):.3f}"
    out["hard_entailed_missed"] = f"{em}/{et}={em/max(et,1):.3f}"
    return out

if __name__ == "__main__":
    print("off", json.dumps(run(None, use=False)))
    for m in [float(x) for x in sys.argv[1:]]:
        print(m, json.dumps(run(m)))
