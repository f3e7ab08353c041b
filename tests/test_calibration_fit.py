"""The committed calibration is what eval/fit_calibration.py fits from its committed inputs.

``interviewer/grading/calibration.json`` (the policy weights and the two isotonic curves) must be
reproducible from ``eval/results/calibration-inputs.json`` with the fitting code in the repository:
a hand edit of either file, or a change to the fitting code that was not followed by a refit, fails
here. (The inputs themselves are graded rows; re-grading them is ``python eval/fit_calibration.py``,
minutes with the models, so it is not repeated in the suite: eval/README.md, "Semicolons: outcome",
says why a refit today would differ.)
"""

import importlib.util
import json

from conftest import ROOT

from interviewer.grading import calibration


def _fitter():
    spec = importlib.util.spec_from_file_location("fit_calibration", ROOT / "eval" / "fit_calibration.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_calibration_is_refitted_exactly_from_its_committed_inputs():
    inputs = json.loads((ROOT / "eval" / "results" / "calibration-inputs.json").read_text(encoding="utf-8"))
    committed = json.loads(calibration.CURVES.read_text(encoding="utf-8"))
    feats = inputs["policy_features"]
    assert len(feats) == committed["policy_weights"]["n"]
    fitter = _fitter()
    weights = fitter.fit_weights([f for f, _ in feats], [h for _, h in feats])
    assert weights == committed["policy_weights"]["weights"]

    auth, anchors, ref = inputs["authored"], inputs["anchors"], inputs["reference"]
    assert (len(auth), len(anchors)) == (committed["curves"]["authored"]["n"], committed["curves"]["authored"]["anchors"])
    assert len(ref) == committed["curves"]["reference"]["n"]
    curves = fitter.fit_curves(auth, anchors, ref)
    for name in ("authored", "reference"):
        assert [list(k) for k in curves[name]] == committed["curves"][name]["knots"], name
