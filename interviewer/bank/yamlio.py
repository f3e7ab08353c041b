"""YAML reading that remembers line numbers, so every error names file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from interviewer.errors import KnowledgeError

#: libyaml's parser where PyYAML was built with it (about 10x faster than the pure-Python one)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a KnowledgeError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise KnowledgeError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise KnowledgeError(f"{where}: invalid YAML: {e.problem}") from None


def entry_lines(path: Path, key: str | None = None) -> list[int]:
    """1-based start line of each entry of the top-level list (or of ``data[key]``)."""
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    if node is None:
        return []
    if key is not None and isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                node = v
                break
        else:
            return []
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [child.start_mark.line + 1 for child in node.value]
