"""``ask``: answer a free-form concept question from the bank, grounded and instant.

1. Retrieve (hybrid search) and measure confidence: the trained reranker's probability that each
   hit answers the question (``interviewer/retrieval/rerank.py``; with ``ask.reranker = false``, the
   cosine similarity of the question to the hit's text). Below the threshold (``RERANK_MIN`` or
   ``COVERAGE_MIN``, calibrated on the dev half of ``eval/ask/questions.jsonl``, see
   ``interviewer eval ask``) the answer says the bank does not cover the question and shows the
   nearest items — it never answers from an LLM's own knowledge unless asked to (``own_knowledge``),
   and then labels it.
2. Compose the answer **extractively** from the cited items: the model answer's opening sentences
   and the core key points, each with its item id and the source documents it came from. This is
   instant and cannot invent anything.
3. Where an LLM is configured and wanted (``llm=True``), it may only connect the quoted material in
   a short closing paragraph, streamed after the grounded answer and labelled as such.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from interviewer.errors import BackendError
from interviewer.prompts import render

#: below this cosine similarity the best bank item is not about the question (calibrated on the
#: dev half of eval/ask/questions.jsonl by `interviewer eval ask --calibrate`; see eval/README.md);
#: used when the reranker is off (``ask.reranker = false``)
COVERAGE_MIN = 0.377
SECOND_MIN_GAP = 0.08  # a second item is cited when its confidence is within this of the first
#: the same two decisions on the reranker's probability (eval/README.md "Ask reranker"): its probabilities
#: are low for paraphrased questions. The minimum was 0.1 (best balanced accuracy on the dev half); on
#: 2026-12-04 it was re-chosen on all 472 questions read by then, as the smallest at which they are
#: refused at recall >= 0.9 with covered citation >= 0.9, and adopted on the blind test-f (refusal
#: recall 0.85 -> 0.90, covered citation unchanged; eval/README.md "Ask threshold re-chosen")
RERANK_MIN = 0.124
RERANK_SECOND_GAP = 0.1
#: a first hit the reranker is only moderately sure of (below ``LEXICAL_BELOW``) must also use at least
#: ``LEXICAL_MIN`` of the question's distinctive words (``lexical_support``), else the question is refused
#: (eval/README.md, "Ask lexical support")
LEXICAL_BELOW = 0.3
LEXICAL_MIN = 0.25
#: an entry whose own question is this close to the user's leads the answer (MiniLM cosine of the two
#: questions; chosen on the 952 read questions and the basic set's dev half, eval/README.md, "Ask: a
#: question that matches an entry's own question"): short questions such as "how does attention work"
#: are ones the reranker reads worst
TITLE_MIN = 0.7
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


@dataclass(frozen=True)
class Coverage:
    """When the bank covers a question, and when a second item is cited: ``minimum`` confidence of the
    best hit, and a second hit within ``second_gap`` of it (and above ``minimum`` itself)."""

    method: str  # "reranker" (P(entry answers the question)) or "cosine" (embedding similarity)
    minimum: float
    second_gap: float
    sides: bool = True  # refuse a comparison of things the bank has no entry on (compares_unknowns)
    #: refuse when the first hit's confidence is below ``lexical_below`` and it uses less than
    #: ``lexical_min`` of the question's distinctive words (reranker rule only; 0 turns it off)
    lexical_below: float = 0.0
    lexical_min: float = 0.0
    #: an entry whose own question is at least this close to the user's (MiniLM cosine of the two
    #: questions) is the first hit, with confidence at least that cosine (0 turns it off; eval/README.md,
    #: "Ask: a question that matches an entry's own question")
    title_min: float = 0.0


def coverage_rule(svc: Any) -> Coverage:
    if svc.reranker is not None:
        return Coverage("reranker", RERANK_MIN, RERANK_SECOND_GAP, lexical_below=LEXICAL_BELOW,
                        lexical_min=LEXICAL_MIN, title_min=TITLE_MIN)
    return Coverage("cosine", COVERAGE_MIN, SECOND_MIN_GAP)


def title_match(svc: Any, vector: Any) -> tuple[str, float] | None:
    """The entry whose own question is nearest the user's, and the cosine of the two (the index's
    question vectors; None when the index has none)."""
    index = getattr(svc.retriever, "index", None)
    if index is None:
        return None
    best = index.query(list(map(float, vector)), 1, {"part": "q"})
    return (best[0][0], float(best[0][1])) if best else None


def with_title(hits: list[tuple[Any, float]], title: tuple[Any, float, float] | None,
               rule: Coverage) -> list[tuple[Any, float]]:
    """``hits`` with the title match first when its question cosine reaches ``rule.title_min``:
    ``title`` is (entry, cosine, the reranker's probability for it); its confidence is the larger of
    the two, the other hits keep their order behind it, and the list keeps its length."""
    if not rule.title_min or title is None or title[1] < rule.title_min:
        return hits
    item, cos, prob = title
    rest = [(it, sc) for it, sc in hits if it.id != item.id]
    return [(item, max(cos, prob))] + rest[:max(0, len(hits) - 1)]


def retrieve_for_question(svc: Any, question: str, k: int = 3, keyword_only: bool = False,
                          rule: Coverage | None = None,
                          details: dict[str, Any] | None = None) -> list[tuple[Any, float]]:
    """The hybrid search's best ``k`` hits, in its order, each with its confidence: with the reranker
    (the default) its probability that the entry answers the question, else the hit's dense
    similarity to the question. The order is kept either way: re-sorting by the confidence cited the
    right item first less often on the dev questions (eval/README.md, "Ask" and "Ask reranker").
    ``keyword_only``: BM25 hits, for when the vector store is unreachable (the confidences are
    computed here, so the same rule applies). ``rule``: apply its title rule (``with_title``: the entry
    whose own question is nearest the user's leads when close enough); without it the search's hits
    are returned as they are. ``details``: filled with ``title`` = (entry, question cosine, reranker
    probability), so an evaluation can apply title rules of its own to the same hits."""
    from interviewer.retrieval.rerank import entry_text

    reranker = svc.reranker
    vec = None if keyword_only and reranker is not None else svc.query_embedder.embed([question])[0]
    if keyword_only:
        hits = svc.keyword_retriever.search(question, k=k, method="bm25")
    else:
        hits = svc.retriever.search(question, k=k, vector=vec)
    items = [svc.bank.items[h.id] for h in hits]
    if not items:
        return []
    if reranker is not None:
        match = None
        if vec is not None and (rule is not None and rule.title_min or details is not None):
            match = title_match(svc, vec)
            if match is not None and match[0] not in svc.bank.items:
                match = None
            if match is not None and all(it.id != match[0] for it in items):  # scored with the hits, in one batch
                items.append(svc.bank.items[match[0]])
        probs = reranker.scores(question, [entry_text(it) for it in items])
        scored = [(it, float(p)) for it, p in zip(items, probs, strict=True)]
        title = None
        if match is not None:
            title = next((it, match[1], p) for it, p in scored if it.id == match[0])
            if details is not None:
                details["title"] = title
        hits_k = scored[:len(hits)]
        return with_title(hits_k, title, rule) if rule is not None else hits_k
    texts = [it.question + "\n" + " ".join(k.text for k in (it.rubric.key_points if it.rubric else []))
             for it in items]
    sims = svc.query_embedder.embed(texts) @ vec
    q_sims = svc.query_embedder.embed([it.question for it in items]) @ vec
    return [(it, float(max(s, qs))) for it, s, qs in zip(items, sims, q_sims, strict=True)]


def confidence(hits: list[tuple[Any, float]]) -> float:
    """How sure we are that the bank covers the question: the best confidence among the hits."""
    return max((s for _, s in hits), default=0.0)


def confident(hits: list[tuple[Any, float]], rule: Coverage) -> list[tuple[Any, float]]:
    """The items to cite (the first hit, and the second when about as close), or [] when the bank
    does not cover the question."""
    best = confidence(hits)
    if not hits or best < rule.minimum:
        return []
    return [hits[0]] + [(it, s) for it, s in hits[1:2] if s >= rule.minimum and best - s <= rule.second_gap]


def related(hits: list[tuple[Any, float]], cited: list[tuple[Any, float]], rule: Coverage) -> list[tuple[Any, float]]:
    """The search's other top hits that clear the threshold but are not cited: listed under the answer
    by id and question, not summarised. A question asked as a scenario often has its right entry second
    or third in the search (eval/README.md, "ask"): of the 14 covered questions of the read sets whose
    citations missed, 8 have it here."""
    ids = {it.id for it, _ in cited}
    return [(it, s) for it, s in hits[:3] if it.id not in ids and s >= rule.minimum]


RELATED = "Related entries (close in the search, not summarised above):"


def _sources(it: Any) -> str:
    keys = [p.key for p in it.provenance if p.number is not None] or [p.source for p in it.provenance]
    return ", ".join(dict.fromkeys(keys))


def _shown(it: Any, first: bool) -> tuple[str, list[str]]:
    """What the answer shows of an item: its model answer's opening sentences (three for the first
    item cited, one for the others — two when the first is under ten words) and, for the first, its
    core key points."""
    answer = it.rubric.model_answer if it.rubric else it.best_answer
    sents = [s.strip() for s in _SENT.split(" ".join(answer.split())) if s.strip()]
    core = [k.text for k in it.rubric.key_points if k.weight == "core"] if first and it.rubric else []
    n = 3 if first else 1
    if not first and len(sents) > 1 and len(sents[0].split()) < 10:
        n = 2  # a short opening ("The first is the dying ReLU problem.") says nothing on its own
    return " ".join(sents[:n]), core


def compose(question: str, relevant: list[tuple[Any, float]]) -> str:
    """The grounded answer: each cited item's opening sentences and core key points, with ids."""
    parts = []
    for n, (it, _) in enumerate(relevant):
        lead, core = _shown(it, n == 0)
        parts.append(f"{lead} [{it.id}]")
        if core:
            parts.append("Key points:\n" + "\n".join(f"- {c} [{it.id}]" for c in core))
    cites = "; ".join(f"[{it.id}] {it.question} ({_sources(it)})" for it, _ in relevant)
    return "\n\n".join(parts) + f"\n\nSources: {cites}"


def llm_context(relevant: list[tuple[Any, float]]) -> str:
    """What the LLM reads: each cited entry's id and question, then the core key points shown for the
    first entry, or the opening shown for the others (and for an entry without core key
    points) — the facts on the screen, in their shortest form. Every prompt token costs the user wait
    before the LLM's first token (about 37 tokens a second on two AVX2 cores, eval/bench.py's Ask row),
    so the first entry's opening sentences, which its key points restate, are not sent."""
    out = []
    for n, (it, _) in enumerate(relevant):
        lead, core = _shown(it, n == 0)
        facts = core or [lead]
        out.append(f"[{it.id}] {it.question}" + "".join(f"\n- {c}" for c in facts))
    return "\n".join(out)


NOT_IN_BANK = "The bank has nothing on"  # how an answer starts that names what the bank lacks
KEYWORD_ONLY = "Keyword search only: the vector store is unreachable"
LLM_PART = "\n\n**In short ("  # how the LLM's connecting paragraph starts (the bench times its first token)
_WORD = re.compile(r"[a-z0-9][a-z0-9\-+]*")
# "Hinton-style" is about style, "GPU0" is a GPU: such suffixes are stripped before a name is looked up
_GENERIC_SUFFIX = re.compile(r"-(?:style|like|based|heavy|level|wise|ish|aware|free|only)$|(?<=[A-Za-z])\d+$")
_TERM = re.compile(r"(?<![\w-])([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)(?![\w-])")
_VOCAB: dict[str, frozenset[str]] = {}


def bank_vocabulary(bank: Any) -> frozenset[str]:
    """Every word the bank's questions, answers and rubrics use (lower case), per bank version."""
    key = bank.version
    if key not in _VOCAB:
        words: set[str] = set()
        for it in bank.items.values():
            parts = [it.question, it.best_answer or "", it.explanation or ""]
            if it.rubric:
                parts += [it.rubric.model_answer, *(k.text for k in it.rubric.key_points),
                          *(m.text for m in it.rubric.misconceptions)]
            words |= set(_WORD.findall(" ".join(parts).lower()))
        _VOCAB.clear()
        _VOCAB[key] = frozenset(words)
    return _VOCAB[key]


def unknown_terms(question: str, bank: Any) -> list[str]:
    """Named things in the question (acronyms, CamelCase, hyphenated names like B-tree) that the
    bank never mentions: the answer says so up front instead of letting nearby material pass as an
    answer about them."""
    vocab, out = bank_vocabulary(bank), []
    for i, m in enumerate(_TERM.finditer(question)):
        t = _GENERIC_SUFFIX.sub("", m.group(1))
        named = (t.isupper() and len(t) >= 3) or (any(c.isupper() for c in t[1:]) and not t.isupper()) \
            or ("-" in t and any(c.isupper() for c in t))
        if i > 0 and named and t.lower() not in vocab and t not in out:
            out.append(t)
    return out


_VS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.I)
_CLAUSE_END = re.compile(r"[,?.:;!(]|\s-\s|\s\u2014\s")
#: other ways of asking for a comparison, rewritten to "A vs B" before the sides are read off
_COMPARE = [
    # "the difference between A and B", "choose between A and B"
    (re.compile(r"\b(?:differences?|distinction|distinguish|choose|choosing|pick|picking|decide)\s+between\s+"
                r"(.+?)\s+and\s+", re.I), r" , \1 vs "),
    # "compare A with B", "comparing A and B"
    # ("for comparing my scores with human ratings" is a purpose, not the question's comparison)
    (re.compile(r"(?<!\bfor\s)(?<!\bwhen\s)(?<!\bwhile\s)\bcompar(?:e|ing)\s+(.+?)\s+(?:with|to|and|against)\s+",
                re.I), r" , \1 vs "),
    # "A compared to B", "A differs from B", "how is A different from B"
    (re.compile(r"\s+(?:compared\s+(?:to|with)|differs?\s+from|different\s+from)\s+", re.I), " vs "),
    # a choice: "should I use A or B", "do people prefer A or B" ("or not", "or only" are no choice)
    (re.compile(r"\b(?:use|using|choose|choosing|pick|picking|prefer|preferring|go\s+with|opt\s+for|recommend)\s+"
                r"(.+?)\s+or\s+(?!not\b|only\b|just\b|so\b|both\b|neither\b)", re.I), r" , \1 vs "),
]
#: "which is better, A or B?", "A or B - which one?", "ray or dask, what's the difference?": an "or" in a
#: question that asks "which", "better" or for the difference
_WHICH = re.compile(r"\b(?:which|better|differences?|differ|different|compare|comparison)\b", re.I)
_OR = re.compile(r"\s+or\s+(?!not\b|only\b|just\b|so\b|both\b|neither\b)", re.I)
_LEAD = re.compile(r"^(?:(?:how|what|what's|whats|how's|why|when|where|which|does|do|did|is|are|was|were|would|should|can|"
                   r"could|the|a|an|and|s|plain|regular|standard|vanilla|using|doing|running|better|it|to|"
                   r"i|we|you|people|use|pick|choose|prefer|go|with)\s+)+", re.I)
