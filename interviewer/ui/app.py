"""The Gradio 6 interview UI. Layout and event wiring only; logic lives in the engine.

Per-browser state is a :class:`SessionState` in ``gr.State`` (plain data, deep-copyable);
shared objects (models, stores, bank) live in ``Services``. Two tabs never share state.
"""

from __future__ import annotations

import csv
import os
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

ANY = "Any"
Chat = list[dict[str, str]]


def _render_events(events: list[Event], chat: Chat) -> tuple[Chat, str, str]:
    """Append events to the chat; return (chat, grade card markdown, text to speak)."""
    card, speak = "", []
    for e in events:
        if e.kind == "grade" and e.grade is not None:
            card = grade_to_markdown(e.grade)
            chat.append({"role": "assistant", "content": f"**{e.text}** ({e.grade.label}). "
                         f"{e.grade.feedback}"})
            speak.append(f"{e.text}. {e.grade.feedback}")
        elif e.kind in ("question", "followup"):
            prefix = "**Follow-up:** " if e.kind == "followup" else ""
            chat.append({"role": "assistant", "content": prefix + e.text})
            speak.append(e.text.split("\n\n")[-1])
        elif e.kind == "done":
            chat.append({"role": "assistant", "content": e.text})
        else:
            chat.append({"role": "assistant", "content": e.text})
    return chat, card, " ".join(speak)


