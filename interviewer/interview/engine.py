"""The interview engine: ask → answer → follow-ups on missed key points → feedback → next.

No UI code here. All per-session state is in :class:`SessionState` (plain data, saved to
SQLite after every step); the engine itself holds only shared services, so any number of
sessions (browser tabs, terminal runs) can use one engine at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from interviewer.bank.schema import Item
from interviewer.errors import BackendError
from interviewer.grading.models import Grade
from interviewer.interview import report as reports
from interviewer.interview import selection
from interviewer.interview.followups import followup_for
from interviewer.interview.results import QuestionResult
from interviewer.progress.srs import record_grade
from interviewer.retrieval.search import resolve_difficulty, resolve_topic

if TYPE_CHECKING:
    from interviewer.bank.loader import Bank
    from interviewer.exercises.schema import Exercise
    from interviewer.grading.grader import Grader
    from interviewer.llm.base import ChatBackend
    from interviewer.progress.store import ProgressStore
    from interviewer.retrieval.search import Retriever
    from interviewer.settings import Settings


class EngineServices(Protocol):
    """What the engine needs, typed (``wiring.Services`` provides it, built once per process)."""

    settings: Settings

    @property
    def bank(self) -> Bank: ...

    @property
    def progress(self) -> ProgressStore: ...

    @property
    def grader(self) -> Grader: ...

    @property
    def retriever(self) -> Retriever: ...

    @property
    def exercises(self) -> dict[str, Exercise]: ...

    @property
    def llm(self) -> ChatBackend | None: ...


Mode = Literal["mock", "drill", "review", "ask"]
MAX_ANSWER_CHARS = 20_000  # longer answers are graded on their first 20,000 characters
FOLLOWUP_BELOW = 8.0  # answers graded at least this high move on without a follow-up


@dataclass
class SessionState:
    """Everything one session knows; JSON-serialisable and deep-copyable."""

    id: str = ""
    user: str = "default"
    mode: Mode = "mock"
    topic: str | None = None
    difficulty: str | None = None
    n_questions: int = 3
    time_limit: int | None = None  # seconds per answer
    asked: list[str] = field(default_factory=list)
    current: str | None = None
    phase: Literal["idle", "answer", "followup", "code", "done"] = "idle"
    answers: list[str] = field(default_factory=list)  # main answer + follow-up answers
    followups: list[str] = field(default_factory=list)  # follow-up questions asked
    followup_kps: list[str] = field(default_factory=list)
    hints: int = 0
    asked_at: str = ""
    previous_score: float | None = None  # for retry-and-compare
    results: list[QuestionResult] = field(default_factory=list)
    pending_refine: dict[str, Any] | None = None  # a graded answer the LLM judge has yet to refine
    empty_asks: int = 0  # empty answers to the open question so far (the first is asked again)
    queue: list[str] = field(default_factory=list)  # questions the user picked, asked first
    coding: bool = False  # mock/drill: one coding exercise is part of the session
    exercise: str | None = None  # the coding exercise open in the editor (phase "code")

    def seconds_left(self) -> float | None:
        """Seconds left to answer the open question (negative when late); None without a limit."""
        if not self.time_limit or not self.asked_at:
            return None
        return self.time_limit - (datetime.now(UTC) - datetime.fromisoformat(self.asked_at)).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionState:
        """From :meth:`to_dict` output (also older states whose results are plain dicts)."""
        st = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        st.results = [r if isinstance(r, QuestionResult) else QuestionResult.from_dict(r) for r in st.results or []]
        return st


@dataclass
class Event:
    """One thing to show the user."""

    kind: Literal["question", "followup", "grade", "grade_update", "hint", "info", "done", "answer", "exercise",
                  "code_result"]
    text: str
    item_id: str | None = None
    grade: Grade | None = None


class InterviewEngine:
    def __init__(self, services: EngineServices, defer_judge: bool = False) -> None:
        """``defer_judge``: grade with the rubric at once and let a configured LLM judge refine the
        grade afterwards (``refine``), so a user sees feedback without waiting for the LLM (UI)."""
        self.svc = services
        self.defer_judge = defer_judge

    @property
    def bank(self) -> Bank:
        return self.svc.bank

    @property
    def store(self) -> ProgressStore:
        return self.svc.progress

    # ------------------------------------------------------------------ lifecycle
    def start(self, mode: Mode = "mock", topic: str | None = None, difficulty: str | None = None,
              n_questions: int = 3, time_limit: int | None = None, user: str | None = None,
              question: str | None = None, coding: bool = False) -> tuple[SessionState, list[Event]]:
        """``question``: an item id, or words to search for, to ask first. ``coding``: in mock and
        drill sessions, one question is a coding exercise (code runs in the sandbox)."""
        st = SessionState(user=user or self.svc.settings.user, mode=mode,
                          topic=resolve_topic(topic, self.bank) if topic else None,
                          difficulty=resolve_difficulty(difficulty) if difficulty else None,
                          n_questions=max(1, min(int(n_questions), 50)), time_limit=time_limit)
        if question and question.strip():
            st.queue = [self.find_question(question.strip())]
        st.coding = bool(coding) and mode in ("mock", "drill")
        self._import_checklist_marks(st.user)
        st.id = self.store.create_session(st.user, mode, {"topic": st.topic, "difficulty": st.difficulty,
                                                          "n_questions": st.n_questions}, st.to_dict())
        if mode == "ask":
            st.phase = "answer"
            self._save(st)
            return st, [Event("info", "Ask me any ML / NLP / LLM concept question. I answer from the bank and cite it.")]
        return st, self._next_question(st)

    def find_question(self, text: str) -> str:
        """A bank item id, or the best search hit for the text."""
        from interviewer.errors import KnowledgeError

        try:
            return self.bank.get(text).id
        except KnowledgeError:
            pass
        hits = self.svc.retriever.search(text[:500], k=1)
        if not hits:
            raise KnowledgeError(f"no bank question matches {text[:80]!r}")
        return hits[0].id

    def resume(self, session_id: str, user: str | None = None) -> tuple[SessionState, list[Event]]:
        """Continue a stored session (on any process sharing the store); with ``user``, only that
        user's session."""
        row = self.store.load_session(session_id, user)
        st = SessionState.from_dict(row["state"])
        if st.phase == "done":
            return st, [Event("done", self.report_text(st))]
        if st.phase == "code" and st.exercise:
            return st, [Event("info", f"Resuming session {st.id}."), self._exercise_event(st.exercise)]
        if st.current is None:
            return st, self._next_question(st)
        item = self.bank.get(st.current)
        text = st.followups[-1] if st.phase == "followup" and st.followups else item.question
        return st, [Event("info", f"Resuming session {st.id}."),
                    Event("followup" if st.phase == "followup" else "question", text, item.id)]

    def _save(self, st: SessionState) -> None:
        self.store.save_state(st.id, st.to_dict(), "done" if st.phase == "done" else "active")

    def _import_checklist_marks(self, user: str) -> None:
        done = [t.id for t in self.bank.topics if t.done]
        if done:
            self.store.import_marks(user, done)

    # ------------------------------------------------------------------ coding exercises
    def _exercise_event(self, ex_id: str) -> Event:
        ex = self.svc.exercises[ex_id]
        text = (f"Coding exercise · {ex.title} · {' > '.join(ex.topic)} · {ex.difficulty}\n\n{ex.prompt}\n\n"
                f"`{ex.signature}` — write it in the editor below: Run checks the examples, Submit runs the "
                "hidden tests (your explanation of the approach is graded too).")
        return Event("exercise", text, ex.id)

    def _ask_exercise(self, st: SessionState) -> list[Event] | None:
        ex = selection.pick_exercise(self.svc.exercises, self.store, st)
        if ex is None:
            st.coding = False
            return None
        st.exercise, st.current, st.phase = ex.id, None, "code"
        st.answers, st.followups, st.followup_kps, st.hints = [], [], [], 0
        st.asked_at = datetime.now(UTC).isoformat()
        with self.store.transaction():
            self.store.add_turn(st.id, ex.id, "exercise_prompt", ex.prompt, topic=ex.topic[0])
            self._save(st)
        return [self._exercise_event(ex.id)]

    def run_code(self, st: SessionState, code: str) -> Any:
        """The visible example tests of the open exercise (nothing is recorded)."""
        from interviewer.exercises import run_exercise

        if st.phase != "code" or not st.exercise:
            raise BackendError("no coding exercise is open in this session")
        return run_exercise(self.svc.exercises[st.exercise], code, hidden=False)

    def submit_code(self, st: SessionState, code: str, explanation: str = "") -> list[Event]:
        """Run the hidden tests, grade the explanation, record both, and move on."""
        from interviewer.exercises import format_result, run_exercise
        from interviewer.exercises.progress import grade_explanation, record_exercise

        if st.phase != "code" or not st.exercise:
            return [Event("info", "No coding exercise is open.")]
        if not (code or "").strip():
            return [Event("info", "Write some code in the editor first (or skip the exercise).")]
        ex = self.svc.exercises[st.exercise]
        res = run_exercise(ex, code, hidden=True)  # BackendError (no sandbox) reaches the caller: nothing recorded
        events = [Event("code_result", format_result(res), ex.id)]
        g = grade_explanation(self.svc, ex, explanation) if (explanation or "").strip() and ex.spoken else None
        with self.store.transaction():
            score = record_exercise(self.svc, ex, res, code, session_id=st.id, user=st.user)
            failed = [t.name for t in res.tests if not t.passed]
            st.results.append(QuestionResult(id=ex.id, question=ex.title, topic=ex.topic[0], score=score,
                                             exercise=True, source=f"hidden tests {res.passed}/{res.total}",
                                             missed=failed[:5], answers=[code],
                                             explanation_score=g.score if g is not None else None))
            st.exercise, st.phase = None, "idle"
            if g is not None:
                tid = self.store.add_turn(st.id, ex.id, "exercise_explanation", ex.title, explanation,
                                          topic=ex.topic[0])
                self.store.set_turn_grade(tid, g.score, g.model_dump())
            self._save(st)
        events.append(Event("info", f"Score {score:.1f}/10 on the hidden tests ({res.passed}/{res.total} passed)"
                                    + (f"; your explanation: {g.score:.1f}/10" if g is not None else "") + ".",
                            ex.id, g))
        return events + self._next_question(st)

    def _skip_exercise(self, st: SessionState) -> list[Event]:
        ex = self.svc.exercises[st.exercise] if st.exercise else None
        with self.store.transaction():
            if ex is not None:
                self.store.add_turn(st.id, ex.id, "skip", ex.title)
                st.results.append(QuestionResult(id=ex.id, question=ex.title, topic=ex.topic[0], score=0.0,
                                                 exercise=True, skipped=True, source="skipped"))
            st.exercise, st.phase = None, "idle"
            self._save(st)
        return [Event("info", "Exercise skipped.")] + self._next_question(st)

    def _next_question(self, st: SessionState) -> list[Event]:
        if selection.exercise_due(st):
            asked = self._ask_exercise(st)
            if asked:
                return asked
        done_enough = len(st.results) >= st.n_questions and st.mode in ("mock", "review")
        if st.mode == "drill" and st.topic and selection.topic_mastered(st.results):
            st.phase = "done"
            self._save(st)
            return [Event("info", f"You have mastered {st.topic}."), Event("done", self.report_text(st))]
        item = None
        if not done_enough:
            item = self.bank.get(st.queue.pop(0)) if st.queue else selection.pick_next(self.bank, self.store, st)
        if item is None:
            st.phase, st.current = "done", None
            self._save(st)
            msg = [] if done_enough else [Event("info", "No more questions match (nothing due for review)."
                                                 if st.mode == "review" else "No more new questions match these filters.")]
            return msg + [Event("done", self.report_text(st))]
        st.current, st.phase = item.id, "answer"
        st.answers, st.followups, st.followup_kps, st.hints, st.previous_score = [], [], [], 0, None
        st.asked.append(item.id)
        st.asked_at = datetime.now(UTC).isoformat()
        self._prefetch(item)
        with self.store.transaction():
            self.store.add_turn(st.id, item.id, "question", item.question,
                                topic=item.topic[0] if item.topic else None)
            self._save(st)
        n = len(st.results) + 1
        total = f"/{st.n_questions}" if st.mode in ("mock", "review") else ""
        head = f"Question {n}{total} · {' > '.join(item.topic)} · {item.difficulty or 'unrated'}"
        return [Event("question", f"{head}\n\n{item.question}", item.id)]

    def _prefetch(self, item: Item) -> None:
        """Embed the rubric while the candidate reads and types, so the grade is fast (a bank rubric is
        usually on disk already: ``interviewer ingest`` embeds them all)."""
        import threading

        grader = self.svc.grader
        # not a daemon: at exit Python waits (well under a second) instead of killing it inside torch
        threading.Thread(target=grader.prefetch, args=(grader.rubric_texts(item), item.rubric is not None),
                         name="prefetch").start()

    # ------------------------------------------------------------------ answering
    def submit(self, st: SessionState, answer: str) -> list[Event]:
        """Handle one answer (text or transcript). Never raises for bad input."""
        if st.phase == "done":
            return [Event("info", "This session has ended. Start a new one.")]
        if not isinstance(answer, str):
            return [Event("info", "That input is not text; please type or speak your answer.")]
        if "\x00" in answer:
            return [Event("info", "That looks like binary data, not an answer. Please type your answer.")]
        # lone surrogates (a broken paste or a browser quirk) cannot be stored as UTF-8: replaced, not lost
        answer = answer.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if st.mode == "ask":
            return self._ask(st, answer)
        if st.phase == "code":
            return [Event("info", "This question is a coding exercise: write your code in the editor and press "
                                  "Run or Submit (or Skip).")]
        if st.current is None:
            return self._next_question(st)
        note = []
        if len(answer) > MAX_ANSWER_CHARS:
            note.append(Event("info", f"Your answer is {len(answer):,} characters; only the first "
                                      f"{MAX_ANSWER_CHARS:,} are graded."))
            answer = answer[:MAX_ANSWER_CHARS]
        item = self.bank.get(st.current)
        kind = "followup_answer" if st.phase == "followup" else "answer"
        if not answer.strip() and st.empty_asks < 1:
            # an empty or silent answer is asked again once instead of using up the question
            st.empty_asks += 1
            self._save(st)
            return [*note, Event("info", "I didn't get an answer. Please answer the question — or ask for a "
                                         "hint, or skip it.")]
        st.empty_asks = 0
        st.answers.append(answer)
        with self.store.transaction():  # the answer is safe before any grading happens
            self.store.add_turn(st.id, item.id, kind,
                                st.followups[-1] if kind == "followup_answer" else item.question,
                                answer, topic=item.topic[0] if item.topic else None)
            self._save(st)
        if not answer.strip() and kind == "answer":
            note.append(Event("info", "Empty answer again: graded as 0."))
        grade = self.svc.grader.grade_item(item, "\n".join(st.answers), use_llm=False)  # rubric only: instant
        missed = [k for k in grade.missed if k.id not in st.followup_kps]
        if (missed and grade.gate is None and grade.score < FOLLOWUP_BELOW
                and len(st.followups) < self.svc.settings.grading.max_followups):
            kp_id, fu = followup_for(item, [k.id for k in missed], "\n".join(st.answers), st.followups,
                                     self._followup_llm, self.svc.settings.prompts_dir)
            if fu:
                st.followups.append(fu)
                st.followup_kps.append(kp_id)
                st.phase = "followup"
                with self.store.transaction():
                    self.store.add_turn(st.id, item.id, "followup", fu)
                    self._save(st)
                return [*note, Event("followup", fu, item.id)]
        return [*note, *self._finish_question(st, item, grade)]

    def _finish_question(self, st: SessionState, item: Item, rubric_grade: Grade | None = None,
                         advance: bool = True) -> list[Event]:
        """The question's grade, once: the rubric grade of the full answer (reused when the caller
        has it), the LLM judge where configured, and the hint and lateness penalties (policy)."""
        full = "\n".join(st.answers)
        grader = self.svc.grader
        defer = self.defer_judge and grader.llm is not None
        late = self._late(st)
        grade = grader.grade_item(item, full, use_llm=not defer, hints=st.hints, late=late, rubric_grade=rubric_grade)
        if defer and grade.gate is None:
            grade = grade.model_copy(update={"label": grade.label + "; the LLM judge is checking it"})
        topic = item.topic[0] if item.topic else None
        # the final turn, its grade, the review cards and the session state: one transaction, so a
        # process killed in between leaves the question either graded once or not at all
        with self.store.transaction():
            events = self._store_final(st, item, full, topic, grade, late, defer)
        events.append(Event("grade", f"Score {grade.score:.1f}/10", item.id, grade))
        return events + (self._next_question(st) if advance else [])

    def _store_final(self, st: SessionState, item: Item, full: str, topic: str | None, grade: Grade, late: bool,
                     defer: bool) -> list[Event]:
        tid = self.store.add_turn(st.id, item.id, "final", item.question, full, topic=topic)
        self.store.set_turn_grade(tid, grade.score, grade.model_dump())
        record_grade(self.store, st.user, item.id, topic, grade)
        result = QuestionResult(id=item.id, question=item.question, topic=topic, score=grade.score, hints=st.hints,
                                followups=len(st.followups), source=grade.label, missed=[k.text for k in grade.missed],
                                answers=list(st.answers), followup_questions=list(st.followups))
        events = []
        if st.previous_score is not None:
            diff = grade.score - st.previous_score
            best = max(grade.score, st.previous_score)
            result.score, result.attempts = best, [st.previous_score, grade.score]
            events.append(Event("info", f"Retry: {st.previous_score:.1f} → {grade.score:.1f} ({diff:+.1f}); "
                                        f"the better attempt ({best:.1f}) counts."))
            st.previous_score = None
        st.results.append(result)
        st.phase, st.current = "idle", None  # graded: a resume asks the next question, never this one again
        if defer and grade.gate is None:
            st.pending_refine = {"turn": tid, "item": item.id, "answer": full, "hints": st.hints, "late": late,
                                 "result": len(st.results) - 1, "grade": grade.model_dump()}
        self._save(st)
        return events

    def refine(self, st: SessionState) -> list[Event]:
        """Fuse the LLM judge into the last instant grade (UI: runs after the card is shown). The
        stored grade is replaced; the event says whether and why the score changed."""
        p, st.pending_refine = st.pending_refine, None
        if not p:
            return []
        item = self.bank.get(p["item"])
        instant = Grade.model_validate(p["grade"])
        grader = self.svc.grader
        base = instant.model_copy(update={"score": instant.rubric_score, "penalty": 0.0,
                                          "label": instant.label.split(";")[0]})
        rubric = item.rubric if item.rubric is not None else None
        if rubric is None:
            from interviewer.grading.grader import derive_rubric

            rubric = derive_rubric(item.question, item.reference_answer or item.explanation)
        refined = grader.apply_penalties(grader.judged(item.question, rubric, p["answer"], base), p["hints"], p["late"])
        self.store.set_turn_grade(p["turn"], refined.score, refined.model_dump())
        if 0 <= p["result"] < len(st.results):
            r = st.results[p["result"]]
            r.score, r.source = refined.score, refined.label
        self._save(st)
        if "llm" not in refined.sources:
            return [Event("grade_update", f"The LLM judge could not refine the grade; it stays "
                                          f"{instant.score:.1f}/10 ({refined.label}).", item.id, refined)]
        if abs(refined.score - instant.score) < 0.05:
            why = f"the judge's claim checks agree (LLM {refined.llm_score:.1f}/10)"
            return [Event("grade_update", f"Grade confirmed by the LLM judge: {refined.score:.1f}/10 — {why}.",
                          item.id, refined)]
        return [Event("grade_update", f"Grade refined by the LLM judge: {instant.score:.1f} → {refined.score:.1f}/10 "
                                      f"(rubric {refined.rubric_score:.1f}, LLM {refined.llm_score:.1f}, "
                                      f"{refined.label}). {refined.llm_feedback}", item.id, refined)]

    def _followup_llm(self) -> ChatBackend | None:
        return self.svc.llm if self.svc.settings.llm.mode != "none" else None

    def _late(self, st: SessionState) -> bool:
        left = st.seconds_left()
        return left is not None and left < 0

    # ------------------------------------------------------------------ controls
    def hint(self, st: SessionState) -> list[Event]:
        if st.phase == "code":
            return [Event("info", "For the coding exercise, Run the examples: a failing hidden test comes with "
                                  "its hint when you Submit.")]
        if st.current is None or st.phase not in ("answer", "followup"):
            return [Event("info", "There is no open question to give a hint for.")]
        item = self.bank.get(st.current)
        if item.rubric is None:
            return [Event("info", "No hint is available for this question.")]
        core = [k for k in item.rubric.key_points if k.weight == "core" and k.id not in st.followup_kps]
        k = (core or item.rubric.key_points)[min(st.hints, len(core or item.rubric.key_points) - 1)]
        st.hints += 1
        with self.store.transaction():
            self.store.add_turn(st.id, item.id, "hint", k.text)
            self._save(st)
        pen = self.svc.settings.grading.hint_penalty
        return [Event("hint", f"Hint (−{pen:.1f} points): think about this — {_mask(k.text)}", item.id)]

    def skip(self, st: SessionState) -> list[Event]:
        """Skip the question (scored 0, the model answer shown) — or, while a follow-up is pending,
        skip only the follow-up: the answer given is graded."""
        if st.phase == "code":
            return self._skip_exercise(st)
        if st.current is None:
            return self._next_question(st)
        item = self.bank.get(st.current)
        if st.phase == "followup" and any(a.strip() for a in st.answers):
            # skipping a follow-up skips the follow-up, not the question: the answer already given is
            # graded and recorded (never lost), as End does
            self.store.add_turn(st.id, item.id, "skip", st.followups[-1] if st.followups else item.question)
            return [Event("info", "Follow-up skipped: graded on the answer you gave."),
                    *self._finish_question(st, item)]
        from interviewer.grading.models import Grade as G

        g = G(score=0.0, rubric_score=0.0, sources=["rubric"], label="skipped",
              rubric_origin="authored" if item.rubric else "derived from reference answer", gate="skipped")
        with self.store.transaction():  # all of the skip is stored, or none of it
            self.store.add_turn(st.id, item.id, "skip", item.question)
            tid = self.store.add_turn(st.id, item.id, "final", item.question, "",
                                      topic=item.topic[0] if item.topic else None)
            self.store.set_turn_grade(tid, 0.0, {"skipped": True})
            record_grade(self.store, st.user, item.id, item.topic[0] if item.topic else None, g)
            st.results.append(QuestionResult(id=item.id, question=item.question,
                                             topic=item.topic[0] if item.topic else None, score=0.0,
                                             hints=st.hints, source="skipped", skipped=True))
            st.phase, st.current = "idle", None
            self._save(st)
        answer = item.rubric.model_answer if item.rubric else item.best_answer
        events = [Event("info", f"Skipped. The model answer was:\n\n{answer}")]
        return events + self._next_question(st)

    def retry(self, st: SessionState) -> list[Event]:
        """Ask the last graded question again; the new grade is compared with the old one."""
        if not st.results:
            return [Event("info", "Nothing to retry yet.")]
        last = st.results[-1]
        item = self.bank.get(last.id)
        if st.current is not None and st.current != item.id and st.phase == "answer" and not st.answers:
            st.queue.insert(0, st.current)  # the question that was waiting comes back after the retry
            if st.asked and st.asked[-1] == st.current:
                st.asked.pop()
        st.current, st.phase = item.id, "answer"
        st.answers, st.followups, st.followup_kps, st.hints = [], [], [], 0
        st.previous_score = last.score
        st.asked_at = datetime.now(UTC).isoformat()
        st.results.pop()
        self.store.add_turn(st.id, item.id, "retry", item.question)
        self._save(st)
        return [Event("question", f"Retry · {item.question}", item.id)]

    def end(self, st: SessionState) -> list[Event]:
        """End the session. An answer already given (also one awaiting its follow-up) is graded and
        recorded first: ending never loses an answer."""
        events: list[Event] = []
        if st.current is not None and st.phase in ("answer", "followup") and any(a.strip() for a in st.answers):
            events += self._finish_question(st, self.bank.get(st.current), advance=False)
        st.phase, st.current = "done", None
        self._save(st)
        return [*events, Event("done", self.report_text(st))]

    def _ask(self, st: SessionState, question: str) -> list[Event]:
        from interviewer.concepts import answer_question

        if not question.strip():
            return [Event("info", "Please type a question.")]
        self.store.add_turn(st.id, None, "ask", question)
        text = "".join(answer_question(self.svc, question[:2000]))
        self.store.add_turn(st.id, None, "ask_answer", question, text)
        return [Event("answer", text)]

    # ------------------------------------------------------------------ reports
    def report(self, st: SessionState) -> dict[str, Any]:
        return reports.report(st)

    def report_text(self, st: SessionState) -> str:
        return reports.report_text(st)


def _mask(text: str) -> str:
    """Hide the second half of a key point so a hint nudges rather than tells."""
    words = text.split()
    keep = max(3, len(words) // 2)
    return " ".join(words[:keep]) + (" …" if len(words) > keep else "")
