"""``python -m interviewer.bank.validate FILE...``: check authored YAML against the schema.

Used by authors while writing; the loader applies the same checks to the whole bank.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from interviewer.bank.schema import AuthoredEntry, TopicLink
from interviewer.bank.yamlio import entry_lines, load_yaml
from interviewer.errors import KnowledgeError

_JOIN = re.compile(r";\s+|,?\s+and\s+(?:then\s+|also\s+|so\s+)?|,\s+while\s+|,?\s+whereas\s+|,\s+but\s+|,\s+so\s+")
_VERB = re.compile(
    r"\b(is|are|was|were|has|have|had|can|cannot|can't|could|will|would|should|must|may|might|does|do|did|"
    r"needs?|makes?|uses?|gives?|keeps?|lets?|allows?|reduces?|increases?|prevents?|requires?|means?|"
    r"depends?|produces?|learns?|computes?|adds?|removes?|scales?|sets?|takes?|works?|helps?|causes?|"
    r"returns?|becomes?|stays?|remains?|avoids?|improves?|captures?|maps?|predicts?|treats?|trains?|"
    r"replaces?|applies|apply|measures?|combines?|shares?|stores?|splits?|leads?|costs?|grows?|"
    r"[a-z]{3,}(?:es|ed))\b", re.I)
_WORDS = re.compile(r"[A-Za-z0-9']+")


def compound_parts(text: str) -> list[str]:
    """The independent clauses of a key point, if it bundles several claims ("X does A and Y does B",
    "A; B"). A list of examples ("BPE, WordPiece and Unigram") is one claim and is not split."""
    parts = [p for p in _JOIN.split(text) if p and p.strip()]
    if len(parts) < 2:
        return []
    clauses = [p for p in parts if len(_WORDS.findall(p)) >= 4 and _VERB.search(p)]
    if ";" in text and len(clauses) >= 2:
        return clauses
    # two clauses, each with its own verb and at least five words, joined by and/while/but
    long = [p for p in clauses if len(_WORDS.findall(p)) >= 5]
    return long if len(long) >= 2 else []


def compound_key_points(entries: list[Any]) -> list[tuple[str, str, str]]:
    """(item id, key point id, text) of compound key points that carry no ``compound_reason``."""
    out = []
    for e in entries:
        rubric = getattr(e, "rubric", None)
        for k in (rubric.key_points if rubric else []):
            if not k.compound_reason and compound_parts(k.text):
                out.append((e.id, k.id, k.text))
    return out


def format_validation(err: ValidationError) -> str:
    """One line per problem: dotted field path and message."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


def check_entries(path: Path, data: Any, key: str | None, model: Any) -> tuple[list[Any], list[str]]:
    """Validate each entry of a list; return the valid models and file:line errors."""
    rows = data if key is None else (data or {}).get(key) or []
    if not isinstance(rows, list):
        return [], [f"{path}: expected a list{' under ' + key if key else ''}"]
    out, errors = [], []
    lines: list[int] | None = None  # parsed again for line numbers only when an entry is invalid
    for i, row in enumerate(rows):
        try:
            out.append(model.model_validate(row))
        except ValidationError as e:
            lines = entry_lines(path, key) if lines is None else lines
            line = lines[i] if i < len(lines) else 0
            ident = row.get("id") or row.get("bullet") if isinstance(row, dict) else None
            errors.append(f"{path}:{line}: entry {ident!r}: {format_validation(e)}")
    return out, errors


def validate_file(path: Path, warnings: list[str] | None = None) -> list[str]:
    """Errors for one authored file (rubrics: a list; topics: {items, links}). Compound key
    points (several independent claims in one point) are appended to ``warnings`` for review."""
    try:
        data = load_yaml(path)
    except KnowledgeError as e:
        return [str(e)]
    if isinstance(data, dict):
        entries, e1 = check_entries(path, data, "items", AuthoredEntry)
        _, e2 = check_entries(path, data, "links", TopicLink)
        errors = e1 + e2
        for row in (data.get("items") or []):
            if isinstance(row, dict) and not (row.get("question") and row.get("difficulty")):
                errors.append(f"{path}: new item {row.get('id')!r} needs question and difficulty")
    else:
        entries, errors = check_entries(path, data, None, AuthoredEntry)
    if warnings is not None:
        for iid, kid, text in compound_key_points(entries):
            warnings.append(f"{path}: {iid} {kid} looks compound (split it, or give compound_reason): {text}")
    return errors


def main(argv: list[str] | None = None) -> int:
    errors: list[str] = []
    warnings: list[str] = []
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    for f in files:
        errors += validate_file(f, warnings)
    for e in errors + warnings:
        print(e)
    print(f"{len(files)} file(s), {len(errors)} error(s), {len(warnings)} compound key point(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
