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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "ask-reranker"
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
    """Loads the trained cross-encoder once per process; thread-safe, holds no user state."""

    def __init__(self, path: str | Path | None = None, precision: str = "auto", verify: bool = True) -> None:
        from interviewer.grading.claims import verified_manifest

        self.path = Path(path) if path else DEFAULT_DIR
        self.manifest = verified_manifest(self.path, "Ask reranker", "python eval/train_reranker.py", verify)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from interviewer.retrieval.embeddings import resolve_precision

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(self.path), dtype=torch.float32)
        self.model.eval()
        self.precision = resolve_precision(precision)
        self.model_id = f"ask-reranker:{self.manifest.get('sha256', {}).get('model.safetensors', '?')[:12]}"
        self._lock = threading.Lock()

    def scores(self, question: str, entries: Sequence[str]) -> np.ndarray:
        """P(the entry answers the question, fully or in part) for each entry text."""
        if not entries:
            return np.zeros(0, dtype=np.float32)
        torch = self._torch
        with self._lock:
            enc = self.tokenizer([question] * len(entries), list(entries), truncation="longest_first",
                                 max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            logits = self.model(**enc).logits.float()
        return torch.sigmoid(logits[:, 0]).numpy().astype(np.float32)


__all__ = ["DEFAULT_DIR", "Reranker", "entry_text"]
