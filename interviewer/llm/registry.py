"""settings.llm.mode → a backend; the API backend can fall back to the local model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interviewer.errors import BackendError
from interviewer.llm.base import ChatBackend, Message
from interviewer.settings import Settings


def local_backend(settings: Settings) -> ChatBackend:
    from interviewer.llm.llamacpp import LlamaCppBackend
    from interviewer.llm.models import ensure_default_gguf

    s = settings.llm
    path = Path(s.model_path).expanduser() if s.model_path else ensure_default_gguf(settings.data_dir / "models")
    return LlamaCppBackend(path, n_ctx=s.n_ctx, n_threads=s.n_threads, temperature=s.temperature,
                           max_tokens=s.max_tokens)


class FallbackBackend:
    """Try the API; on a BackendError use the local model and say so in ``last_used``."""

    def __init__(self, primary: ChatBackend, settings: Settings) -> None:
        self.primary, self.settings = primary, settings
        self._local: ChatBackend | None = None
        self.name = f"{primary.name} (fallback: local)"
        self.last_used = primary.name

    def _fallback(self) -> ChatBackend:
        if self._local is None:
            self._local = local_backend(self.settings)
        return self._local

    def _run(self, fn: str, *args: Any) -> Any:
        try:
            out = getattr(self.primary, fn)(*args)
            self.last_used = self.primary.name
            return out
        except BackendError:
            local = self._fallback()
            self.last_used = f"{local.name} (fallback: the API failed)"
            return getattr(local, fn)(*args)

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        return self._run("complete", messages, max_tokens)

    def complete_json(self, messages: list[Message], schema: dict[str, Any], max_tokens: int | None = None) -> str:
        return self._run("complete_json", messages, schema, max_tokens)

    def choice_logprobs(self, messages: list[Message]) -> dict[str, float] | None:
        fn = getattr(self.primary, "choice_logprobs", None)
        if fn is None:
            return None
        try:
            return fn(messages)
        except BackendError:
            return None

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        try:
            first = True
            for chunk in self.primary.stream(messages, max_tokens):
                first = False
                yield chunk
            self.last_used = self.primary.name
        except BackendError:
            if not first:
                raise
            local = self._fallback()
            self.last_used = f"{local.name} (fallback: the API failed)"
            yield f"[answered by the local model: {self.primary.name} failed] "
            yield from local.stream(messages, max_tokens)


def make_backend(settings: Settings) -> ChatBackend | None:
    s = settings.llm
    if s.mode == "none":
        return None
    if s.mode == "fake":
        from interviewer.llm.fake import FakeBackend

        return FakeBackend()
    if s.mode == "openai":
        from interviewer.llm.openai_compat import OpenAICompatBackend

        if not s.base_url.strip():
            raise BackendError("llm.mode=openai needs llm.base_url (INTERVIEWER_LLM__BASE_URL), e.g. "
                               "http://127.0.0.1:8080/v1 for llama-server or https://api.openai.com/v1 for OpenAI; "
                               "an empty URL is not taken to mean a public API")
        if not s.model:
            raise BackendError("llm.mode=openai needs llm.model (INTERVIEWER_LLM__MODEL)")
        api = OpenAICompatBackend(s.base_url, s.model, s.api_key, s.timeout, s.temperature, s.max_tokens, s.json_mode)
        return FallbackBackend(api, settings) if s.fallback_to_local else api
    return local_backend(settings)