_TAIL = re.compile(r"\s+(?:these\s+days|nowadays|today|anymore|in\s+practice|in\s+general|deal|trade-?off)\s*$",
                   re.I)
_PRONOUN = re.compile(r"(?:it|its|that|this|these|those|they|them|one|ones|i|i'm|we|you|he|she)\b", re.I)
#: words that end a compared side's name ("BERT with GPT *for classification*")
_LINK = re.compile(r"\s+(?:for|in|when|on|if|which|where|and|to|during|while|at|so|but|because)\s+", re.I)
#: a compared side is cited only when the reranker is at least this sure that its best entry answers
#: "What is <side>?" (a bare name is a weak query: "What is HDBSCAN?" scores 0.15 on an unrelated entry)
SIDE_MIN = 0.5


def comparison_sides(question: str) -> list[str]:
    """The things compared in a question ("A vs B", "the difference between A and B", "compare A with
    B", "how does A differ from B", "should I use A or B", "which is better, A or B"; a few words
    each side), else []."""
    q = question
    for pattern, repl in _COMPARE:
        q = pattern.sub(repl, q, count=1)
    if not _VS.search(q) and _WHICH.search(q):
        q = _OR.sub(" vs ", q, count=1)
    parts = _VS.split(q)
    if len(parts) < 2:
        return []
    sides = [" ".join(_LINK.split(_CLAUSE_END.split(parts[0])[-1])[-1].split()[-4:])]
    sides += [" ".join(_LINK.split(_CLAUSE_END.split(p)[0])[0].split()[:4]) for p in parts[1:]]
    sides = [_TAIL.sub("", _LEAD.sub("", x.strip(" \"'()[]"))).strip(" \"'()[]") for x in sides]
    # a side that starts with a pronoun ("how does *that* differ from shadow mode") names nothing
    return list(dict.fromkeys(x for x in sides if re.search(r"[A-Za-z]{2,}", x) and not _PRONOUN.match(x)))


