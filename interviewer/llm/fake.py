"""Scripted backend: replies from a queue. Used by tests about flow, and by the demo profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from interviewer.errors import BackendError
from interviewer.llm.base import Message


class FakeBackend:
    name = "fake"

    def __init__(self, replies: list[str] | None = None, default: str | None = "OK.") -> None:
        self.replies = list(replies or [])
        self.default = default
        self.calls: list[list[Message]] = []

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def _next(self, messages: list[Message]) -> str:
        self.calls.append(messages)
        if self.replies:
            return self.replies.pop(0)
        if self.default is None:
            raise BackendError("fake backend has no scripted reply left")
        return self.default

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        return self._next(messages)

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        for word in self._next(messages).split(" "):
            yield word + " "

    def complete_json(self, messages: list[Message], schema: dict[str, Any], max_tokens: int | None = None) -> str:
        return self._next(messages)
