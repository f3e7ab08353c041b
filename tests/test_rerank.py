"""The Ask reranker: shipped weights that verify, a clear error when damaged, the decision it was
trained for (answers vs. shares words), and training data kept apart from the Ask evaluation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interviewer.errors import BackendError
from interviewer.retrieval.rerank import DEFAULT_DIR, SHORT_DIR, Reranker, RoutedReranker, entry_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reranker():
    return Reranker()


def test_weights_ship_with_a_manifest_that_says_how_they_were_made(reranker):
    m = reranker.manifest
    assert m["command"].startswith("python eval/train_reranker.py")
    assert m["trained_on"]["pairs"] > 3000 and m["trained_on"]["held_out_entries"] > 20
    assert m["validation"]["auc"] > 0.9
    assert reranker.model_id.startswith("ask-reranker:")
    short = Reranker(SHORT_DIR, name="ask-short-reranker")  # the short-question reranker, same recipe + --with-short
    assert short.manifest["command"].startswith("python eval/train_reranker.py --with-short")
    assert short.manifest["validation"]["auc"] > 0.9 and short.model_id == "ask-short-reranker:b8340f7631d9"


def test_a_damaged_weights_file_is_a_clear_error(tmp_path):
    copy = tmp_path / "ask-reranker"
    shutil.copytree(DEFAULT_DIR, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-100] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(BackendError, match="do not match MANIFEST"):
        Reranker(copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(BackendError, match="not found"):
        Reranker(copy)


def test_it_tells_an_answer_from_shared_words(reranker, svc):
    bank = svc.bank
    from interviewer.concepts import RERANK_MIN

    trees, bert = entry_text(bank.get("c003-decision-trees")), entry_text(bank.get("002-036"))
    yes = reranker.scores("why does BERT only mask 15% of the tokens during pretraining?", [bert, trees])
    assert yes[0] >= RERANK_MIN > yes[1]
    no = reranker.scores("How does a B-tree split a node when an insert overflows it?", [trees])
    assert no[0] < RERANK_MIN
    # a question far longer than the model reads is truncated, not an error
    assert reranker.scores("why does BERT mask tokens? " * 300, [bert]).shape == (1,)
    assert reranker.scores("anything", []).shape == (0,)


def test_training_questions_are_not_evaluation_questions(svc):
    bank = svc.bank
    def norm(s: str) -> str:
        return " ".join(s.lower().split())

    evals = {norm(json.loads(x)["question"]) for name in ("questions.jsonl", "questions-b.jsonl", "questions-c.jsonl",
                                                           "questions-d.jsonl", "questions-e.jsonl")
             for x in (ROOT / "eval" / "ask" / name).read_text(encoding="utf-8").splitlines() if x.strip()}
    assert len(evals) > 250
    rows = [json.loads(x) for f in sorted((ROOT / "eval" / "ask" / "train").glob("questions*.jsonl"))
            for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(rows) > 2000
    assert not {norm(r["question"]) for r in rows} & evals
    assert {r["item"] for r in rows if r["item"] is not None} <= set(bank.items)


def test_the_reranker_can_be_switched_off(svc):
    from conftest import make_services

    from interviewer.concepts import COVERAGE_MIN, coverage_rule

    assert coverage_rule(svc).method == "reranker"
    off = make_services(svc.settings.data_dir, ask={"reranker": False})
    assert off.reranker is None
    rule = coverage_rule(off)
    assert (rule.method, rule.minimum) == ("cosine", COVERAGE_MIN)


def test_ask_eval_scores_each_held_out_set_apart_with_a_given_threshold(svc, tmp_path, monkeypatch):
    """`interviewer eval ask --threshold`: the dev/test file and the later test-b file are scored
    separately, test-b never enters the dev threshold search, and the threshold given is the one used."""
    from interviewer.evaluation import ask

    main = [{"question": "why does word2vec use negative sampling instead of a full softmax?", "kind": "covered",
             "expected": ["002-043"], "split": "dev"},
            {"question": "how does a B-tree split a full node on insert?", "kind": "not_covered", "expected": [],
             "split": "dev"},
            {"question": "what does dropout do at inference time?", "kind": "covered", "expected": [], "split": "test"}]
    later = [{"question": "SQL: ROW_NUMBER vs RANK with ties?", "kind": "not_covered", "expected": []},
             {"question": "my gradients vanish in a deep sigmoid network, why?", "kind": "covered", "expected": []}]
    compared = [{"question": "kafka vs rabbitmq for streaming features", "kind": "not_covered", "expected": []},
                {"question": "what's the difference between LoRA and prefix tuning?", "kind": "covered",
                 "expected": ["002-057", "c000-prefix-tuning"]}]
    for name, rows in (("q.jsonl", main), ("qb.jsonl", later), ("qc.jsonl", compared)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(ask, "QUESTIONS", tmp_path / "q.jsonl")
    monkeypatch.setattr(ask, "QUESTIONS_B", tmp_path / "qb.jsonl")
    monkeypatch.setattr(ask, "QUESTIONS_C", tmp_path / "qc.jsonl")
    for name in [n for n in vars(ask) if n.startswith("QUESTIONS") and n not in ("QUESTIONS", "QUESTIONS_B", "QUESTIONS_C")]:
        monkeypatch.setattr(ask, name, tmp_path / "none.jsonl")  # a set not written yet is skipped (every later one)
    # the comparison split at the shipped threshold: the comparison rule refuses what the bank has no
    # entry on, and the side citations show both expected entries. The search's own citations hold one
    # of them without the title rule (prefix tuning, second within the gap); with it, the first hit
    # ("In what sense does LoRA act as a regularizer …", question cosine 0.72) carries that cosine as its
    # confidence and the second no longer falls within the gap: the sides still cite both
    ask.run_ask_eval(svc, out=tmp_path / "c.json")
    res = json.loads((tmp_path / "c.json").read_text())
    assert res["test_c"]["refusal_recall"] == 1.0 and res["test_c_without_comparison_rule"]["refusal_recall"] == 0.0
    assert res["test_c"]["covered"]["expected_items_cited"] == 1.0
    assert res["test_c_without_title_rule"]["covered"]["expected_items_cited_without_sides"] == 0.5
    assert res["test_c"]["covered"]["expected_items_cited_without_sides"] == 0.0
    assert res["test_c_without_lexical_rule"]["n"] == 2 and res["lexical_below"] > 0  # every split, both ways
    out = tmp_path / "ask.json"
    ask.run_ask_eval(svc, out=out, threshold=0.999)
    res = json.loads(out.read_text())
    assert (res["dev"]["n"], res["test"]["n"], res["test_b"]["n"], res["test_c"]["n"], res["all"]["n"]) == (2, 1, 2, 2, 3)
    assert res["threshold_in_use"] == 0.999 and res["test_b"]["threshold"] == 0.999
    # at 0.999 everything is refused: both uncovered questions count as refused, nothing is cited
    assert res["test_b"]["refusal_recall"] == 1.0 and res["test_b"]["covered"]["answered"] == 0
    assert {q["split"] for q in res["per_question"]} == {"dev", "test", "test-b", "test-c"}
    # --calibrate runs the dev half alone: no held-out question is even retrieved, nothing is written
    import interviewer.concepts as concepts

    seen: list[str] = []

    orig = concepts.retrieve_for_question
    monkeypatch.setattr(concepts, "retrieve_for_question",
                        lambda svc_, q, **kw: seen.append(q) or orig(svc_, q, **kw))
    msg = ask.run_ask_eval(svc, calibrate=True, out=tmp_path / "never.json")
    assert set(seen) == {r["question"] for r in main if r["split"] == "dev"}
    assert "balanced accuracy" in msg and "refusal recall" in msg and not (tmp_path / "never.json").exists()


def test_the_onnx_graph_scores_as_torch_in_fp32_and_ask_loads_no_torch(svc, tmp_path, capsys):
    """Ask's reranker runs its exported graph (the wiring's default): the fp32 torch model's scores, on
    the probe pairs and on real entries; an unreadable graph is traced again; no graph at all leaves
    torch. A new process that answers a question imports neither torch nor transformers."""
    import numpy as np
    from conftest import run_cli_counting_imports

    from interviewer.retrieval.rerank import _PROBE

    routed = svc.reranker
    assert isinstance(routed, RoutedReranker)
    entries = [entry_text(it) for it in list(svc.bank.items.values())[::40]]
    for wired, path in ((routed.main, DEFAULT_DIR), (routed.short, SHORT_DIR)):  # both graphs, each as its torch model
        assert wired.runtime == "onnxruntime" and wired.precision == "fp32"
        torch_fp32 = Reranker(path, precision="fp32")
        assert torch_fp32.runtime == "torch"
        for q, e in [*_PROBE, ("randomly switching off neurons while training", "")]:
            got, want = wired.scores(q, [e, *entries]), torch_fp32.scores(q, [e, *entries])
            assert np.abs(got - want).max() < 1e-4
    wired = routed.main

    graph = svc.settings.data_dir / "models" / f"{wired.model_id.replace(':', '-')}-fp32.onnx"
    damaged = tmp_path / "models"
    damaged.mkdir()
    (damaged / graph.name).write_bytes(graph.read_bytes()[:50_000])
    again = Reranker(onnx_dir=damaged)
    assert again.runtime == "onnxruntime" and "exporting it again" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("x")
    assert Reranker(onnx_dir=tmp_path / "a-file").runtime == "torch"
    assert "the Ask reranker runs in torch" in capsys.readouterr().err

    r, loaded = run_cli_counting_imports("--data-dir", str(svc.settings.data_dir), "ask",
                                         "what does dropout do at test time", env={"INTERVIEWER_LLM__MODE": "none"},
                                         timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "[004-048]" in r.stdout and loaded == [], (r.stdout[-1500:], r.stderr[-1500:])


def test_an_entry_whose_question_is_the_users_leads_a_short_question(svc):
    """"how does attention work": the reranker gives "Explain the Attention mechanism." 0.06 and the
    search leads with flash attention; the title rule puts the entry whose own question matches first."""
    import dataclasses

    from interviewer.concepts import answer_question, coverage_rule

    rule = coverage_rule(svc)
    assert rule.title_min > 0
    shipped = "".join(answer_question(svc, "how does attention work", llm=False))
    without = "".join(answer_question(svc, "how does attention work", llm=False,
                                      rule=dataclasses.replace(rule, title_min=0.0)))
    assert shipped.split("Sources:")[1].lstrip().startswith("[002-026]"), shipped[-400:]
    assert not without.split("Sources:")[1].lstrip().startswith("[002-026]")


def test_the_title_match_goes_first_and_keeps_the_list_length():
    from types import SimpleNamespace

    from interviewer.concepts import Coverage, with_title

    a, b, c, t = (SimpleNamespace(id=x) for x in "abct")
    hits = [(a, 0.9), (b, 0.2), (c, 0.1)]
    rule = Coverage("reranker", 0.124, 0.1, title_min=0.7)
    assert with_title(hits, (t, 0.69, 0.05), rule) == hits  # below the threshold: unchanged
    assert with_title(hits, (t, 0.8, 0.05), rule) == [(t, 0.8), (a, 0.9), (b, 0.2)]
    assert with_title(hits, (b, 0.75, 0.2), rule) == [(b, 0.75), (a, 0.9), (c, 0.1)]  # moved, not repeated
    assert with_title(hits, (t, 0.8, 0.95), rule)[0] == (t, 0.95)  # the larger of cosine and probability
    assert with_title(hits, (t, 0.99, 0.5), Coverage("reranker", 0.124, 0.1)) == hits  # rule off


def test_a_question_in_another_language_is_told_so_not_refused_as_uncovered(svc):
    from interviewer.concepts import answer_question

    for q in ("注意力机制是如何工作的？", "¿Qué es el mecanismo de atención en los transformers y para qué sirve?"):
        text = "".join(answer_question(svc, q, llm=False))
        assert text.startswith("Ask reads questions in English only") and "does not cover" not in text, text
    assert "English only" not in "".join(answer_question(svc, "how does attention work", llm=False))


def test_a_short_question_that_compares_nothing_is_read_by_the_short_question_reranker(svc):
    """"what is t-sne": the main reranker cites the two-sample t-test entry; the short-question reranker
    (routed to by length) gives it too little to cite, and the answer says the bank does not cover it.
    A short comparison and a long question stay with the main reranker; off, one reranker reads all."""
    from conftest import make_services

    from interviewer.concepts import answer_question
    from interviewer.retrieval.rerank import is_short

    assert is_short("what is t-sne") and is_short("What is LoRA?")
    assert not is_short("GRU vs LSTM")  # a comparison: the comparison rule's call, read by the main reranker
    assert not is_short("why does my loss go to nan after a few thousand steps in fp16")
    routed = svc.reranker
    assert isinstance(routed, RoutedReranker)
    shipped = "".join(answer_question(svc, "what is t-sne", llm=False))
    assert "does not cover this" in shipped and "Sources:" not in shipped
    fresh = make_services(svc.settings.data_dir)
    assert "Sources:" not in "".join(answer_question(fresh, "what is t-sne", llm=False))
    assert set(fresh.reranker._loaded) == {"short"}  # a process that asks one short question loads one model
    assert fresh.reranker.parts() == {"main": fresh.reranker.main, "short": fresh.reranker.short}  # loads both
    assert set(fresh.reranker._loaded) == {"main", "short"}
    one = make_services(svc.settings.data_dir, ask={"short_reranker": False})
    assert isinstance(one.reranker, Reranker) and one.reranker.parts() == {"main": one.reranker}
    single = "".join(answer_question(one, "what is t-sne", llm=False))
    assert "[c003-two-sample-t-test]" in single.split("Sources:")[-1] and "does not cover" not in single
    assert routed.main.scores("what is t-sne", ["x"]) != routed.scores("what is t-sne", ["x"])
    long_q = "what is the point of negative sampling when training word2vec embeddings?"
    assert routed.scores(long_q, ["x"]) == routed.main.scores(long_q, ["x"])


def test_a_sweep_reads_only_the_sets_written_before_the_one_that_decides():
    """The Ask sweeps choose on ``read_before(split)``: every set written earlier, nothing from the deciding
    set or any set written after it (a new set appended to ``read_sets`` stays out by itself)."""
    from interviewer.evaluation import ask

    splits = {r["split"] for r in ask.read_before("test-g")}
    assert {"dev", "test", "test-b", "test-f"} <= splits
    assert not splits & {"test-g", "test-h", "test-l", "basic-dev", "basic-test", "test-m", "basic2", "test-n", "basic3"}
    assert {r["split"] for r in ask.read_before("test-l")} == {"dev", "test", *(f"test-{c}" for c in "bcdefghijk")}


def test_eval_ask_with_other_short_question_weights_loads_only_the_main_reranker(svc, tmp_path, monkeypatch):
    """`interviewer eval ask --short-reranker DIR` keeps the wired main reranker and reads short questions
    with DIR's weights; the shipped short-question reranker it replaces is never loaded."""
    from conftest import make_services

    from interviewer import cli
    from interviewer.evaluation import ask

    rows = [{"question": "what is t-sne", "kind": "covered", "expected": ["c003-tsne"], "split": "dev"},
            {"question": "why does my loss go to nan after a few thousand steps in fp16", "kind": "covered",
             "expected": [], "split": "dev"}]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for name in [n for n in vars(ask) if n.startswith("QUESTIONS")]:
        monkeypatch.setattr(ask, name, tmp_path / ("q.jsonl" if name == "QUESTIONS" else "none.jsonl"))
    fresh = make_services(svc.settings.data_dir)
    wired = fresh.reranker
    assert isinstance(wired, RoutedReranker)
    monkeypatch.setattr(cli, "_services", lambda args: fresh)
    out = tmp_path / "ask.json"
    assert cli.main(["eval", "ask", "--short-reranker", str(SHORT_DIR), "--out", str(out)]) == 0
    assert set(wired._loaded) == {"main"}  # the shipped short-question reranker was not loaded
    assert isinstance(fresh.reranker, RoutedReranker) and fresh.reranker.main is wired.main
    assert fresh.reranker.short.model_id == "ask-short-reranker:b8340f7631d9"
    assert json.loads(out.read_text())["dev"]["n"] == 2