def unnamed_side(side: str, bank: Any) -> bool:
    """True when no word of a compared side occurs anywhere in the bank ("git rebase"): the bank cannot
    have an entry on it, whatever a search for it finds."""
    words = _WORD.findall(side.lower())
    vocab = bank_vocabulary(bank)
    return bool(words) and not any(w in vocab for w in words)


def side_entries(svc: Any, question: str, keyword_only: bool = False,
                 rule: Coverage | None = None) -> list[tuple[str, tuple[Any, float] | None]]:
    """Each compared side of the question with the bank's entry on it: of the three hits for "What is
    <side>?" that reach the side floor, the one whose own question is nearest that query ("What is LoRA
    (Low-Rank Adaptation)?" rather than "In what sense does LoRA act as a regularizer …"), else the best
    hit by confidence (None when nothing was found, or when the bank never uses any word of the side:
    "What is merge?" finds BPE's merges, but "git rebase" has no entry). eval/README.md, "Ask reranker
    trained with short questions, second try"."""
    rule = rule or coverage_rule(svc)
    out: list[tuple[str, tuple[Any, float] | None]] = []
    for side in comparison_sides(question):
        if unnamed_side(side, svc.bank):
            out.append((side, None))
            continue
        query = f"What is {side}?"
        hits = retrieve_for_question(svc, query, k=3, keyword_only=keyword_only)
        sure = [h for h in hits if h[1] >= side_floor(rule)]
        if len(sure) > 1:
            vecs = svc.query_embedder.embed([query] + [it.question for it, _ in sure])
            near = vecs[1:] @ vecs[0]
            out.append((side, sure[int(near.argmax())]))
        else:
            out.append((side, max(hits, key=lambda h: h[1]) if hits else None))
    return out


