"""Rubric-first grading: key points scored by embedding similarity, gates, misconceptions,
and an optional LLM judge fused in. Deterministic for a given answer and rubric.

How a rubric-only score is made:
1. The answer is split into spans (sentences, clauses of long sentences, adjacent pairs).
   Spans that address the grader ("ignore previous instructions", "score: 10") are taken
   out and flagged: they are content to be graded, never instructions, and earn nothing.
2. Gates cap the grade at 0-1 for empty, gibberish, off-topic answers and restatements of
   the question, and at 2 for a bare list of keywords.
3. Each key point gets credit from its best-matching span: similarity below ``LO`` earns
   nothing, above ``HI`` earns full credit, linear in between (covered / partial / missing).
4. A span that matches an authored misconception better than any key point costs points.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from interviewer.bank.schema import Item, KeyPoint, Rubric
from interviewer.grading.models import Grade, KeyPointResult, MisconceptionHit
from interviewer.retrieval.embeddings import Embedder

# Calibrated by hand on eval/grading dev files (labelled-s1/s2); see eval/README.md.
LO, HI = 0.38, 0.62
COVERED, PARTIAL = 0.75, 0.30
MISCONCEPTION_SIM, MISCONCEPTION_MARGIN, MISCONCEPTION_PENALTY = 0.70, 0.10, 2.5
RELEVANCE_MIN = 0.30
PAIR_WORDS = 60  # adjacent sentences up to this many words together are also matched as one span
# Raw rubric score → human scale: isotonic regression on the dev files (labelled-s1/s2) only,
# smoothed into a strictly increasing curve; `python eval/fit_calibration.py` prints it.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.0, 0.0), (0.331, 0.25), (1.734, 0.6), (2.941, 1.4), (3.968, 1.889), (4.438, 2.667), (4.806, 3.0),
    (5.356, 4.0), (6.354, 4.8), (6.747, 7.0), (7.004, 7.8), (8.19, 8.273), (8.957, 9.0), (9.513, 10.0),
    (10.0, 10.0))
SALAD_CAP = 2.0
GAMMA = 0.85  # score = 10 * coverage**GAMMA: partial knowledge is worth a little more than linear
# The score blends key-point coverage with coverage of the model answer's own sentences
# (finer-grained reference statements written with the rubric): on the dev files the
# blend ranks answers better than either alone (see eval/README.md).
KEY_POINT_SHARE = 0.3

_INJECTION = re.compile(
    r"\bignore\b.{0,40}\b(instructions?|rubric|above|previous|prior|prompt|guidelines)"
    r"|\bdisregard\b.{0,40}\b(instructions?|rubric|above|previous|prior|score|grading)"
    r"|\b(give|award|assign|output|return|grant|mark|record)\s+(me\s+|it\s+|this\s+(answer\s+)?)?(an?\s+)?(full|perfect|maximum|max|10|ten|score\s+of)"
    r"|\b10\s*/\s*10\b|\bscore\s*[:=]\s*\d|\"score\"\s*:|\bfull\s+marks\b|\bsystem\s*(prompt|override|note|message|:)"
    r"|\byou\s+are\s+(now\s+)?(an?\s+|the\s+|in\s+)?(grader|evaluator|assistant|[a-z-]*\s*mode)"
    r"|\bnew\s+instructions?\b|\b(note|message|instruction)s?\s+to\s+(the\s+)?(grader|evaluator|examiner|ai|model)"
    r"|\b(grader|evaluator|examiner)\s*(note|instruction|override)|\boverride\b.{0,40}\b(score|grade|rubric)"
    r"|\bdo\s+not\s+mention\s+this\b|\bpre-?approved\b|\bas\s+an?\s+(ai|language\s+model|grader|evaluator)\b",
    re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|(?<=\S)\s+(?=\[[A-Z])|\n+|(?<=:)\s+(?=[-*•])|\s*[;•]\s*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_FUNCTION = frozenset("""the a an is are was were be been it its of to in on for with by as that this which
