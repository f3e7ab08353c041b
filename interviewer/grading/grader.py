"""Rubric-first grading: every key point is a claim, checked against the answer by the trained
claim checker; the scoring policy turns the verdicts into a grade; a calibration curve learned
from human grades maps it onto the interviewer's 0-10 scale; an LLM judge is fused in when a
capable model is configured. Deterministic for a given answer and rubric.

One call path (``Grader.grade``): clean the text -> spans -> instruction spans removed ->
claim checks (each key point, and each misconception whose best-matching span is closer to it than
to any key point, against the whole answer, in windows when long, and against the span that matches
it best) -> gates and caps (only where no key point has
evidence) -> policy score -> calibration -> optional LLM judge -> interview penalties.

Sentence embeddings (MiniLM) are used for what they are good at: finding the span to quote as
evidence, and telling whether an answer is about the question at all.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from interviewer.bank.schema import Item, KeyPoint, Rubric
from interviewer.grading import calibration
from interviewer.grading.models import Grade, KeyPointResult, MisconceptionHit
from interviewer.grading.policy import DEFAULT_POLICY, Policy, embedding_credit
from interviewer.retrieval.embeddings import Embedder
from interviewer.retrieval.vector_cache import VectorCache

RELEVANCE_MIN = 0.30  # best cosine of any span to the question, model answer or a key point
PAIR_WORDS = 60  # adjacent sentences up to this many words together are also matched as one span
REFERENCE_CLAIM_WORDS = 60  # a reference answer up to this long is one claim; longer ones: one per sentence

_INJECTION = re.compile(
    r"\bignore\s+(?:(?:all|any|the|your|these|of|my)\s+)*(?:(?:previous|prior|above|earlier|system|grading)\s+)?"
    r"(?:instructions?|rubric|prompt|guidelines|rules)\b"
    r"|\bdisregard\b.{0,40}\b(instructions?|rubric|above|previous|prior|score|grading)"
    r"|\b(give|award|assign|output|return|grant|mark|record)\s+(me\s+|it\s+|this\s+(answer\s+)?)?(an?\s+)?(full|perfect|maximum|max|10|ten|score\s+of)"
    r"|(?<![\d/.])10\s*/\s*10\b(?!\s*/)|\bscore\s*[:=]\s*\d|\"score\"\s*:|\bfull\s+marks\b|\bsystem\s*(prompt|override|note|message|:)"
    r"|\byou\s+are\s+(now\s+)?(an?\s+|the\s+|in\s+)?(grader|evaluator|assistant|[a-z-]*\s*mode)"
    r"|\bnew\s+instructions?\s*[:\-]|\bnew\s+instructions?\s+(?:for|to)\s+(?:the\s+)?(?:grader|model|ai|assistant|you)\b|\b(note|message|instruction)s?\s+to\s+(the\s+)?(grader|evaluator|examiner|ai|model|judge)"
    r"|\b(grader|evaluator|examiner|judge)\s*(note|instruction|override)|\boverride\b.{0,40}\b(score|grade|rubric)"
    r"|\bdo\s+not\s+mention\s+this\b|\bpre-?approved\b|\bas\s+an?\s+(ai|language\s+model|grader|evaluator)\b"
    r"|</?\s*(answer|claim|question|system|user|assistant)\s*>|\"?verdict\"?\s*[:=]|\breply\s+(with|only)\b"
    r"|\brespond\s+(only\s+)?with\b.{0,30}\b(yes|json|verdict)|\b(claim|answer)\s+is\s+(fully\s+)?(entailed|correct)\s*[.!]?\s*$",
    re.I)
# A span that talks *about* prompt injection (an expert answer to a security question) is content;
# it is an instruction only when it also addresses the grading itself.
_MENTION = re.compile(r"\b(attack\w*|adversar\w*|inject\w*|jailbreak\w*|malicious|untrusted|e\.g\.|for example|"
                      r"for instance|such as|defen[cs]\w*|payload|exfiltrat\w*|sanitiz\w*|guardrail\w*)", re.I)
_ADDRESS = re.compile(r"\b(grader|grading|evaluator|examiner|score|scoring|marks|verdict|rubric|full\s+credit)\b"
                      r"|(?<![\d/.])10\s*/\s*10\b(?!\s*/)", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|(?<=\S)\s+(?=\[[A-Z])|\n+|(?<=:)\s+(?=[-*•])|\s*[;•]\s*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_FUNCTION = frozenset("""the a an is are was were be been it its of to in on for with by as that this which
