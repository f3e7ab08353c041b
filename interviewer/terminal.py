"""Terminal mode: the same engine, answers read line by line from stdin (scriptable).

Commands instead of an answer: ``hint``, ``skip``, ``retry``, ``end``. End of input
ends the run; the session is saved and can be resumed with ``--session ID``.
"""

from __future__ import annotations

import sys
from typing import Any

from interviewer.grading.grader import clean_text
from interviewer.grading.render import grade_to_text
from interviewer.interview.engine import Event, InterviewEngine


def _show(events: list[Event]) -> None:
    """Print events; terminal escape and control sequences from answers (quoted in feedback and the
    report) are removed so they cannot drive the terminal."""
    print = _safe_print  # noqa: A001 - every line below goes through the filter
    for e in events:
        if e.kind == "grade" and e.grade is not None:
            print("\n--- feedback ---\n" + grade_to_text(e.grade) + "\n")
        elif e.kind == "question":
            print(f"\nQ: {e.text}")
        elif e.kind == "followup":
            print(f"\nFollow-up: {e.text}")
        elif e.kind == "done":
            print(f"\n{e.text}")
        else:
            print(e.text)
    sys.stdout.flush()


def _safe_print(text: str = "", **kw: Any) -> None:
    import builtins

    builtins.print("\n".join(clean_text(line) for line in text.split("\n")), **kw)


def run_terminal_interview(svc: Any, args: Any) -> int:
    engine = InterviewEngine(svc)
    if args.session:
        st, events = engine.resume(args.session)
    else:
        st, events = engine.start(mode=args.mode, topic=args.topic, difficulty=args.difficulty,
                                  n_questions=args.questions, question=args.first)
    print(f"session {st.id} (mode {st.mode}); answer on one line; commands: hint, skip, retry, end")
    _show(events)
    interactive = sys.stdin.isatty()
    while st.phase != "done":
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            print(f"\n(input ended; session {st.id} saved — resume with --session {st.id})")
            break
        text = line.rstrip("\n")
        cmd = text.strip().lower()
        if cmd == "hint":
            events = engine.hint(st)
        elif cmd == "skip":
            events = engine.skip(st)
        elif cmd == "retry":
            events = engine.retry(st)
        elif cmd in ("end", "quit", "exit"):
            events = engine.end(st)
        else:
            events = engine.submit(st, text)
        _show(events)
    return 0


