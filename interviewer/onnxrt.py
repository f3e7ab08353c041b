"""ONNX Runtime for the small bundled transformers (claim checker, sentence embedder, Ask reranker):
a model is traced to ONNX once with torch, checked against torch on probe inputs, and stored in
``data_dir/models`` under a name that identifies its weights; later processes load only onnxruntime
(a tenth of a second) instead of torch and transformers (three seconds: ``python -X importtime``)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.errors import BackendError

_EXPORT_LOCK = threading.RLock()  # one trace at a time per process: warnings.catch_warnings is process-wide


class GraphUnavailable(Exception):
    """No ONNX graph can be used (onnxruntime missing, a read-only directory, an export that differs
    from torch): the caller runs the model in torch instead, with the same results."""


def cached_graph(target: Path, export: Callable[[Path], None]) -> Any:
    """A session for the graph at ``target``, traced first by ``export(target)`` when it is missing or
    unreadable (a partial copy, a disk error). Raises GraphUnavailable with the reason."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise GraphUnavailable("onnxruntime is not installed") from e
    # outside the lock first (a graph on disk loads while another traces), then again inside it (a second
    # thread that wanted the same graph waits for the first trace and loads its file)
    session = _open_existing(target)
    if session is not None:
        return session
    with _EXPORT_LOCK:
        session = _open_existing(target)
        if session is not None:
            return session
        print(f"note: tracing {target.name} into {target.parent} once (about 10 s; later runs load it directly)",
              file=sys.stderr, flush=True)
        try:
            export(target)
            return open_session(target)
        except Exception as e:  # noqa: BLE001 -- any failure leaves the torch path, which always works
            raise GraphUnavailable(f"{type(e).__name__}: {str(e)[:200]}") from e


def _open_existing(target: Path) -> Any:
    """A session for the graph at ``target`` if there is one; None when it is missing, or unreadable (a
    partial copy, a disk error: removed, so that it is traced again)."""
    if not target.exists():
        return None
    try:
        return open_session(target)
    except Exception as e:  # noqa: BLE001 -- any unreadable file: trace it again
        print(f"note: {target.name} is unreadable ({type(e).__name__}); exporting it again", file=sys.stderr)
        target.unlink(missing_ok=True)
        return None