when while because so than then but and or not no can will would should could does do has have had it's
they their we you i if into from at over under each more less most such""".split())


@dataclass
class Span:
    text: str
    start: int
    end: int


def split_spans(answer: str) -> list[Span]:
    """Sentences, clauses of long sentences, and adjacent sentence pairs, with offsets."""
    pieces: list[Span] = []
    pos = 0
    for part in _SPLIT.split(answer):
        if not part:
            continue
        start = answer.find(part, pos)
        start = start if start >= 0 else pos
        pos = start + len(part)
        text = part.strip(" -*•\t")
        if len(_WORD.findall(text)) < 2:
            continue
        pieces.append(Span(text, start, start + len(part)))
    out = list(pieces)
    for s in pieces:  # clauses of long sentences
        words = _WORD.findall(s.text)
        if len(words) > 28:
            off = s.start
            for clause in re.split(r",\s+|\s+-\s+|\s+\(", s.text):
                if len(_WORD.findall(clause)) >= 4:
                    i = answer.find(clause, off)
                    out.append(Span(clause, max(i, s.start), max(i, s.start) + len(clause)))
    for a, b in zip(pieces, pieces[1:], strict=False) if PAIR_WORDS else []:  # adjacent pairs
        if len(_WORD.findall(a.text)) + len(_WORD.findall(b.text)) <= PAIR_WORDS:
            out.append(Span(answer[a.start:b.end].strip(), a.start, b.end))
    return out


def is_gibberish(text: str) -> bool:
    """Mostly non-words: few vowels, long consonant runs, or random character mixes."""
    words = _WORD.findall(text)
    if not words:
        return bool(text.strip())
    bad = 0
    for w in words:
        lw = w.lower()
        vowels = sum(c in "aeiouy" for c in lw)
        if len(lw) >= 4 and (vowels / len(lw) < 0.2 or re.search(r"[bcdfghjklmnpqrstvwxz]{5,}", lw)):
            bad += 1
    return bad / len(words) > 0.4


def repeated_words(text: str) -> tuple[int, int]:
    """Immediately repeated words ("log log", "r r r"), as (words of 3+ letters, any): word salad."""
    words = [w.lower() for w in _WORD.findall(text)]
    pairs = [a for a, b in zip(words, words[1:], strict=False) if a == b and a not in ("that", "had", "very", "really")]
    return sum(1 for a in pairs if len(a) >= 3), len(pairs)


def is_word_salad(text: str) -> bool:
    long_reps, all_reps = repeated_words(text)
    return long_reps >= 2 or all_reps >= 3


def is_keyword_salad(text: str) -> bool:
    """A list of terms with (almost) no function words, i.e. no claims."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 6:
        return False
    func = sum(w in _FUNCTION for w in words) / len(words)
    return func < 0.12


def _statements(model_answer: str) -> list[str]:
    """The model answer's sentences (at least three words each)."""
    return [s.text for s in split_spans(model_answer)
            if s.start == model_answer.find(s.text) and len(_WORD.findall(s.text)) >= 3 and s.text.count(". ") == 0][:10]


def derive_rubric(question: str, reference: str) -> Rubric:
    """Key points from a reference answer (for ad-hoc questions and imported banks)."""
    sents = [s.text for s in split_spans(reference) if s.start == reference.find(s.text)] or [reference]
    sents = [s for s in dict.fromkeys(x.strip() for x in sents) if len(_WORD.findall(s)) >= 3]
    if len(sents) < 3:  # split long sentences into clauses so single-sentence references still work
        clauses: list[str] = []
        for s in sents or [reference]:
            clauses += [c.strip() for c in re.split(r",\s+|;\s+|\s+and\s+|\s+while\s+|\s+but\s+", s)
                        if len(_WORD.findall(c)) >= 3]
        sents = list(dict.fromkeys(clauses)) or [reference.strip()]
    sents = sents[:6]
    kps = [KeyPoint.model_construct(id=f"kp{i + 1}", text=s, weight="core") for i, s in enumerate(sents)]
    return Rubric.model_construct(model_answer=reference, key_points=kps, misconceptions=[], follow_ups=[])


