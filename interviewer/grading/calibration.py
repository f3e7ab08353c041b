"""Calibration: the monotone map from the policy's raw 0-10 score onto the human 0-10 scale.

Curves are learned from data by isotonic regression (``eval/fit_calibration.py``, which keeps
its inputs and writes ``calibration.json`` beside this file) and validated on other datasets and
unseen questions (``eval/README.md`` says what was fitted on what). There is one curve for
authored rubrics (fitted on answers graded 0-10 by interviewers) and one for rubrics derived from
a reference answer (fitted on held-out questions of the human-graded ASAG training files).
A curve is monotone, so it never changes how answers rank.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

CURVES = Path(__file__).resolve().parent / "calibration.json"
IDENTITY: tuple[tuple[float, float], ...] = ((0.0, 0.0), (10.0, 10.0))


@functools.cache
def curves(path: Path = CURVES) -> dict[str, tuple[tuple[float, float], ...]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: tuple((float(x), float(y)) for x, y in v["knots"]) for k, v in data.get("curves", {}).items()}


@functools.cache
def fitted_weights(path: Path = CURVES) -> dict[str, float] | None:
    """The scoring policy's signal weights fitted on dev rows (None when not fitted)."""
    if not path.is_file():
        return None
    w = json.loads(path.read_text(encoding="utf-8")).get("policy_weights")
    return {k: float(v) for k, v in w["weights"].items()} if w else None


def apply(raw: float, curve: str | tuple[tuple[float, float], ...] = "authored") -> float:
    knots = curves().get(curve, IDENTITY) if isinstance(curve, str) else curve
    return float(np.interp(raw, [x for x, _ in knots], [y for _, y in knots]))


def fit(raw: list[float], human: list[float], min_block: int = 3,
        weight: list[float] | None = None) -> tuple[tuple[float, float], ...]:
    """Isotonic regression smoothed into a strictly increasing curve through (0, 0) and (10, 10):
    one knot at the mean raw score of each constant block of the fit (blocks smaller than
    ``min_block`` rows are merged into their neighbour, so single rows cannot bend the curve).
    ``weight``: per-row weights for the regression (default 1)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0, y_max=10, out_of_bounds="clip").fit(raw, human, sample_weight=weight)
    fitted = iso.predict(raw)
    blocks: dict[float, list[float]] = {}
    for x, y in zip(raw, fitted, strict=True):
        blocks.setdefault(round(float(y), 6), []).append(float(x))
    merged: list[tuple[list[float], float]] = []
    for y, xs in sorted(blocks.items(), key=lambda kv: min(kv[1])):
        if merged and len(merged[-1][0]) < min_block:
            pxs, py = merged[-1]
            merged[-1] = (pxs + xs, (py * len(pxs) + y * len(xs)) / (len(pxs) + len(xs)))
        else:
            merged.append((xs, y))
    knots = sorted((sum(xs) / len(xs), y) for xs, y in merged)
    pts = [(0.0, 0.0)] + [(round(x, 3), round(y, 3)) for x, y in knots if 0.0 < x < 10.0] + [(10.0, 10.0)]
    out = [pts[0]]
    for x, y in pts[1:]:
        if x > out[-1][0] and y > out[-1][1]:
            out.append((x, y))
    if out[-1] != (10.0, 10.0):
        out.append((10.0, 10.0))
    return tuple(out)


__all__ = ["CURVES", "apply", "curves", "fit"]
