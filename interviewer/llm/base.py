"""The one small LLM interface every backend implements."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from interviewer.errors import BackendError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}
T = TypeVar("T", bound=BaseModel)


class ChatBackend(Protocol):
    """Chat completion, streaming, and JSON-schema-constrained structured output."""

    name: str  # e.g. "llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str: ...

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]: ...

    def complete_json(self, messages: list[Message], schema: dict[str, Any],
                      max_tokens: int | None = None) -> str: ...


_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_json_reply(text: str, model: type[T]) -> T:
    """Strip reasoning tags and code fences, then validate with pydantic."""
    cleaned = _FENCE.sub("", _THINK.sub("", text).strip())
    return model.model_validate_json(cleaned)


def structured(backend: ChatBackend, messages: list[Message], model: type[T],
               max_tokens: int | None = None) -> T:
    """Schema-constrained call validated with pydantic; one repair retry with the error."""
    schema = model.model_json_schema()
    reply = backend.complete_json(messages, schema, max_tokens)
    try:
        return parse_json_reply(reply, model)
    except (ValidationError, json.JSONDecodeError) as first:
        repair = messages + [{"role": "assistant", "content": reply},
                             {"role": "user", "content": f"That JSON was invalid: {str(first)[:400]}. "
                              "Reply again with only valid JSON matching the schema."}]
        reply2 = backend.complete_json(repair, schema, max_tokens)
        try:
            return parse_json_reply(reply2, model)
        except (ValidationError, json.JSONDecodeError) as e:
            raise BackendError(f"{backend.name} returned invalid JSON twice: {str(e)[:200]}") from None