when while because so than then but and or not no can will would should could does do has have had it's
they their we you i if into from at over under each more less most such""".split())
_EN = frozenset("the a an is are of to in and that it for with as on be this by from or not".split())
_OTHER = frozenset("""le la les des est et un une du que qui dans pour pas sur au aux avec ce sont el los las es y en
por con una para del lo se der die das und ist nicht mit ein eine zu den von dem sich il che non per di della sono""".split())
_FILLERS = re.compile(r"(?<![\w'])(?:um+|uh+|erm+|er|hmm+|mm+)(?![\w'])[,.]?\s*|,\s*(?:you know|i mean|like)\s*,", re.I)
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MATHY = re.compile(r"[=+*/^_<>≤≥≈∑∏∫√∂∇σΣμλθαβγδεπΩωφψ·×∈→←↔⊙⊗ᵀ₀-₉⁰-⁹()\[\]{}|]")
_CODE_STATEMENT = re.compile(r"\b(def|return|import|lambda)\b|\w\s*=\s*\S|\bnp\.|\btorch\.")
_LIST_SEP = re.compile(r"[,;\n•·|]")  # what separates the terms of a keyword list
_CODE = re.compile(r"\b(def|return|import|lambda|np\.|torch\.|for\s+\w+\s+in)\b|[a-z_]+\(")


@dataclass
class Span:
    text: str
    start: int
    end: int


def clean_text(text: str) -> str:
    """Zero-width and control characters (and terminal escape sequences) removed; everything a
    reader sees is kept, so quotes from the cleaned text are quotes from the answer."""
    text = _CONTROL.sub("", _ZERO_WIDTH.sub("", text))
    return unicodedata.normalize("NFC", text)


def drop_repeats(text: str) -> str:
    """The text with each sentence kept once (case and spacing ignored): saying a thing twice adds
    nothing, and a window that straddles two copies of an answer must not read as new context."""
    seen: set[str] = set()
    out = []
    for part in re.split(r"(?<=[.!?])\s+", text):
        key = " ".join(part.lower().split())
        if key and key not in seen:
            seen.add(key)
            out.append(part)
    return " ".join(out)


#: a number standing alone: not part of a name (GPT-2, L2, fp16, 110M, top-5, x_1); "-1" and "1,792" are numbers
_NUMBER = re.compile(r"(?<![\w.,\-−])[-−]?\d+(?:[.,]\d+)*%?(?![\w])")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_SPOKEN_NUMBER = re.compile(r"\b(?:(minus|negative)\s+)?(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


def numbers_in(text: str, spoken: bool = False) -> set[float]:
    """The numbers a text states (1,792 = 1792, 15% = 15); with ``spoken``, also "minus one" .. "twenty"."""
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        tok = m.group(0).replace("−", "-").rstrip("%")
        try:
            out.add(round(float(tok.replace(",", "")), 6))
        except ValueError:
            continue
    if spoken:
        for m in _SPOKEN_NUMBER.finditer(text):
            v = float(_NUMBER_WORDS[m.group(2).lower()])
            out.add(-v if m.group(1) else v)
    return out


def states_numbers_of(point: str, answer: str | set[float]) -> bool:
    """True when the answer (its text, or the numbers ``numbers_in(text, spoken=True)`` read from it)
    states every number of the key point (or the point has none)."""
    need = numbers_in(point)
    return not need or need <= (numbers_in(answer, spoken=True) if isinstance(answer, str) else answer)


def strip_fillers(text: str) -> str:
    """Spoken fillers (um, uh, ", you know,") removed before the claims are checked."""
    return " ".join(_FILLERS.sub(" ", text).split())


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
        if len(_WORD.findall(text)) < 2 and not _MATHY.search(text):
            continue
        if not text:
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


#: a quote may narrow to a clause of the best-matching span when the clause matches nearly as well
QUOTE_MARGIN = 0.05


def quoted_span(content: list[Span], sims: np.ndarray, best: int, margin: float = QUOTE_MARGIN) -> int:
    """The span to quote as evidence: the best-matching one (by embedding similarity, which also feeds
    the score), or a clause inside it that matches within ``margin`` — so a long run-on sentence ("um so
    dropout is, like, you randomly turn off neurons …, and then at test time …") is not quoted whole for
    the one fact it states. Display only: the score keeps the best span's similarity."""
    outer = content[best]
    inner = [m for m, sp in enumerate(content)
             if m != best and outer.start <= sp.start and sp.end <= outer.end and len(sp.text) < len(outer.text)
             and float(sims[m]) >= float(sims[best]) - margin]
    return max(inner, key=lambda m: float(sims[m])) if inner else best


NOT_ENGLISH_FLAG = "only English answers are graded: this answer looks like another language"
NOT_ENGLISH_FEEDBACK = "Only English answers are graded; please answer in English."


def _other_script_share(text: str) -> tuple[int, float]:
    """(letters, share of them in a script other than Latin or Greek): Chinese, Cyrillic, Arabic, … text.
    Greek letters are formula variables (σ, λ, Σ), never counted as another language."""
    letters = [c for c in text if c.isalpha()]
    other = sum(1 for c in letters if ord(c) >= 0x250 and not 0x370 <= ord(c) <= 0x3FF and not 0x1D00 <= ord(c) <= 0x1DBF)
    return len(letters), (other / len(letters) if letters else 0.0)


def looks_non_english(text: str) -> bool:
    """Mostly another language's function words, or mostly another script (the claim checker and
    MiniLM are English models). A Chinese answer has no Latin words at all; it was gated as "too short"."""
    n_letters, other_share = _other_script_share(text)
    if n_letters >= 4 and other_share > 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 6:
        return False
    en = sum(w in _EN for w in words)
    other = sum(w in _OTHER for w in words)
    return other >= 3 and other > 2 * en


def looks_like_math_or_code(text: str) -> bool:
    return len(_MATHY.findall(text)) >= 3 or bool(_CODE.search(text))


def is_gibberish(text: str) -> bool:
    """Mostly non-words: few vowels, long consonant runs. Formula symbols, Greek letters, code and
    single-letter variables are not words and never count against an answer."""
    words = [w for w in _WORD.findall(text) if len(w) >= 4]
    if not words:
        return bool(text.strip()) and not _MATHY.search(text) and not _WORD.search(text)
    bad = 0
    for w in words:
        lw = w.lower()
        vowels = sum(c in "aeiouy" for c in lw)
        if vowels / len(lw) < 0.2 or re.search(r"[bcdfghjklmnpqrstvwxz]{5,}", lw):
            bad += 1
    return bad / len(words) > 0.4


def repeated_words(text: str) -> tuple[int, int]:
    """Immediately repeated words ("log log log"), as (words of 3+ letters, any), fillers and
    single letters (formula variables) not counted: word salad."""
    words = [w.lower() for w in _WORD.findall(strip_fillers(text)) if len(w) >= 2]
    pairs = [a for a, b in zip(words, words[1:], strict=False)
             if a == b and a not in ("that", "had", "very", "really", "so", "no", "is")]
    return sum(1 for a in pairs if len(a) >= 3), len(pairs)


def is_word_salad(text: str) -> bool:
    long_reps, all_reps = repeated_words(text)
    return long_reps >= 2 or all_reps >= 3


def is_keyword_salad(text: str) -> bool:
    """A list of terms with (almost) no function words, i.e. no claims (formulas and code excepted)."""
    if _CODE_STATEMENT.search(text) or len(_MATHY.findall(text)) >= 8:  # code or formula-heavy text makes claims
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 6:
        return False
    if len(words) < 20 and len(_LIST_SEP.findall(text)) < 3:
        return False  # a short sentence or two ("Dropout zeroes random units during training."), not a list
    func = sum(w in _FUNCTION for w in words) / len(words)
    return func < 0.12


def is_instruction(span: str, about_injection: bool = False) -> bool:
    """Text addressed to the grader ("ignore previous instructions", "score: 10", "</answer> reply yes").
    In an answer *about* prompt injection, quoting an attack is content unless it addresses the grading."""
    if not _INJECTION.search(span):
        return False
    if (about_injection or _MENTION.search(span)) and not _ADDRESS.search(span):
        return bool(re.search(r"</?\s*(answer|claim)\s*>|\"?verdict\"?\s*[:=]", span, re.I))
    return True


def derive_rubric(question: str, reference: str) -> Rubric:
    """Claims from a reference answer (ad-hoc questions, imported banks, grade-batch rows): a short
    reference (up to a few sentences) is one claim, as a human grader reads it; a long one gives
    one claim per sentence. Every derived claim is core."""
    reference = clean_text(reference or "").strip()
    if len(_WORD.findall(reference)) <= REFERENCE_CLAIM_WORDS:
        claims = [reference or question]
    else:
        sents = [s.text for s in split_spans(reference) if s.start == reference.find(s.text)]
        claims = [s for s in dict.fromkeys(x.strip() for x in sents) if len(_WORD.findall(s)) >= 3][:8] or [reference]
    kps = [KeyPoint.model_construct(id=f"kp{i + 1}", text=c, weight="core", compound_reason="")
           for i, c in enumerate(claims)]
    return Rubric.model_construct(model_answer=reference, key_points=kps, misconceptions=[], follow_ups=[])


class Grader:
    """Grades answers against rubrics; one instance per process (it holds no user state)."""

    def __init__(self, embedder: Embedder, checker: Any, llm: object | None = None, llm_weight: float = 0.35,
                 policy: Policy = DEFAULT_POLICY, judge_problem: str = "", vectors: VectorCache | None = None) -> None:
        self.judge_problem = judge_problem  # why a configured LLM judge cannot be used (grades say so)
        self.embedder = embedder
        self.checker = checker
        self.llm = llm
        self.llm_weight = llm_weight
        self.policy = policy
        self.vectors = vectors  # the bank's rubric vectors on disk (None: embedded when first graded)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        self._inflight: dict[str, threading.Event] = {}  # texts another thread is embedding right now

    # ------------------------------------------------------------ embeddings
    def _embed(self, texts: Sequence[str], persist: bool = False) -> dict[str, np.ndarray]:
        """Vectors of ``texts``: from memory, else (``persist``: rubric texts) from the disk cache, else
        embedded — and a text another thread is embedding already (the rubric the interview prefetches
        when it asks the question) is waited for, not embedded twice."""
        out: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(texts))
        while wanted:
            done = threading.Event()
            with self._cache_lock:
                for t in wanted:
                    if t in self._cache:
                        out[t] = self._cache[t]
                mine = [t for t in wanted if t not in out and t not in self._inflight]
                theirs = {self._inflight[t] for t in wanted if t not in out and t in self._inflight}
                for t in mine:
                    self._inflight[t] = done
            try:
                if mine:
                    got = self.vectors.get(mine) if persist and self.vectors is not None else {}
                    todo = [t for t in mine if t not in got]
                    if todo:
                        new = dict(zip(todo, self.embedder.embed(todo), strict=True))  # thread-safe
                        if persist and self.vectors is not None:
                            self.vectors.put(new)
                        got.update(new)
                    out.update(got)
                    with self._cache_lock:
                        if len(self._cache) + len(got) > 200_000:  # bound memory in long batch runs
                            self._cache.clear()
                        self._cache.update(got)
            finally:
                with self._cache_lock:
                    for t in mine:
                        self._inflight.pop(t, None)
                done.set()
            for ev in theirs:
                ev.wait()
            # what the other threads embedded is in memory now; a text whose thread failed is tried here
            wanted = [t for t in wanted if t not in out]
        return {t: out[t] for t in texts}

    def prefetch(self, texts: Sequence[str], persist: bool = False) -> None:
        """Embed many texts in one batch (the interview: the rubric while the candidate reads the
        question; grade-batch: everything, so nothing is embedded twice)."""
        self._embed(list(texts), persist)

    @staticmethod
    def rubric_texts(item: Item) -> list[str]:
        """Everything about an item the grader embeds, so it can be done before the answer arrives."""
        r = item.rubric or derive_rubric(item.question, item.reference_answer or item.explanation)
        return [item.question, r.model_answer, *(k.text for k in r.key_points), *(m.text for m in r.misconceptions)]

    # ------------------------------------------------------------ public API
    def grade_item(self, item: Item, answer: str, use_llm: bool = True, hints: int = 0, late: bool = False,
                   rubric_grade: Grade | None = None) -> Grade:
        """``rubric_grade``: the rubric grade of this same answer, already computed (the interview
        grades an answer once to decide on a follow-up, and finishes with that grade)."""
        if item.rubric is not None:
            return self.grade(item.question, item.rubric, answer, "authored", use_llm, hints, late, rubric_grade)
        ref = item.reference_answer or item.explanation
        return self.grade(item.question, derive_rubric(item.question, ref), answer,
                          "derived from reference answer", use_llm, hints, late, rubric_grade)

    def grade_reference(self, question: str, reference: str, answer: str, use_llm: bool = True) -> Grade:
        return self.grade(question, derive_rubric(question, reference), answer,
                          "derived from reference answer", use_llm)

    def spans_for(self, answer: str, about_injection: bool = False) -> tuple[list[Span], list[str]]:
        """Content spans of an answer and the instruction-like spans removed from it."""
        spans = split_spans(answer)
        injected = [s.text for s in spans if is_instruction(s.text, about_injection)]
        content = [s for s in spans if not is_instruction(s.text, about_injection)]
        return content, injected

    def grade(self, question: str, rubric: Rubric, answer: str, origin: str = "authored",
              use_llm: bool = True, hints: int = 0, late: bool = False, rubric_grade: Grade | None = None) -> Grade:
        """The one call path: rubric grade once, the optional judge, then the interview penalties."""
        grade = rubric_grade if rubric_grade is not None else self.rubric_grade(question, rubric, answer, origin)
        if use_llm and self.llm is not None and grade.gate is None and "llm" not in grade.sources:
            grade = self.judged(question, rubric, answer, grade)
        elif use_llm and self.judge_problem and "unavailable" not in grade.label:
            grade = grade.model_copy(update={"label": f"rubric only (LLM judge unavailable: {self.judge_problem})"})
        return self.apply_penalties(grade, hints, late)

    def judged(self, question: str, rubric: Rubric, answer: str, grade: Grade) -> Grade:
        """The rubric grade with the LLM judge fused in (the judge sees the answer with the
        instruction spans the grader found taken out, as quoted data)."""
        from interviewer.grading.judge import fuse_llm_judgement

        text = clean_text(answer if isinstance(answer, str) else "")
        about = bool(re.search(r"inject|jailbreak|prompt", question + " " + rubric.model_answer, re.I))
        _, injected = self.spans_for(text, about)
        for inj in injected:
            text = text.replace(inj, " ")
        return fuse_llm_judgement(self.llm, question, rubric, " ".join(text.split()), grade, self.llm_weight)

    def apply_penalties(self, grade: Grade, hints: int = 0, late: bool = False) -> Grade:
        if not hints and not late:
            return grade
        base = grade.score + grade.penalty  # penalties are applied to the unpenalised score, once
        score, taken, flags = self.policy.interview_penalties(base, hints, late)
        return grade.model_copy(update={"score": score, "penalty": taken,
                                        "hint_penalty": round(hints * self.policy.hint_penalty, 1),
                                        "flags": [f for f in grade.flags if not f.startswith(("hint", "answered after"))]
                                        + flags})

    def rubric_grade(self, question: str, rubric: Rubric, answer: str, origin: str = "authored") -> Grade:
        pol = self.policy
        answer = clean_text(answer if isinstance(answer, str) else "")
        curve = "authored" if origin == "authored" else "reference"
        base = {"rubric_origin": origin, "sources": ["rubric"], "label": "rubric only (claim checker)",
                "model_answer": rubric.model_answer, "checker": getattr(self.checker, "model_id", "")}
        empty_kps = [KeyPointResult(id=k.id, text=k.text, weight=k.weight, status="missing")
                     for k in rubric.key_points]
        text = answer.strip()
        if not text or text.lower().strip(".! ") in ("i don't know", "i dont know", "idk", "no idea", "pass", "skip"):
            return Grade(score=0.0, rubric_score=0.0, gate="empty", key_points=empty_kps,
                         feedback="No answer was given.", **base)
        topic_text = " ".join([question, rubric.model_answer])
        about_injection = bool(re.search(r"inject|jailbreak|prompt", topic_text, re.I))
        content, injected = self.spans_for(text, about_injection)
        flags = ["instructions addressed to the grader were ignored and earn no credit"] if injected else []
        gate: str | None
        if not content:
            if not injected and looks_non_english(text):
                return Grade(score=0.0, rubric_score=0.0, gate="not English", key_points=empty_kps,
                             flags=[NOT_ENGLISH_FLAG], feedback=NOT_ENGLISH_FEEDBACK, **base)
            gate = "instructions only" if injected else ("gibberish" if is_gibberish(text) else "too short")
            return Grade(score=0.0, rubric_score=0.0, gate=gate, flags=flags, key_points=empty_kps,
                         feedback="The answer contains no content about the question.", **base)
        content_text = text
        for inj in injected:
            content_text = content_text.replace(inj, " ")
        content_text = " ".join(content_text.split())
        if injected:
            flags.append("the answer tries to instruct the grader")

        kps, mcs = rubric.key_points, rubric.misconceptions
        span_texts = [s.text for s in content]
        vec = {**self._embed([question, rubric.model_answer, *(k.text for k in kps), *(m.text for m in mcs)],
                             persist=origin == "authored"),  # the bank's rubrics: on disk once embedded
               **self._embed(span_texts)}
        S = np.stack([vec[t] for t in span_texts])
        K = np.stack([vec[k.text] for k in kps])
        kp_sim = S @ K.T  # spans x key points: which span to quote
        M = np.stack([vec[m.text] for m in mcs]) if mcs else np.zeros((0, S.shape[1]), dtype=np.float32)
        mc_sim = S @ M.T

        # the claim checks: each claim against the whole answer (windows when long) and its best span
        from interviewer.grading.claims import windows

        checked = strip_fillers(drop_repeats(content_text))
        wins = windows(checked)

        def texts_for(sim_col: np.ndarray) -> list[str]:
            texts = list(wins)
            best_span = strip_fillers(content[int(np.argmax(sim_col))].text)
            # long answers (checked in windows) also get the span that matches the claim best, so a
            # claim is judged in its own context; a short answer is one window and that is enough
            if len(wins) > 1 and best_span and best_span not in texts:
                texts.append(best_span)
            return texts

        def check(claims: list[tuple[list[str], np.ndarray]]) -> list[tuple[Any, Any]]:
            """Per claim, in one batched pass: the best verdict by credit over all its wordings (the claim
            and its authored phrasings) and the clearest contradiction of its own wording."""
            pairs: list[tuple[str, str]] = []
            slices = []
            for wordings, sim_col in claims:
                texts = texts_for(sim_col)
                lo = len(pairs)
                for w in wordings:
                    pairs += [(w, t) for t in texts]
                slices.append((lo, lo + len(texts), len(pairs)))
            verdicts = self.checker.check_pairs(pairs)
            return [(max(verdicts[lo:hi], key=lambda v: v.credit), max(verdicts[lo:own], key=lambda v: v.contradicted))
                    for lo, own, hi in slices]

        def wordings(kp: Any) -> list[str]:
            return [kp.text, *kp.phrasings] if pol.phrasings else [kp.text]

        # a misconception can only be "made" where its best-matching span is closer to it than to any key
        # point (below); the others are not sent to the checker at all (the same grades, fewer pairs)
        mc_best = [int(np.argmax(mc_sim[:, j])) for j in range(len(mcs))]
        eligible = [j for j in range(len(mcs)) if float(mc_sim[mc_best[j], j]) >= float(kp_sim[mc_best[j]].max())]
        checks = check([(wordings(k), kp_sim[:, j]) for j, k in enumerate(kps)]
                       + [([mcs[j].text], mc_sim[:, j]) for j in eligible])
        mc_checks = dict(zip(eligible, checks[len(kps):], strict=True))

        results: list[KeyPointResult] = []
        points: list[tuple[str, float, float, str]] = []
        said = numbers_in(content_text, spoken=True)  # read once, checked against every key point
        for j, kp in enumerate(kps):
            best, contra = checks[j]
            i = int(np.argmax(kp_sim[:, j]))
            sim = float(kp_sim[i, j])
            checker_credit = best.credit
            if pol.numbers and not states_numbers_of(kp.text, said):
                checker_credit = min(checker_credit, pol.number_cap)  # "31×31×64" does not state "32×32×64"
            credit = pol.combined_credit(checker_credit, sim)
            status = pol.status(credit, best.entailed, contra.contradicted)  # what the score counts
            shown = pol.shown_status(status)  # what the card says (a contradiction verdict: missing, credit 0)
            sp = content[quoted_span(content, kp_sim[:, j], i)]
            show = shown != "missing"
            results.append(KeyPointResult(
                id=kp.id, text=kp.text, weight=kp.weight, status=shown,
                similarity=round(sim, 3), evidence=sp.text if show else "",
                span=(sp.start, sp.end) if show else None, entailed=round(best.entailed, 3),
                partly=round(best.partly, 3), contradicted=round(contra.contradicted, 3),
                credit=round(credit if shown == status else 0.0, 3)))
            points.append((kp.weight, checker_credit, sim, status))
        # a misconception is only "made" when the checker says it is stated, its best span is closer to it
        # than to any key point (the checker alone confuses "switched off at inference" with "applied at
        # inference"), and the answer does not also state its correction (answers that correct a
        # misconception name it). The corrections are checked only for the candidates that pass the rest.
        candidates = []
        for j, (best, contra) in mc_checks.items():
            if best.entailed >= pol.misconception and best.entailed > contra.contradicted:
                candidates.append((j, mcs[j], best, mc_best[j]))
        corrections = check([([mc.correction], mc_sim[:, j]) for j, mc, _, _ in candidates]) if candidates else []
        hits: list[MisconceptionHit] = []
        for (j, mc, best, i), (corrected, _) in zip(candidates, corrections, strict=True):
            if corrected.entailed < best.entailed:
                sp = content[quoted_span(content, mc_sim[:, j], i)]
                hits.append(MisconceptionHit(id=mc.id, text=mc.text, correction=mc.correction, evidence=sp.text,
                                             span=(sp.start, sp.end), similarity=round(float(mc_sim[i, j]), 3),
                                             probability=round(best.entailed, 3)))
        evidence = max((max(p[1], embedding_credit(p[2])) for p in points), default=0.0)

        non_english = looks_non_english(content_text)
        if non_english:
            flags.append(NOT_ENGLISH_FLAG)
        # not readable text is gated whatever the checker says (formulas and code never count as gibberish)
        if not looks_like_math_or_code(content_text) and (is_gibberish(content_text) or is_word_salad(content_text)):
            return Grade(score=0.0, rubric_score=0.0, gate="gibberish", flags=flags, key_points=results,
                         misconceptions=hits, feedback="The answer is not readable text.", **base)
        # the other gates only where no key point has evidence
        if evidence < pol.no_evidence:
            gate = None
            if non_english:
                gate, fb = "not English", NOT_ENGLISH_FEEDBACK
            else:
                topic_vecs = np.stack([vec[question], vec[rubric.model_answer], *K])
                relevance = float((S @ topic_vecs.T).max())
                n_words, q_words = len(_WORD.findall(content_text)), len(_WORD.findall(question))
                whole = self._embed([content_text])[content_text]
                relevance = max(relevance, float((topic_vecs @ whole).max()))
                if relevance < RELEVANCE_MIN:
                    gate, fb = "off-topic", "The answer does not address this question."
                elif n_words <= q_words + 6 and float(whole @ vec[question]) > 0.85:
                    gate, fb = "restates the question", "The answer only restates the question."
            if gate:
                score = 1.0 if gate == "restates the question" and len(_WORD.findall(content_text)) > len(
                    _WORD.findall(question)) else 0.0
                return Grade(score=score, rubric_score=score, gate=gate, flags=flags, key_points=results,
                             misconceptions=hits, feedback=fb, **base)

        raw, parts = pol.raw_score(points, len(hits))
        score = calibration.apply(raw, curve)
        cap = None
        if not non_english and is_keyword_salad(content_text):  # other languages' function words are not counted
            flags.append("a list of keywords without explanations is capped at 2")
            cap = pol.salad_cap
        if injected and (len(content_text) < 0.5 * len(text) or any(_ADDRESS.search(t) for t in injected)):
            # mostly instructions, or instructions about the grading itself: what an interviewer gives it, 0-1
            cap = pol.instructions_cap
        if cap is not None:
            score = min(score, cap)
        score = round(float(np.clip(score, 0.0, 10.0)), 1)
        return Grade(score=score, rubric_score=score, raw_score=round(raw, 3), cap=cap, gate=None, flags=flags,
                     key_points=results, misconceptions=hits, feedback=_feedback(results, hits),
                     core_coverage=parts["core_coverage"], supporting_coverage=parts["supporting_coverage"],
                     features={k: round(v, 4) for k, v in parts["features"].items()}, **base)


