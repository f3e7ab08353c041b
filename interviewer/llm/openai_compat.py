"""Any OpenAI-compatible API through the ``openai`` SDK: OpenAI, llama-server, vLLM."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from interviewer.errors import BackendError
from interviewer.llm.base import Message


class OpenAICompatBackend:
    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0,
                 temperature: float = 0.0, max_tokens: int = 384, json_mode: str = "auto") -> None:
        import openai

        self._openai = openai
        key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-local"
        self.client = openai.OpenAI(base_url=base_url or None, api_key=key, timeout=timeout, max_retries=0)
        self.model = model or "default"
        self.base_url = base_url or "https://api.openai.com/v1"
        self.name = f"openai:{self.model}@{self.base_url}"
        self.temperature, self.max_tokens, self.json_mode = temperature, max_tokens, json_mode

    def _create(self, messages: list[Message], max_tokens: int | None, **kw: Any) -> Any:
        try:
            return self.client.chat.completions.create(model=self.model, messages=messages,  # type: ignore[arg-type]
                                                       temperature=self.temperature,
                                                       max_tokens=max_tokens or self.max_tokens, **kw)
        except self._openai.APIConnectionError:
            raise BackendError(f"cannot reach the LLM API at {self.base_url} (is the server running?)") from None
        except self._openai.APITimeoutError:
            raise BackendError(f"the LLM API at {self.base_url} timed out") from None
        except self._openai.APIStatusError as e:
            raise BackendError(f"the LLM API at {self.base_url} answered HTTP {e.status_code}: "
                               f"{str(e.message)[:200]}") from e

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        return self._create(messages, max_tokens).choices[0].message.content or ""

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        try:
            for chunk in self._create(messages, max_tokens, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except self._openai.APIError as e:
            raise BackendError(f"the LLM stream from {self.base_url} broke: {e}") from None

    def complete_json(self, messages: list[Message], schema: dict[str, Any], max_tokens: int | None = None) -> str:
        modes = [self.json_mode] if self.json_mode != "auto" else ["json_schema", "json_object"]
        last: BackendError | None = None
        for mode in modes:
            if mode == "json_schema":
                fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
            else:  # llama-cpp-python's server: json_object with a schema (grammar-constrained)
                fmt = {"type": "json_object", "schema": schema}
            try:
                return self._create(messages, max_tokens, response_format=fmt).choices[0].message.content or ""
            except BackendError as e:
                if "HTTP" not in str(e):
                    raise
                last = e
                if self.json_mode == "auto" and mode == "json_schema":
                    self.json_mode = "json_object"  # remember: this server refuses json_schema
        raise last or BackendError("structured output failed")

    def choice_logprobs(self, messages: list[Message]) -> dict[str, float] | None:
        """Top log-probabilities of the first reply token (None where the server has no logprobs;
        the judge then uses a schema-constrained verdict instead). Remembered per instance, but only
        when the server answered: an unreachable or timed-out server raises BackendError and says
        nothing about logprobs, so once it is back (e.g. restarted after a crash) they are used again."""
        if getattr(self, "_no_logprobs", False):
            return None
        try:
            r = self._create(messages, 1, logprobs=True, top_logprobs=10)
        except BackendError as e:
            if not isinstance(e.__cause__, self._openai.APIStatusError):
                raise
            r = None  # the server refused the request (HTTP 4xx/5xx): no logprobs here
        try:
            content = r.choices[0].logprobs.content if r is not None and r.choices[0].logprobs else None
        except (AttributeError, IndexError, TypeError):
            content = None
        if not content:
            self._no_logprobs = True
            return None
        return {t.token: float(t.logprob) for t in (content[0].top_logprobs or [])}
