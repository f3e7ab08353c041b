"""In-sandbox test runner. Standard library only: it runs inside the sandbox, where the
``interviewer`` package is not available. Never import or run this in the server process.

Protocol: one JSON object on stdin::

    {"solution": "<code>", "tests": "<code>", "time_limit_s": 5, "max_message": 600,
     "max_output": 2000}

The solution is executed as module ``solution``; the tests run in a namespace that holds every
public name of the solution; every top-level ``test_*`` function is a test (it passes when it
returns). ONE JSON line goes to the original stdout::

    {"harness": 1, "load_error": null | "...", "tests": [{"name", "passed", "error", "time_s"}],
     "output": "<first bytes the code printed>", "output_truncated": bool, "uid": int}

The code's own stdout/stderr (fds 1 and 2, so also child processes) go to a file in the
private working directory (bounded by RLIMIT_FSIZE), never into the result channel.
"""

import ast
import json
import linecache
import os
import signal
import sys
import time
import traceback
import types

HARNESS_VERSION = 1


class _TestTimeout(BaseException):
    """Raised by the alarm inside a test (BaseException: a bare ``except Exception`` in the
    candidate's code does not swallow it)."""


def _truncate(text, limit):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 15] + " ...[truncated]"


def _describe(exc, limit):
    """A readable one-paragraph message: type, message, hypothesis' falsifying example and where
    in the solution it happened."""
    if isinstance(exc, _TestTimeout):
        return _truncate(str(exc), limit)
    name = type(exc).__name__
    msg = str(exc)
    if isinstance(exc, AssertionError) and not msg:
        msg = "assertion failed"
        tb = traceback.extract_tb(exc.__traceback__)
        for fr in reversed(tb):
            if fr.filename == "tests.py" and fr.line:
                msg = f"assertion failed: {fr.line.strip()}"
                break
    text = f"{name}: {msg}" if msg else name
    notes = [n for n in getattr(exc, "__notes__", None) or []
             if isinstance(n, str) and n.startswith(("Falsifying", "Failing test case"))]
    if notes:  # hypothesis: the (shrunk) input that fails, e.g. "test_h(n=10)"
        text += " | " + " ".join(" ".join(n.split()) for n in notes)[:300].replace("( ", "(").replace(", )", ")")
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if fr.filename == "solution.py":
            text += f" (at solution.py line {fr.lineno}: {(fr.line or '').strip()[:80]})"
            break
    return _truncate(text, limit)


def _test_names(code):
    """Top-level test function names, in order, without running anything."""
    try:
        tree = ast.parse(code, filename="tests.py")
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test_")]


def _register_source(filename, code):
    """So tracebacks (and the 'assertion failed: <line>' message) can show source lines."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)


def _on_alarm(signum, frame):
    raise _TestTimeout("time limit exceeded: the test was stopped (infinite loop or too slow?)")


def main():
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    limit_msg = int(payload.get("max_message", 600))
    max_output = int(payload.get("max_output", 2000))
    time_limit = float(payload.get("time_limit_s", 5))
    t_start = time.monotonic()

    # the result channel is a private copy of stdout; fds 1 and 2 go to a file from now on
    result_fd = os.dup(1)
    os.set_inheritable(result_fd, False)
    out_path = os.path.abspath(".program-output")
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)  # noqa: SIM115
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead

    tests_code = payload["tests"]
    names = _test_names(tests_code)
    results = []
    load_error = None

    if "hypothesis" in tests_code:
        try:  # deterministic, no example database on disk
            from hypothesis import Phase as _Phase
            from hypothesis import settings as _hs

            _hs.register_profile("sandbox", database=None, derandomize=True, deadline=None, print_blob=False,
                                 phases=[_Phase.explicit, _Phase.reuse, _Phase.generate, _Phase.shrink])
            _hs.load_profile("sandbox")
        except Exception:
            pass

    signal.signal(signal.SIGALRM, _on_alarm)

    def remaining():
        return max(0.05, time_limit - (time.monotonic() - t_start))

    _register_source("solution.py", payload["solution"])
    _register_source("tests.py", tests_code)
    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    namespace = None
    try:
        signal.setitimer(signal.ITIMER_REAL, remaining())
        try:
            exec(compile(payload["solution"], "solution.py", "exec"), module.__dict__)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as e:  # noqa: BLE001 -- anything the code raises is a result
        load_error = "your code failed to load: " + _describe(e, limit_msg)
    if load_error is None:
        namespace = {k: v for k, v in vars(module).items() if not k.startswith("_")}
        namespace["__name__"] = "tests"
        namespace["__builtins__"] = __builtins__
        try:
            exec(compile(tests_code, "tests.py", "exec"), namespace)
        except BaseException as e:  # noqa: BLE001
            load_error = "the tests failed to load: " + _describe(e, limit_msg)

    for name in names:
        if load_error is not None:
            results.append({"name": name, "passed": False, "error": load_error, "time_s": 0.0})
            continue
        fn = namespace.get(name)
        if not callable(fn):
            results.append({"name": name, "passed": False, "error": f"{name} is not a function", "time_s": 0.0})
            continue
        if time.monotonic() - t_start >= time_limit:
            results.append({"name": name, "passed": False, "time_s": 0.0,
                            "error": "not run: the time limit for the whole test run was used up"})
            continue
        t0 = time.perf_counter()
        error = None
        try:
            signal.setitimer(signal.ITIMER_REAL, remaining())
            try:
                fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as e:  # noqa: BLE001
            error = _describe(e, limit_msg)
        results.append({"name": name, "passed": error is None, "error": error,
                        "time_s": round(time.perf_counter() - t0, 4)})

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    try:
        with open(out_path, "rb") as f:
            raw = f.read(max_output + 1)
        size = os.path.getsize(out_path)
    except OSError:
        raw, size = b"", 0
    report = {"harness": HARNESS_VERSION, "load_error": load_error, "tests": results,
              "output": raw[:max_output].decode("utf-8", "replace"), "output_truncated": size > max_output,
              "uid": os.getuid()}
    data = (json.dumps(report) + "\n").encode("utf-8")
    while data:
        n = os.write(result_fd, data)
        data = data[n:]
    os._exit(0)  # skip atexit/finalizers the candidate may have registered


if __name__ == "__main__":
    main()
