"""``python -m interviewer.bank.validate FILE...``: check authored YAML against the schema.

Used by authors while writing; the loader applies the same checks to the whole bank.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from interviewer.bank.schema import AuthoredEntry, TopicLink
from interviewer.bank.yamlio import entry_lines, load_yaml
from interviewer.errors import KnowledgeError


def format_validation(err: ValidationError) -> str:
    """One line per problem: dotted field path and message."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


def check_entries(path: Path, data: Any, key: str | None, model: Any) -> tuple[list[Any], list[str]]:
    """Validate each entry of a list; return the valid models and file:line errors."""
    lines = entry_lines(path, key)
    rows = data if key is None else (data or {}).get(key) or []
    if not isinstance(rows, list):
        return [], [f"{path}: expected a list{' under ' + key if key else ''}"]
    out, errors = [], []
    for i, row in enumerate(rows):
        line = lines[i] if i < len(lines) else 0
        try:
            out.append(model.model_validate(row))
        except ValidationError as e:
            ident = row.get("id") or row.get("bullet") if isinstance(row, dict) else None
            errors.append(f"{path}:{line}: entry {ident!r}: {format_validation(e)}")
    return out, errors


def validate_file(path: Path) -> list[str]:
    """Errors for one authored file (rubrics: a list; topics: {items, links})."""
    try:
        data = load_yaml(path)
    except KnowledgeError as e:
        return [str(e)]
    if isinstance(data, dict):
        _, e1 = check_entries(path, data, "items", AuthoredEntry)
        _, e2 = check_entries(path, data, "links", TopicLink)
        errors = e1 + e2
        for row in (data.get("items") or []):
            if isinstance(row, dict) and not (row.get("question") and row.get("difficulty")):
                errors.append(f"{path}: new item {row.get('id')!r} needs question and difficulty")
        return errors
    _, errors = check_entries(path, data, None, AuthoredEntry)
    return errors


def main(argv: list[str] | None = None) -> int:
    errors: list[str] = []
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    for f in files:
        errors += validate_file(f)
    for e in errors:
        print(e)
    print(f"{len(files)} file(s), {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
