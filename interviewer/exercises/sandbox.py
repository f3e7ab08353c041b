"""Run untrusted Python in a throw-away sandbox process. Nothing here imports or executes the code.

Two isolation modes:

``"bubblewrap"`` (default)
    ``bwrap`` with new PID, network, IPC, UTS and cgroup namespaces; the root file system is an
    empty tmpfs holding read-only binds of ``/usr`` (and ``/lib*`` / ``/bin``), the Python
    installation and the virtualenv only -- no ``/etc``, no home, no ``/root``, no repository, no
    ``knowledge/`` or data directory. The working directory is a fresh size-capped tmpfs.
    Inside, ``prlimit`` sets CPU time, address space, process count, file size and open files, then
    ``setpriv`` drops to an unprivileged per-run uid (all capabilities dropped, no-new-privs)
    before Python starts, so ``RLIMIT_NPROC`` is enforced even when the server runs as root.
    ``--die-with-parent`` and the PID namespace take every process of the run down with it.

``"rlimits-only"`` (weaker; must be asked for)
    A plain subprocess with the same rlimits in a private temp directory and a scrubbed
    environment. No namespaces: the code can read what the server user can read and reach the
    network. Every result carries ``weaker=True`` and a note saying so.

In both modes the parent enforces a wall-clock timeout (SIGKILL to the whole process group) and
reads at most ``output_bytes`` from each pipe; more output stops the run and is reported.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from interviewer.errors import BackendError

Isolation = Literal["bubblewrap", "rlimits-only"]
ISOLATION_MODES: tuple[str, ...] = ("bubblewrap", "rlimits-only")

#: Where things live inside the bubblewrap sandbox.
WORKDIR = "/tmp/work"
HARNESS_DIR = "/sandbox"

WEAKER_NOTE = ("weaker isolation (rlimits-only): no namespaces -- the code could read files the server "
               "can read and use the network; only resource limits and a private temp dir applied")

_MIB = 1024 * 1024


class SandboxUnavailable(BackendError):
    """bubblewrap is missing or cannot create namespaces here; the message says what to do
    (a BackendError, so the CLI prints it and exits with status 4)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run."""

    wall_s: float = 10.0          # wall clock, enforced by the parent
    cpu_s: int = 10               # RLIMIT_CPU (SIGXCPU, then SIGKILL one second later)
    memory_mb: int = 768          # RLIMIT_AS (address space, so leave room for imports)
    nproc: int = 32               # RLIMIT_NPROC (processes + threads of the sandbox uid)
    fsize_mb: int = 16            # RLIMIT_FSIZE (largest file the code may write)
    nofile: int = 128             # RLIMIT_NOFILE
    tmpfs_mb: int = 64            # size of the private working directory (bubblewrap)
    output_bytes: int = 64 * 1024  # read at most this much of stdout and of stderr


@dataclass
class SandboxResult:
    """What came back from one sandboxed process."""

    returncode: int | None
    stdout: str
    stderr: str
    wall_s: float
    isolation: str
    weaker: bool
    timed_out: bool = False
    output_truncated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def signal_name(self) -> str | None:
        rc = self.returncode
        if rc is not None and self.isolation == "bubblewrap" and rc > 128:
            rc = 128 - rc  # bwrap reports a child killed by signal N as exit status 128 + N
        if rc is None or rc >= 0:
            return None
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"

    def describe_failure(self, limits: Limits) -> str | None:
        """A one-line human reason when the process was stopped or crashed, else None."""
        if self.timed_out:
            return f"time limit exceeded: stopped after {limits.wall_s:g} s of wall-clock time"
        if self.output_truncated:
            return (f"output limit exceeded: the program printed more than {limits.output_bytes // 1024} KB; "
                    "the run was stopped")
        sig = self.signal_name
        if sig in ("SIGXCPU",) or (sig == "SIGKILL" and self.wall_s >= limits.cpu_s):
            return f"CPU time limit exceeded ({limits.cpu_s} s)"
        if sig == "SIGXFSZ":
            return f"file size limit exceeded ({limits.fsize_mb} MB)"
        if sig:
            return f"the process was killed by {sig}"
        if self.returncode not in (0, None) and not (self.isolation == "bubblewrap" and self.returncode > 128):
            return f"the process exited with status {self.returncode}"
        return None


# ----------------------------------------------------------------------------- environment
def _python() -> str:
    """The interpreter to run inside (the venv's, so numpy/hypothesis are importable)."""
    return sys.executable


def _ro_paths() -> list[str]:
    """Host paths Python needs, bound read-only at the same place: the base installation
    (interpreter + stdlib) and the virtualenv (site-packages). Nothing else of the repo."""
    paths: list[str] = []
    for p in (sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))):
        real = os.path.realpath(p)
        if real.startswith("/usr/") or real == "/usr":
            continue
        if not any(real == q or real.startswith(q + "/") for q in paths):
            paths = [q for q in paths if not q.startswith(real + "/")] + [real]
    # the venv may be reached through a symlinked path; bind the path as named too
    for p in (sys.prefix,):
        if os.path.realpath(p) != p and not p.startswith("/usr/"):
            paths.append(p)
    return paths


