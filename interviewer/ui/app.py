"""The Gradio 6 interview UI. Layout and event wiring only; logic lives in the engine.

Per-browser state is a :class:`SessionState` in ``gr.State`` (plain data, deep-copyable);
shared objects (models, stores, bank) live in ``Services``. Two tabs never share state.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from interviewer.bank.schema import DIFFICULTIES, TOPICS  # noqa: E402
from interviewer.errors import InterviewerError  # noqa: E402
from interviewer.grading.render import grade_to_markdown  # noqa: E402
from interviewer.interview.engine import Event, InterviewEngine, SessionState  # noqa: E402
from interviewer.progress.view import progress_summary, progress_text  # noqa: E402
from interviewer.ui.files import FileOwnerMiddleware, owner_tag  # noqa: E402

ANY = "Any"
Chat = list[dict[str, str]]


#: Client-side countdown for the answer time limit (no server round trip per second).
COUNTDOWN_JS = """(secs) => {
  const el = document.getElementById('answer-countdown');
  if (!el) return [];
  if (window.__interviewerTimer) clearInterval(window.__interviewerTimer);
  if (!secs) { el.textContent = ''; return []; }
  const end = Date.now() + secs * 1000;
  const tick = () => {
    const s = Math.round((end - Date.now()) / 1000);
    el.textContent = s > 0
      ? `⏱ ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left for this answer`
      : '⏱ Time is up: you can still answer, a late answer loses a point.';
    if (s <= 0) clearInterval(window.__interviewerTimer);
  };
  tick();
  window.__interviewerTimer = setInterval(tick, 1000);
  return [];
}"""


def remaining_seconds(st: SessionState | None) -> float:
    """Seconds left to answer the open question (0: no limit, or nothing open); negative when late."""
    left = st.seconds_left() if st is not None and st.phase in ("answer", "followup", "code") else None
    return 0 if left is None else round(left, 1) or -0.1


def _first_sentence(text: str) -> str:
    import re

    return re.split(r"(?<=[.!?])\s+", (text or "").strip(), maxsplit=1)[0][:300]


def _render_events(events: list[Event], chat: Chat) -> tuple[Chat, str, str]:
    """Append events to the chat; return (chat, grade card markdown, text to speak)."""
    card, speak = "", []
    for e in events:
        if e.kind == "grade_update" and e.grade is not None:
            card = grade_to_markdown(e.grade) + f"\n\n*{e.text}*"
            chat.append({"role": "assistant", "content": e.text})
        elif e.kind == "grade" and e.grade is not None:
            card = grade_to_markdown(e.grade)
            chat.append({"role": "assistant", "content": f"**{e.text}** ({e.grade.label}). "
                         f"{e.grade.feedback}"})
            # spoken: the score and the feedback's first sentence; the card has the rest
            speak.append(f"{e.text}. {_first_sentence(e.grade.feedback)}")
        elif e.kind == "code_result":
            chat.append({"role": "assistant", "content": "```text\n" + e.text + "\n```"})
        elif e.kind in ("question", "followup", "exercise"):
            prefix = "**Follow-up:** " if e.kind == "followup" else ""
            chat.append({"role": "assistant", "content": prefix + e.text})
            speak.append(e.text.split("\n\n")[-1])
        elif e.kind == "done":
            chat.append({"role": "assistant", "content": e.text})
        else:
            chat.append({"role": "assistant", "content": e.text})
    return chat, card, " ".join(speak)


def build_app(svc: Any) -> gr.Blocks:
    engine = InterviewEngine(svc, defer_judge=True)
    export_dir = Path(tempfile.mkdtemp(prefix="interviewer-export-"))  # reports, Anki CSVs, speech
    import atexit

    atexit.register(shutil.rmtree, export_dir, True)

    def on_speak(text: str, voice_on: bool, request: gr.Request | None = None) -> Any:
        """The interviewer's voice for the last turn; runs after the card is shown, in its own queue."""
        if not voice_on or not (text or "").strip() or svc.settings.voice.tts == "none":
            return None
        # the same words sound the same for everybody: synthesise once, hand each user their own copy
        text = text[:1500]
        cache = export_dir / "speech-cache"
        cached = cache / (hashlib.sha256(text.encode()).hexdigest()[:32] + ".wav")
        try:
            if not cached.exists():
                cache.mkdir(exist_ok=True)
                os.replace(svc.tts.speak(text, cache), cached)
            fd, mine_path = tempfile.mkstemp(prefix=owner_tag(user_of(request)), suffix=".wav", dir=export_dir)
            os.close(fd)
            shutil.copyfile(cached, mine_path)
            return mine_path
        except (InterviewerError, OSError):
            return None

    def user_of(request: gr.Request | None) -> str:
        """The signed-in user (login name or the trusted proxy header), else the configured user."""
        ui = svc.settings.ui
        if ui.trusted_user_header:
            name = (request.headers.get(ui.trusted_user_header, "") if request is not None else "").strip()
            if not name:
                raise gr.Error(f"not signed in: the {ui.trusted_user_header} header is missing")
            return name[:100]
        name = getattr(request, "username", None) if request is not None else None
        return name or svc.settings.user

    def mine(st: SessionState | None, request: gr.Request | None) -> SessionState:
        if st is None:
            raise gr.Error("Start an interview first.")
        if st.user != user_of(request):
            raise gr.Error("This session belongs to another user.")
        return st

    # ------------------------------------------------------------------ handlers
    def on_start(mode: str, topic: str, difficulty: str, n: float, limit: float, voice_on: bool,
                 pick: str = "", coding: bool = False, request: gr.Request | None = None) -> Any:
        try:
            st, events = engine.start(mode=mode if mode in ("mock", "drill", "review") else "mock",  # type: ignore[arg-type]
                                      topic=None if topic == ANY else topic,
                                      difficulty=None if difficulty == ANY else difficulty,
                                      n_questions=int(n), time_limit=int(limit) or None, question=pick or None,
                                      user=user_of(request), coding=bool(coding))
        except InterviewerError as e:
            raise gr.Error(str(e)) from None
        chat, card, say = _render_events(events, [])
        chat.insert(0, {"role": "assistant", "content": f"Session `{st.id}`: open `?session={st.id}` to come back "
                                                         "to it later (also after a restart, on any replica)."})
        yield st, chat, card, None, gr.update(value=""), say  # speech follows in its own event

    def _act(st: SessionState | None, chat: Chat, fn: Any, voice_on: bool, *args: Any,
             request: gr.Request | None = None) -> Any:
        """Yield the instant result; then, where an LLM judge is configured, its refinement."""
        st = mine(st, request)
        events = fn(st, *args)
        chat, card, say = _render_events(events, chat)
        # feedback first: the card and chat show now; speech is synthesised by the chained `speak` event,
        # which has its own queue, so no grade waits behind text-to-speech
        yield st, chat, card or gr.update(), None, gr.update(value=""), say
        if st.pending_refine:
            chat, card2, _ = _render_events(engine.refine(st), list(chat))
            yield st, chat, card2 or gr.update(), gr.update(), gr.update(), gr.update()

    def on_submit(text: str, st: SessionState | None, chat: Chat, voice_on: bool, request: gr.Request | None = None) -> Any:
        chat = list(chat or [])
        if st is None:
            raise gr.Error("Start an interview first.")
        shown = text if len(text) < 2000 else text[:2000] + f"… ({len(text):,} characters)"
        chat.append({"role": "user", "content": shown or "(empty answer)"})
        yield from _act(st, chat, engine.submit, voice_on, text, request=request)

    def on_voice(audio: str | None, st: SessionState | None, chat: Chat, voice_on: bool,
                 request: gr.Request | None = None) -> Any:
        chat = list(chat or [])
        if st is None:
            raise gr.Error("Start an interview first.")
        if not audio:
            raise gr.Error("No audio was recorded.")
        try:
            tr = svc.stt.transcribe(audio)
        except InterviewerError as e:
            raise gr.Error(str(e)) from None
        from interviewer.voice import delivery_text

        chat.append({"role": "user", "content": f"🎤 {tr.text or '(nothing heard)'}"})
        chat.append({"role": "assistant", "content": delivery_text(tr.delivery())})
        yield from _act(st, chat, engine.submit, voice_on, tr.text, request=request)

    def on_hint(st: SessionState | None, chat: Chat, voice_on: bool, request: gr.Request | None = None) -> Any:
        yield from _act(st, list(chat or []), engine.hint, voice_on, request=request)

    def on_skip(st: SessionState | None, chat: Chat, voice_on: bool, request: gr.Request | None = None) -> Any:
        yield from _act(st, list(chat or []), engine.skip, voice_on, request=request)

    def on_retry(st: SessionState | None, chat: Chat, voice_on: bool, request: gr.Request | None = None) -> Any:
        yield from _act(st, list(chat or []), engine.retry, voice_on, request=request)

    def on_end(st: SessionState | None, chat: Chat, voice_on: bool, request: gr.Request | None = None) -> Any:
        yield from _act(st, list(chat or []), engine.end, voice_on, request=request)

    def on_code_run(st: SessionState | None, code: str, request: gr.Request | None = None) -> Any:
        from interviewer.exercises import format_result

        st = mine(st, request)
        if st.phase != "code":
            raise gr.Error("No coding exercise is open.")
        if not (code or "").strip():
            raise gr.Error("Write some code first.")
        yield "*Running the examples in the sandbox…*"
        try:
            res = engine.run_code(st, code)
        except InterviewerError as e:
            yield f"**Could not run the code:** {e}"
            return
        yield "```text\n" + format_result(res) + "\n```"

    def on_code_submit(code: str, explanation: str, st: SessionState | None, chat: Chat, voice_on: bool,
                       request: gr.Request | None = None) -> Any:
        chat = list(chat or [])
        chat.append({"role": "user", "content": "```python\n" + (code or "")[:4000] + "\n```"})
        try:
            yield from _act(st, chat, engine.submit_code, voice_on, code, explanation, request=request)
        except InterviewerError as e:  # no sandbox here: say so, record nothing
            raise gr.Error(f"Could not run the code: {e}") from None

    def sync_coding(st: SessionState | None, shown: str | None) -> Any:
        """Show the editor while the session's question is a coding exercise (its starter code once)."""
        ex_id = st.exercise if st is not None and st.phase == "code" else None
        if ex_id is None:
            return gr.update(visible=False), gr.update(), gr.update(), None, gr.update(value="")
        if ex_id == shown:
            return gr.update(visible=True), gr.update(), gr.update(), shown, gr.update()
        ex = svc.exercises[ex_id]
        imports = ", ".join(ex.allowed_imports) or "standard library"
        md = f"**{ex.title}** · `{ex.signature}` · allowed imports: {imports} · time limit {ex.time_limit_s:g} s"
        if sandbox_problem:
            md += f"\n\n**Code cannot run here:** {sandbox_problem}"
        return gr.update(visible=True), gr.update(value=ex.starter), md, ex_id, gr.update(value="")

    def on_report(st: SessionState | None, request: gr.Request | None = None) -> Any:
        st = mine(st, request)
        if not st.results:
            raise gr.Error("Answer at least one question first.")
        rep = engine.report(st)
        md = engine.report_text(st)
        import pandas as pd

        per_topic = pd.DataFrame([{"topic": t, "score": s} for t, s in rep["per_topic"].items()])
        hist = progress_summary(svc, st.user)["history"]
        over_time = pd.DataFrame([{"answer": i + 1, "score": h["score"]} for i, h in enumerate(hist)])
        user_dir = export_dir / hashlib.sha256(st.user.encode()).hexdigest()[:16]
        user_dir.mkdir(exist_ok=True)
        md_path = user_dir / f"session-{st.id}{owner_tag(st.user)}.md"  # served to its owner only
        from interviewer.interview.report import report_markdown

        md_path.write_text(report_markdown(st, engine.bank, engine.store.turns(st.id)), encoding="utf-8")
        csv_path = user_dir / f"session-{st.id}-anki{owner_tag(st.user)}.csv"
        _write_anki(svc, st, csv_path)
        return md, per_topic, over_time, [str(md_path), str(csv_path)]

    def on_ask(question: str, chat: Chat) -> Any:
        from interviewer.concepts import answer_question

        chat = list(chat or []) + [{"role": "user", "content": question}, {"role": "assistant", "content": ""}]
        try:
            for chunk in answer_question(svc, question):
                chat[-1]["content"] += chunk
                yield chat, ""
        except InterviewerError as e:  # e.g. the Chroma server is down: say so, keep the question
            chat[-1]["content"] += f"\n\n**Ask is unavailable right now:** {e}"
            yield chat, question

    # ------------------------------------------------------------------ coding exercises
    from interviewer.exercises import bwrap_problem, load_exercises

    try:
        exercises = load_exercises(svc.settings.knowledge_dir / "exercises")
    except InterviewerError as e:  # a broken exercise file must not take the interview down
        exercises, ex_error = {}, str(e)
    else:
        ex_error = ""
    sandbox_problem = bwrap_problem()

    def on_pick_exercise(ex_id: str | None) -> Any:
        ex = exercises.get(ex_id or "")
        if ex is None:
            return "", ""
        md = (f"### {ex.title}\n\n{ex.prompt}\n\n`{ex.signature}`\n\n"
              f"*Allowed imports: {', '.join(ex.allowed_imports) or 'standard library'} · time limit "
              f"{ex.time_limit_s:g} s · memory {ex.memory_mb} MB*")
        if sandbox_problem:
            md += f"\n\n**Code cannot run here:** {sandbox_problem}"
        return md, ex.starter

    def _run_code(ex_id: str | None, code: str, hidden: bool, user: str | None = None) -> Any:
        from interviewer.exercises import format_result, run_exercise

        ex = exercises.get(ex_id or "")
        if ex is None:
            raise gr.Error("Pick an exercise first.")
        if not (code or "").strip():
            raise gr.Error("Write some code first.")
        yield "*Running in the sandbox…*"
        try:
            res = run_exercise(ex, code, hidden=hidden)
        except InterviewerError as e:
            yield f"**Could not run the code:** {e}"
            return
        text = format_result(res)
        if hidden:
            from interviewer.exercises.progress import record_exercise

            score = record_exercise(svc, ex, res, code, user=user)
            text = f"Score {score:.1f}/10 (hidden tests)\n\n" + text
        yield "```text\n" + text + "\n```"

    def on_run_examples(ex_id: str | None, code: str) -> Any:
        yield from _run_code(ex_id, code, False)

    def on_submit_code(ex_id: str | None, code: str, explanation: str, request: gr.Request | None = None) -> Any:
        last = ""
        for last in _run_code(ex_id, code, True, user_of(request)):
            yield last
        if (explanation or "").strip() and ex_id in exercises:
            from interviewer.exercises.progress import grade_explanation

            g = grade_explanation(svc, exercises[ex_id], explanation)
            yield last + "\n\n**Your explanation**\n\n" + grade_to_markdown(g, reveal_model_answer=True)

    def on_progress(request: gr.Request | None = None) -> Any:
        import pandas as pd

        s = progress_summary(svc, user_of(request))
        table = pd.DataFrame([{"topic": r["topic"], "learned": f"{r['learned']} / {r['items']}",
                               "mastery %": round(100 * r["learned"] / r["items"]) if r["items"] else 0,
                               "practised": r["practised"], "average": r["average"]} for r in s["topics"]])
        hist = pd.DataFrame([{"answer": i + 1, "score": h["score"]} for i, h in enumerate(s["history"])]
                            or [{"answer": 0, "score": 0.0}])
        return progress_text(s).split("\n\n")[0], table, hist

    def on_load(request: gr.Request | None = None) -> Any:
        """A page opened with ``?session=ID`` resumes that session (the signed-in user's only)."""
        sid = (request.query_params.get("session", "") if request is not None else "").strip()
        if not sid:
            return None, [], gr.update()
        return on_resume(sid, request)

    def on_resume(sid: str, request: gr.Request | None = None) -> Any:
        """Resume a stored session by id — after a reload, a restart, or on another replica."""
        sid = (sid or "").strip()
        if not sid:
            raise gr.Error("Enter a session id.")
        try:
            st, events = engine.resume(sid, user=user_of(request))
        except InterviewerError:
            raise gr.Error(f"No session {sid[:20]!r} of yours to resume.") from None
        chat: Chat = []
        for t in engine.store.turns(st.id):
            if t["kind"] in ("question", "followup"):
                chat.append({"role": "assistant", "content": t["prompt"]})
            elif t["kind"] in ("answer", "followup_answer") and t["answer"] is not None:
                chat.append({"role": "user", "content": t["answer"] or "(empty answer)"})
            elif t["kind"] == "final" and t["score"] is not None:
                chat.append({"role": "assistant", "content": f"Score {t['score']:.1f}/10"})
        chat, card, _ = _render_events(events, chat)
        return st, chat, card or gr.update()

    # ------------------------------------------------------------------ layout
    with gr.Blocks(title="interviewer") as demo:
        gr.Markdown("# interviewer · mock interviews for ML / NLP / LLM roles\n"
                    "Grades are checked against authored rubrics; every score says where it came from.")
        state = gr.State(None)
        with gr.Tab("Interview"):
            with gr.Row():
                with gr.Column(scale=1, min_width=260):
                    mode = gr.Radio(["mock", "drill", "review"], value="mock", label="Mode")
                    topic = gr.Dropdown([ANY, *TOPICS], value=ANY, label="Topic")
                    difficulty = gr.Dropdown([ANY, *DIFFICULTIES], value=ANY, label="Difficulty")
                    n_q = gr.Slider(1, 20, value=3, step=1, label="Questions")
                    limit = gr.Number(0, label="Time limit per answer (s, 0 = none)", precision=0)
                    pick = gr.Textbox(label="Start with a question (id or words, optional)",
                                      placeholder="e.g. 004-048 or dropout")
                    voice_on = gr.Checkbox(svc.settings.ui.voice, label="Speak questions aloud")
                    coding_on = gr.Checkbox(False, label="Include a coding exercise (mock / drill)")
                    start = gr.Button("Start interview", variant="primary")
                    resume_id = gr.Textbox(label="Resume a session (id)", placeholder="e.g. 3f2a9c1b7d4e")
                    resume_btn = gr.Button("Resume")
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="Interview", height=430)
                    gr.HTML("", elem_id="answer-countdown")
                    countdown_secs = gr.Number(0, visible=False)
                    answer = gr.Textbox(label="Your answer", lines=4, placeholder="Type your answer…")
                    with gr.Row():
                        submit = gr.Button("Submit", variant="primary")
                        hint = gr.Button("Hint (costs points)")
                        skip = gr.Button("Skip")
                        retry = gr.Button("Retry last")
                        end = gr.Button("End")
                    with gr.Group(visible=False) as code_box:
                        code_md = gr.Markdown()
                        code_in = gr.Code(language="python", label="Your solution", lines=14, interactive=True)
                        code_explain = gr.Textbox(label="Explain your approach (complexity, edge cases)", lines=2)
                        with gr.Row():
                            code_run = gr.Button("Run examples")
                            code_submit = gr.Button("Submit (hidden tests)", variant="primary")
                            code_cancel = gr.Button("Cancel run")
                        code_out = gr.Markdown()
                    shown_ex = gr.State(None)
                    mic = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Answer by voice")
                    voice_btn = gr.Button("Submit spoken answer")
                    spoken = gr.Audio(label="Interviewer voice", autoplay=True, interactive=False)
                with gr.Column(scale=2, min_width=300):
                    card = gr.Markdown("*The grade card appears here after each answer.*", label="Grade card")
            with gr.Accordion("Session report", open=False):
                report_btn = gr.Button("Build report")
                report_md = gr.Markdown()
                with gr.Row():
                    plot_topic = gr.BarPlot(x="topic", y="score", title="Score per topic", y_lim=[0, 10])
                    plot_time = gr.LinePlot(x="answer", y="score", title="Scores over time", y_lim=[0, 10])
                files = gr.File(label="Export (Markdown, Anki CSV)", file_count="multiple")
        with gr.Tab("Ask"):
            ask_chat = gr.Chatbot(label="Concept questions (answers cite bank ids)", height=400)
            ask_box = gr.Textbox(label="Question", placeholder="e.g. why do transformers need positional encodings?")
            ask_btn = gr.Button("Ask", variant="primary")
        with gr.Tab("Coding"):
            ex_pick = gr.Dropdown([(f"{e.title} ({e.id})", e.id) for e in exercises.values()], value=None,
                                  label="Exercise", info=ex_error or f"{len(exercises)} exercises with hidden tests")
            ex_prompt = gr.Markdown()
            ex_code = gr.Code(language="python", label="Your solution", lines=16, interactive=True)
            ex_explain = gr.Textbox(label="Explain your approach (complexity, edge cases, numerical stability)",
                                    lines=3, placeholder="Graded against what an interviewer listens for")
            with gr.Row():
                ex_run = gr.Button("Run examples")
                ex_submit = gr.Button("Submit (hidden tests)", variant="primary")
                ex_cancel = gr.Button("Cancel")
            ex_out = gr.Markdown(label="Test report")
        with gr.Tab("Progress"):
            prog_btn = gr.Button("Refresh")
            prog_md = gr.Markdown()
            prog_plot = gr.LinePlot(x="answer", y="score", title="Your scores over time", y_lim=[0, 10])
            prog_table = gr.Dataframe(interactive=False, label="Mastery per topic")

        say = gr.State("")  # what the interviewer says next; read aloud by the chained speak event
        outs = [state, chat, card, spoken, answer, say]
        start_ev = start.click(on_start, [mode, topic, difficulty, n_q, limit, voice_on, pick, coding_on], outs,
                               api_name="start", concurrency_id="engine")
        code_run_ev = code_run.click(on_code_run, [state, code_in], [code_out], api_name="code_run",
                                     concurrency_id="sandbox")
        code_sub_ev = code_submit.click(on_code_submit, [code_in, code_explain, state, chat, voice_on], outs,
                                        api_name="code_submit", concurrency_id="sandbox")
        code_cancel.click(None, None, None, cancels=[code_run_ev, code_sub_ev])
        submit_ev = submit.click(on_submit, [answer, state, chat, voice_on], outs, api_name="submit",
                                 concurrency_id="engine")
        enter_ev = answer.submit(on_submit, [answer, state, chat, voice_on], outs, api_visibility="private",
                                 concurrency_id="engine")
        voice_ev = voice_btn.click(on_voice, [mic, state, chat, voice_on], outs, api_name="voice",
                                   concurrency_id="engine")
        hint_ev = hint.click(on_hint, [state, chat, voice_on], outs, api_name="hint", concurrency_id="engine")
        skip_ev = skip.click(on_skip, [state, chat, voice_on], outs, api_name="skip", concurrency_id="engine")
        retry_ev = retry.click(on_retry, [state, chat, voice_on], outs, api_name="retry", concurrency_id="engine")
        end_ev = end.click(on_end, [state, chat, voice_on], outs, api_name="end", concurrency_id="engine")
        report_btn.click(on_report, [state], [report_md, plot_topic, plot_time, files], api_name="report")
        ask_btn.click(on_ask, [ask_box, ask_chat], [ask_chat, ask_box], api_name="ask", concurrency_id="llm")
        ex_pick.change(on_pick_exercise, [ex_pick], [ex_prompt, ex_code], api_name="exercise")
        run_ev = ex_run.click(on_run_examples, [ex_pick, ex_code], [ex_out], api_name="run_code",
                              concurrency_id="sandbox")
        sub_ev = ex_submit.click(on_submit_code, [ex_pick, ex_code, ex_explain], [ex_out], api_name="submit_code",
                                 concurrency_id="sandbox")
        ex_cancel.click(None, None, None, cancels=[run_ev, sub_ev])
        prog_outs = [prog_md, prog_table, prog_plot]
        prog_btn.click(on_progress, None, prog_outs, api_name="progress")
        demo.load(on_progress, None, prog_outs)
        load_ev = demo.load(on_load, None, [state, chat, card], api_visibility="private")
        resume_ev = resume_btn.click(on_resume, [resume_id], [state, chat, card], api_name="resume_session",
                                     concurrency_id="engine")
        speak_in = gr.Textbox(visible=False)  # the public /speak endpoint (what a browser's chained event does)
        speak_in.submit(on_speak, [speak_in, voice_on], [spoken], api_name="speak", concurrency_id="tts",
                        concurrency_limit=1)
        for ev in (start_ev, submit_ev, enter_ev, voice_ev, hint_ev, skip_ev, end_ev, retry_ev, code_sub_ev):
            ev.then(on_speak, [say, voice_on], [spoken], api_visibility="private", concurrency_id="tts",
                    concurrency_limit=1)
        for ev in (submit_ev, enter_ev, voice_ev, skip_ev, end_ev, retry_ev, code_sub_ev):  # Progress follows answers
            ev.then(on_progress, None, prog_outs, api_visibility="private")
        code_outs = [code_box, code_in, code_md, shown_ex, code_out]
        for ev in (start_ev, submit_ev, enter_ev, voice_ev, skip_ev, end_ev, retry_ev, code_sub_ev, resume_ev,
                   load_ev):
            ev.then(sync_coding, [state, shown_ex], code_outs, api_visibility="private")
            # the countdown restarts from what is left of the open question's time limit
            ev.then(remaining_seconds, [state], [countdown_secs], api_visibility="private").then(
                None, [countdown_secs], None, js=COUNTDOWN_JS)
    # 4 events at a time per group: 2 and 16 did worse in one-off eval/load_test.py runs (not committed);
    # model work is bounded inside the claim checker anyway
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


