"""Load benchmark: simulated candidates (Locust) against 1 and 2 replicas sharing Postgres and a
Chroma server, on 127.0.0.1 only; then a check that every acknowledged answer is stored exactly
once. Writes eval/results/load.json (machine, settings, requests/s, p50/p95 per action).

    python eval/load_test.py [--users 32] [--seconds 120] [--replicas 1 2]

Bounded in users and time; nothing leaves the machine. Run it on an idle machine: it measures
the CPU. The replicas run rubric-only grading (llm.mode=none: the served LLM is not on the grading
path by default) and no text-to-speech (the simulated candidates do not listen).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def machine() -> dict:
    def field(path: str, key: str) -> str:
        try:
            return next(ln.split(":", 1)[1].strip() for ln in Path(path).read_text().splitlines() if ln.startswith(key))
        except (OSError, StopIteration):
            return ""

    mem = field("/proc/meminfo", "MemTotal").split()
    return {"cpus": os.cpu_count(), "cpu": field("/proc/cpuinfo", "model name"),
            "memory_mb": int(mem[0]) // 1024 if mem else 0, "python": platform.python_version(),
            "os": platform.platform()}


def run(n_replicas: int, users: int, seconds: int, work: Path, pg_url: str, chroma_port: int) -> dict:
    from interviewer.progress.store import ProgressStore
    from interviewer.tempdb import free_port, wait_port

    env = {**os.environ, "INTERVIEWER_STORE__URL": pg_url, "INTERVIEWER_VECTORSTORE__MODE": "http",
           "INTERVIEWER_VECTORSTORE__PORT": str(chroma_port), "INTERVIEWER_LLM__MODE": "none",
           "INTERVIEWER_UI__VOICE": "false", "INTERVIEWER_VOICE__TTS": "none", "GRADIO_ANALYTICS_ENABLED": "False"}
    procs, hosts = [], []
    try:
        for i in range(n_replicas):
            port = free_port()
            log = open(work / f"replica-{n_replicas}-{i}.log", "w")  # noqa: SIM115 - lives with the process
            procs.append(subprocess.Popen([str(BIN / "interviewer"), "--data-dir", str(work / f"r{n_replicas}-{i}"),
                                           "serve", "--port", str(port)], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=ROOT))
            hosts.append(f"http://127.0.0.1:{port}/")
        for p, h in zip(procs, hosts, strict=True):
            wait_port(int(h.rsplit(":", 1)[1].strip("/")), p, 180)
        time.sleep(20)  # the replicas load their models in the background after the page is up
        answers_log = work / f"answers-{n_replicas}.jsonl"
        answers_log.unlink(missing_ok=True)
        prefix = work / f"locust-{n_replicas}"
        cmd = [str(BIN / "locust"), "-f", str(ROOT / "eval" / "load" / "locustfile.py"), "--headless",
               "-u", str(users), "-r", str(max(1, users // 8)), "-t", f"{seconds}s", "--csv", str(prefix),
               "--only-summary", "--stop-timeout", "60", "--host", hosts[0]]
        t0 = time.time()
        r = subprocess.run(cmd, env={**os.environ, "LOAD_HOSTS": ",".join(hosts), "LOAD_LOG": str(answers_log)},
                           capture_output=True, text=True, timeout=seconds + 300)
        wall = time.time() - t0
        rows = list(csv.DictReader(Path(f"{prefix}_stats.csv").read_text(encoding="utf-8").splitlines()))
        actions = {}
        for row in rows:
            actions[row["Name"]] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                    "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0),
                                    "requests_per_s": round(float(row["Requests/s"] or 0), 2)}
        # every acknowledged answer stored exactly once
        store = ProgressStore(None, url=pg_url)
        logged = [json.loads(x) for x in answers_log.read_text(encoding="utf-8").splitlines()] \
            if answers_log.exists() else []
        by_session: dict[str, list[str]] = {}
        for a in logged:
            by_session.setdefault(a["session"], []).append(a["answer"])
        lost = dup = 0
        for sid, answers in by_session.items():
            stored = [t["answer"] for t in store.turns(sid) if t["kind"] in ("answer", "followup_answer")]
            for a in answers:
                n = stored.count(a)
                lost += n == 0
                dup += n > 1
        store.close()
        return {"replicas": n_replicas, "users": users, "seconds": seconds, "wall_seconds": round(wall, 1),
                "actions": actions, "acknowledged_answers": len(logged), "sessions": len(by_session),
                "lost_answers": lost, "duplicated_answers": dup, "locust_exit": r.returncode}
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "load.json")
    args = ap.parse_args(argv)

    import tempfile

    from interviewer.tempdb import TempPostgres, free_port, wait_port

    work = Path(tempfile.mkdtemp(prefix="interviewer-load-"))
    pg = TempPostgres()
    chroma_port = free_port()
    chroma = subprocess.Popen([str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(chroma_port),
                               "--path", str(work / "chroma")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    try:
        wait_port(chroma_port, chroma, 60)
        env = {**os.environ, "INTERVIEWER_VECTORSTORE__MODE": "http", "INTERVIEWER_VECTORSTORE__PORT": str(chroma_port),
               "INTERVIEWER_LLM__MODE": "none"}
        subprocess.run([str(BIN / "interviewer"), "--data-dir", str(work / "ingest"), "ingest"], env=env, check=True,
                       capture_output=True, cwd=ROOT)
        runs = [run(n, args.users, args.seconds, work, pg.url, chroma_port) for n in args.replicas]
    finally:
        chroma.terminate()
        pg.stop()
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    out = {"what": "simulated candidates (Locust + gradio_client) against interviewer serve replicas sharing a "
                   "Postgres and a Chroma server, 127.0.0.1 only; rubric-only grading, no TTS",
           "command": "python eval/load_test.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "git_sha": sha + ("+uncommitted changes" if dirty else ""), "date": datetime.now(UTC).date().isoformat(),
           "machine": machine(), "runs": runs}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for r in runs:
        g = r["actions"].get("answer (graded)", {})
        print(f"{r['replicas']} replica(s), {r['users']} users: graded answer p50 {g.get('p50_ms')} ms "
              f"p95 {g.get('p95_ms')} ms; {r['acknowledged_answers']} answers, lost {r['lost_answers']}, "
              f"duplicated {r['duplicated_answers']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
