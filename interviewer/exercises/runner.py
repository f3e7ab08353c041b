"""Run an exercise's visible examples ("Run") or hidden tests ("Submit") against candidate code.

The code only ever runs in the sandbox (``sandbox.run_python`` with ``harness.py``); this module
builds the payload, parses the harness' JSON line and turns it into a typed ``RunResult``.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

from pydantic import BaseModel, Field

from interviewer.exercises.sandbox import Isolation, Limits, SandboxResult, run_python
from interviewer.exercises.schema import Exercise, imported_modules, suite_tests

HARNESS = Path(__file__).resolve().parent / "harness.py"
#: interpreter + imports need address space beyond what the exercise's code may use
BASE_MEMORY_MB = 256
TORCH_MEMORY_MB = 1024
MAX_MESSAGE = 600
#: language-level modules any solution may import
ALWAYS_ALLOWED = frozenset({"__future__", "typing", "dataclasses", "abc"})


class TestOutcome(BaseModel):
    __test__ = False  # not a pytest class

    name: str
    passed: bool
    message: str | None = None          # the failure message (assertion text, exception)
    time_s: float = 0.0
    hint: str | None = None             # hidden tests: shown instead of the body
    source: str | None = None           # visible examples (or revealed hidden tests): the test body


class RunResult(BaseModel):
    exercise_id: str
    suite: str                          # "examples" | "hidden"
    passed: int
    total: int
    ok: bool                            # every test passed and no disallowed import
    tests: list[TestOutcome]
    first_failure: TestOutcome | None = None
    error: str | None = None            # run-level problem: load error, timeout, output/memory limit
    runtime_s: float                    # wall time of the sandboxed run, start to finish
    tests_time_s: float                 # sum of the per-test times
    hidden_revealed: bool               # whether hidden test bodies are included in this result
    isolation: str                      # "bubblewrap" | "rlimits-only"
    weaker_isolation: bool
    isolation_notes: list[str] = Field(default_factory=list)
    output: str = ""                    # first bytes the code printed (stdout+stderr)
    output_truncated: bool = False
    disallowed_imports: list[str] = Field(default_factory=list)
    style_notes: list[str] = Field(default_factory=list)


def limits_for(ex: Exercise) -> Limits:
    torch = ex.uses_torch
    return Limits(
        wall_s=ex.time_limit_s + 2.0 + (8.0 if torch else 0.0),
        cpu_s=math.ceil(ex.time_limit_s) + 2 + (8 if torch else 0),
        memory_mb=ex.memory_mb + BASE_MEMORY_MB + (TORCH_MEMORY_MB if torch else 0),
    )


def disallowed_imports(ex: Exercise, code: str) -> list[str]:
    try:
        mods = imported_modules(code)
    except SyntaxError:
        return []
    allowed = set(ex.allowed_imports) | ALWAYS_ALLOWED
    return sorted(m for m in mods if m not in allowed)


def style_notes(code: str, numpy_allowed: bool) -> list[str]:
    """A few cheap static remarks on style and complexity (advisory, never a failure)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    notes: list[str] = []

    def depth(node: ast.AST, d: int = 0) -> int:
        here = d + isinstance(node, ast.For | ast.While | ast.AsyncFor | ast.comprehension)
        return max([here] + [depth(c, here) for c in ast.iter_child_nodes(node)])

    deepest = depth(tree)
    if deepest >= 3:
        notes.append(f"loops nested {deepest} deep: likely O(n^{deepest}); can a data structure or "
                     "vectorisation remove one level?")
    elif deepest == 2 and numpy_allowed:
        notes.append("nested Python loops: consider vectorising with NumPy (broadcasting) for speed")
    for n in ast.walk(tree):
        if isinstance(n, ast.ExceptHandler) and n.type is None:
            notes.append("bare `except:` hides real errors; catch the specific exception")
            break
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print" for n in ast.walk(tree)):
        notes.append("remove debugging print() calls before submitting")
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef) and (n.end_lineno or n.lineno) - n.lineno > 40:
            notes.append(f"{n.name} is over 40 lines: consider splitting it into helpers")
            break
    if any(isinstance(n, ast.Global) for n in ast.walk(tree)):
        notes.append("avoid `global` state; pass values as arguments")
    return notes[:3]


