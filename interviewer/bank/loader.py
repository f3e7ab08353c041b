"""Build the bank from ``knowledge/``: seeds + merges + authored rubrics + topic links + key-point contrasts and
phrasings + imports.

Everything is validated on load; an error names the file and line. Loading is pure
(no writes) and takes well under a second, so every command can afford it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from interviewer.bank.parsers import (
    SeedQA,
    parse_checklist,
    parse_markdown_qa,
    parse_nlp_master,
)
from interviewer.bank.schema import (
    BANK_SCHEMA_VERSION,
    AuthoredEntry,
    Item,
    KeyPoint,
    Provenance,
    Topic,
    TopicLink,
)
from interviewer.bank.validate import check_entries, format_validation
from interviewer.bank.yamlio import load_yaml
from interviewer.errors import KnowledgeError

# Which parser reads which seed file (by the file name's three-digit prefix).
QA_PARSERS = {"002": parse_nlp_master, "004": parse_markdown_qa}
CHECKLISTS = ("000", "001", "003")


def level_004(number: int) -> str:
    """004's table of contents: Basic 1-50, Intermediate 51-120, Advanced 121-180, Expert 181-200."""
    if number <= 50:
        return "Beginner"
    if number <= 120:
        return "Intermediate"
    return "Advanced" if number <= 180 else "Expert"


def seed_id(key: str) -> str:
    """Provenance key "004:7" → stable item id "004-007"."""
    prefix, number = key.split(":")
    return f"{prefix}-{int(number):03d}"


@dataclass
class Bank:
    """The loaded bank: items by id, checklist topics, and how it was assembled."""

    items: dict[str, Item]
    topics: list[Topic] = field(default_factory=list)
    merged_groups: list[list[str]] = field(default_factory=list)
    seed_counts: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict, repr=False)  # merged-away id -> the item it became

    def __len__(self) -> int:
        return len(self.items)

    def resolve(self, item_id: str) -> str:
        """The id an item lives under (a merged duplicate's id resolves to the item it was merged into)."""
        return self.aliases.get(item_id, item_id)

    def get(self, item_id: str) -> Item:
        try:
            return self.items[self.resolve(item_id)]
        except KeyError:
            raise KnowledgeError(f"no bank item with id {item_id!r}") from None

    @functools.cached_property
    def version(self) -> str:
        """Short hash of every item's content hash: a loaded bank is a snapshot (nothing edits its items
        after ``load_bank``; a changed bank is loaded again), so it is computed once — per-bank caches
        (the vocabulary, Ask's word weights) key on it on every question."""
        h = hashlib.sha256()
        for iid in sorted(self.items):
            h.update(f"{iid}:{self.items[iid].content_hash()}".encode())
        return f"{BANK_SCHEMA_VERSION}.{h.hexdigest()[:10]}"

    @functools.cached_property
    def rubric_version(self) -> str:
        """Short hash of every rubric as authored — key points with their weights, misconceptions,
        model answers — which grades depend on; ``version`` covers only what the index embeds (a key
        point moved from core to supporting changes grades, not the index)."""
        h = hashlib.sha256()
        for iid in sorted(self.items):
            rubric = self.items[iid].rubric
            h.update(f"{iid}:{rubric.model_dump_json() if rubric else ''}".encode())
        return h.hexdigest()[:10]

    def stats(self) -> dict[str, object]:
        """Counts per source file, topic, difficulty; merges; rubric and checklist coverage."""
        per_source: Counter[str] = Counter()
        for it in self.items.values():
            for p in it.provenance:
                per_source[p.source] += 1
        per_topic = Counter(it.topic[0] if it.topic else "Uncategorized" for it in self.items.values())
        per_diff = Counter(it.difficulty or "unrated" for it in self.items.values())
        with_rubric = sum(1 for it in self.items.values() if it.rubric is not None)
        covered = sum(1 for t in self.topics if t.covered_by)
        per_checklist = Counter(t.source for t in self.topics)
        return {
            "items": len(self.items),
            "bank_version": self.version,
            "per_source_file": dict(sorted(per_source.items())),
            "per_topic": dict(per_topic.most_common()),
            "per_difficulty": dict(sorted(per_diff.items())),
            "merged_duplicates": {
                "groups": len(self.merged_groups),
                "items_merged_away": sum(len(g) - 1 for g in self.merged_groups),
            },
            "rubrics": {"with_rubric": with_rubric, "items": len(self.items),
                        "coverage": round(with_rubric / len(self.items), 4) if self.items else 0.0},
            "checklist_topics": {"bullets": len(self.topics), "covered": covered,
                                 "coverage": round(covered / len(self.topics), 4) if self.topics else 0.0,
                                 "per_file": dict(sorted(per_checklist.items())),
                                 "done_marks": sum(1 for t in self.topics if t.done)},
        }