def _write_anki(svc: Any, st: SessionState, path: Path) -> None:
    """Front;Back rows, semicolon-separated (Anki's default text import)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        for r in st.results:
            if r.exercise:  # coding exercises are not bank items
                continue
            it = svc.bank.get(r.id)
            back = it.best_answer
            if it.rubric:
                back += "<br><br>Key points:<br>" + "<br>".join(f"• {k.text}" for k in it.rubric.key_points)
            w.writerow([r.question, back, f"interviewer {it.id} {(it.topic or ['x'])[0].replace(' ', '_')}"])


def serve(svc: Any, host: str | None = None, port: int | None = None, block: bool = True) -> Any:
    ui = svc.settings.ui
    host = host or ui.host
    from interviewer.ui.auth import login_configured, make_auth

    # refuses weak passwords and unreadable users files before anything starts; failed logins are
    # counted in the progress database, so replicas sharing it share the limit
    auth = make_auth(ui, store=svc.progress if login_configured(ui) else None)
    if svc.settings.vectorstore.mode == "http":
        _ = svc.chroma  # a dead Chroma server is an error now, not an opaque failure in the Ask tab later
    if host not in ("127.0.0.1", "localhost") and auth is None:
        raise InterviewerError(f"refusing to bind {host} without a login (ui.users_file, or ui.username and "
                               "ui.password); ui.trusted_user_header is for 127.0.0.1 behind a proxy only")
    demo = build_app(svc)

    def warm_up() -> None:  # models load after the page is up; the first grade waits if needed
        # one torch thread per request: concurrent grades (and speech) each get a core instead of
        # two-thread kernels contending for both (eval/bench.py, UI card rows)
        import torch

        torch.set_num_threads(1)
        try:
            svc.ensure_index()
            svc.grader.prefetch(["warm-up"])
            if svc.reranker is not None:  # Ask's rerankers, so the first question does not wait for them
                svc.reranker.parts()  # each loads on first use behind the router
        except InterviewerError as e:
            print(f"warning: {e}")

    import threading

    threading.Thread(target=warm_up, name="warm-up").start()
    from starlette.middleware import Middleware

    # with a login, a file URL (report, export, voice, upload) serves its owner only
    guard = [Middleware(FileOwnerMiddleware, trusted_user_header=ui.trusted_user_header)] if (
        auth is not None or ui.trusted_user_header) else []
    demo.launch(server_name=host, server_port=port or ui.port, auth=auth, share=False,
                prevent_thread_lock=not block, quiet=not block, app_kwargs={"middleware": guard})
    return demo
