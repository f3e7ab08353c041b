"""The rule "Misconceptions against their own model answer: a training gap" (eval/README.md), on dev
data only, for the checker in use (``INTERVIEWER_GRADING__CHECKER_PATH=<candidate dir>`` after
``python eval/fit_calibration.py`` has refitted the calibration for it): the numbers of
``misconception_reword_check.measure`` on the shipped bank — flags on the labelled dev answers by label,
flags on the held-in items' model answers, own and d2 dev Spearman and bars, held-in model answers
below 9. No test row and no held-out item's model answer is graded.

    INTERVIEWER_EMBEDDING__PRECISION=fp32 INTERVIEWER_GRADING__CHECKER_PATH=DIR python eval/mc_model_answer_check.py --out FILE
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    from misconception_reword_check import measure

    from interviewer.evaluation.grading import _git_sha

    res = measure(HERE.parent / "knowledge")
    res["git_sha"] = _git_sha()
    args.out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in res.items() if k != "held_in_model_answer_flags"}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