class Grader:
    """Grades answers against rubrics; one instance per process (it holds no user state)."""

    def __init__(self, embedder: Embedder, llm: object | None = None, llm_weight: float = 0.35) -> None:
        self.embedder = embedder
        self.llm = llm
        self.llm_weight = llm_weight
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ embeddings
    def _embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            with self._lock:
                vecs = self.embedder.embed(todo)
            for t, v in zip(todo, vecs, strict=True):
                self._cache[t] = v
            if len(self._cache) > 200_000:  # bound memory in long batch runs
                self._cache.clear()
                return self._embed(texts)
        return {t: self._cache[t] for t in texts}

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed many texts in one batch (grade-batch uses this to load nothing twice)."""
        self._embed(list(texts))

    @staticmethod
    def rubric_texts(item: Item) -> list[str]:
        """Everything about an item the grader embeds, so it can be done before the answer arrives."""
        r = item.rubric or derive_rubric(item.question, item.reference_answer or item.explanation)
        return [item.question, r.model_answer, *(k.text for k in r.key_points),
                *(m.text for m in r.misconceptions), *_statements(r.model_answer)]

    # ------------------------------------------------------------ public API
    def grade_item(self, item: Item, answer: str, use_llm: bool = True) -> Grade:
        if item.rubric is not None:
            return self.grade(item.question, item.rubric, answer, "authored", use_llm)
        ref = item.reference_answer or item.explanation
        return self.grade(item.question, derive_rubric(item.question, ref), answer,
                          "derived from reference answer", use_llm)

    def grade_reference(self, question: str, reference: str, answer: str, use_llm: bool = True) -> Grade:
        return self.grade(question, derive_rubric(question, reference), answer,
                          "derived from reference answer", use_llm)

    def spans_for(self, answer: str) -> tuple[list[Span], list[str]]:
        """Content spans of an answer and the instruction-like spans removed from it."""
        spans = split_spans(answer)
        injected = [s.text for s in spans if _INJECTION.search(s.text)]
        content = [s for s in spans if not _INJECTION.search(s.text)]
        return content, injected

    def grade(self, question: str, rubric: Rubric, answer: str, origin: str = "authored",
              use_llm: bool = True) -> Grade:
        grade = self.rubric_grade(question, rubric, answer, origin)
        if use_llm and self.llm is not None and grade.gate is None:
            from interviewer.grading.judge import fuse_llm_judgement

            grade = fuse_llm_judgement(self.llm, question, rubric, answer, grade, self.llm_weight)
        return grade

    def rubric_grade(self, question: str, rubric: Rubric, answer: str, origin: str = "authored") -> Grade:
        answer = answer if isinstance(answer, str) else ""
        base = {"rubric_origin": origin, "sources": ["rubric"], "label": "rubric only",
                "model_answer": rubric.model_answer}
        empty_kps = [KeyPointResult(id=k.id, text=k.text, weight=k.weight, status="missing", similarity=0.0)
                     for k in rubric.key_points]
        text = answer.strip()
        if not text or text.lower().strip(".! ") in ("i don't know", "i dont know", "idk", "no idea", "pass", "skip"):
            return Grade(score=0.0, rubric_score=0.0, gate="empty", key_points=empty_kps,
                         feedback="No answer was given.", **base)
        content, injected = self.spans_for(text)
        flags = ["instructions addressed to the grader were ignored and earn no credit"] if injected else []
        if not content:
            gate = "instructions only" if injected else ("gibberish" if is_gibberish(text) else "too short")
            return Grade(score=0.0, rubric_score=0.0, gate=gate, flags=flags, key_points=empty_kps,
                         feedback="The answer contains no content about the question.", **base)
        content_text = text
        for inj in injected:
            content_text = content_text.replace(inj, " ")
        content_text = " ".join(content_text.split())
        if injected and len(content_text) < 0.5 * len(text):
            flags.append("the answer is mostly instructions to the grader: capped at 1")
        if is_gibberish(content_text) or is_word_salad(content_text):
            return Grade(score=0.0, rubric_score=0.0, gate="gibberish", flags=flags, key_points=empty_kps,
                         feedback="The answer is not readable text.", **base)

        kp_texts = [k.text for k in rubric.key_points]
        mc_texts = [m.text for m in rubric.misconceptions]
        span_texts = [s.text for s in content]
        vec = self._embed([question, rubric.model_answer, *kp_texts, *mc_texts, *span_texts])
        S = np.stack([vec[t] for t in span_texts])
        K = np.stack([vec[t] for t in kp_texts])
        kp_sim = S @ K.T  # spans x key points

        # relevance gate: is the answer about this question at all? The whole answer is embedded
        # only when the gates need it (no span is on topic, or the answer is question-length):
        # long answers are the most expensive texts to embed and the spans already decide.
        topic_vecs = np.stack([vec[question], vec[rubric.model_answer], *K])
        relevance = float((S @ topic_vecs.T).max())
        n_words, q_words = len(_WORD.findall(content_text)), len(_WORD.findall(question))
        short = n_words <= q_words + 6
        whole = self._embed([content_text])[content_text] if relevance < RELEVANCE_MIN or short else None
        if whole is not None:
            relevance = max(relevance, float((topic_vecs @ whole).max()))
        if relevance < RELEVANCE_MIN:
            return Grade(score=0.0, rubric_score=0.0, gate="off-topic", flags=flags, key_points=empty_kps,
                         feedback="The answer does not address this question.", **base)
        if short and whole is not None and float(whole @ vec[question]) > 0.85:
            return Grade(score=1.0 if n_words > q_words else 0.0, rubric_score=0.0, gate="restates the question",
                         flags=flags, key_points=empty_kps, feedback="The answer only restates the question.", **base)

        results: list[KeyPointResult] = []
        credit_sum = weight_sum = 0.0
        for j, kp in enumerate(rubric.key_points):
            i = int(np.argmax(kp_sim[:, j]))
            sim = float(kp_sim[i, j])
            credit = float(np.clip((sim - LO) / (HI - LO), 0.0, 1.0))
            status = "covered" if credit >= COVERED else "partial" if credit >= PARTIAL else "missing"
            sp = content[i]
            results.append(KeyPointResult(id=kp.id, text=kp.text, weight=kp.weight, status=status,
                                          similarity=round(sim, 3),
                                          evidence=sp.text if status != "missing" else "",
                                          span=(sp.start, sp.end) if status != "missing" else None))
            w = kp.numeric_weight
            credit_sum += w * credit
            weight_sum += w
        coverage = credit_sum / weight_sum if weight_sum else 0.0
        statements = _statements(rubric.model_answer) if origin == "authored" else []
        if statements:
            vs = self._embed(statements)
            R = np.stack([vs[t] for t in statements])
            st_credit = np.clip(((S @ R.T).max(axis=0) - LO) / (HI - LO), 0.0, 1.0)
            statement_coverage = float(st_credit.mean())
        else:
            statement_coverage = coverage

        hits: list[MisconceptionHit] = []
        if mc_texts:
            M = np.stack([vec[t] for t in mc_texts])
            mc_sim = S @ M.T
            best_kp_per_span = kp_sim.max(axis=1)
            for j, mc in enumerate(rubric.misconceptions):
                i = int(np.argmax(mc_sim[:, j]))
                sim = float(mc_sim[i, j])
                if sim >= MISCONCEPTION_SIM and sim - float(best_kp_per_span[i]) >= MISCONCEPTION_MARGIN:
                    sp = content[i]
                    hits.append(MisconceptionHit(id=mc.id, text=mc.text, correction=mc.correction,
                                                 evidence=sp.text, span=(sp.start, sp.end), similarity=round(sim, 3)))
        raw = (KEY_POINT_SHARE * 10.0 * coverage ** GAMMA + (1 - KEY_POINT_SHARE) * 10.0 * statement_coverage ** GAMMA
               - MISCONCEPTION_PENALTY * min(len(hits), 2))
        raw = float(np.clip(raw, 0.0, 10.0))
        score = calibrate(raw)
        cap = None
        gate = None
        if is_keyword_salad(content_text):
            flags.append("a list of keywords without explanations is capped at 2")
            cap = SALAD_CAP
        if injected and len(content_text) < 0.5 * len(text):
            cap = 1.0
        if cap is not None:
            score = min(score, cap)
        score = round(float(np.clip(score, 0.0, 10.0)), 1)
        return Grade(score=score, rubric_score=score, raw_score=round(raw, 3), cap=cap, gate=gate, flags=flags,
                     key_points=results,
                     misconceptions=hits, feedback=_feedback(results, hits), **base)


def calibrate(raw: float, knots: tuple[tuple[float, float], ...] | None = None) -> float:
    """Map the raw rubric score onto the human 0-10 scale (monotone, so rankings are unchanged).

    The knots were fitted once with isotonic regression on the dev files only (see
    eval/README.md); ``interviewer eval grading`` re-fits them leave-one-question-out to report
    dev rows honestly.
    """
    k = knots or CALIBRATION
    return float(np.interp(raw, [x for x, _ in k], [y for _, y in k]))


def _feedback(results: list[KeyPointResult], hits: list[MisconceptionHit]) -> str:
    covered = [k for k in results if k.status == "covered"]
    missing = [k for k in results if k.status == "missing" and k.weight == "core"]
    parts = []
    if covered:
        parts.append(f"You covered {len(covered)} of {len(results)} key points.")
    if missing:
        parts.append("Missing: " + "; ".join(k.text.rstrip(".") for k in missing[:3]) + ".")
    for h in hits:
        parts.append(f"Careful: \"{h.evidence}\" — {h.correction}")
    return " ".join(parts) or "Some relevant content, but no key point was clearly made."


__all__ = ["Grader", "calibrate", "derive_rubric", "split_spans"]
