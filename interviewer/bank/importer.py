"""``interviewer import FILE``: bring your own bank as Markdown Q&A, CSV or JSON.

All-or-nothing: the file is fully parsed and validated first; only then is one
JSON Lines file written (atomically) under ``knowledge/imported/``. Any problem
raises a KnowledgeError naming the line, and the bank is left unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from interviewer.bank.loader import Bank, jsonl_objects, slugify
from interviewer.bank.parsers import parse_markdown_qa
from interviewer.bank.schema import DIFFICULTIES, Item, Provenance
from interviewer.bank.validate import format_validation
from interviewer.errors import KnowledgeError

MAX_BYTES = 20 * 1024 * 1024
FORMATS = {".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".csv": "csv",
           ".json": "json", ".jsonl": "jsonl"}
_Q_KEYS = ("question", "q", "prompt")
_A_KEYS = ("answer", "reference_answer", "reference", "a")


def read_import_text(path: Path, expected: str = "Markdown, CSV or JSON", limit: str = "import") -> str:
    """The file's text, or a clear error for missing, empty, huge, binary or non-UTF-8 files
    (``expected`` and ``limit`` name the caller's format and purpose in those errors)."""
    if not path.is_file():
        raise KnowledgeError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise KnowledgeError(f"{path}: the file is empty")
    if size > MAX_BYTES:
        raise KnowledgeError(f"{path}: {size} bytes is larger than the {MAX_BYTES // 2**20} MiB {limit} limit")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise KnowledgeError(f"{path}: this looks like a binary file, not {expected}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise KnowledgeError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                             "re-save the file as UTF-8") from None
    if not text.strip():
        raise KnowledgeError(f"{path}: the file has no content")
    return text


def _difficulty(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    for d in DIFFICULTIES:
        if str(value).strip().lower() in (d.lower(), d.split("/")[0].lower()):
            return d
    raise KnowledgeError(f"{where}: unknown difficulty {value!r} (use {', '.join(DIFFICULTIES)})")


def _row_to_item(row: dict[str, Any], where: str, source: str, n: int, prefix: str) -> Item:
    low = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    q = next((low[k] for k in _Q_KEYS if low.get(k)), None)
    a = next((low[k] for k in _A_KEYS if low.get(k)), None)
    if not isinstance(q, str) or not q.strip():
        raise KnowledgeError(f"{where}: missing 'question'")
    if not isinstance(a, str) or not a.strip():
        raise KnowledgeError(f"{where}: missing 'answer' (or 'reference_answer')")
    topic = low.get("topic") or "Imported"
    if isinstance(topic, str):
        topic_path = [t.strip() for t in topic.split(">") if t.strip()] or ["Imported"]
    elif isinstance(topic, list) and topic and all(isinstance(t, str) and t.strip() for t in topic):
        topic_path = [t.strip() for t in topic]
    else:
        raise KnowledgeError(f"{where}: 'topic' must be text like \"NLP > Tokenization\" or a list of texts, "
                             f"not {topic!r}")
    tags = low.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in re.split(r"[;,]", tags) if t.strip()]
    elif not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise KnowledgeError(f"{where}: 'tags' must be text (comma-separated) or a list of texts, not {tags!r}")
    iid = str(low.get("id") or f"{prefix}-{n:03d}").strip().lower()
    try:
        return Item(id=slugify(iid, 80) if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,80}", iid) else iid,
                    question=q.strip(), reference_answer=a.strip(),
                    difficulty=_difficulty(low.get("difficulty"), where),
                    topic=topic_path, tags=list(tags),
                    provenance=[Provenance(source=source, number=n, question=q.strip(), answer=a.strip())])
    except ValidationError as e:
        raise KnowledgeError(f"{where}: {format_validation(e)}") from None


def parse_import(path: Path, fmt: str | None = None) -> list[Item]:
    """Parse an import file into items (nothing is written)."""
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise KnowledgeError(f"{path}: unknown format {path.suffix!r}; use .md, .csv, .json or .jsonl "
                             "(or --format)")
    text = read_import_text(path)
    prefix = "imp-" + slugify(path.stem, 30)
    rows: list[tuple[str, dict[str, Any]]] = []
    if fmt == "markdown":
        qa = parse_markdown_qa(text, path.name)
        if not qa:
            qa = _parse_q_a_pairs(text, path)
        if not qa:
            raise KnowledgeError(f"{path}: no questions found; expected '1. Question?' or 'Q:' lines, "
                                 "each followed by 'Answer:' / 'A:'")
        for x in qa:
            if not x.answer.strip():
                raise KnowledgeError(f"{path}:{x.line}: question {x.question!r} has no answer")
            rows.append((f"{path}:{x.line}", {"question": x.question, "answer": x.answer}))
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text), strict=True)
        start = 1
        try:
            if not reader.fieldnames or not {f.strip().lower() for f in reader.fieldnames if f} & set(_Q_KEYS):
                raise KnowledgeError(f"{path}:1: the CSV header needs a 'question' and an 'answer' column")
            start = reader.line_num + 1
            for row in reader:
                if None in row:
                    raise KnowledgeError(f"{path}:{start}: more fields than the header has")
                if any(v is None for v in row.values()):
                    raise KnowledgeError(f"{path}:{start}: fewer fields than the header has")
                if any((v or "").strip() for v in row.values()):
                    rows.append((f"{path}:{start}", row))
                start = reader.line_num + 1
        except csv.Error as e:
            hint = " (check the quotes of the row that starts here)" if '"' in str(e) or "end of data" in str(e) else ""
            raise KnowledgeError(f"{path}:{start}: malformed CSV{hint}: {e}") from None
    elif fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise KnowledgeError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
        if isinstance(data, dict):
            data = data.get("questions") or data.get("items")
        if not isinstance(data, list):
            raise KnowledgeError(f"{path}: expected a JSON list of {{question, answer}} objects")
        for n, row in enumerate(data, start=1):
            if not isinstance(row, dict):
                raise KnowledgeError(f"{path}: entry {n} is not an object")
            rows.append((f"{path}: entry {n}", row))
    elif fmt == "jsonl":
        rows += [(f"{path}:{n}", row) for n, row in jsonl_objects(path, text)]
    else:
        raise KnowledgeError(f"unknown format {fmt!r}")
    if not rows:
        raise KnowledgeError(f"{path}: no questions found")
    items = [_row_to_item(r, where, path.name, n, prefix) for n, (where, r) in enumerate(rows, start=1)]
    seen: set[str] = set()
    for it, (where, _) in zip(items, rows, strict=True):
        if it.id in seen:
            raise KnowledgeError(f"{where}: duplicate id {it.id!r}")
        seen.add(it.id)
    return items