def _feedback(results: list[KeyPointResult], hits: list[MisconceptionHit]) -> str:
    core = [k for k in results if k.weight == "core"]
    core_ok = [k for k in core if k.status == "covered"]
    parts = []
    if core:
        parts.append(f"You stated {len(core_ok)} of {len(core)} core point{'s' if len(core) != 1 else ''}.")
    # one line per quoted passage: a sentence read as contradicting several points is quoted once
    by_quote: dict[str, list[str]] = {}
    for k in results:
        if k.status == "contradicted":
            by_quote.setdefault(k.evidence, []).append(k.text.rstrip("."))
    for quote, texts in by_quote.items():
        said = f' You said: "{quote}".' if quote else ""
        parts.append(f"Contradicted:{said} Correct: " + "; ".join(texts) + ".")
    # a point read as only partly stated is not "missing": the learner said something of it and should
    # say it fully (the card marks it ◐); naming it missing contradicts the quote shown next to it
    missing = [k for k in core if k.status == "missing"]
    if missing:
        parts.append("Missing: " + "; ".join(k.text.rstrip(".") for k in missing[:3]) + ".")
    partly = [k for k in core if k.status == "partial"]
    if partly:
        parts.append("Partly stated, say it fully: " + "; ".join(k.text.rstrip(".") for k in partly[:3]) + ".")
    for h in hits:
        parts.append(f"Careful: \"{h.evidence}\" — {h.correction}")
    extra = [k for k in results if k.weight != "core" and k.status in ("missing", "partial")]
    if extra:
        parts.append("You could also mention: " + "; ".join(k.text.rstrip(".") for k in extra[:3]) + ".")
    return " ".join(parts) or "Some relevant content, but no key point was clearly made."


__all__ = ["Grader", "clean_text", "derive_rubric", "is_instruction", "split_spans", "strip_fillers"]
