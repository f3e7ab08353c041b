"""The rule "The audit's misconception rewordings alone, as a fix" (eval/README.md), on dev data only:
the shipped bank against a copy of it with the 70 misconception edits of the blind audit applied
(``rubric-audit/core-addons-2026-12-06.jsonl``, core edits left out), calibration as committed:

- flags on the labelled dev answers (the design items' hard answers without the held-out hard items,
  and ``claims/indep/``) by label, and flags on the held-in items' model answers (all false);
- ``dev_grading.py``'s numbers (own dev, d2 dev) and held-in model answers below 9.

No test row and no held-out item's model answer is graded.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 python eval/misconception_reword_check.py [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "rubric-audit"))

AUDIT = HERE / "rubric-audit" / "core-addons-2026-12-06.jsonl"
RULE = ("eval/README.md, 'The audit's misconception rewordings alone, as a fix' (2026-12-06): adopt only if false "
        "flags (labelled not stated / contradicted on the labelled dev answers, plus flags on held-in model answers) "
        "fall by >= 10 %, flags on misconceptions labelled stated fall by <= 4, and the dev no-harm conditions hold "
        "(d2 dev substantive Spearman falls <= 0.005, own dev <= 0.01, d2 dev graded >= 9 scoring >= 8 and graded "
        "<= 1 scoring <= 2 do not fall, held-in model answers below 9 do not rise)")


def measure(knowledge: Path) -> dict:
    from contradiction_status_check import labelled_dev_rows

    from interviewer.evaluation.grading import dev_reports, held_in_items, model_answer_rows, stored_verdicts
    from interviewer.grading.batch import grade_rows
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}, knowledge_dir=knowledge))
    labelled = [r for r in labelled_dev_rows() if r.get("misconceptions")]
    out: dict = {"claim_checker": svc.checker.model_id, "precision": svc.checker.precision}
    with stored_verdicts(svc):
        flags = []
        for r in labelled:
            g = svc.grader.grade_item(svc.bank.items[r["item_id"]], r["answer"], use_llm=False)
            made = {m.id for m in g.misconceptions}
            flags += [{"label": "stated" if label in ("entailed", "stated") else label, "flagged": mid in made}
                      for mid, label in r["misconceptions"].items()]
        fl = collections.Counter(f["label"] for f in flags if f["flagged"])
        out["labelled_misconceptions"] = len(flags)
        out["flags_stated"] = fl["stated"]
        out["flags_not_stated_or_contradicted"] = fl["not_stated"] + fl["contradicted"]
        items = held_in_items(svc.bank)
        graded = sorted(zip([it.id for it in items], grade_rows(svc, model_answer_rows(items), use_llm=False),
                            strict=True), key=lambda x: x[0])
        out["held_in_model_answer_flags"] = [f"{iid}:{m.id}" for iid, g in graded for m in g.misconceptions]
        out["false_flags"] = out["flags_not_stated_or_contradicted"] + len(out["held_in_model_answer_flags"])
        out["held_in_model_answers_below_9"] = [{"id": iid, "score": g.score} for iid, g in graded if g.score < 9]
        for name, rep in dev_reports(svc).items():
            out[name] = {"substantive_spearman": rep["substantive"]["spearman"]}
            if "interviewer_bar" in rep:
                out[name]["interviewer_bar"] = rep["interviewer_bar"]
    return out


def _count(s: str) -> int:
    return int(s.split("/")[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from apply_core_audit import main as apply_audit

    from interviewer.evaluation.grading import _git_sha

    res: dict = {"rule": RULE, "meta": {"git_sha": _git_sha(), "audit": str(AUDIT.relative_to(ROOT)),
                                        "command": "python eval/misconception_reword_check.py"}}
    res["shipped"] = measure(ROOT / "knowledge")
    with tempfile.TemporaryDirectory() as tmp:
        kn = Path(tmp) / "knowledge"
        shutil.copytree(ROOT / "knowledge", kn, ignore=shutil.ignore_patterns("imported"))
        only = Path(tmp) / "misconceptions-only.jsonl"
        rows = [json.loads(ln) for ln in AUDIT.read_text(encoding="utf-8").splitlines() if ln.strip()]
        only.write_text("".join(json.dumps({**r, "core_edits": []}) + "\n" for r in rows), encoding="utf-8")
        apply_audit([str(only), "--knowledge", str(kn)])
        res["candidate_m"] = measure(kn)

    s, m = res["shipped"], res["candidate_m"]
    sb, mb = s["d2_dev"]["interviewer_bar"], m["d2_dev"]["interviewer_bar"]
    res["conditions"] = {
        "false_flags_fall_10pct": m["false_flags"] <= 0.9 * s["false_flags"],
        "stated_flags_fall_at_most_4": s["flags_stated"] - m["flags_stated"] <= 4,
        "d2_dev_spearman": m["d2_dev"]["substantive_spearman"] >= s["d2_dev"]["substantive_spearman"] - 0.005,
        "own_dev_spearman": m["own_dev"]["substantive_spearman"] >= s["own_dev"]["substantive_spearman"] - 0.01,
        "d2_dev_9_plus": _count(mb["graded_9_plus_scoring_8_plus"]) >= _count(sb["graded_9_plus_scoring_8_plus"]),
        "d2_dev_1_or_less": (_count(mb["graded_1_or_less_scoring_2_or_less"])
                             >= _count(sb["graded_1_or_less_scoring_2_or_less"])),
        "held_in_below_9": len(m["held_in_model_answers_below_9"]) <= len(s["held_in_model_answers_below_9"]),
    }
    res["dev_passes"] = all(res["conditions"].values())
    print(json.dumps({k: res[k] for k in ("conditions", "dev_passes")}, indent=1))
    for name in ("shipped", "candidate_m"):
        r = res[name]
        print(name, {k: r[k] for k in ("flags_stated", "flags_not_stated_or_contradicted", "false_flags")},
              len(r["held_in_model_answer_flags"]), r["own_dev"], r["d2_dev"]["substantive_spearman"])
    if args.out:
        args.out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
