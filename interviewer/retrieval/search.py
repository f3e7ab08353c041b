"""Hybrid retrieval: BM25 (bm25s) + dense (Chroma), fused with reciprocal rank fusion."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from interviewer.bank.loader import Bank
from interviewer.bank.schema import DIFFICULTIES, TOPICS
from interviewer.errors import BackendError, InterviewerError
from interviewer.retrieval.embeddings import Embedder
from interviewer.retrieval.store import QuestionIndex

Method = Literal["bm25", "dense", "hybrid"]
RRF_K = 60
POOL = 50
BM25_WEIGHT = 1.5  # BM25 ranks count 1.5x in the fusion: exact terms matter in this jargon-heavy domain

_STOP = frozenset("""a an and are as at be by can do does for from how i if in into is it its me my of on or
so that the their them then there these this to use used using was we what when where which while who why
will with you your would should could about between vs versus explain describe tell difference""".split())
_TOK = re.compile(r"[a-z0-9]+")


def _stem(tok: str) -> str:
    for suf in ("ization", "isation", "ations", "ation", "ings", "ing", "ies", "ed", "es", "s"):
        if tok.endswith(suf) and len(tok) - len(suf) >= 3:
            return tok[: -len(suf)] + ("y" if suf == "ies" else "")
    return tok


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens, stop words removed, light suffix stripping."""
    return [_stem(t) for t in _TOK.findall(text.lower()) if t not in _STOP]


def normalize_question(text: str) -> str:
    """Case, punctuation and spacing do not matter when a query is a question's exact text."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class Hit:
    id: str
    question: str
    topic: str
    difficulty: str
    sources: list[str]
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "topic": self.topic,
                "difficulty": self.difficulty, "sources": self.sources, "score": round(self.score, 5)}


def resolve_topic(name: str, bank: Bank | None = None) -> str:
    """A user's topic spelling → the canonical top-level topic (case-insensitive, unique prefix/substring).
    Unknown: the error lists the known topics, or (given the ``bank``) the top-level topics whose
    subtopics match the name ("regularization" sits under four), with question counts."""
    low = name.strip().lower()
    exact = [t for t in TOPICS if t.lower() == low]
    if exact:
        return exact[0]
    cands = [t for t in TOPICS if low in t.lower()]
    if len(cands) == 1:
        return cands[0]
    if cands:
        raise InterviewerError(f"unknown topic {name!r}; did you mean one of {cands}?")
    under = Counter(it.topic[0] for it in (bank.items.values() if bank is not None and low else ())
                    if it.topic and any(low in part.lower() for part in it.topic[1:]))
    if under:
        where = ", ".join(f"{t} ({n} question{'s' if n != 1 else ''})"
                          for t, n in sorted(under.items(), key=lambda kv: (-kv[1], kv[0])))
        raise InterviewerError(f"{name!r} is a subtopic, not a topic; questions about it are under: {where}. "
                               "Pass one of those, or start with a question about it "
                               "(`interview --first WORDS`; in the UI, by id or words)")
    raise InterviewerError(f"unknown topic {name!r}; known topics: {', '.join(TOPICS)}")


def resolve_difficulty(name: str) -> str:
    for d in DIFFICULTIES:
        if d.lower() == name.strip().lower() or d.split("/")[0].lower() == name.strip().lower():
            return d
    raise InterviewerError(f"unknown difficulty {name!r}; use one of {', '.join(DIFFICULTIES)}")


class Retriever:
    """Search over the bank. Models and the BM25 index are built once, then reused per query."""

    def __init__(self, bank: Bank, index: QuestionIndex | None, embedder: Embedder) -> None:
        """``index`` None: keyword (BM25) search only, for when the vector store is unreachable."""
        import bm25s

        self.bank = bank
        self.index = index
        self.embedder = embedder
        self.ids = sorted(bank.items)
        self._pos = {iid: n for n, iid in enumerate(self.ids)}
        corpus = [tokenize(bank.items[i].search_text() + " " + " ".join(bank.items[i].tags)) for i in self.ids]
        # the exact text of a bank question (or of a duplicate merged into an item) finds that item first
        self.exact: dict[str, str] = {}
        for iid in self.ids:
            it = bank.items[iid]
            for q in [it.question, *(p.question for p in it.provenance)]:
                if q:
                    self.exact.setdefault(normalize_question(q), iid)
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)

    # ---------------------------------------------------------------- filters
    def _where(self, topic: str | None, difficulty: str | None, source: str | None) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if topic:
            clauses.append({"topic": topic})
        if difficulty:
            clauses.append({"difficulty": difficulty})
        if source:
            clauses.append({f"src_{source[:3]}": True})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _allowed(self, topic: str | None, difficulty: str | None, source: str | None) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        for n, iid in enumerate(self.ids):
            it = self.bank.items[iid]
            if topic and (not it.topic or it.topic[0] != topic):
                mask[n] = False
            elif difficulty and it.difficulty != difficulty:
                mask[n] = False
            elif source and not any(s.startswith(source[:3]) for s in it.sources):
                mask[n] = False
        return mask

    # ---------------------------------------------------------------- rankers
    def rank_bm25(self, query: str, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        toks = tokenize(query)
        if not toks:
            return []
        scores = np.asarray(self.bm25.get_scores(toks), dtype=np.float64)
        if mask is not None:
            scores = np.where(mask, scores, -1.0)
        order = np.argsort(-scores)[:POOL]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def rank_dense(self, query: str, where: dict[str, Any] | None = None,
                   vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        if self.index is None:
            raise BackendError("this retriever has no vector index (keyword search only)")
        vec = vector if vector is not None else self.embedder.embed([query])[0]
        return self.index.query(vec.tolist(), POOL, where)

    def search(self, query: str, k: int = 5, topic: str | None = None, difficulty: str | None = None,
               source: str | None = None, method: Method = "hybrid",
               vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k items for a query; filters narrow both rankers before fusion."""
        if not query.strip():
            raise InterviewerError("empty search query")
        topic = resolve_topic(topic, self.bank) if topic else None
        difficulty = resolve_difficulty(difficulty) if difficulty else None
        filtered = bool(topic or difficulty or source)
        mask = self._allowed(topic, difficulty, source) if filtered else None
        where = self._where(topic, difficulty, source)
        if method == "bm25":
            ranked = self.rank_bm25(query, mask)
        elif method == "dense":
            ranked = self.rank_dense(query, where, vector)
        else:
            fused: dict[str, float] = {}
            for ranking, weight in ((self.rank_bm25(query, mask), BM25_WEIGHT),
                                    (self.rank_dense(query, where, vector), 1.0)):
                for rank, (iid, _) in enumerate(ranking):
                    fused[iid] = fused.get(iid, 0.0) + weight / (RRF_K + rank + 1)
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        exact = self.exact.get(normalize_question(query))
        if exact is not None and (mask is None or mask[self._pos[exact]]):
            top = ranked[0][1] if ranked else 1.0
            ranked = [(exact, top + 1e-6)] + [r for r in ranked if r[0] != exact]
        hits = []
        for iid, score in ranked[:k]:
            it = self.bank.items.get(iid)
            if it is None:  # index holds an item the bank no longer has (not re-ingested yet)
                continue
            hits.append(Hit(iid, it.question, " > ".join(it.topic), it.difficulty or "unrated",
                            it.sources, score))
        return hits
