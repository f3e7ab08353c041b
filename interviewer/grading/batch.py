"""``grade-batch``: grade a JSONL file; models load once, texts are embedded in batches."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interviewer.bank.schema import Rubric
from interviewer.errors import KnowledgeError
from interviewer.grading.grader import derive_rubric


def read_batch(path: Path) -> list[dict[str, Any]]:
    from interviewer.bank.importer import jsonl_objects, read_import_text

    rows = []
    for n, row in jsonl_objects(path, read_import_text(path, "JSON Lines (one answer object per line)", "grade-batch")):
        for key in ("question", "student_answer"):
            if not isinstance(row.get(key), str):
                raise KnowledgeError(f"{path}:{n}: missing string field {key!r}")
        if "reference_answer" not in row and "id" not in row:
            raise KnowledgeError(f"{path}:{n}: needs 'reference_answer' (or an 'id' of a bank item)")
        if "reference_answer" in row and not isinstance(row["reference_answer"], str):
            raise KnowledgeError(f"{path}:{n}: 'reference_answer' must be a string")
        if "id" in row and row["id"] is not None and not isinstance(row["id"], str):
            raise KnowledgeError(f"{path}:{n}: 'id' must be a string")
        for key in ("score", "score_max"):
            v = row.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise KnowledgeError(f"{path}:{n}: {key!r} must be a number, got {v!r}")
        if row.get("score_max") is not None and row["score_max"] <= 0:
            raise KnowledgeError(f"{path}:{n}: 'score_max' must be positive")
        row["_line"] = n
        rows.append(row)
    return rows


def rubric_for(svc: Any, row: dict[str, Any], use_bank: bool = True) -> tuple[Rubric, str]:
    """The bank's authored rubric when the row's id is a bank item, else one derived from the reference."""
    iid = row.get("id")
    iid = svc.bank.resolve(iid) if isinstance(iid, str) else iid
    if use_bank and iid and iid in svc.bank.items and svc.bank.items[iid].rubric is not None:
        return svc.bank.items[iid].rubric, "authored"
    ref = row.get("reference_answer") or ""
    if not ref and iid in svc.bank.items:
        ref = svc.bank.items[iid].best_answer
    return derive_rubric(row["question"], ref), "derived from reference answer"


class _PairRecorder:
    """Stands in for the claim checker in a dry run of a chunk's grades: records the (claim, text) pairs
    they ask about first and answers "partly" (so no misconception becomes a candidate, whose correction
    would be a pair nobody needs, and no gate embeds the whole answer to look for relevance)."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.pairs: list[tuple[str, str]] = []

    def check_pairs(self, pairs: list[tuple[str, str]]) -> list[Any]:
        from interviewer.grading.claims import Verdict

        self.pairs += pairs
        return [Verdict(entailed=0.0, partly=1.0, contradicted=0.0, not_stated=0.0)] * len(pairs)


def prefetch_verdicts(grader: Any, rows: list[dict[str, Any]], rubrics: list[tuple[Rubric, str]]) -> int:
    """Check the pairs that grading these rows will ask about in one length-sorted pass of the claim
    checker, so its batches are full instead of one small batch per answer (eval/README.md, "grade-batch:
    one pass of the claim checker per chunk"); the grades then read the verdicts from its cache, and are
    the ones ``grade`` gives (only where the checker is batch-invariant: fp32). The dry run uses its own
    grader (sharing the embeddings), never the process-wide one's checker. Returns the pairs checked."""
    from interviewer.grading.grader import Grader

    checker = grader.checker
    if not getattr(checker, "batch_invariant", False) or not hasattr(checker, "probabilities"):
        return 0  # bf16: a verdict would depend on which answers share its batch; grade each on its own
    recorder = _PairRecorder(getattr(checker, "model_id", ""))
    dry = Grader(grader.embedder, recorder, policy=grader.policy)
    dry._cache = grader._cache
    for r, (rub, origin) in zip(rows, rubrics, strict=True):
        dry.rubric_grade(r["question"], rub, r["student_answer"], origin)
    checker.probabilities(recorder.pairs)
    return len(recorder.pairs)


def grade_rows(svc: Any, rows: list[dict[str, Any]], use_llm: bool = False, use_bank: bool = True) -> list[Any]:
    grader = svc.grader
    rubrics = [rubric_for(svc, r, use_bank) for r in rows]
    texts: list[str] = []
    authored: list[str] = []  # the bank's rubric texts: read from the disk cache `ingest` fills
    for r, (rub, origin) in zip(rows, rubrics, strict=True):
        content, _ = grader.spans_for(r["student_answer"])
        (authored if origin == "authored" else texts).extend(
            [r["question"], rub.model_answer, *(k.text for k in rub.key_points), *(m.text for m in rub.misconceptions)])
        texts += [s.text for s in content]
    grader.prefetch(authored, persist=True)
    grader.prefetch(texts)
    prefetch_verdicts(grader, rows, rubrics)

    def one(i: int) -> Any:
        (rub, origin), r = rubrics[i], rows[i]
        return grader.grade(r["question"], rub, r["student_answer"], origin, use_llm=use_llm)

    workers = _workers()
    if workers == 1:
        return [one(i) for i in range(len(rows))]
    from concurrent.futures import ThreadPoolExecutor

    with _one_torch_thread(), ThreadPoolExecutor(workers, thread_name_prefix="grade") as pool:
        return list(pool.map(one, range(len(rows))))


def _workers() -> int:
    import os

    return max(1, min(4, os.cpu_count() or 1))


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Answers graded side by side, one core each (as ``serve`` grades concurrent sessions): the claim
    checker's batches for one answer are small, and torch's two-thread kernels on them spend much of
    the second core waiting (eval/README.md, "grade-batch: answers side by side")."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


CHUNK = 256  # rows graded (and their texts embedded) together; memory stays bounded for any file size


def grade_batch(svc: Any, path: Path, out: Path | None) -> int:
    """Validate every row first, then grade in chunks and stream the results into a temp file that is
    renamed into place at the end: a bad row or a bad ``--out`` fails before any grading, memory does
    not grow with the file, and nothing half-written remains (``--out`` absent: streamed to stdout)."""
    import os

    if out is not None:
        if out.is_dir():
            raise KnowledgeError(f"--out {out} is a directory; give a file name")
        if not out.parent.is_dir():
            raise KnowledgeError(f"--out {out}: the directory {out.parent} does not exist")
    rows = read_batch(path)
    use_llm = svc.judge_llm is not None
    tmp = out.with_name(f".{out.name}.tmp") if out else None
    sink = tmp.open("w", encoding="utf-8") if tmp else sys.stdout
    progress = sys.stderr.isatty() and len(rows) > CHUNK
    try:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            for r, g in zip(chunk, grade_rows(svc, chunk, use_llm=use_llm), strict=True):
                scale = float(r.get("score_max") or 10)
                rec = {k: v for k, v in r.items() if k != "_line"}
                rec["predicted"] = round(g.score * scale / 10.0, 2)
                rec["grade_source"] = g.label
                sink.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if progress:
                print(f"\rgraded {min(start + CHUNK, len(rows)):,} / {len(rows):,}", end="", file=sys.stderr,
                      flush=True)
        if progress:
            print(file=sys.stderr)
        if tmp and out:
            sink.close()
            os.replace(tmp, out)
    finally:
        if tmp:
            sink.close()
            tmp.unlink(missing_ok=True)
    return len(rows)