def build_app(svc: Any) -> gr.Blocks:
    engine = InterviewEngine(svc)
    export_dir = Path(tempfile.mkdtemp(prefix="interviewer-export-"))

    def speak(text: str, voice_on: bool) -> str | None:
        if not voice_on or not text or svc.settings.voice.tts == "none":
            return None
        try:
            return str(svc.tts.speak(text, export_dir))
        except InterviewerError:
            return None

    # ------------------------------------------------------------------ handlers
    def on_start(mode: str, topic: str, difficulty: str, n: float, limit: float, voice_on: bool) -> Any:
        try:
            st, events = engine.start(mode=mode, topic=None if topic == ANY else topic,
                                      difficulty=None if difficulty == ANY else difficulty,
                                      n_questions=int(n), time_limit=int(limit) or None)
        except InterviewerError as e:
            raise gr.Error(str(e)) from None
        chat, card, say = _render_events(events, [])
        return st, chat, card, speak(say, voice_on), gr.update(value="")

    def _act(st: SessionState | None, chat: Chat, fn: Any, voice_on: bool, *args: Any) -> Any:
        if st is None:
            raise gr.Error("Start an interview first.")
        events = fn(st, *args)
        chat, card, say = _render_events(events, chat)
        return st, chat, card or gr.update(), speak(say, voice_on), gr.update(value="")

    def on_submit(text: str, st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
        chat = list(chat or [])
        if st is None:
            raise gr.Error("Start an interview first.")
        shown = text if len(text) < 2000 else text[:2000] + f"… ({len(text):,} characters)"
        chat.append({"role": "user", "content": shown or "(empty answer)"})
        return _act(st, chat, engine.submit, voice_on, text)

    def on_voice(audio: str | None, st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
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
        return _act(st, chat, engine.submit, voice_on, tr.text)

    def on_hint(st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
        return _act(st, list(chat or []), engine.hint, voice_on)

    def on_skip(st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
        return _act(st, list(chat or []), engine.skip, voice_on)

    def on_retry(st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
        return _act(st, list(chat or []), engine.retry, voice_on)

    def on_end(st: SessionState | None, chat: Chat, voice_on: bool) -> Any:
        return _act(st, list(chat or []), engine.end, voice_on)

    def on_report(st: SessionState | None) -> Any:
        if st is None or not st.results:
            raise gr.Error("Answer at least one question first.")
        rep = engine.report(st)
        md = engine.report_text(st)
        import pandas as pd

        per_topic = pd.DataFrame([{"topic": t, "score": s} for t, s in rep["per_topic"].items()])
        hist = progress_summary(svc, st.user)["history"]
        over_time = pd.DataFrame([{"answer": i + 1, "score": h["score"]} for i, h in enumerate(hist)])
        md_path = export_dir / f"session-{st.id}.md"
        md_path.write_text(_report_markdown(engine, st), encoding="utf-8")
        csv_path = export_dir / f"session-{st.id}-anki.csv"
        _write_anki(svc, st, csv_path)
        return md, per_topic, over_time, [str(md_path), str(csv_path)]

    def on_ask(question: str, chat: Chat) -> Any:
        from interviewer.concepts import answer_question

        chat = list(chat or []) + [{"role": "user", "content": question}, {"role": "assistant", "content": ""}]
        for chunk in answer_question(svc, question):
            chat[-1]["content"] += chunk
            yield chat, ""

    def on_progress() -> Any:
        import pandas as pd

        s = progress_summary(svc)
        table = pd.DataFrame([{"topic": r["topic"], "learned": f"{r['learned']} / {r['items']}",
                               "practised": r["practised"], "average": r["average"]} for r in s["topics"]])
        return progress_text(s).split("\n\n")[0], table

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
                    voice_on = gr.Checkbox(svc.settings.ui.voice, label="Speak questions aloud")
                    start = gr.Button("Start interview", variant="primary")
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="Interview", height=430)
                    answer = gr.Textbox(label="Your answer", lines=4, placeholder="Type your answer…")
                    with gr.Row():
                        submit = gr.Button("Submit", variant="primary")
                        hint = gr.Button("Hint (costs points)")
                        skip = gr.Button("Skip")
                        retry = gr.Button("Retry last")
                        end = gr.Button("End")
                    mic = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Answer by voice")
                    voice_btn = gr.Button("Submit spoken answer")
                    spoken = gr.Audio(label="Interviewer voice", autoplay=True, interactive=False)
                    card = gr.Markdown(label="Grade card")
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
        with gr.Tab("Progress"):
            prog_btn = gr.Button("Refresh")
            prog_md = gr.Markdown()
            prog_table = gr.Dataframe(interactive=False)

        outs = [state, chat, card, spoken, answer]
        start.click(on_start, [mode, topic, difficulty, n_q, limit, voice_on], outs, api_name="start",
                    concurrency_id="engine")
        submit.click(on_submit, [answer, state, chat, voice_on], outs, api_name="submit", concurrency_id="engine")
        answer.submit(on_submit, [answer, state, chat, voice_on], outs, api_visibility="private",
                      concurrency_id="engine")
        voice_btn.click(on_voice, [mic, state, chat, voice_on], outs, api_name="voice", concurrency_id="engine")
        hint.click(on_hint, [state, chat, voice_on], outs, api_name="hint", concurrency_id="engine")
        skip.click(on_skip, [state, chat, voice_on], outs, api_name="skip", concurrency_id="engine")
        retry.click(on_retry, [state, chat, voice_on], outs, api_name="retry", concurrency_id="engine")
        end.click(on_end, [state, chat, voice_on], outs, api_name="end", concurrency_id="engine")
        report_btn.click(on_report, [state], [report_md, plot_topic, plot_time, files], api_name="report")
        ask_btn.click(on_ask, [ask_box, ask_chat], [ask_chat, ask_box], api_name="ask", concurrency_id="llm")
        prog_btn.click(on_progress, None, [prog_md, prog_table], api_name="progress")
        demo.load(on_progress, None, [prog_md, prog_table])
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


def _report_markdown(engine: InterviewEngine, st: SessionState) -> str:
    lines = [f"# Interview report — session {st.id}", "", engine.report_text(st), ""]
    for r in st.results:
        it = engine.bank.get(r["id"])
        lines += [f"## {it.question}", f"Score: {r['score']:.1f}/10 ({r['source']})", ""]
        if r.get("missed"):
            lines += ["Missed:", *[f"- {m}" for m in r["missed"]], ""]
        if it.rubric:
            lines += ["Model answer:", "", it.rubric.model_answer, ""]
    return "\n".join(lines)


def _write_anki(svc: Any, st: SessionState, path: Path) -> None:
    """Front;Back rows, semicolon-separated (Anki's default text import)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        for r in st.results:
            it = svc.bank.get(r["id"])
            back = it.best_answer
            if it.rubric:
                back += "<br><br>Key points:<br>" + "<br>".join(f"• {k.text}" for k in it.rubric.key_points)
            w.writerow([it.question, back, f"interviewer {it.id} {(it.topic or ['x'])[0].replace(' ', '_')}"])


def serve(svc: Any, host: str | None = None, port: int | None = None, block: bool = True) -> Any:
    ui = svc.settings.ui
    host = host or ui.host
    if host not in ("127.0.0.1", "localhost") and not (ui.username and ui.password):
        raise InterviewerError(f"refusing to bind {host} without ui.username and ui.password set")
    demo = build_app(svc)

    def warm_up() -> None:  # models load after the page is up; the first grade waits if needed
        try:
            svc.ensure_index()
            svc.grader.prefetch(["warm-up"])
        except InterviewerError as e:
            print(f"warning: {e}")

    import threading

    threading.Thread(target=warm_up, name="warm-up").start()
    auth = (ui.username, ui.password) if ui.username and ui.password else None
    demo.launch(server_name=host, server_port=port or ui.port, auth=auth, share=False,
                prevent_thread_lock=not block, quiet=not block)
    return demo
