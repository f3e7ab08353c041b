"""Dev rows only: the numbers a grading change is decided on, without printing a test row.

    INTERVIEWER_GRADING__CHECKER_PATH=<candidate dir> python eval/dev_grading.py [--out FILE]

Grades the own set's dev files (labelled-s1/s2) and the d2 dev questions with the current settings
(claim checker, calibration.json, policy) and prints the same metrics `interviewer eval grading`
reports for the dev split — substantive Spearman, the interviewer's bar on d2 dev — so a candidate
(a retrained checker with its refitted calibration) can be compared with the shipped grader before
any test row is graded. Used for the decision rules written in eval/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None, help="also write the metrics as JSON here")
    ap.add_argument("--held-in", action="store_true",
                    help="also grade the held-in items' model answers (the calibration's anchors, dev) and count "
                         "those below 9; the held-out items' are a test and are never graded here")
    args = ap.parse_args(argv)

    from interviewer.evaluation.grading import dev_reports, held_in_items, model_answer_rows, stored_verdicts
    from interviewer.grading.batch import grade_rows
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings(llm={"mode": "none"}))
    out: dict = {"claim_checker": svc.checker.model_id}
    with stored_verdicts(svc):
        out.update(dev_reports(svc))
        if args.held_in:
            items = held_in_items(svc.bank)
            grades = grade_rows(svc, model_answer_rows(items), use_llm=False)
            low = sorted((it.id, g.score) for it, g in zip(items, grades, strict=True) if g.score < 9)
            out["held_in_model_answers"] = {"n": len(items), "below_9": len(low), "low": low}
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