def side_floor(rule: Coverage) -> float:
    return max(rule.minimum, SIDE_MIN) if rule.method == "reranker" else rule.minimum


def compares_unknowns(sides: list[tuple[str, tuple[Any, float] | None]], rule: Coverage) -> bool:
    """True when the question compares two or more things and the bank has an entry on none of them
    (each side's best entry below ``SIDE_MIN``, or a side the bank never names): "kafka vs rabbitmq" is
    not about message passing in the bank's entries, however well the whole question matches one. (In
    "git rebase vs merge", "merge" finds BPE's merges at 0.92, so this rule answers it; the answer then
    says that the bank has nothing on "git rebase".) Reranker rule only (eval/README.md, "Ask comparisons")."""
    return (rule.sides and rule.method == "reranker" and len(sides) >= 2
            and all(hit is None or hit[1] < side_floor(rule) for _, hit in sides))


def answerable(hits: list[tuple[Any, float]], sides: list[tuple[str, tuple[Any, float] | None]],
               rule: Coverage, support: float | None = None) -> list[tuple[Any, float]]:
    """The one answer-or-refuse decision, shared by ``answer_question`` and ``interviewer eval ask``: the
    citations the answer is built on, or [] to refuse (no hit is confident enough, the question
    compares things the bank has no entry on, or the first hit is only moderately confident and
    ``support`` — its ``lexical_support`` — is low)."""
    relevant = confident(hits, rule)
    if relevant and compares_unknowns(sides, rule):
        return []
    if relevant and weakly_supported(hits, rule, support):
        return []
    return relevant


