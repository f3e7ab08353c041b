"""Sandbox overhead: `python eval/bench_sandbox.py` → eval/results/bench-sandbox.json.

For one passing exercise (the reference solution), the wall time of
- ``inprocess``: the same test suite executed in this process (no isolation; trusted code only),
- ``plain_subprocess``: harness.py in a bare subprocess (interpreter start + imports, no limits),
- ``rlimits_only``: the weaker mode (subprocess + rlimits + private temp dir),
- ``bubblewrap``: the default mode (namespaces + read-only binds + rlimits + uid drop),
- ``bwrap_true``: bubblewrap starting and exiting with ``/bin/true`` (pure sandbox set-up cost),
each as median / p95 over N runs (few, to stay gentle on a shared 2-core machine).
Overhead = bubblewrap - inprocess (what a user waits beyond running the tests); goal < 1 s.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "eval" / "results" / "bench-sandbox.json"
N = int(os.environ.get("BENCH_SANDBOX_N", "10"))

from interviewer.exercises import sandbox  # noqa: E402
from interviewer.exercises.loader import default_dir, load_file  # noqa: E402
from interviewer.exercises.runner import HARNESS, limits_for, run_exercise  # noqa: E402
from interviewer.exercises.schema import Exercise  # noqa: E402


def pick_exercise() -> Exercise:
    """The first numpy exercise without torch (the common case), else the first exercise."""
    found: list[Exercise] = []
    for path in sorted(default_dir().glob("*.yaml")):
        found += load_file(path)[0]
    if not found:
        raise SystemExit(f"no exercises in {default_dir()}")
    plain = [e for e in found if not e.uses_torch]
    numpy_ex = [e for e in plain if "numpy" in e.allowed_imports]
    return (numpy_ex or plain or found)[0]


def stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"median_s": round(statistics.median(xs), 4),
            "p95_s": round(xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))], 4),
            "min_s": round(xs[0], 4), "n": len(xs)}


def timed(fn, n: int = N) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def inprocess(ex: Exercise) -> None:
    mod = types.ModuleType("solution")
    exec(compile(ex.reference, "solution.py", "exec"), mod.__dict__)
    ns = {k: v for k, v in vars(mod).items() if not k.startswith("_")}
    exec(compile(ex.tests, "tests.py", "exec"), ns)
    for name, fn in list(ns.items()):
        if name.startswith("test_") and callable(fn):
            fn()


def main() -> None:
    ex = pick_exercise()
    payload = json.dumps({"solution": ex.reference, "tests": ex.tests, "time_limit_s": ex.time_limit_s}).encode()
    results: dict[str, dict] = {}
    results["inprocess"] = stats(timed(lambda: inprocess(ex)))
    with tempfile.TemporaryDirectory() as tmp:  # the harness writes the program's output to its cwd
        results["plain_subprocess"] = stats(timed(lambda: subprocess.run(
            [sys.executable, "-I", "-B", str(HARNESS)], input=payload, capture_output=True, check=True, cwd=tmp)))

    def run(mode):
        res = run_exercise(ex, ex.reference, hidden=True, isolation=mode)
        assert res.ok, res
        return res

    results["rlimits_only"] = stats(timed(lambda: run("rlimits-only")))
    problem = sandbox.bwrap_problem()
    if problem is None:
        results["bubblewrap"] = stats(timed(lambda: run("bubblewrap")))
        argv = sandbox.bwrap_argv({}, limits_for(ex), ["/bin/true"], 250_000)
        results["bwrap_true"] = stats(timed(lambda: subprocess.run(argv, check=True, env=sandbox._env("/tmp/work"))))
        overhead = results["bubblewrap"]["median_s"] - results["inprocess"]["median_s"]
    else:
        overhead = None
    report = {
        "meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
                 "machine": platform.machine(), "cpus": os.cpu_count(), "bwrap_problem": problem,
                 "exercise": ex.id, "suite": "hidden", "tests": ex.tests.count("def test_")},
        "results": results,
        "overhead_s": None if overhead is None else round(overhead, 4),
        "goal_s": 1.0,
        "meets_goal": None if overhead is None else overhead < 1.0,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
