"""Benchmarks (speed, not quality): `python eval/bench.py` → eval/results/bench.json.

- grade latency p50/p95, rubric only (the default critical path) and with the LLM judge;
- tokens/s through our llama.cpp adapter vs raw llama_cpp on the same prompt;
- wall time of `interviewer grade-batch` on 2,000 answers (models loaded once);
- time from `interviewer serve` to the UI answering HTTP 200.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "eval" / "results" / "bench.json"
sys.path.insert(0, str(ROOT))
from interviewer.tempdb import free_port  # noqa: E402

os.environ.setdefault("INTERVIEWER_LLM__MODE", "none")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))], 3)


def bench_grading(svc, rows) -> dict:
    """Cold: nothing cached (the rubric is embedded too). Rubric on disk: nothing in memory, the
    rubric's vectors read from the cache `interviewer ingest` fills. Interactive: the rubric was
    embedded when the question was asked (what the interview engine does), so only the answer is
    embedded and checked. The checker's per-pair cache is emptied before each grade as well."""
    g = svc.grader
    g.grade_item(svc.bank.get(rows[0]["id"]), rows[0]["student_answer"])  # warm-up
    svc.warm_rubric_vectors()  # what `interviewer ingest` does
    vectors = g.vectors
    cold, warm, disk = [], [], []
    for r in rows:
        item = svc.bank.get(r["id"])
        g._cache.clear()
        g.checker._cache.clear()
        g.vectors = None  # cold: the rubric vectors on disk are not used either
        t = time.perf_counter()
        g.grade_item(item, r["student_answer"], use_llm=False)
        cold.append(time.perf_counter() - t)
        g.vectors = vectors
        g._cache.clear()
        g.checker._cache.clear()
        t = time.perf_counter()  # a new process after `ingest`: the rubric's vectors are read from disk
        g.grade_item(item, r["student_answer"], use_llm=False)
        disk.append(time.perf_counter() - t)
        g._cache.clear()
        g.checker._cache.clear()  # the answer is new to the checker too (its verdicts are cached per pair)
        g.prefetch(g.rubric_texts(item))
        t = time.perf_counter()
        g.grade_item(item, r["student_answer"], use_llm=False)
        warm.append(time.perf_counter() - t)
    # the claim checker alone: one answer against its rubric (every key point and misconception), one
    # batched forward pass, nothing cached
    checker, ck = svc.checker, []
    for r in rows:
        rub = svc.bank.get(r["id"]).rubric
        claims = [k.text for k in rub.key_points] + [m.text for m in rub.misconceptions]
        checker._cache.clear()
        t = time.perf_counter()
        checker.check(claims, r["student_answer"])
        ck.append(time.perf_counter() - t)
    return {"n": len(cold), "interactive_p50_s": pct(warm, 0.5), "interactive_p95_s": pct(warm, 0.95),
            "interactive_max_s": round(max(warm), 3),
            "cold_p50_s": pct(cold, 0.5), "cold_p95_s": pct(cold, 0.95),
            "rubric_on_disk_p50_s": pct(disk, 0.5), "rubric_on_disk_p95_s": pct(disk, 0.95),
            "checker_one_answer_p50_ms": round(1000 * pct(ck, 0.5), 1),
            "checker_one_answer_p95_ms": round(1000 * pct(ck, 0.95), 1)}