def _parse_report(res: SandboxResult) -> dict | None:
    for line in reversed(res.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("harness") == 1:
                return data
    return None


def run_code(ex: Exercise, code: str, *, hidden: bool = False, isolation: Isolation = "bubblewrap",
             reveal: bool = False, tests_code: str | None = None, limits: Limits | None = None) -> RunResult:
    """Run the examples (``hidden=False``) or the hidden tests of ``ex`` against ``code``.

    Hidden test bodies are never in the result unless ``reveal=True``; their hints are.
    ``tests_code`` overrides the suite (used by tests of the sandbox itself). Raises
    ``SandboxUnavailable`` when bubblewrap cannot run here and no weaker mode was chosen."""
    suite = tests_code if tests_code is not None else ex.suite(hidden)
    limits = limits or limits_for(ex)
    payload = json.dumps({"solution": code, "tests": suite, "time_limit_s": ex.time_limit_s,
                          "max_message": MAX_MESSAGE, "max_output": 2000}).encode()
    res = run_python(HARNESS, payload, limits, isolation)
    report = _parse_report(res)
    show_body = (not hidden) or reveal
    try:
        names = suite_tests(suite)
    except SyntaxError:
        names = []

    def outcome(name: str, passed: bool, message: str | None, t: float) -> TestOutcome:
        return TestOutcome(
            name=name, passed=passed, message=message, time_s=t,
            hint=ex.hints.get(name) if hidden else None,
            source=(ex.source_of(hidden, name) if tests_code is None else None) if show_body else None)

    error = None
    if report is not None:
        tests = [outcome(t["name"], bool(t["passed"]), t.get("error"), float(t.get("time_s") or 0))
                 for t in report.get("tests", [])]
        error = report.get("load_error")
        output, output_truncated = report.get("output", ""), bool(report.get("output_truncated"))
    else:
        reason = res.describe_failure(limits) or "the test run ended without reporting results"
        if "MemoryError" in res.stderr:
            reason = f"memory limit exceeded ({limits.memory_mb} MB address space)"
        elif not res.timed_out and not res.output_truncated and res.returncode == 0:
            reason = "the program exited before the tests could report (sys.exit / os._exit in your code?)"
        error = reason
        tests = [outcome(n, False, reason, 0.0) for n in names]
        output, output_truncated = res.stdout[-2000:] if res.output_truncated else "", res.output_truncated
    if report is not None and res.output_truncated:
        output_truncated = True
    bad_imports = disallowed_imports(ex, code)
    passed = sum(t.passed for t in tests)
    first = next((t for t in tests if not t.passed), None)
    return RunResult(
        exercise_id=ex.id, suite="hidden" if hidden else "examples", passed=passed, total=len(tests),
        ok=bool(tests) and passed == len(tests) and not bad_imports and error is None,
        tests=tests, first_failure=first, error=error, runtime_s=res.wall_s,
        tests_time_s=round(sum(t.time_s for t in tests), 4),
        hidden_revealed=hidden and reveal, isolation=res.isolation, weaker_isolation=res.weaker,
        isolation_notes=res.notes, output=output, output_truncated=output_truncated,
        disallowed_imports=bad_imports, style_notes=style_notes(code, "numpy" in ex.allowed_imports),
    )


def run_exercise(ex: Exercise, code: str, *, hidden: bool = False, isolation: Isolation = "bubblewrap",
                 reveal: bool = False) -> RunResult:
    """The entry point for the CLI and the UI ("Run" = examples, "Submit" = hidden)."""
    return run_code(ex, code, hidden=hidden, isolation=isolation, reveal=reveal)


def format_result(r: RunResult) -> str:
    """Plain-text report for the terminal."""
    what = "hidden tests" if r.suite == "hidden" else "examples"
    lines = [f"{r.exercise_id}: {r.passed}/{r.total} {what} passed in {r.runtime_s:.2f} s"
             f" [{r.isolation}{', WEAKER ISOLATION' if r.weaker_isolation else ''}]"]
    if r.error:
        lines.append(f"  error: {r.error}")
    for t in r.tests:
        mark = "PASS" if t.passed else "FAIL"
        lines.append(f"  {mark} {t.name} ({t.time_s * 1000:.0f} ms)")
        if not t.passed and t.message and t.message != r.error:
            lines.append(f"       {t.message}")
        if not t.passed and t.hint:
            lines.append(f"       hint: {t.hint}")
        if not t.passed and t.source:
            lines += ["       " + s for s in t.source.splitlines()]
    if r.disallowed_imports:
        lines.append(f"  imports not allowed for this exercise: {', '.join(r.disallowed_imports)}")
    if r.output:
        lines.append("  your code printed:" + (" (truncated)" if r.output_truncated else ""))
        lines += ["    " + s for s in r.output.splitlines()[:20]]
    for n in r.style_notes:
        lines.append(f"  note: {n}")
    for n in r.isolation_notes:
        lines.append(f"  WARNING: {n}")
    return "\n".join(lines)
