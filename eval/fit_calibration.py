"""Fit the raw-score → human-score calibration on the dev files only and print the knots.

`python eval/fit_calibration.py` prints the tuple pasted into
`interviewer/grading/grader.py:CALIBRATION`. The test files (labelled-s3/s4) are not read.
"""

from pathlib import Path

from interviewer.evaluation.grading import DEV_FILES, fit_calibration
from interviewer.grading.batch import grade_rows, read_batch
from interviewer.settings import load_settings
from interviewer.wiring import Services

svc = Services(load_settings(llm={"mode": "none"}))
dev = [r for f in sorted(DEV_FILES) for r in read_batch(Path(__file__).parent / "grading" / f)]
grades = grade_rows(svc, dev)
pairs = [(g.raw_score, float(r["score"])) for r, g in zip(dev, grades, strict=True) if g.raw_score is not None]
print(fit_calibration([p[0] for p in pairs], [p[1] for p in pairs]))