def _env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        # one BLAS/OpenMP thread: fewer processes against RLIMIT_NPROC, less address space
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra or {})
    return env


def _sandbox_uid() -> int:
    """A per-run unprivileged uid (no host user owns it), so concurrent runs do not share
    RLIMIT_NPROC and nothing on the host belongs to the sandbox."""
    return random.randint(200_000, 299_999)


def _rlimit_args(limits: Limits) -> list[str]:
    return [
        f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",
        f"--as={limits.memory_mb * _MIB}",
        f"--nproc={limits.nproc}",
        f"--fsize={limits.fsize_mb * _MIB}",
        f"--nofile={limits.nofile}",
        "--core=0",
    ]


def _set_rlimits(limits: Limits) -> None:
    """preexec_fn for rlimits-only mode (runs in the child between fork and exec)."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * _MIB,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize_mb * _MIB,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.nofile,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _count_own_processes() -> int:
    uid = os.getuid()
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{d}/task"))
            except OSError:
                pass
    return n


def bwrap_argv(binds: dict[str, str], limits: Limits, command: list[str], uid: int) -> list[str]:
    """The full command line: bwrap (namespaces, file system) → prlimit → setpriv → command.

    ``binds`` maps host files to read-only paths inside (the harness)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bwrap not found")
    root = os.geteuid() == 0
    argv = [bwrap,
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox",
            "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(limits.tmpfs_mb * _MIB), "--tmpfs", "/tmp",
             "--perms", "1777", "--dir", WORKDIR]
    made: set[str] = set()
    for path in [*_ro_paths(), *binds.values()]:
        # parents bwrap would create 0700 (unreadable after the uid drop): make them 0755 first
        parts = Path(path).parts[1:]
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            if parent not in made and not parent.startswith(("/usr", "/tmp")):
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for path in _ro_paths():
        argv += ["--ro-bind", path, path]
    for host, inside in binds.items():
        argv += ["--ro-bind", host, inside]
    argv += ["--chdir", WORKDIR]
    if not root:
        # unprivileged bwrap needs a user namespace; the uid inside maps to our own uid, which
        # RLIMIT_NPROC counts (with everything else we run), so add our current process count
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
        limits = Limits(**{**limits.__dict__, "nproc": limits.nproc + _count_own_processes()})
    argv += ["--", shutil.which("prlimit") or "/usr/bin/prlimit", *_rlimit_args(limits), "--"]
    if root:
        argv += [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return argv + command


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bubblewrap works here; otherwise what is wrong and how to fix it (cached)."""
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed (the `bwrap` command was not found). Install it "
                "(Debian/Ubuntu: `apt-get install bubblewrap`) or explicitly choose the weaker "
                "isolation='rlimits-only' mode.")
    for tool in ("prlimit", "setpriv"):
        if shutil.which(tool) is None:
            return f"`{tool}` (util-linux) was not found; it is needed to limit and de-privilege the sandbox."
    try:
        argv = bwrap_argv({}, Limits(), [_python(), "-I", "-c", "import os; print(os.getuid())"], _sandbox_uid())
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=_env(WORKDIR),
                           start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap could not be started: {e}"
    if p.returncode != 0:
        return ("bubblewrap cannot create a sandbox here (namespaces unavailable?): "
                f"{(p.stderr or p.stdout).strip()[:300]}. Fix the host (e.g. allow user namespaces) or "
                "explicitly choose the weaker isolation='rlimits-only' mode.")
    if os.geteuid() == 0 and p.stdout.strip() == "0":
        return "bubblewrap ran the code as root (privilege drop failed); refusing to run untrusted code."
    return None


# ----------------------------------------------------------------------------- running
def _communicate(proc: subprocess.Popen, stdin: bytes, limits: Limits) -> tuple[bytes, bytes, bool, bool]:
    """Feed stdin, read capped stdout/stderr, enforce the wall clock. Returns (out, err, timed_out,
    truncated). On timeout or too much output the whole process group is killed at once."""
    deadline = time.monotonic() + limits.wall_s
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None  # opened with PIPE
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pending = memoryview(stdin)
    wfd = proc.stdin.fileno()
    os.set_blocking(wfd, False)
    sel.register(wfd, selectors.EVENT_WRITE)
    timed_out = truncated = False
    open_reads = len(bufs)
    while open_reads:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(left, 0.5)):
            fd = key.fd
            if fd == wfd:
                try:
                    n = os.write(wfd, pending[:65536])
                    pending = pending[n:]
                except BlockingIOError:
                    continue
                except OSError:  # child closed stdin / died
                    pending = pending[:0]
                if not pending:
                    sel.unregister(wfd)
                    proc.stdin.close()
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(fd)
                open_reads -= 1
                continue
            buf = bufs[fd]
            room = limits.output_bytes - len(buf)
            buf += chunk[:max(room, 0)]
            if len(chunk) > room:
                truncated = True
        if truncated:
            break
    sel.close()
    if timed_out or truncated:
        _kill_group(proc)
    else:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
    for f in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if f is not None:
                f.close()
    return bytes(bufs[out_fd]), bytes(bufs[err_fd]), timed_out, truncated


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def run_python(script: Path, stdin: bytes, limits: Limits, isolation: Isolation = "bubblewrap") -> SandboxResult:
    """Run ``python -I script`` sandboxed with ``stdin`` as input; never raises for anything the
    code does. Raises SandboxUnavailable when bubblewrap is requested but cannot work, and
    ValueError for an unknown mode."""
    if isolation not in ISOLATION_MODES:
        raise ValueError(f"unknown isolation mode {isolation!r}; choose one of {list(ISOLATION_MODES)}")
    notes: list[str] = []
    tmp = None
    if isolation == "bubblewrap":
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailable(f"refusing to run untrusted code: {problem}")
        inside = f"{HARNESS_DIR}/{script.name}"
        argv = bwrap_argv({str(script): inside}, limits, [_python(), "-I", "-B", inside], _sandbox_uid())
        popen_kw: dict = {"env": _env(WORKDIR)}
        weaker = False
    else:
        tmp = tempfile.mkdtemp(prefix="interviewer-sandbox-")
        argv = [_python(), "-I", "-B", str(script)]
        popen_kw = {"env": _env(tmp), "cwd": tmp, "preexec_fn": functools.partial(_set_rlimits, limits)}
        weaker = True
        notes.append(WEAKER_NOTE)
        if os.geteuid() == 0:
            notes.append("running as root: the process-count limit is not enforced in this mode")
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, close_fds=True, **popen_kw)
        out, err, timed_out, truncated = _communicate(proc, stdin, limits)
        rc = proc.returncode
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return SandboxResult(returncode=rc, stdout=out.decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"),
                         wall_s=round(time.monotonic() - t0, 3), isolation=isolation, weaker=weaker,
                         timed_out=timed_out, output_truncated=truncated, notes=notes)