def one_vs_two_callers(jobs: list, work, before_each=None) -> dict:
    """``jobs`` done by one caller, then split between two callers at once, one torch thread each
    (as in ``serve``); ``before_each`` empties any cache between the two runs."""
    import threading

    import torch

    torch.set_num_threads(1)
    work(jobs[0])  # warm-up

    def run(part: list) -> None:
        for job in part:
            work(job)

    out = {}
    for callers in (1, 2):
        if before_each is not None:
            before_each()
        threads = [threading.Thread(target=run, args=(jobs[i::callers],)) for i in range(callers)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out[f"{callers}_caller_s"] = round(time.perf_counter() - t, 2)
    torch.set_num_threads(os.cpu_count() or 1)
    return {"answers": len(jobs), **out, "speedup": round(out["1_caller_s"] / out["2_caller_s"], 2)}


def bench_checker_concurrency(svc, rows, n: int = 40) -> dict:
    """The claim checker under concurrent requests: ``n`` answers, each against its whole rubric."""
    checker = svc.checker
    jobs = []
    for r in (rows * (n // len(rows) + 1))[:n]:
        jobs.append((rubric_claims(svc, r["id"]), r["student_answer"]))
    out = one_vs_two_callers(jobs, lambda job: checker.check(*job), before_each=checker._cache.clear)
    return {**out, "runtime": getattr(checker, "runtime", "torch")}


def rubric_claims(svc, item_id: str) -> list[str]:
    """Everything the claim checker reads against an answer to this item: key points, misconceptions."""
    rub = svc.bank.get(item_id).rubric
    return [k.text for k in rub.key_points] + [m.text for m in rub.misconceptions]


def bench_checker_runtimes(svc, rows) -> dict:
    """The claim checker in torch and in ONNX Runtime (fp32, the same weights), one answer against
    its whole rubric, uncached, alternating which runtime goes first: the two are compared in one
    run, so this machine's drift between runs does not decide it. Two threads each (torch's default
    here; the ONNX session's setting)."""
    import numpy as np

    from interviewer.grading.claims import ClaimChecker

    runtimes = {"torch": ClaimChecker(svc.settings.grading.checker_path or None, "fp32"),
                "onnxruntime": ClaimChecker(svc.settings.grading.checker_path or None, "fp32",
                                            onnx_dir=svc.settings.data_dir / "models")}
    times: dict[str, list[float]] = {k: [] for k in runtimes}
    worst = 0.0
    for i, r in enumerate(rows):
        claims = rubric_claims(svc, r["id"])
        probs = {}
        for name in (list(runtimes) if i % 2 == 0 else list(reversed(runtimes))):
            c = runtimes[name]
            c._cache.clear()
            t = time.perf_counter()
            c.check(claims, r["student_answer"])
            times[name].append(time.perf_counter() - t)
            probs[name] = np.stack(list(c._cache.values()))
        worst = max(worst, float(np.abs(probs["torch"] - probs["onnxruntime"]).max()))
    return {"answers": len(rows), "runtimes": {k: runtimes[k].runtime for k in runtimes},
            **{f"{k}_p50_ms": round(1000 * pct(v, 0.5), 1) for k, v in times.items()},
            **{f"{k}_p95_ms": round(1000 * pct(v, 0.95), 1) for k, v in times.items()},
            "max_probability_difference": worst}


def bench_embedder_concurrency(svc, rows, n: int = 40) -> dict:
    """The embedder as a grade uses it (one answer's spans per call) under concurrent requests
    (it keeps no cache of its own; the grader's is bypassed)."""
    from interviewer.grading.grader import split_spans

    emb = getattr(svc.embedder, "inner", svc.embedder)
    jobs = [[sp.text for sp in split_spans(r["student_answer"])] or [r["student_answer"] or "-"]
            for r in (rows * (n // len(rows) + 1))[:n]]
    return one_vs_two_callers(jobs, emb.embed)


def bench_llm(svc, rows, n: int = 5) -> dict:
    from interviewer.grading.grader import Grader
    from interviewer.llm.registry import local_backend

    llm: Any = local_backend(svc.settings)  # the llama.cpp adapter: its raw `llm` is timed too
    grader = Grader(svc.embedder, svc.checker, llm=llm)
    picked = [r for r in rows if r["category"] in ("excellent", "partial", "misconception")][:n]
    times, labels = [], []
    for r in picked:
        t = time.perf_counter()
        gr = grader.grade_item(svc.bank.get(r["id"]), r["student_answer"])
        times.append(time.perf_counter() - t)
        labels.append(gr.label)
    # adapter overhead: same prompt, same settings, raw create_chat_completion vs our complete()
    msgs = [{"role": "user", "content": "Explain in three sentences what dropout does in a neural network."}]
    raw_tps, ad_tps = [], []
    for _ in range(3):
        t = time.perf_counter()
        out = llm.llm.create_chat_completion(messages=msgs, temperature=0.0, max_tokens=96)
        raw_tps.append(out["usage"]["completion_tokens"] / (time.perf_counter() - t))
        t = time.perf_counter()
        text = llm.complete(msgs, 96)
        n_tok = len(llm.llm.tokenize(text.encode(), add_bos=False, special=False))
        ad_tps.append(n_tok / (time.perf_counter() - t))
    raw, ad = statistics.median(raw_tps), statistics.median(ad_tps)
    return {"model": llm.name, "grade_with_llm": {"n": len(times), "p50_s": pct(times, 0.5), "p95_s": pct(times, 0.95),
                                                  "labels": sorted(set(labels))},
            "tokens_per_s": {"raw_llama_cpp": round(raw, 2), "adapter": round(ad, 2),
                             "overhead_pct": round(100 * (raw - ad) / raw, 2)}}


def bench_ask(svc, n: int = 6) -> dict:
    """Ask with the bundled model (``--llm``): the grounded extractive answer streams first, then the
    LLM's short connecting paragraph. Times to the first text, to the LLM's first token and to the end,
    on the first covered dev questions of eval/ask/questions.jsonl."""
    from interviewer.concepts import LLM_PART, answer_question
    from interviewer.llm.registry import local_backend

    qs = [json.loads(line) for line in (ROOT / "eval" / "ask" / "questions.jsonl").read_text().splitlines() if line.strip()]
    qs = [q for q in qs if q.get("split") == "dev" and q.get("kind") == "covered"][:n]
    llm = local_backend(svc.settings)
    saved, svc.llm = svc.llm, llm
    first_text, first_llm, total, tokens = [], [], [], []
    try:
        for q in qs:
            t = time.perf_counter()
            seen_marker, chunks, llm_at = False, 0, None
            for i, chunk in enumerate(answer_question(svc, q["question"], llm=True)):
                now = time.perf_counter() - t
                if i == 0:
                    first_text.append(now)
                if seen_marker:
                    chunks += 1
                    if llm_at is None and chunk.strip():  # the first non-blank chunk after the label
                        llm_at = now
                if LLM_PART.strip() in chunk:
                    seen_marker = True
            if llm_at is not None:
                first_llm.append(llm_at)
            total.append(time.perf_counter() - t)
            tokens.append(chunks)
    finally:
        svc.llm = saved
    return {"model": llm.name, "questions": len(qs), "first_text_p50_s": pct(first_text, 0.5),
            "first_llm_token_p50_s": pct(first_llm, 0.5) if first_llm else None,
            "first_llm_token_p95_s": pct(first_llm, 0.95) if first_llm else None,
            "total_p50_s": pct(total, 0.5), "llm_chunks_mean": round(sum(tokens) / len(tokens), 1) if tokens else 0,
            "max_tokens": svc.settings.ask.max_tokens}


def bench_batch(rows, data_dir: Path, n: int = 2000, unique_spans: bool = False) -> dict:
    """2,000 answers built from the labelled ones. Default: sentences shuffled and dropped, so
    answers differ but sentences repeat (a class answering the same questions). With
    ``unique_spans`` every sentence is tagged with a different phrase, so no span is ever
    served from the embedding cache: the worst case."""
    rng = random.Random(0)
    tags = ["indeed", "notably", "in practice", "in short", "roughly", "importantly", "typically", "generally"]
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "batch.jsonl"
    with src.open("w") as f:
        for i in range(n):
            r = rows[i % len(rows)]
            sents = r["student_answer"].split(". ")
            if unique_spans:
                ans = ". ".join(f"{s} ({tags[(i + j) % len(tags)]} #{i}-{j})" for j, s in enumerate(sents))
            else:
                rng.shuffle(sents)
                ans = ". ".join(sents[: max(1, len(sents) - (i // len(rows)) % 3)]) + f" (#{i})"
            f.write(json.dumps({"id": r["id"], "question": r["question"], "reference_answer": r["reference_answer"],
                                "student_answer": ans, "score": r["score"], "score_max": 10}) + "\n")
    env = dict(os.environ, INTERVIEWER_DATA_DIR=str(data_dir), INTERVIEWER_LLM__MODE="none")
    t = time.perf_counter()
    subprocess.run([str(BIN / "interviewer"), "grade-batch", str(src), "--out", str(tmp / "out.jsonl")],
                   check=True, env=env, capture_output=True)
    wall = time.perf_counter() - t
    lines = (tmp / "out.jsonl").read_text().count("\n")
    return {"answers": lines, "wall_s": round(wall, 1), "answers_per_s": round(lines / wall, 1),
            "variant": "unique spans (nothing cached)" if unique_spans else "shuffled sentences"}


def bench_ui_start(data_dir: Path) -> dict:
    port = free_port()
    env = dict(os.environ, INTERVIEWER_DATA_DIR=str(data_dir), INTERVIEWER_LLM__MODE="none")
    t = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "interviewer"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        return {"seconds_to_http_200": round(time.perf_counter() - t, 2)}
            except OSError:
                time.sleep(0.1)
        return {"seconds_to_http_200": None}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def bench_cli_start(data_dir: Path, runs: int = 3) -> dict:
    """Wall time of terminal commands, those that need no model and two that load models (median of ``runs``)."""
    env = dict(os.environ, INTERVIEWER_DATA_DIR=str(data_dir), INTERVIEWER_LLM__MODE="none")
    out = {}
    grade = ["grade", "--id", "004-048", "--answer", "Dropout zeroes random units during training so they cannot co-adapt."]
    commands = (("help", ["--help"], {}), ("bank_stats", ["bank", "stats"], {}), ("progress", ["progress"], {}),
                # commands that load models: a new process (imports, the embedder, the index; the page cache warm)
                ("search", ["search", "dropout at inference"], {}),
                ("ask", ["ask", "what does dropout do at test time"], {}),
                ("grade", grade, {}),
                # what a CPU without native bf16 runs by default: the checker's and the embedder's ONNX graphs
                ("grade_fp32", grade, {"INTERVIEWER_EMBEDDING__PRECISION": "fp32"}))
    for name, args, extra in commands:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([str(BIN / "interviewer"), *args], env={**env, **extra}, capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        out[name] = round(statistics.median(times), 2)
    return out


def bench_ui_card(data_dir: Path, sessions: int, answers: int = 3, think_s: tuple[float, float] | None = None,
                  seed: int = 1000) -> dict:
    """Through the real UI (gradio_client) with speech on (Piper): the time from pressing Submit to
    the first update that carries the grade card, with ``sessions`` candidates at once.

    ``think_s=None`` is the stress case: every candidate submits again the moment the card arrives.
    ``think_s=(lo, hi)`` paces them as people: each listens to the interviewer's reply (waits for
    the audio) and then takes a random lo–hi seconds (seeded) before the next answer."""
    import threading

    from gradio_client import Client

    port = free_port()
    store = Path(tempfile.mkdtemp()) / "bench-progress.sqlite3"  # the benchmark's sessions stay out of yours
    env = dict(os.environ, INTERVIEWER_DATA_DIR=str(data_dir), INTERVIEWER_LLM__MODE="none",
               INTERVIEWER_VOICE__TTS="piper", INTERVIEWER_UI__VOICE="true",
               INTERVIEWER_STORE__URL=f"sqlite:///{store}")
    proc = subprocess.Popen([str(BIN / "interviewer"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: list[float] = []
    audio_times: list[float] = []
    which: list[tuple[float, int, int]] = []  # (seconds, session, answer number): where the slow ones fall
    errors: list[str] = []
    lock = threading.Lock()
    try:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/"
        warm = Client(url, verbose=False)  # models load in the background; wait for them once
        chat, *_ = warm.predict("mock", "Any", "Any", 2, 0, True, "", api_name="/start")
        warm.predict("warm-up answer about gradients", chat, True, api_name="/submit")

        def candidate(i: int) -> None:
            speech: list[tuple[float, Any]] = []
            rng = random.Random(seed + i)
            try:
                c = Client(url, verbose=False)
                chat, *_ = c.predict("mock", "Any", "Any", answers + 1, 0, True, "", api_name="/start")
                if think_s is not None:  # hears the first question, then thinks
                    c.predict(_spoken_reply(chat), True, api_name="/speak")
                    time.sleep(rng.uniform(*think_s))
                for k in range(answers):
                    job = c.submit(f"It reduces overfitting by regularising the weights (candidate {i}, answer {k}).",
                                   chat, True, api_name="/submit")
                    t = time.perf_counter()
                    first = None
                    while not job.done() or first is None:
                        outs = job.outputs()
                        if outs and first is None:
                            first = time.perf_counter() - t
                        if job.done():
                            break
                        time.sleep(0.01)
                    result = job.result()
                    if first is None:
                        first = time.perf_counter() - t
                    chat = result[0]
                    with lock:
                        times.append(first)
                        which.append((round(first, 3), i, k))
                    # as a browser does: the chained speak event reads the reply aloud while the candidate
                    # reads the card (it does not hold up the next answer)
                    said = _spoken_reply(chat)
                    speech.append((time.perf_counter(), c.submit(said, True, api_name="/speak")))
                    if think_s is not None:  # a person listens to the reply, then thinks before answering
                        t_s, sp = speech.pop()
                        audio = sp.result(timeout=120)
                        with lock:
                            (audio_times if audio else errors).append(
                                time.perf_counter() - t_s if audio else "no audio from /speak")
                        time.sleep(rng.uniform(*think_s))
                for t_s, job in speech:
                    audio = job.result(timeout=120)
                    with lock:
                        (audio_times if audio else errors).append(
                            time.perf_counter() - t_s if audio else "no audio from /speak")
            except Exception as e:  # noqa: BLE001 - counted
                with lock:
                    errors.append(repr(e)[:200])

        threads = [threading.Thread(target=candidate, args=(i,)) for i in range(sessions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"sessions": sessions, "answers": len(times), "errors": errors, "think_s": think_s,
            "card_p50_s": pct(times, 0.5) if times else None, "card_p95_s": pct(times, 0.95) if times else None,
            "audio_done_p95_s": pct(audio_times, 0.95) if audio_times else None,
            "slowest": [{"card_s": t, "session": i, "answer": k} for t, i, k in sorted(which, reverse=True)[:4]],
            "card_s": sorted(times), "audio_s": sorted(audio_times)}


def pooled_ui_card(data_dir: Path, sessions: int, answers: int, think_s: tuple[float, float], rounds: int = 3) -> dict:
    """The paced run ``rounds`` times (a fresh server each, other seeds), the card times pooled: one
    run has only a few dozen answers, and its p95 moved between 0.39 and 1.01 s in five runs here."""
    runs = [bench_ui_card(data_dir, sessions, answers, think_s, seed=1000 + 100 * r) for r in range(rounds)]
    times = [t for r in runs for t in r["card_s"]]
    audio = [t for r in runs for t in r["audio_s"]]
    return {"sessions": sessions, "rounds": rounds, "answers": len(times), "think_s": think_s,
            "errors": [e for r in runs for e in r["errors"]],
            "card_p50_s": pct(times, 0.5) if times else None, "card_p95_s": pct(times, 0.95) if times else None,
            "audio_done_p95_s": pct(audio, 0.95) if audio else None,
            "card_p95_s_per_round": [r["card_p95_s"] for r in runs],
            "slowest": sorted((x for r in runs for x in r["slowest"]), key=lambda x: -x["card_s"])[:4]}


def _spoken_reply(chat: list) -> str:
    """What the app reads aloud after an answer: the score line's first sentences and the next question."""
    import re

    out = []
    for m in reversed(chat):
        if not isinstance(m, dict) or m.get("role") != "assistant":
            break
        text = m["content"] if isinstance(m["content"], str) else str(m["content"])
        out.insert(0, " ".join(re.split(r"(?<=[.!?])\s+", text)[:2]) if "Score" in text else text.split("\n\n")[-1])
    return " ".join(out)


def table(res: dict) -> list[dict]:
    """The README's speed rows, each with the bench section that measured it (the README names that
    run's CPU per row; Ask rows, kept per CPU, carry their own)."""
    g, rows = res["grading_rubric_only"], []
    rows.append({"section": "grading", "what": "grade latency, rubric only, interactive (rubric embedded when the question is asked)",
                 "result": f"p50 {g['interactive_p50_s'] * 1000:.0f} ms, p95 {g['interactive_p95_s'] * 1000:.0f} ms"})
    rows.append({"section": "grading", "what": "grade latency, rubric only, cold (nothing cached)",
                 "result": f"p50 {g['cold_p50_s']:.2f} s, p95 {g['cold_p95_s']:.2f} s"})
    if "rubric_on_disk_p50_s" in g:
        rows.append({"section": "grading", "what": "grade latency, rubric only, new process after `ingest` "
                                                   "(rubric vectors read from disk, nothing in memory)",
                     "result": f"p50 {g['rubric_on_disk_p50_s'] * 1000:.0f} ms, "
                               f"p95 {g['rubric_on_disk_p95_s'] * 1000:.0f} ms"})
    rows.append({"section": "grading", "what": "claim checker, one answer against its whole rubric (one batched pass, uncached)",
                 "result": f"p50 {g['checker_one_answer_p50_ms']:.0f} ms, p95 {g['checker_one_answer_p95_ms']:.0f} ms"})
    if "grade_with_llm" in res:
        gl, tp = res["grade_with_llm"], res["tokens_per_s"]
        rows.append({"section": "llm", "what": f"grade with the LLM judge ({res['model']}, claim checks)",
                     "result": f"p50 {gl['p50_s']:.1f} s, p95 {gl['p95_s']:.1f} s"})
        rows.append({"section": "llm", "what": "tokens/s, raw `llama_cpp` vs our adapter",
                     "result": f"{tp['raw_llama_cpp']} vs {tp['adapter']} (overhead {tp['overhead_pct']} %)"})
    by_cpu = res.get("ask_llm_by_cpu") or ({"": res["ask_llm"]} if res.get("ask_llm") else {})
    for cpu, a in by_cpu.items():
        where = f", git {a['git_sha'][:10]} of {a['date']}" if cpu else ""
        rows.append({"section": "ask", **({"cpu": cpu} if cpu else {}), "what": f"Ask with `--llm` ({a['model']}, {a['questions']} covered questions{where}): first text / "
                             "the LLM's first token / whole answer (p50)",
                     "result": f"{a['first_text_p50_s']:.2f} s / {a['first_llm_token_p50_s']:.1f} s / "
                               f"{a['total_p50_s']:.1f} s"})
    if "checker_runtimes" in res:
        c = res["checker_runtimes"]
        rows.append({"section": "checker_runtimes", "what": f"claim checker in torch vs ONNX Runtime (shipped), {c['answers']} answers each against "
                             "its whole rubric, alternating in one run",
                     "result": f"p50 {c['torch_p50_ms']:.0f} vs {c['onnxruntime_p50_ms']:.0f} ms, p95 "
                               f"{c['torch_p95_ms']:.0f} vs {c['onnxruntime_p95_ms']:.0f} ms; probabilities "
                               f"within {c['max_probability_difference']:.0e}"})
    if "checker_concurrency" in res:
        c = res["checker_concurrency"]
        how = ("ONNX Runtime, one two-thread pool" if c.get("runtime") == "onnxruntime"
               else "one torch thread each, as in `serve`")
        rows.append({"section": "checker_concurrency", "what": f"claim checker, {c['answers']} answers by 1 caller vs split between 2 at once "
                             f"({how})",
                     "result": f"{c['1_caller_s']} s vs {c['2_caller_s']} s ({c['speedup']}x)"})
    if "embedder_concurrency" in res:
        c = res["embedder_concurrency"]
        rows.append({"section": "checker_concurrency", "what": f"embedder, the spans of {c['answers']} answers by 1 caller vs split between 2 at once "
                             "(one torch thread each, as in `serve`)",
                     "result": f"{c['1_caller_s']} s vs {c['2_caller_s']} s ({c['speedup']}x)"})
    for key, what in (("grade_batch_2000", "`grade-batch` 2,000 answers (sentences shuffled and dropped)"),
                      ("grade_batch_2000_unique_spans", "`grade-batch` 2,000 answers, every span unique (nothing cached)")):
        if key in res:
            b = res[key]
            rows.append({"section": "batch", "what": what, "result": f"{b['wall_s']} s ({b['answers_per_s']} answers/s)"})
    for key in ("ui_card_1_paced", "ui_card_8_paced", "ui_card_1", "ui_card_8"):
        if key in res and res[key].get("card_p95_s") is not None:
            u = res[key]
            pace = (f", paced like people (listen, then think {u['think_s'][0]:g}–{u['think_s'][1]:g} s"
                    + (f"; {u['answers']} answers in {u['rounds']} runs" if u.get("rounds") else "") + ")"
                    if u.get("think_s") else ", back to back (next answer the instant the card arrives: stress)")
            rows.append({"section": "ui_card", "what": f"UI: Submit to grade card, speech on, {u['sessions']} concurrent session(s){pace}",
                         "result": f"p50 {u['card_p50_s']:.2f} s, p95 {u['card_p95_s']:.2f} s"
                         + (f"; audio ready p95 {u['audio_done_p95_s']:.2f} s after it" if u.get("audio_done_p95_s")
                            else "")})
    if "cli_start" in res:
        c = res["cli_start"]
        rows.append({"section": "cli_start", "what": "terminal start: `--help` / `bank stats` / `progress`",
                     "result": f"{c['help']} s / {c['bank_stats']} s / {c['progress']} s"})
        if "ask" in c:
            rows.append({"section": "cli_start", "what": "terminal commands with models, a new process each "
                                                         "(imports, models, index): `search` / `ask` / `grade` "
                                                         "(`grade` in fp32, as on a CPU without native bf16)",
                         "result": f"{c['search']} s / {c['ask']} s / {c['grade']} s ({c['grade_fp32']} s)"})
        elif "search" in c:
            rows.append({"section": "cli_start", "what": "terminal commands with models, a new process each "
                                                         "(imports, embedder, index): `search` / `grade`",
                         "result": f"{c['search']} s / {c['grade']} s"})
    if res.get("ui_start", {}).get("seconds_to_http_200") is not None:
        rows.append({"section": "ui_start", "what": "`interviewer serve` to HTTP 200 (idle machine)",
                     "result": f"{res['ui_start']['seconds_to_http_200']} s"})
    return rows


def main() -> None:
    from interviewer.evaluation.grading import _git_sha, load_own
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings())
    svc.ensure_index()
    rows = [r for r in load_own() if svc.bank.resolve(r.get("id")) in svc.bank.items]
    for r in rows:
        r["id"] = svc.bank.resolve(r["id"])
    # --only a,b re-measures some sections and keeps the rest of the committed results
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    res = json.loads(OUT.read_text()) if OUT.exists() and only else {}

    def want(name: str) -> bool:
        return only is None or name in only

    if want("grading"):
        res["grading_rubric_only"] = bench_grading(svc, rows)
        print(res["grading_rubric_only"])
    if want("checker_runtimes"):
        res["checker_runtimes"] = bench_checker_runtimes(svc, rows)
        print(res["checker_runtimes"])
    if want("checker_concurrency"):
        res["checker_concurrency"] = bench_checker_concurrency(svc, rows)
        print(res["checker_concurrency"])
        res["embedder_concurrency"] = bench_embedder_concurrency(svc, rows)
        print(res["embedder_concurrency"])
    if want("llm") and "--no-llm" not in sys.argv:
        res.update(bench_llm(svc, rows))
        print(res)
    if want("ask") and "--no-llm" not in sys.argv:
        res["ask_llm"] = bench_ask(svc)
        print(res["ask_llm"])
        # llama.cpp's prompt reading depends on the CPU's vector units: the latest run per CPU is kept
        res.setdefault("ask_llm_by_cpu", {})[_cpu()] = {**res["ask_llm"], "git_sha": _git_sha(),
                                                        "date": datetime.now(UTC).strftime("%Y-%m-%d")}
    if want("batch"):
        svc.warm_rubric_vectors()  # as after `interviewer ingest`: the bank's rubric vectors are on disk
        res["grade_batch_2000"] = bench_batch(rows, svc.settings.data_dir)
        print(res["grade_batch_2000"])
        res["grade_batch_2000_unique_spans"] = bench_batch(rows, svc.settings.data_dir, unique_spans=True)
        print(res["grade_batch_2000_unique_spans"])
    if want("ui_start"):
        res["ui_start"] = bench_ui_start(svc.settings.data_dir)
        print(res["ui_start"])
    if want("cli_start"):
        res["cli_start"] = bench_cli_start(svc.settings.data_dir)
        print(res["cli_start"])
    if want("ui_card"):
        svc.warm_rubric_vectors()  # as `make run` does (ingest, then serve): the served data dir has them
        for n in (1, 8):
            res[f"ui_card_{n}"] = bench_ui_card(svc.settings.data_dir, n, answers=8 if n == 1 else 3)
            print(res[f"ui_card_{n}"])
        for n in (1, 8):
            res[f"ui_card_{n}_paced"] = pooled_ui_card(svc.settings.data_dir, n, answers=6 if n == 1 else 4,
                                                       think_s=(5.0, 15.0))
            print(res[f"ui_card_{n}_paced"])
    previous = res.get("meta", {})
    cpu = _cpu()
    res["meta"] = {"cpu": cpu, "embedding_precision": getattr(svc.embedder, "precision", "fp32"),
                   "claim_checker": svc.checker.model_id, "claim_checker_precision": svc.checker.precision,
                   "claim_checker_runtime": svc.checker.runtime,
                   "git_sha": _git_sha(), "date": datetime.now(UTC).strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
                   "machine": f"{os.cpu_count()} cores, {platform.machine()}, no GPU", "python": platform.python_version(),
                   "command": " ".join(["python", "eval/bench.py", *sys.argv[1:]]),
                   "sections_measured": sorted(only) if only else "all"}
    # where each section's numbers come from: a partial run (--only) keeps the other sections' sources
    stamp = {k: res["meta"][k] for k in ("git_sha", "date", "command", "cpu")}
    # runs before 2026-12-02 (fourth session) did not record the CPU: they ran on an Intel CPU with
    # AVX-512 and AMX (bf16 in hardware); later machines may differ, hence the CPU per section
    base = previous.get("full_run") or {k: previous.get(k) for k in ("git_sha", "date", "command")}
    res["meta"]["full_run"] = stamp if not only else base
    res["meta"]["sections"] = {**(previous.get("sections") or {} if only else {}),
                               **{name: stamp for name in (only or [])}}
    res["table"] = table(res)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2) + "\n")
    print(f"written to {OUT}")


def _cpu() -> str:
    """CPU model and the vector ISA that decides llama.cpp's and torch's speed here."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "?")
    flags = set(next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), []))
    isa = "AMX" if "amx_tile" in flags else "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model} ({isa})"


if __name__ == "__main__":
    main()