def weakly_supported(hits: list[tuple[Any, float]], rule: Coverage, support: float | None) -> bool:
    """True when the first hit is below ``rule.lexical_below`` and uses less than ``rule.lexical_min``
    of the question's distinctive words: "how does an isolation forest find anomalies?" finds the
    random-forest entry at 0.15, which shares "forest" and "split" but not "isolation" or "anomaly"."""
    return (rule.method == "reranker" and support is not None and bool(hits)
            and confidence(hits) < rule.lexical_below and support < rule.lexical_min)


_IDF: dict[str, tuple[dict[str, frozenset[str]], dict[str, float], float]] = {}


def _entry_words(bank: Any) -> tuple[dict[str, frozenset[str]], dict[str, float], float]:
    """Per bank version: each entry's words (the keyword search's tokens), each word's IDF, and the IDF
    of a word no entry uses (the highest)."""
    from interviewer.retrieval.search import tokenize

    key = bank.version
    if key not in _IDF:
        docs: dict[str, frozenset[str]] = {}
        for iid, it in bank.items.items():
            parts = [it.question, it.best_answer or "", it.explanation or ""]
            if it.rubric:
                parts += [it.rubric.model_answer, *(k.text for k in it.rubric.key_points)]
            docs[iid] = frozenset(tokenize(" ".join(parts)))
        df: dict[str, int] = {}
        for words in docs.values():
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = len(docs)
        _IDF.clear()
        _IDF[key] = (docs, {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}, math.log((n + 1) / 0.5))
    return _IDF[key]