def open_session(path: Path) -> Any:
    """An inference session on the CPU using every core, without busy-waiting between kernels: two
    requests at once (``serve``) share the cores instead of spinning against each other
    (eval/bench.py, checker_concurrency)."""
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def export_checked(module: Any, inputs: Mapping[str, Any], outputs: Sequence[str], target: Path,
                   want: np.ndarray, atol: float = 1e-4) -> None:
    """Trace ``module`` (a torch module taking ``inputs``' tensors in order, batch and token axes dynamic)
    to ONNX, check that ONNX Runtime's first output equals ``want`` (torch's, on the same inputs) within
    ``atol``, and move the graph into place atomically (a crash never leaves a partial file behind)."""
    import warnings

    import onnxruntime
    import torch

    names = list(inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    # unique per process and thread: two threads (the UI's warm-up and a first request) may trace at once
    tmp = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        # the warnings filter is process-wide state, so traces are serialized (each takes ~10 s, once)
        with _EXPORT_LOCK, warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, tuple(inputs[k] for k in names), str(tmp), input_names=names,
                              output_names=list(outputs), opset_version=17, dynamo=False,
                              dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in names},
                                            **{o: {0: "batch"} for o in outputs}})
        got = onnxruntime.InferenceSession(str(tmp), providers=["CPUExecutionProvider"]).run(
            None, {k: np.asarray(inputs[k]) for k in names})[0]
        if got.shape != want.shape or not np.allclose(got, want, atol=atol):
            raise BackendError(f"exported graph differs from torch by {float(np.abs(got - want).max()):.2g}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def prune_graphs(directory: Path, current: Mapping[str, Path]) -> list[tuple[str, int]]:
    """Delete the graphs in ``directory`` that an older version of a model left behind: for each family
    (a file-name prefix such as ``claim-checker-``) every ``*.onnx`` with that prefix other than the
    family's ``current`` graph (new weights or a new export format make a new file; a graph is traced
    again if it is ever needed). Families not in ``current`` are left alone. Returns (name, bytes) removed."""
    gone: list[tuple[str, int]] = []
    for f in sorted(Path(directory).glob("*.onnx")) if Path(directory).is_dir() else []:
        family = next((pre for pre in current if f.name.startswith(pre)), None)
        if family is not None and f.resolve() != Path(current[family]).resolve():
            size = f.stat().st_size
            f.unlink(missing_ok=True)
            gone.append((f.name, size))
    return gone


_COLUMNS = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
#: What every graph here reads, in this order (BERT-style inputs: MiniLM and its fine-tunes).
INPUTS = tuple(_COLUMNS)


class TextTokenizer:
    """A model directory's fast tokenizer (``tokenizer.json``) through the tokenizers library alone — what
    transformers' tokenizer computes (its special tokens, ``longest_first`` truncation to ``max_length``,
    padding to the batch's longest), without importing transformers. Exports check it against
    transformers on probe inputs before a graph is used. One call at a time (thread-safe)."""

    def __init__(self, path: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.enable_truncation(max_length, strategy="longest_first")
        pad = _pad_token(Path(path))
        pad_id = self._tok.token_to_id(pad)
        if pad_id is None:
            raise GraphUnavailable(f"{path}: the tokenizer has no padding token {pad!r}")
        self._tok.enable_padding(pad_id=pad_id, pad_token=pad)
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        batch: list[Any] = list(zip(texts, pairs, strict=True)) if pairs is not None else list(texts)
        with self._lock:
            enc = self._tok.encode_batch(batch)
        return {k: np.array([getattr(e, col) for e in enc], dtype=np.int64).reshape(len(enc), -1)
                for k, col in _COLUMNS.items()}


def same_tokens(mine: Mapping[str, np.ndarray], theirs: Mapping[str, Any], names: Sequence[str]) -> None:
    """Raise unless the tokenizers library's encoding equals transformers' for every input in ``names``."""
    for k in names:
        if k not in theirs or not np.array_equal(np.asarray(theirs[k]), mine[k]):
            raise GraphUnavailable(f"the tokenizers library encodes the probe inputs differently ({k})")


def export_pair_classifier(path: Path, tok: TextTokenizer, probe: Sequence[tuple[str, str]], max_length: int,
                           target: Path) -> None:
    """Trace the (text, text) sequence classifier in ``path`` (the claim checker, the Ask reranker; eager
    attention: the sdpa path traces a mask that ignores padding) to ``target``, refusing a graph whose
    tokens (``tok`` against transformers') or logits (against torch's) differ on the ``probe`` pairs."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(path), dtype=torch.float32,
                                                               attn_implementation="eager").eval()
    first, second = [a for a, _ in probe], [b for _, b in probe]
    theirs = AutoTokenizer.from_pretrained(str(path))(first, second, truncation="longest_first", max_length=max_length,
                                                      padding=True, return_tensors="np")
    mine = tok(first, second)
    same_tokens(mine, theirs, INPUTS)
    inputs = {k: torch.from_numpy(mine[k]) for k in INPUTS}
    with torch.no_grad():
        want = model(**inputs).logits.float().numpy()
    export_checked(model, inputs, ["logits"], target, want)


def _pad_token(path: Path) -> str:
    f = path / "tokenizer_config.json"
    pad = json.loads(f.read_text(encoding="utf-8")).get("pad_token") if f.is_file() else None
    return pad.get("content", "[PAD]") if isinstance(pad, dict) else (pad or "[PAD]")


__all__ = ["INPUTS", "GraphUnavailable", "TextTokenizer", "cached_graph", "export_checked", "export_pair_classifier",
           "open_session", "prune_graphs", "same_tokens"]
