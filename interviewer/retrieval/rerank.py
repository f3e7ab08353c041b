"""The Ask reranker: a small cross-encoder that reads (user question, bank entry) and says how likely
the entry answers the question (fully or in a real part).

Retrieval finds candidates by similarity; similarity alone cannot tell "about the same words" from
"answers this": a B-tree question lands on decision trees, a whisky-distillation question on
knowledge distillation. The reranker was trained for exactly that decision
(``eval/train_reranker.py``: MiniLM-L6 weights continued from the claim checker, on questions
written for every bank entry — paraphrases, scenarios, partly covered questions, near-misses that
reuse the entry's vocabulary, and off-topic questions; none of ``eval/ask/questions.jsonl``). Its
weights ship inside the package (``interviewer/models/ask-reranker/``, fp16 safetensors, sha256 in
``MANIFEST.json``); one question against its candidates is one batched forward pass.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.onnxrt import INPUTS

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "ask-reranker"
#: the reranker retrained with short questions (``eval/train_reranker.py --with-short``), which reads short
#: questions much better and long covered ones a little worse (eval/README.md, "Ask: short questions read
#: by the short-question reranker")
SHORT_DIR = DEFAULT_DIR.parent / "ask-reranker-short"
#: a question of at most this many words is short (the basic sets' and the short training questions' bound)
SHORT_WORDS = 9
MAX_LENGTH = 192


def entry_text(item: Any) -> str:
    """What the reranker reads of a bank entry: its question and core key points (the facts Ask
    shows), falling back to the opening of its answer for an entry without a rubric."""
    if item.rubric and item.rubric.key_points:
        core = [k.text for k in item.rubric.key_points if k.weight == "core"] or \
            [k.text for k in item.rubric.key_points]
        return item.question + " | " + " ".join(core)
    return item.question + " | " + " ".join((item.best_answer or "").split()[:80])


class Reranker:
    """Loads the trained cross-encoder once per process; thread-safe, holds no user state.

    With ``onnx_dir`` (the wiring passes ``data_dir/models`` unless ``embedding.runtime = torch``) it runs
    its exported graph in fp32 in ONNX Runtime, with the tokenizers library: scores equal to torch's in
    fp32 (checked at export), the precision Ask's thresholds were chosen in, and a process that asks
    never imports torch. Without, or when no graph can be made, torch at ``precision``."""

    def __init__(self, path: str | Path | None = None, precision: str = "auto", verify: bool = True,
                 onnx_dir: str | Path | None = None, name: str = "ask-reranker") -> None:
        from interviewer.grading.claims import verified_manifest
        from interviewer.retrieval.embeddings import resolve_precision

        self.path = Path(path) if path else DEFAULT_DIR
        self.manifest = verified_manifest(self.path, "Ask reranker", "python eval/train_reranker.py", verify)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model_id = f"{name}:{self.manifest.get('sha256', {}).get('model.safetensors', '?')[:12]}"
        self._lock = threading.Lock()
        self._session: Any = None
        self.graph: Path | None = None  # the ONNX graph's file, where one is used
        self.runtime = "torch"
        self.precision = resolve_precision(precision)
        if onnx_dir is not None:
            self._session = self._onnx_session(Path(onnx_dir))
        if self._session is not None:
            self.runtime, self.precision = "onnxruntime", "fp32"
        else:
            self.graph = None
            self._load_torch()

    def _load_torch(self) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(self.path), dtype=torch.float32)
        self.model.eval()

    def _onnx_session(self, onnx_dir: Path) -> Any:
        import sys

        from interviewer.onnxrt import GraphUnavailable, TextTokenizer, cached_graph, export_pair_classifier

        target = self.graph = onnx_dir / f"{self.model_id.replace(':', '-')}-fp32.onnx"
        try:
            self._tok = TextTokenizer(self.path, MAX_LENGTH)
            return cached_graph(target, lambda t: export_pair_classifier(self.path, self._tok, _PROBE, MAX_LENGTH, t))
        except GraphUnavailable as why:
            print(f"note: the Ask reranker runs in torch ({why})", file=sys.stderr)
            return None

    def parts(self) -> dict[str, Reranker]:
        """The loaded rerankers by role (one here; the router has two): what doctor, warm-up and graph
        pruning walk over."""
        return {"main": self}

    def scores(self, question: str, entries: Sequence[str]) -> np.ndarray:
        """P(the entry answers the question, fully or in part) for each entry text."""
        if not entries:
            return np.zeros(0, dtype=np.float32)
        if self._session is not None:
            enc = self._tok([question] * len(entries), list(entries))
            logits = self._session.run(None, {k: enc[k] for k in INPUTS})[0]
            return (1.0 / (1.0 + np.exp(-logits[:, 0].astype(np.float64)))).astype(np.float32)
        torch = self._torch
        with self._lock:
            enc = self.tokenizer([question] * len(entries), list(entries), truncation="longest_first",
                                 max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            logits = self.model(**enc).logits.float()
        return torch.sigmoid(logits[:, 0]).numpy().astype(np.float32)


def is_short(question: str) -> bool:
    """A question the short-question reranker reads: at most ``SHORT_WORDS`` words and not a comparison
    (it was trained on short questions one entry answers, and reads a short "A vs B" as something no
    single entry answers, which is the comparison rule's call; eval/README.md, "Ask: short questions read
    by the short-question reranker")."""
    from interviewer.concepts import comparison_sides

    return len(question.split()) <= SHORT_WORDS and not comparison_sides(question)


class RoutedReranker:
    """Two rerankers behind one ``scores``: a short question that compares nothing (``is_short``: the
    user's, or a comparison side's "What is <side>?") goes to the short-question reranker, any other to
    the main one. Each is loaded on first use, so a process that asks one short question loads one
    model. ``runtime``, ``precision`` and ``graph`` describe the main one."""

    def __init__(self, main: Callable[[], Reranker], short: Callable[[], Reranker]) -> None:
        self._factories = {"main": main, "short": short}
        self._loaded: dict[str, Reranker] = {}
        self._lock = threading.Lock()

    def _get(self, which: str) -> Reranker:
        with self._lock:
            if which not in self._loaded:
                self._loaded[which] = self._factories[which]()
            return self._loaded[which]

    @property
    def main(self) -> Reranker:
        return self._get("main")

    @property
    def short(self) -> Reranker:
        return self._get("short")

    def parts(self) -> dict[str, Reranker]:
        """Both rerankers, each loaded (and its graph traced) now if it was not yet."""
        return {"main": self.main, "short": self.short}

    @property
    def model_id(self) -> str:
        return f"{self.main.model_id}+{self.short.model_id}"

    @property
    def runtime(self) -> str:
        return self.main.runtime

    @property
    def precision(self) -> str:
        return self.main.precision

    @property
    def graph(self) -> Path | None:
        return self.main.graph

    def scores(self, question: str, entries: Sequence[str]) -> np.ndarray:
        return (self.short if is_short(question) else self.main).scores(question, entries)


#: (question, entry) pairs the exported graph must tokenize and score as transformers does: padding, an
#: entry longer than the window (truncated longest first), an empty question, non-ASCII text.
_PROBE = [("how does a B-tree split a node", "What is a decision tree? | A decision tree splits the data on features."),
          ("what is dropout", " ".join(["Dropout zeroes random units during training."] * 40)),
          ("", "What is BPE? | BPE merges the most frequent pair of symbols."),
          ("σ(z)ᵢ — softmax, like, why exp?", "What does softmax do? | It turns logits into probabilities.")]


__all__ = ["DEFAULT_DIR", "SHORT_DIR", "SHORT_WORDS", "Reranker", "RoutedReranker", "entry_text", "is_short"]