def _source_file(sources: Path, prefix: str) -> Path | None:
    found = sorted(sources.glob(f"{prefix}_*.txt"))
    return found[0] if found else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise KnowledgeError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def load_seed_qa(sources: Path) -> list[SeedQA]:
    """All Q&A seed items, with difficulty filled in (004 gets it from its level)."""
    out: list[SeedQA] = []
    for prefix, parser in QA_PARSERS.items():
        path = _source_file(sources, prefix)
        if path is None:
            continue
        items = parser(_read_text(path), path.name)
        if prefix == "004":
            for x in items:
                x.difficulty = level_004(x.number)
        out += items
    return out


def load_merges(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    data = load_yaml(path) or []
    if not isinstance(data, list) or not all(isinstance(g, list) and len(g) >= 2 for g in data):
        raise KnowledgeError(f"{path}: expected a list of groups of two or more provenance keys")
    seen: set[str] = set()
    for g in data:
        for k in g:
            if k in seen:
                raise KnowledgeError(f"{path}: {k} appears in two merge groups")
            seen.add(k)
    return [[str(k) for k in g] for g in data]


def build_seed_items(seeds: list[SeedQA], merges: list[list[str]]) -> dict[str, Item]:
    canon = {k: g[0] for g in merges for k in g}
    by_key = {s.key: s for s in seeds}
    for g in merges:
        for k in g:
            if k not in by_key:
                raise KnowledgeError(f"knowledge/merges.yaml: {k} is not a seed item")
    items: dict[str, Item] = {}
    for s in seeds:
        cid = seed_id(canon.get(s.key, s.key))
        prov = Provenance(source=s.source, number=s.number, line=s.line, question=s.question,
                          answer=s.answer, difficulty=s.difficulty)
        if cid not in items:
            first = by_key[canon.get(s.key, s.key)]
            items[cid] = Item(id=cid, question=first.question, reference_answer=first.answer,
                              explanation=first.explanation, code=first.code,
                              difficulty=first.difficulty, topic=["Uncategorized"], provenance=[])
        it = items[cid]
        it.provenance.append(prov)
        if s.code and not it.code:
            it.code = s.code
    return items


def _apply_authored(items: dict[str, Item], entries: list[AuthoredEntry], path: Path,
                    new_allowed: bool, aliases: dict[str, str] | None = None) -> None:
    for e in entries:
        if e.merged_into:
            if aliases is None or not new_allowed or not e.question:
                raise KnowledgeError(f"{path}: {e.id}: merged_into is for checklist questions (seed duplicates "
                                     "go in merges.yaml), and needs the question")
            aliases[e.id] = e.merged_into
            continue
        if e.id in items and e.question and items[e.id].provenance and items[e.id].provenance[0].number is not None:
            raise KnowledgeError(f"{path}: {e.id} is a seed item; do not restate its question")
        if e.id not in items:
            if not new_allowed or not e.question or not e.difficulty:
                raise KnowledgeError(f"{path}: {e.id!r} is not a seed item id (new items need question and difficulty)")
            items[e.id] = Item(id=e.id, question=e.question, difficulty=e.difficulty,
                               provenance=[Provenance(source=path.name)])
        it = items[e.id]
        if it.rubric is not None and it.provenance and it.provenance[0].number is not None:
            raise KnowledgeError(f"{path}: {e.id} has a rubric in two files")
        it.topic, it.tags, it.rubric = list(e.topic), list(e.tags), e.rubric
        it.correction_note = e.correction_note
        if e.difficulty and it.difficulty is None:
            it.difficulty = e.difficulty


def load_bank(knowledge: Path, extra_dirs: tuple[Path, ...] = ()) -> Bank:
    """Load and validate the whole bank from a ``knowledge/`` directory."""
    sources = knowledge / "sources"
    if not sources.is_dir():
        raise KnowledgeError(f"{sources}: no sources directory (is knowledge_dir right?)")
    seeds = load_seed_qa(sources)
    merges = load_merges(knowledge / "merges.yaml")
    items = build_seed_items(seeds, merges)
    seed_counts = dict(Counter(s.source for s in seeds))

    for path in sorted((knowledge / "rubrics").glob("*.yaml")):
        data = load_yaml(path)
        entries, errors = check_entries(path, data, None, AuthoredEntry)
        if errors:
            raise KnowledgeError("\n".join(errors))
        _apply_authored(items, entries, path, new_allowed=False)

    aliases: dict[str, str] = {seed_id(k): seed_id(g[0]) for g in merges for k in g[1:]}
    merged_entries: list[tuple[Path, AuthoredEntry]] = []
    links: list[tuple[Path, TopicLink]] = []
    for path in sorted((knowledge / "topics").glob("*.yaml")):
        data = load_yaml(path)
        if not isinstance(data, dict):
            raise KnowledgeError(f"{path}: expected a mapping with 'items' and 'links'")
        entries, errors = check_entries(path, data, "items", AuthoredEntry)
        lk, errors2 = check_entries(path, data, "links", TopicLink)
        if errors or errors2:
            raise KnowledgeError("\n".join(errors + errors2))
        _apply_authored(items, entries, path, new_allowed=True, aliases=aliases)
        merged_entries += [(path, e) for e in entries if e.merged_into]
        links += [(path, x) for x in lk]
    for path, e in merged_entries:  # a merged duplicate lives on as provenance of the item it joined
        target = items.get(e.merged_into)
        if target is None or e.merged_into in aliases:
            raise KnowledgeError(f"{path}: {e.id} is merged_into {e.merged_into!r}, which is not a bank item")
        if e.id in items:
            raise KnowledgeError(f"{path}: {e.id} is merged_into {e.merged_into!r} but also defined as an item")
        target.provenance.append(Provenance(source=path.name, question=e.question or "",
                                            answer=f"(merged duplicate {e.id}: {e.merge_reason})".strip()))

    for path in sorted((knowledge / "contrasts").glob("*.jsonl")):
        _apply_contrasts(items, path, aliases)
    for path in sorted((knowledge / "phrasings").glob("*.jsonl")):
        _apply_phrasings(items, path, aliases)

    for d in (knowledge / "imported", *extra_dirs):
        for jsonl in sorted(d.glob("*.jsonl")) if d.is_dir() else []:
            for it in read_item_jsonl(jsonl):
                if it.id in items:
                    raise KnowledgeError(f"{jsonl}: id {it.id!r} already exists in the bank")
                items[it.id] = it

    topics: list[Topic] = []
    for prefix in CHECKLISTS:
        checklist = _source_file(sources, prefix)
        if checklist is None:
            continue
        path = checklist
        for b in parse_checklist(_read_text(path), path.name):
            topics.append(Topic(id=b.id, source=b.source, path=b.path, text=b.text, line=b.line,
                                done=b.done, notes=b.notes))
    by_bullet = {t.id: t for t in topics}
    for path, link in links:
        t = by_bullet.get(link.bullet)
        if t is None:
            raise KnowledgeError(f"{path}: link to unknown checklist bullet {link.bullet}")
        for iid in link.items:
            iid = aliases.get(iid, iid)
            if iid not in items:
                raise KnowledgeError(f"{path}: bullet {link.bullet} links unknown item {iid!r}")
            if iid not in t.covered_by:
                t.covered_by.append(iid)
            if t.id not in items[iid].covers:
                items[iid].covers.append(t.id)
        for th in link.things:
            iid, kp = th.key_point.rsplit(":", 1)
            iid = aliases.get(iid, iid)
            linked = items.get(iid)
            if linked is None or linked.rubric is None or kp not in {k.id for k in linked.rubric.key_points}:
                raise KnowledgeError(f"{path}: bullet {link.bullet}: {th.thing!r} maps to {th.key_point}, "
                                     "which is not a key point of a bank item")
            t.things.append(th.model_copy(update={"key_point": f"{iid}:{kp}"}))
    return Bank(items=items, topics=topics, merged_groups=merges, seed_counts=seed_counts, aliases=aliases)


def jsonl_objects(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line is an error naming it."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise KnowledgeError(f"{path}:{n}: invalid JSON: {e.msg}") from None
        if not isinstance(row, dict):
            raise KnowledgeError(f"{path}:{n}: expected an object")
        out.append((n, row))
    return out


def _key_point(items: dict[str, Item], aliases: dict[str, str], row: dict, where: str) -> tuple[str, KeyPoint]:
    """The key point a sidecar line (contrasts, phrasings) names by ``item_id`` (or a merged alias) and ``kp_id``."""
    iid = aliases.get(row["item_id"], row["item_id"])
    item = items.get(iid)
    kp = next((k for k in item.rubric.key_points if k.id == row["kp_id"]), None) if item and item.rubric else None
    if kp is None:
        raise KnowledgeError(f"{where}: {row['item_id']}:{row['kp_id']} is not a key point of a bank item")
    return iid, kp


def _apply_contrasts(items: dict[str, Item], path: Path, aliases: dict[str, str]) -> None:
    """``knowledge/contrasts/*.jsonl``: one ``{"item_id", "kp_id", "contrast"}`` per line, a false
    minimal edit of that key point (written per item from its rubric alone)."""
    for n, row in jsonl_objects(path, _read_text(path)):
        fields = [row.get(k) for k in ("item_id", "kp_id", "contrast")]
        if not all(isinstance(v, str) and v.strip() for v in fields):
            raise KnowledgeError(f"{path}:{n}: needs string fields item_id, kp_id and contrast")
        iid, kp = _key_point(items, aliases, row, f"{path}:{n}")
        if kp.contrast:
            raise KnowledgeError(f"{path}:{n}: {iid}:{kp.id} already has a contrast")
        kp.contrast = " ".join(row["contrast"].split())


def _apply_phrasings(items: dict[str, Item], path: Path, aliases: dict[str, str]) -> None:
    """``knowledge/phrasings/*.jsonl``: one ``{"item_id", "kp_id", "phrasings": [...]}`` per line, the
    same fact as that key point in other words (written per item from its rubric alone)."""
    for n, row in jsonl_objects(path, _read_text(path)):
        ph = row.get("phrasings")
        if not (isinstance(row.get("item_id"), str) and isinstance(row.get("kp_id"), str) and isinstance(ph, list)
                and ph and all(isinstance(p, str) and p.strip() for p in ph)):
            raise KnowledgeError(f"{path}:{n}: needs string fields item_id and kp_id and a list of non-empty "
                                 "strings phrasings")
        iid, kp = _key_point(items, aliases, row, f"{path}:{n}")
        if kp.phrasings:
            raise KnowledgeError(f"{path}:{n}: {iid}:{kp.id} already has phrasings")
        texts = [" ".join(p.split()) for p in ph]
        if len(set(texts)) < len(texts) or kp.text in texts:
            raise KnowledgeError(f"{path}:{n}: {iid}:{kp.id}: a phrasing repeats the point or another phrasing")
        kp.phrasings = texts


def read_item_jsonl(path: Path) -> list[Item]:
    """Items stored one JSON object per line (how imports are kept)."""
    out = []
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Item.model_validate_json(line))
        except ValidationError as e:
            raise KnowledgeError(f"{path}:{n}: {format_validation(e)}") from None
    return out


def slugify(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].strip("-") or "item"