def _parse_q_a_pairs(text: str, path: Path) -> list[Any]:
    from interviewer.bank.parsers import SeedQA

    out: list[SeedQA] = []
    cur: SeedQA | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"^\s*(?:#+\s*)?(?:Q|Question)\s*[:.]\s*(.+)$", line, re.I)
        a = re.match(r"^\s*(?:A|Answer)\s*[:.]\s*(.*)$", line, re.I)
        if m:
            cur = SeedQA(source=path.name, number=len(out) + 1, question=m.group(1).strip(), answer="", line=n)
            out.append(cur)
        elif a and cur is not None:
            cur.answer = a.group(1).strip()
        elif cur is not None and cur.answer and line.strip():
            cur.answer += "\n" + line.rstrip()
    return out


def import_file(path: Path, bank: Bank, dest_dir: Path, fmt: str | None = None,
                replace: bool = False) -> tuple[Path, list[Item]]:
    """Validate everything, then write ``<data_dir>/imported/<name>.jsonl`` in one step (never into the
    checkout's ``knowledge/``); nothing is written when any row is wrong."""
    items = parse_import(path, fmt)
    dest = dest_dir / f"{slugify(path.stem, 40)}.jsonl"
    if dest.exists() and not replace:
        raise KnowledgeError(f"{dest.name} was already imported; pass --replace to overwrite it")
    previous = {it.id for it in bank.items.values()
                if it.provenance and it.provenance[0].source == path.name} if replace else set()
    clashes = [it.id for it in items if it.id in bank.items and it.id not in previous]
    if clashes:
        raise KnowledgeError(f"{path}: ids already in the bank: {', '.join(clashes[:5])}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for it in items:
            f.write(it.model_dump_json(exclude_defaults=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest, items