def _question_words(question: str) -> list[str]:
    """The question's distinctive words: the keyword search's tokens of three letters or more, once each."""
    from interviewer.retrieval.search import tokenize

    return [w for w in dict.fromkeys(tokenize(question)) if len(w) >= 3]


def missing_terms(question: str, item_id: str, bank: Any, n: int = 3) -> list[str]:
    """The question's rarest words (as the question spells them) that the entry never uses, rarest first:
    what a refusal for weak lexical support names."""
    from interviewer.retrieval.search import _TOK, _stem

    docs, idf, unseen = _entry_words(bank)
    have = docs.get(item_id, frozenset())
    surface: dict[str, str] = {}
    for w in _TOK.findall(question.lower()):
        surface.setdefault(_stem(w), w)
    lacking = sorted((w for w in _question_words(question) if w not in have), key=lambda w: -idf.get(w, unseen))
    out: list[str] = []
    for w in lacking:
        word = surface.get(w, w)
        if not any(word[:5] == o[:5] for o in out):  # "isolation" and "isolated" are one term to the reader
            out.append(word)
    return out[:n]


def lexical_support(question: str, item_id: str, bank: Any) -> float:
    """The share of the question's distinctive words that the entry uses, weighted by how rare each
    word is in the bank (IDF; a word the bank never uses weighs most): 1.0 when the entry uses them all.
    Words are the keyword search's tokens (stop words removed, suffixes stripped), three letters or more."""
    docs, idf, unseen = _entry_words(bank)
    words = _question_words(question)
    total = sum(idf.get(w, unseen) for w in words)
    if not total:
        return 1.0
    have = docs.get(item_id, frozenset())
    return sum(idf.get(w, unseen) for w in words if w in have) / total


def add_compared(relevant: list[tuple[Any, float]], sides: list[tuple[str, tuple[Any, float] | None]],
                  rule: Coverage) -> list[tuple[Any, float]]:
    """For a comparison, also cite the bank's entry on each side the citations miss (kept when the
    reranker is at least ``SIDE_MIN`` sure of it): the first citation stays first, a compared side's
    entry comes before a second citation, at most three in all. (Showing the sides' entries first was
    tried and not adopted: eval/README.md, "Ask comparisons, display order".)"""
    cited = {it.id for it, _ in relevant}
    extra: list[tuple[Any, float]] = []
    for _, hit in sides:
        if hit is not None and hit[1] >= side_floor(rule) and hit[0].id not in cited:
            extra.append(hit)
            cited.add(hit[0].id)
    return (relevant[:1] + extra + relevant[1:])[:3]


def not_covered(hits: list[tuple[Any, float]]) -> str:
    near = "\n".join(f"- [{it.id}] {it.question}" for it, _ in hits[:3])
    return ("The question bank does not cover this, so I won't guess." +
            (f" The nearest entries are:\n{near}" if near else ""))


