"""Prompt templates as files (``prompts/*.md``), rendered strictly with langchain-core."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from interviewer.errors import ConfigError
from interviewer.llm.base import Message

#: template name → the variables the code passes (checked against the file).
EXPECTED: dict[str, set[str]] = {
    "judge": {"question", "answer", "claim"},
    "followup": {"question", "answer", "missed_point"},
    "ask": {"question", "context"},
}
_SECTION = re.compile(r"^### (system|user)\s*$", re.M)


@functools.lru_cache(maxsize=32)
def load_prompt(prompts_dir: Path, name: str) -> ChatPromptTemplate:
    path = prompts_dir / f"{name}.md"
    if not path.exists():
        raise ConfigError(f"prompt template missing: {path}")
    parts = _SECTION.split(path.read_text(encoding="utf-8"))
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=True))
    if set(sections) != {"system", "user"}:
        raise ConfigError(f"{path}: needs a '### system' and a '### user' section")
    tpl = ChatPromptTemplate.from_messages([("system", sections["system"]), ("human", sections["user"])])
    used = set(tpl.input_variables)
    if used != EXPECTED.get(name, used):
        raise ConfigError(f"{path}: uses variables {sorted(used)}, the code passes {sorted(EXPECTED[name])}")
    return tpl


def render(prompts_dir: Path, name: str, **values: str) -> list[Message]:
    """Messages for a backend; a missing variable is an error, never a silent blank."""
    tpl = load_prompt(prompts_dir, name)
    missing = set(tpl.input_variables) - set(values)
    if missing:
        raise ConfigError(f"prompt {name!r} needs {sorted(missing)}")
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": str(m.content)} for m in tpl.format_messages(**values)]
