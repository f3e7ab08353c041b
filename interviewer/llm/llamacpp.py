"""In-process llama.cpp backend (the embedded default)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interviewer.errors import BackendError
from interviewer.llm.base import Message


class LlamaCppBackend:
    """One ``llama_cpp.Llama`` per process, behind a lock (it is not thread-safe)."""

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int = 0, temperature: float = 0.0,
                 max_tokens: int = 384, seed: int = 7) -> None:
        if not model_path.exists():
            raise BackendError(f"GGUF model not found: {model_path}")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise BackendError("llama-cpp-python is not installed (`make setup` builds it)") from None
        self.name = f"llamacpp:{model_path.name}"
        self.temperature, self.max_tokens = temperature, max_tokens
        self._lock = threading.Lock()
        try:
            self.llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count() or 2,
                             verbose=False, seed=seed)
        except (ValueError, RuntimeError) as e:
            raise BackendError(f"cannot load {model_path}: {e}") from None

    def _call(self, messages: list[Message], max_tokens: int | None, stream: bool, **kw: Any) -> Any:
        return self.llm.create_chat_completion(messages=messages, temperature=self.temperature,  # type: ignore[arg-type]
                                               max_tokens=max_tokens or self.max_tokens, stream=stream, **kw)

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        with self._lock:
            out = self._call(messages, max_tokens, False)
        return out["choices"][0]["message"]["content"] or ""

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        with self._lock:
            for chunk in self._call(messages, max_tokens, True):
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta

    def complete_json(self, messages: list[Message], schema: dict[str, Any], max_tokens: int | None = None) -> str:
        with self._lock:
            out = self._call(messages, max_tokens, False,
                             response_format={"type": "json_object", "schema": schema})
        return out["choices"][0]["message"]["content"] or ""