def answer_question(svc: Any, question: str, stream: bool = True, llm: bool | None = None,
                    own_knowledge: bool = False, rule: Coverage | None = None) -> Iterator[str]:
    """Yield the answer text. ``llm``: let the configured LLM add a short connecting paragraph
    (default: the ``ask.llm`` setting); ``own_knowledge``: when the bank does not cover the
    question, let the LLM answer from its own knowledge, clearly labelled."""
    question = " ".join(question.split())[:2000]
    if not question:
        yield "Please ask a question."
        return
    from interviewer.grading.grader import looks_non_english

    if looks_non_english(question):  # the embedder and the reranker read English: a search would only mislead
        yield ("Ask reads questions in English only (the search and its reranker are English models); this "
               "question looks like another language. Please ask it in English.")
        return
    keyword_only = False
    rule = rule or coverage_rule(svc)
    try:
        hits = retrieve_for_question(svc, question, rule=rule)
    except BackendError as e:  # e.g. the Chroma server is down: keyword search still knows the bank
        keyword_only = True
        hits = retrieve_for_question(svc, question, keyword_only=True)
        yield f"*{KEYWORD_ONLY} ({e}).*\n\n"
    relevant = confident(hits, rule)
    try:
        sides = side_entries(svc, question, keyword_only, rule) if relevant else []
    except BackendError:  # the store went away after the first search: answer without the sides
        sides = []
    support = lexical_support(question, hits[0][0].id, svc.bank) if hits else None
    kept = answerable(hits, sides, rule, support)
    if relevant and not kept and compares_unknowns(sides, rule):  # a comparison of things the bank has no entry on
        quoted = [f"“{side}”" for side, _ in sides]
        yield f"The bank has no entry on {', '.join(quoted[:-1])} and {quoted[-1]}. "
    elif relevant and not kept:  # weakly_supported: the nearest entry is about something else
        lacking = [f"“{w}”" for w in missing_terms(question, hits[0][0].id, svc.bank)]
        said = (", ".join(lacking[:-1]) + " or " + lacking[-1]) if len(lacking) > 1 else "".join(lacking)
        yield (f"The nearest entry, [{hits[0][0].id}], shares few of your question's terms"
               + (f" (it never mentions {said})" if said else "") + ". ")
    relevant = kept
    use_llm = svc.settings.ask.llm if llm is None else llm
    backend = svc.llm if (use_llm or own_knowledge) else None
    if not relevant:
        yield not_covered(hits)
        if own_knowledge and backend is not None:
            yield "\n\n**Not from the bank — the LLM's own answer (unchecked):**\n\n"
            try:
                yield from backend.stream([{"role": "user", "content": question}], svc.settings.ask.max_tokens)
            except BackendError as e:
                yield f"(LLM unavailable: {e})"
        return
    relevant = add_compared(relevant, sides, rule)
    missing = unknown_terms(question, svc.bank)
    for side, _ in sides:  # a compared side the bank never names is said to be missing, like an unknown acronym
        if unnamed_side(side, svc.bank) and not any(t.lower() in side.lower() for t in missing):
            missing.append(side)
    if missing:
        names = ", ".join(f"“{t}”" for t in missing)
        yield (f"**{NOT_IN_BANK} {names}.** The closest material it has is below; it may not "
               "answer your question.\n\n")
    near = related(hits, relevant, rule)
    listed = (f"\n\n{RELATED}\n" + "\n".join(f"- [{it.id}] {it.question}" for it, _ in near)) if near else ""
    yield compose(question, relevant) + listed  # the grounded answer arrives whole, before any LLM token
    if backend is None:
        return
    context = llm_context(relevant)
    messages = render(svc.settings.prompts_dir, "ask", question=question, context=context)
    try:
        first = True
        for chunk in backend.stream(messages, svc.settings.ask.max_tokens):
            if first:
                yield f"{LLM_PART}{getattr(backend, 'name', 'LLM')}'s summary of the entries above, unchecked):** "
                first = False
            yield chunk
    except BackendError as e:
        yield f"\n\n(LLM unavailable: {e}; the answer above is the bank's own.)"
