"""``interviewer doctor``: which backends, models and stores are ready, and why not."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from interviewer.errors import InterviewerError


def _check(name: str, fn: Any) -> dict[str, Any]:
    try:
        detail = fn()
        return {"check": name, "ok": True, "detail": str(detail)}
    except InterviewerError as e:
        return {"check": name, "ok": False, "detail": str(e)}
    except Exception as e:  # doctor reports anything, it must not crash
        return {"check": name, "ok": False, "detail": f"{type(e).__name__}: {e}"}


def run_doctor(svc: Any, as_json: bool = False) -> bool:
    s = svc.settings

    def bank() -> str:
        st = svc.bank.stats()
        return f"{st['items']} items, rubrics {st['rubrics']['coverage']:.0%}, checklist {st['checklist_topics']['coverage']:.0%}"

    def embedder() -> str:
        def how(e: Any) -> str:
            return f"{getattr(e, 'precision', 'fp32')}, {getattr(e, 'runtime', 'torch')}"

        e, q = svc.embedder, svc.query_embedder
        return f"{e.model_id} ({how(e)})" + (f"; queries: {how(q)}" if q is not e else "")

    def reranker() -> str:
        r = svc.reranker
        if r is None:
            return "off (ask.reranker = false: Ask decides by embedding similarity)"
        parts = r.parts()  # the short-question reranker too, loaded (and its graph traced) now
        main, short = parts["main"], parts.get("short")
        return f"{main.model_id} ({main.precision}, {main.runtime})" + (
            f"; short questions: {short.model_id} ({short.precision}, {short.runtime})" if short is not None else "")

    def store() -> str:
        held = f"{s.vectorstore.mode}: collection {svc.index.name} holds {svc.index.collection.count()} items"
        stale, _ = svc.index_todo()
        if stale:  # not a failure: the first search embeds them, as `interviewer ingest` does
            return (f"{held}; {stale} of {len(svc.bank.items)} bank items are not indexed (or changed): "
                    "the first search embeds them, or run `interviewer ingest` now")
        return f"{held}, in step with the bank"

    def rubric_vectors() -> str:
        cache = svc.rubric_vectors
        if cache is None:
            return "not kept (hash embedder)"
        todo = len(svc.rubric_vectors_todo())
        if todo:  # not a failure: each rubric is embedded when it is first graded
            return (f"{todo} rubric texts have no vector on disk yet ({cache.path}): `interviewer ingest` embeds "
                    "them (~20–30 s), else each grade embeds its rubric the first time (~0.2 s more)")
        return f"{cache.count()} on disk, the whole bank ({cache.path})"

    def llm() -> str:
        if s.llm.mode == "none":
            return "disabled (llm.mode=none): grades are rubric-only"
        b = svc.llm
        reply = b.complete([{"role": "user", "content": "Reply with the single word: ready"}], 8)
        return f"{b.name} answered {reply.strip()[:30]!r}"

    def progress() -> str:
        return f"{svc.progress.where} ({svc.progress.count_sessions()} sessions, schema {svc.progress.revision})"

    def voice() -> str:
        have = [m for m in ("faster_whisper", "piper") if importlib.util.find_spec(m)]
        espeak = shutil.which("espeak-ng")
        return f"stt/tts modules: {have or 'none'}; espeak-ng: {espeak or 'not installed'}"

    judge = s.grading.llm_judge == "on" or (s.grading.llm_judge == "auto" and s.grading.llm_capable)
    from interviewer.wiring import checker_onnx_dir

    checker = _checker_status(s.grading.checker_path, checker_onnx_dir(s), s.embedding.precision)
    checks = [_check("bank", bank), _check("embedding", embedder), _check("vector store", store),
              _check("rubric vectors", rubric_vectors), _check("ask reranker", reranker), _check("llm", llm), _check("progress db", progress), _check("voice", voice),
              {"check": "claim checker", "ok": checker[0], "detail": checker[1]},
              _sandbox_check(),
              {"check": "grading", "ok": True,
               "detail": "rubric + LLM judge" if judge else "rubric only (LLM judge off: set grading.llm_capable=true for a capable model)"}]
    if as_json:
        print(json.dumps(checks))
    else:
        for c in checks:
            print(f"[{'ok' if c['ok'] else 'FAIL'}] {c['check']}: {c['detail']}")
    return all(c["ok"] for c in checks if c["check"] in ("bank", "embedding", "vector store", "progress db",
                                                         "claim checker"))


def _sandbox_check() -> dict[str, object]:
    """Coding exercises run candidate code under bubblewrap; without it they refuse to run (not fatal)."""
    from interviewer.exercises import bwrap_problem

    problem = bwrap_problem()
    return {"check": "sandbox", "ok": problem is None,
            "detail": problem or "bubblewrap ok: coding exercises run isolated"}


def _checker_status(path: str, onnx_dir: Path | None, precision: str = "auto") -> tuple[bool, str]:
    """The claim checker's weights are present and match their manifest (without loading the model),
    which runtime grades with it, and whether its ONNX Runtime graph has been exported yet."""
    import json as _json

    from interviewer.grading.claims import DEFAULT_DIR, checker_id, file_sha256, onnx_path, wants_onnx

    d = Path(path) if path else DEFAULT_DIR
    w, m = d / "model.safetensors", d / "MANIFEST.json"
    if not w.is_file() or not m.is_file():
        return False, f"weights missing in {d} (they ship with the package; or run eval/train_claim_checker.py)"
    want = _json.loads(m.read_text(encoding="utf-8")).get("sha256", {}).get("model.safetensors", "")
    got = file_sha256(w)
    if want and got != want:
        return False, f"{w} does not match MANIFEST.json (damaged or replaced)"
    from interviewer.retrieval.embeddings import resolve_precision

    resolved = resolve_precision(precision)
    if onnx_dir is None or not wants_onnx(resolved, onnx_dir):  # the same decision the checker makes
        why = "grading.checker_runtime = torch" if onnx_dir is None else f"{resolved}: this CPU has native bf16"
        runtime = f"runs in torch ({why})"
    elif onnx_path(onnx_dir, checker_id(got)).is_file():
        runtime = "runs in ONNX Runtime (graph ready)"
    else:
        runtime = "ONNX Runtime graph not exported yet (`interviewer model` or the first grade exports it, ~10 s)"
    return True, f"{d.name} sha256 {got[:12]} ({w.stat().st_size / 1e6:.0f} MB); {runtime}"
