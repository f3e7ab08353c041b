"""The sandbox contains hostile code: every attack is stopped or has no effect outside, is
reported clearly, and a normal exercise still runs afterwards (the server keeps serving).

Needs bubblewrap (`apt-get install bubblewrap`); without it these tests are skipped, except the
ones checking that we refuse to run and that the weaker mode is labelled.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from interviewer.exercises import sandbox
from interviewer.exercises.runner import run_code
from interviewer.exercises.schema import Exercise

ROOT = Path(__file__).resolve().parent.parent

BASE = {
    "id": "ex-sandbox-probe", "title": "Sandbox probe", "source": "new", "topic": ["Coding"],
    "difficulty": "Beginner", "prompt": "Return the sum of two numbers.", "entry_point": "add",
    "signature": "def add(a: int, b: int) -> int",
    "starter": "def add(a, b):\n    raise NotImplementedError\n",
    "reference": "def add(a, b):\n    return a + b\n",
    "allowed_imports": ["numpy", "os", "subprocess", "socket", "sys", "signal", "time"],
    "time_limit_s": 2, "memory_mb": 256,
    "examples": "def test_small():\n    assert add(1, 2) == 3, f'expected 3, got {add(1, 2)}'\n",
    "tests": "def test_negative():\n    assert add(-1, -2) == -3, f'expected -3, got {add(-1, -2)}'\n",
    "hints": {"test_negative": "negative numbers"},
    "buggy": [{"name": "minus", "code": "def add(a, b):\n    return a - b\n"},
              {"name": "constant", "code": "def add(a, b):\n    return 3\n"}],
}
EX = Exercise.model_validate(BASE)
HOST_ROOT_LINE = next((ln for ln in Path("/etc/passwd").read_text().splitlines() if ln.startswith("root:")), "root:x:0:0")

needs_bwrap = pytest.mark.skipif(sandbox.bwrap_problem() is not None,
                                 reason=f"bubblewrap unusable here: {sandbox.bwrap_problem()}")


def attack(test_body: str, solution: str = BASE["reference"], isolation: str = "bubblewrap", **kw):
    """Run ``test_body`` (a tests module) against ``solution``; return (result, seconds)."""
    t0 = time.monotonic()
    res = run_code(EX, solution, tests_code=test_body, isolation=isolation, **kw)
    return res, time.monotonic() - t0


def still_serves(isolation: str = "bubblewrap") -> None:
    res = run_code(EX, BASE["reference"], hidden=True, isolation=isolation)
    assert res.ok and res.passed == res.total == 1, res
    res = run_code(EX, BASE["buggy"][0]["code"], hidden=True, isolation=isolation)
    assert not res.ok and "expected -3, got 1" in res.first_failure.message


def sandbox_processes(wait_s: float = 3.0) -> list[int]:
    """Host processes still running as a sandbox uid (there must be none after a run; killed
    processes may take a moment to be reaped, so poll briefly)."""
    deadline = time.monotonic() + wait_s
    while True:
        pids = _sandbox_pids()
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.1)


def _sandbox_pids() -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if 200_000 <= os.stat(f"/proc/{d}").st_uid < 300_000:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def message(res) -> str:
    return " ".join(filter(None, [res.error, *(t.message or "" for t in res.tests)]))


# ----------------------------------------------------------------------------- attacks
@needs_bwrap
def test_normal_run_is_isolated_and_labelled():
    res = run_code(EX, BASE["reference"], isolation="bubblewrap")
    assert res.ok and res.isolation == "bubblewrap" and not res.weaker_isolation and not res.isolation_notes
    assert res.runtime_s < 3


@needs_bwrap
def test_fork_bomb_is_contained():
    body = (
        "import os\n"
        "def test_bomb():\n"
        "    n = 0\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "            n += 1\n"
        "        except OSError:\n"
        "            pass\n"
    )
    res, secs = attack(body)
    assert not res.ok and res.tests and not res.tests[0].passed
    assert "time limit" in message(res)
    assert secs < EX.time_limit_s + 6, secs
    assert sandbox_processes() == [], "fork bomb processes survived the run"
    still_serves()


@needs_bwrap
def test_process_limit_applies_even_though_we_are_root():
    body = (
        "import os, time\n"
        "def test_count():\n"
        "    kids = []\n"
        "    try:\n"
        "        for _ in range(500):\n"
        "            pid = os.fork()\n"
        "            if pid == 0:\n"
        "                time.sleep(5)\n"
        "                os._exit(0)\n"
        "            kids.append(pid)\n"
        "    except OSError as e:\n"
        "        raise AssertionError(f'FORKS={len(kids)} uid={os.getuid()} {e}')\n"
        "    raise AssertionError(f'FORKS={len(kids)} unlimited')\n"
    )
    res, _ = attack(body)
    msg = res.tests[0].message
    assert "FORKS=" in msg and "unlimited" not in msg, msg
    assert int(msg.split("FORKS=")[1].split()[0]) < 64, msg
    assert "uid=0 " not in msg
    still_serves()


@needs_bwrap
def test_infinite_loop_is_stopped_per_test():
    body = "def test_spin():\n    while True:\n        pass\n\ndef test_after():\n    assert add(2, 2) == 4\n"
    res, secs = attack(body)
    spin, after = res.tests
    assert not spin.passed and "time limit exceeded" in spin.message
    assert secs < EX.time_limit_s + 4
    assert after.passed or "time limit" in after.message
    still_serves()


@needs_bwrap
def test_infinite_loop_that_blocks_signals_is_killed_by_the_parent():
    solution = (
        "import signal\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGXCPU])\n"
        "while True:\n"
        "    try:\n"
        "        while True:\n"
        "            pass\n"
        "    except BaseException:\n"
        "        pass\n"
        "def add(a, b):\n    return a + b\n"
    )
    res, secs = attack("def test_x():\n    assert add(1, 1) == 2\n", solution=solution)
    assert not res.ok and res.error and "time limit exceeded" in res.error, res.error
    assert secs < EX.time_limit_s + 5
    assert sandbox_processes() == []
    still_serves()


@needs_bwrap
def test_huge_allocation_fails_with_memory_error():
    body = (
        "import numpy as np\n"
        "def test_bytes():\n    b = bytearray(20 * 1024 ** 3)\n"
        "def test_numpy():\n    a = np.ones(20 * 1024 ** 3, dtype=np.uint8)\n"
        "def test_after():\n    assert add(1, 2) == 3\n"
    )
    res, secs = attack(body)
    b, n, after = res.tests
    assert not b.passed and "MemoryError" in b.message
    assert not n.passed and ("MemoryError" in n.message or "Unable to allocate" in n.message)
    assert after.passed, "the run continues after a refused allocation"
    assert secs < 5
    still_serves()


@needs_bwrap
def test_host_files_and_home_are_invisible(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    secret = home / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    body = (
        "import os\n"
        "def seen(path):\n"
        "    try:\n"
        "        if os.path.isdir(path):\n"
        "            return 'DIR:' + ','.join(sorted(os.listdir(path)))\n"
        "        return 'FILE:' + open(path).read()[:400]\n"
        "    except OSError as e:\n"
        "        return 'ERR:' + type(e).__name__\n"
        f"PATHS = ['/etc/passwd', '/etc/shadow', {str(secret)!r}, {str(home)!r}, '/root', '/home',\n"
        f"         {str(ROOT / 'knowledge')!r}, {str(ROOT / 'data')!r}, {str(ROOT / 'interviewer')!r},\n"
        f"         {str(ROOT / '.git')!r}, os.path.expanduser('~/.bash_history')]\n"
        "def test_look():\n"
        "    raise AssertionError(' || '.join(p + '=' + seen(p) for p in PATHS))\n"
    )
    res, _ = attack(body)
    msg = res.tests[0].message
    assert "/etc/passwd=ERR:FileNotFoundError" in msg, msg
    assert HOST_ROOT_LINE not in msg and "root:x:0:0" not in msg
    assert "TOP-SECRET-TOKEN" not in msg and f"{secret}=ERR:" in msg
    assert f"{ROOT / 'knowledge'}=ERR:" in msg and f"{ROOT / 'interviewer'}=ERR:" in msg
    # /root holds only the path to the Python installation, never the home directory's files
    assert ".bash_history" not in msg.split("/root=")[1].split(" || ")[0]
    still_serves()


@needs_bwrap
def test_writes_outside_the_work_dir_fail_and_leave_nothing_on_the_host(tmp_path):
    escape = tmp_path / "escaped.txt"
    targets = ["/usr/evil.txt", "/evil.txt", "/root/evil.txt", sandbox.HARNESS_DIR + "/evil.txt",
               str(Path(os.path.realpath(os.sys.prefix)) / "evil.txt"), str(ROOT / "evil.txt"), str(escape),
               "/proc/sys/kernel/hostname"]
    body = (
        "import os\n"
        f"TARGETS = {targets!r}\n"
        "def test_write():\n"
        "    ok = []\n"
        "    for t in TARGETS:\n"
        "        try:\n"
        "            with open(t, 'w') as f:\n"
        "                f.write('pwned')\n"
        "            ok.append(t)\n"
        "        except OSError:\n"
        "            pass\n"
        "    open('/tmp/inside.txt', 'w').write('fine')  # the private temp dir is writable\n"
        "    open('local.txt', 'w').write('fine')\n"
        "    assert not ok, f'WROTE {ok}'\n"
    )
    res, _ = attack(body)
    assert res.ok, message(res)
    for t in targets[:-1]:
        assert not Path(t).exists(), f"{t} appeared on the host"
    assert not (Path("/tmp") / "inside.txt").exists() or (Path("/tmp") / "inside.txt").read_text() != "fine"
    still_serves()


@needs_bwrap
def test_no_network_even_to_localhost():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(6)
    port = srv.getsockname()[1]
    accepted: list = []

    def accept():
        with contextlib.suppress(OSError):
            accepted.append(srv.accept())

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    body = (
        "import socket\n"
        "def test_connect():\n"
        "    s = socket.socket()\n"
        "    s.settimeout(1)\n"
        f"    s.connect(('127.0.0.1', {port}))\n"
        "    s.sendall(b'leak')\n"
    )
    res, _ = attack(body)
    srv.close()
    th.join(7)
    assert not accepted, "the sandbox reached a host socket"
    msg = res.tests[0].message
    assert not res.tests[0].passed and ("Error" in msg or "refused" in msg or "unreachable" in msg), msg
    still_serves()


@needs_bwrap
def test_spawning_a_shell_is_contained(tmp_path):
    marker = tmp_path / "shell-was-here"
    body = (
        "import os, subprocess\n"
        "def test_shell():\n"
        "    out = subprocess.run(['sh', '-c', 'id; hostname'], capture_output=True, text=True).stdout\n"
        f"    os.system('touch {marker} /pwned-by-system 2>/dev/null')\n"
        f"    subprocess.run(['sh', '-c', 'echo x > {marker}; kill -9 -1'], capture_output=True)\n"
        "    raise AssertionError('ID=' + out.replace(chr(10), ' '))\n"
    )
    res, _ = attack(body)
    msg = res.error or res.tests[0].message
    assert not marker.exists() and not Path("/pwned-by-system").exists()
    if "ID=" in msg:  # the shell ran, inside: unprivileged, own hostname, no effect outside
        assert "uid=0(" not in msg and "uid=0 " not in msg, msg
        assert "sandbox" in msg, msg
    still_serves()


@needs_bwrap
def test_printing_a_gigabyte_is_cut_short():
    body = (
        "import sys\n"
        "def test_print():\n"
        "    chunk = 'x' * (1024 * 1024)\n"
        "    for _ in range(1024):\n"
        "        sys.stdout.write(chunk)\n"
        "def test_after():\n"
        "    assert add(1, 2) == 3\n"
    )
    res, secs = attack(body)
    assert secs < 5, secs
    p, after = res.tests
    assert not p.passed and ("File too large" in p.message or "EFBIG" in p.message or "OSError" in p.message), p
    assert res.output_truncated and len(res.output) <= 4000
    assert after.passed
    still_serves()


@needs_bwrap
def test_flooding_the_result_pipe_is_capped_and_stops_the_run():
    body = (
        "import os\n"
        "def test_flood():\n"
        "    chunk = b'y' * (1024 * 1024)\n"
        "    for _ in range(1024):\n"
        "        for fd in range(3, 12):\n"
        "            try:\n"
        "                os.write(fd, chunk)\n"
        "            except OSError:\n"
        "                pass\n"
    )
    res, secs = attack(body)
    assert secs < 5, secs
    assert not res.ok and res.error and "output limit exceeded" in res.error, res.error
    assert res.output_truncated
    still_serves()


@needs_bwrap
def test_sys_exit_and_os_exit_are_reported():
    res, _ = attack("import sys\ndef test_exit():\n    sys.exit(0)\n\ndef test_ok():\n    assert add(1, 1) == 2\n")
    assert not res.tests[0].passed and "SystemExit" in res.tests[0].message and res.tests[1].passed
    res, _ = attack("import os\ndef test_exit():\n    os._exit(0)\n")
    assert not res.ok and res.error and "exited before" in res.error
    still_serves()


# ----------------------------------------------------------------------------- modes
def test_refuses_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap is not installed (the `bwrap` command "
                        "was not found). Install it or explicitly choose isolation='rlimits-only'.")
    with pytest.raises(sandbox.SandboxUnavailable, match="refusing to run untrusted code.*bubblewrap"):
        run_code(EX, BASE["reference"])
    with pytest.raises(ValueError, match="unknown isolation"):
        run_code(EX, BASE["reference"], isolation="none")  # type: ignore[arg-type]


def test_missing_bwrap_is_detected(monkeypatch):
    sandbox.bwrap_problem.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    try:
        assert "apt-get install bubblewrap" in sandbox.bwrap_problem()
    finally:
        sandbox.bwrap_problem.cache_clear()


def test_rlimits_only_mode_runs_and_is_labelled_weaker():
    res = run_code(EX, BASE["reference"], hidden=True, isolation="rlimits-only")
    assert res.ok and res.isolation == "rlimits-only" and res.weaker_isolation
    assert any("weaker isolation" in n for n in res.isolation_notes)
    res, secs = attack("def test_spin():\n    while True:\n        pass\n", isolation="rlimits-only")
    assert not res.ok and "time limit" in message(res) and secs < EX.time_limit_s + 4
    res, _ = attack("def test_big():\n    b = bytearray(20 * 1024 ** 3)\n", isolation="rlimits-only")
    assert "MemoryError" in res.tests[0].message
    still_serves("rlimits-only")
