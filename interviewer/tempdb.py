"""A throwaway Postgres server for tests and the load benchmark: Debian's server binaries, a
fresh cluster in a temporary directory, started as the ``postgres`` user when run as root (Postgres
refuses to run as root), listening on 127.0.0.1 only, trust auth, removed on stop."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from interviewer.errors import BackendError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Wait until something listens on 127.0.0.1:port (fails early when ``proc`` exits)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class TempPostgres:
    def __init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise BackendError("the Postgres server is not installed (`make test` installs Debian's postgresql)")
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="interviewer-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.as_pg: list[str] = []
        if os.geteuid() == 0:  # Postgres refuses to run as root
            shutil.chown(self.base, "postgres", "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self._pg(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])
        self.start()

    def _pg(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_pg, str(self.bindir / cmd[0]), *cmd[1:]], capture_output=True, text=True,
                              timeout=120, check=check, cwd=self.base)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._pg(["pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base}", "start"])

    def kill9(self) -> None:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # the backends notice their postmaster is gone and exit

    def stop(self) -> None:
        self._pg(["pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.base, ignore_errors=True)
