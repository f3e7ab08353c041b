import json
import subprocess

import pytest
from conftest import BIN, free_port, make_services, run_cli, run_cli_counting_imports, stop, wait_port

from interviewer.errors import InterviewerError


def test_hybrid_search_finds_paraphrased_concepts(svc):
    hits = svc.retriever.search("why do we divide by the square root of the key dimension in attention", k=5)
    assert any(h.id in ("004-052", "004-121", "002-027") for h in hits[:3])
    hits = svc.retriever.search("randomly switching off neurons while training", k=3)
    assert "004-048" in [h.id for h in hits]


def test_filters_narrow_results(svc):
    hits = svc.retriever.search("attention", k=10, difficulty="math/code")
    assert hits and all(h.difficulty == "Math/Code" for h in hits)
    hits = svc.retriever.search("attention", k=10, source="004")
    assert hits and all(any(s.startswith("004") for s in h.sources) for h in hits)
    hits = svc.retriever.search("gradient", k=10, topic="optimization")
    assert hits and all(h.topic.startswith("Optimization & Training") for h in hits)
    with pytest.raises(InterviewerError, match="unknown topic"):
        svc.retriever.search("x", topic="astrology")
    # a subtopic is not a filter, but the message says which topics hold it
    with pytest.raises(InterviewerError, match=r"'regularization' is a subtopic.*Deep Learning Foundations \(\d+ q"):
        svc.retriever.search("x", topic="regularization")


def test_reingest_skips_unchanged_and_reembeds_changed(svc, tmp_path):
    s = make_services(tmp_path)
    s.__dict__["embedder"] = svc.embedder
    s.__dict__["query_embedder"] = svc.query_embedder
    items = list(svc.bank.items.values())
    first = s.index.sync(items)
    assert first["upserted"] == len(items)
    again = s.index.sync(items)
    assert again == {"upserted": 0, "unchanged": len(items), "deleted": 0, "total": len(items)}
    changed = items[0].model_copy(update={"question": items[0].question + " Explain with an example."})
    third = s.index.sync([changed, *items[1:-1]])
    assert third["upserted"] == 1 and third["deleted"] == 1
    metas = s.index.collection.get(where={"item_id": changed.id}, include=["metadatas"])["metadatas"]
    assert len(metas) == len(changed.dense_texts())  # one vector per part, all re-embedded
    assert {m["content_hash"] for m in metas} == {changed.content_hash()}
    assert s.index.collection.metadata["embedding_model"] == svc.embedder.model_id


def test_rows_embedded_by_other_weights_under_the_same_model_name_are_embedded_again(svc, tmp_path):
    """The collection is named by model id (the model directory's name); each row records the weights'
    fingerprint, so another model directory with the same name re-embeds the index instead of searching
    vectors from a different space, and rows from before fingerprints were recorded count as stale."""
    import chromadb

    from interviewer.retrieval.embeddings import HashEmbedder
    from interviewer.retrieval.store import QuestionIndex

    class Weights(HashEmbedder):
        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    client = chromadb.EphemeralClient()
    items = list(svc.bank.items.values())[:6]
    a = QuestionIndex(client, Weights("aaaa"))
    assert a.sync(items)["upserted"] == 6 and a.sync(items)["upserted"] == 0
    b = QuestionIndex(client, Weights("bbbb"))
    assert b.name == a.name and set(b.stored_hashes().values()) == {"other-weights"}
    assert b.sync(items)["upserted"] == 6 and b.sync(items)["upserted"] == 0
    assert a.sync(items)["upserted"] == 6  # and back
    # a row from before rows recorded their weights
    row = a.collection.get(ids=[f"{items[0].id}::q"], include=["metadatas"])["metadatas"][0]
    a.collection.update(ids=[f"{items[0].id}::q"], metadatas=[{**row, "embedder": None}])  # None deletes the key
    assert a.stored_hashes()[items[0].id] == "mixed" and a.sync(items)["upserted"] == 1


def test_dense_search_is_exact_and_an_older_collection_is_widened(svc, tmp_path, monkeypatch):
    """Chroma's default HNSW beam (ef_search 100) returned different nearest vectors in different
    processes for the same query, so a question could be answered in one run and refused in the next.
    The beam is wider than the bank's vectors: the dense ranking is the exact one."""
    import chromadb
    import numpy as np

    import interviewer.retrieval.store as store
    from interviewer.retrieval.store import EF_SEARCH, QuestionIndex, collection_name

    col = svc.index.collection
    assert col.configuration["hnsw"]["ef_search"] >= EF_SEARCH > col.count()
    got = col.get(include=["embeddings", "metadatas"])
    vecs, ids = np.asarray(got["embeddings"]), [m["item_id"] for m in got["metadatas"]]
    for q in ("d-separation in Bayesian networks - how do I read conditional independencies off the graph?",
              "bonferroni vs benjamini-hochberg when I'm comparing 50 model variants against a baseline"):
        v = svc.embedder.embed([q])[0]
        exact: dict[str, float] = {}
        for i in np.argsort(-(vecs @ v))[:150]:  # what rank_dense asks Chroma for: 3 x its pool of 50 items
            exact.setdefault(ids[i], 0.0)
        assert [iid for iid, _ in svc.retriever.rank_dense(q, None, v)] == list(exact)[:50]
    # a collection created before (Chroma's default beam) is widened when it is opened
    client = chromadb.PersistentClient(path=str(tmp_path / "old"))
    name = collection_name(svc.embedder.model_id)
    client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    assert client.get_collection(name).configuration["hnsw"]["ef_search"] < EF_SEARCH
    QuestionIndex(client, svc.embedder)
    assert client.get_collection(name).configuration["hnsw"]["ef_search"] == EF_SEARCH
    # a bank with more vectors than the beam (an import) widens it when it is synced
    monkeypatch.setattr(store, "EF_SEARCH", 64)
    small = chromadb.PersistentClient(path=str(tmp_path / "small"))
    index = QuestionIndex(small, svc.embedder)
    assert small.get_collection(name).configuration["hnsw"]["ef_search"] == 64
    index.sync(list(svc.bank.items.values())[:40])
    assert index.collection.count() > 64
    assert small.get_collection(name).configuration["hnsw"]["ef_search"] >= index.collection.count()


def test_a_server_that_cannot_widen_the_beam_still_opens(svc, capsys):
    """Widening the search beam is best effort: a Chroma that refuses ``modify`` (an older server) still
    serves the collection, approximately, and says so."""
    from interviewer.retrieval.store import QuestionIndex

    class Collection:
        configuration = {"hnsw": {"space": "cosine", "ef_search": 100}}

        def count(self):
            return 10

        def modify(self, **kw):
            raise RuntimeError("configuration cannot be modified")

    class Client:
        def get_or_create_collection(self, *a, **kw):
            return Collection()

    index = QuestionIndex(Client(), svc.embedder)
    assert index.widen() == 100
    assert "dense search stays approximate" in capsys.readouterr().err


def test_collections_never_mix_embedding_models(svc, tmp_path):
    from interviewer.retrieval.embeddings import HashEmbedder
    from interviewer.retrieval.store import QuestionIndex

    a = QuestionIndex(svc.chroma, svc.embedder)
    b = QuestionIndex(svc.chroma, HashEmbedder())
    assert a.name != b.name


def test_search_stdin_batch_json_one_line_per_query(svc, data_dir):
    queries = "what is bpe\n\nhow does lora cut trainable parameters\nkv cache\n"
    # progress bars on (the CLI turns them off by default) so model loads can be counted
    r = run_cli("--data-dir", str(data_dir), "search", "--stdin", "--json", "-k", "3",
                env={"INTERVIEWER_LLM__MODE": "none", "HF_HUB_DISABLE_PROGRESS_BARS": "0"}, input=queries)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 4
    results = [json.loads(x) for x in lines]
    assert results[1] == []
    assert all(set(h) == {"id", "question", "topic", "difficulty", "sources", "score"} for h in results[0])
    assert any("lora" in h["question"].lower() for h in results[2])
    # no torch model loads at all (transformers would print "Loading weights"): queries are embedded by
    # the exported graph, opened once for the whole batch
    assert r.stderr.count("Loading weights") == 0, r.stderr[-2000:]


def test_http_client_against_a_real_chroma_server(svc, tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port),
                             "--path", str(tmp_path / "server")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    try:
        wait_port(port, proc)
        s = make_services(tmp_path / "client", vectorstore={"mode": "http", "host": "127.0.0.1", "port": port})
        s.__dict__["embedder"] = svc.embedder
        s.__dict__["query_embedder"] = svc.query_embedder
        s.__dict__["bank"] = svc.bank
        result = s.ensure_index()
        assert result["total"] == len(svc.bank)
        hits = s.retriever.search("what does temperature do when sampling", k=3)
        assert "004-010" in [h.id for h in hits]
        assert s.ensure_index() is None  # already in sync
        # a server collection made with Chroma's default search beam is widened over HTTP when opened
        import chromadb

        from interviewer.retrieval.store import EF_SEARCH, QuestionIndex

        client = chromadb.HttpClient(host="127.0.0.1", port=port)
        name = s.index.name
        client.delete_collection(name)
        client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        assert client.get_collection(name).configuration["hnsw"]["ef_search"] < EF_SEARCH
        QuestionIndex(client, svc.embedder)
        assert client.get_collection(name).configuration["hnsw"]["ef_search"] == EF_SEARCH
    finally:
        stop(proc)


def test_dead_chroma_server_is_a_clear_error(tmp_path, svc):
    from interviewer.errors import BackendError

    s = make_services(tmp_path, vectorstore={"mode": "http", "host": "127.0.0.1", "port": free_port()})
    with pytest.raises(BackendError, match="cannot open the Chroma http store"):
        _ = s.chroma


def test_exact_question_text_returns_its_item_first(svc):
    """Searching the exact text of any bank question returns that item first (and the text of a
    merged duplicate returns the item it was merged into)."""
    wrong = []
    for it in svc.bank.items.values():
        hits = svc.retriever.search(it.question, k=3)
        if not hits or hits[0].id != it.id:
            wrong.append((it.id, [h.id for h in hits]))
    assert not wrong, f"{len(wrong)} items not first for their own question, e.g. {wrong[:5]}"
    assert svc.retriever.search("What is BLEU score?", k=2)[0].id == "002-019"
    assert svc.retriever.search("what is a large language model (llm)", k=1)[0].id == "002-034"


def test_ask_falls_back_to_keyword_search_while_the_chroma_server_is_down(svc, tmp_path):
    """No Chroma server where one is configured: Ask still answers from the bank by keyword search,
    says so and why, and still refuses what the bank does not cover."""
    from interviewer.concepts import KEYWORD_ONLY, NOT_IN_BANK, answer_question

    port = free_port()
    s = make_services(tmp_path, vectorstore={"mode": "http", "port": port})
    s.__dict__["embedder"], s.__dict__["bank"] = svc.embedder, svc.bank
    s.__dict__["query_embedder"] = svc.query_embedder
    text = "".join(answer_question(s, svc.bank.get("004-048").question, llm=False))
    assert text.startswith(f"*{KEYWORD_ONLY} (cannot open the Chroma http store at 127.0.0.1:{port}"), text
    assert "[004-048]" in text
    text = "".join(answer_question(s, "How does a B-tree split a node when it is full?", llm=False))
    assert text.startswith(f"*{KEYWORD_ONLY}") and ("does not cover" in text or NOT_IN_BANK in text), text
    with pytest.raises(InterviewerError, match="cannot open the Chroma http store"):
        s.retriever.search("dropout")  # only Ask falls back; search says what is wrong


def test_keyword_fallback_shares_the_hybrid_retrievers_bm25_index(svc, tmp_path):
    s = make_services(tmp_path)
    s.__dict__.update(embedder=svc.embedder, bank=svc.bank, retriever=svc.retriever)
    kw = s.keyword_retriever
    assert kw.bm25 is svc.retriever.bm25 and kw.index is None and svc.retriever.index is not None
    assert kw.search("What is BLEU score?", k=2, method="bm25")[0].id == "002-019"
    with pytest.raises(InterviewerError):
        kw.search("What is BLEU score?", k=2, method="dense")


def test_the_embedder_serves_concurrent_callers_with_the_same_vectors(svc):
    """Concurrent grades embed side by side (the tokenizer behind a lock, the forward passes in
    parallel): many small calls from two threads at once give exactly what one ``encode`` gives —
    whichever runtime this CPU wires (torch in bf16 where the CPU has native bf16, else the ONNX graph)."""
    import threading

    import numpy as np
    from sentence_transformers import SentenceTransformer

    from interviewer.retrieval.embeddings import resolve_model_path

    emb = svc.embedder.inner
    texts = [f"{it.question} {(it.reference_answer or '')[:200]}" for it in list(svc.bank.items.values())[:80]]
    model = getattr(emb, "_model", None) or SentenceTransformer(
        str(resolve_model_path(svc.settings.embedding.model)), device="cpu")  # the fp32 torch model
    want = np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True))
    got: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def worker(start: int) -> None:
        try:
            for j in range(start, len(texts), 6):  # 3-text calls, interleaved with the other thread's
                for k, v in enumerate(emb.embed(texts[j:j + 3])):
                    got[j + k] = v
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (0, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(got) == list(range(len(texts)))
    both = np.stack([got[i] for i in range(len(texts))])
    # the same 3-text calls made one after another: concurrency changes nothing
    serial = np.concatenate([emb.embed(texts[j:j + 3]) for j in range(0, len(texts), 3)])
    np.testing.assert_allclose(both, serial, atol=1e-6)
    if emb.precision == "fp32":  # in bf16 (CPUs with native bf16) encode() itself runs in fp32
        np.testing.assert_allclose(both, want, atol=1e-5)
    else:
        assert float((both * want).sum(axis=1).min()) > 0.999  # cosine to the fp32 vectors
    assert emb.embed([]).shape == (0, want.shape[1])


def test_the_onnx_embedder_gives_the_torch_models_vectors(svc):
    """Queries and the index are embedded by the exported graph (traced into data_dir/models by the
    session's services); its vectors are the fp32 torch model's, tokens and truncation included."""
    import numpy as np

    from interviewer.retrieval.embeddings import _PROBE, SentenceTransformerEmbedder

    q = svc.query_embedder
    assert q.runtime == "onnxruntime" and q.model_id == svc.embedder.model_id
    st = SentenceTransformerEmbedder(svc.settings.embedding.model, precision="fp32")
    items = list(svc.bank.items.values())[::9]
    texts = _PROBE + [it.question for it in items] + [it.best_answer or "" for it in items] + ["\u00a0x\u200b", "🙂" * 40]
    got, want = q.embed(texts), st.embed(texts)
    assert got.shape == want.shape and float(np.abs(got - want).max()) < 1e-5
    assert q.embed([]).shape == (0, want.shape[1])


def test_search_in_a_new_process_loads_neither_torch_nor_sentence_transformers(svc):
    """`interviewer search` starts in a second or two, not five: it embeds the query with the exported
    graph, so torch, transformers and sentence-transformers are never imported (their import alone
    takes about three seconds on a 2-core CPU: eval/bench.py, cli_start)."""
    r, loaded = run_cli_counting_imports("--data-dir", str(svc.settings.data_dir), "search", "--json",
                                         "randomly switching off neurons while training",
                                         env={"INTERVIEWER_LLM__MODE": "none"}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "004-048" in [h["id"] for h in json.loads(r.stdout)][:3]
    assert loaded == [], r.stderr[-2000:]


def test_the_embedder_runs_in_torch_when_asked_or_when_no_graph_can_be_made(svc, tmp_path, capsys):
    import numpy as np

    s = make_services(tmp_path / "a", embedding={"runtime": "torch"})
    assert s.onnx_embedder is None and s.query_embedder.runtime == "torch"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "models").write_text("not a directory")  # the graph cannot be written there
    s = make_services(tmp_path / "b")
    q = s.query_embedder
    assert q.runtime == "torch" and "note: the embedder runs in torch" in capsys.readouterr().err
    v = q.embed(["randomly switching off neurons while training"])
    assert float(v[0] @ svc.query_embedder.embed(["randomly switching off neurons while training"])[0]) > 0.999
    assert np.isclose(np.linalg.norm(v[0]), 1.0, atol=1e-5)


def test_two_threads_that_need_the_same_missing_graph_trace_it_once(tmp_path):
    """The UI's warm-up and a first request may both find a graph missing: the second waits for the first
    trace and loads its file instead of tracing again into the same place (each trace takes ~10 s and sets
    process-wide warning filters)."""
    import threading
    import time

    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    from interviewer.onnxrt import cached_graph

    calls: list[str] = []

    def export(target):
        calls.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the other thread to arrive while this one traces
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
        graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(target))

    target = tmp_path / "models" / "tiny.onnx"
    target.parent.mkdir()
    sessions: dict[str, object] = {}
    threads = [threading.Thread(target=lambda n=n: sessions.__setitem__(n, cached_graph(target, export)), name=n)
               for n in ("warm-up", "request")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and set(sessions) == {"warm-up", "request"}
    assert all(s.run(None, {"x": np.ones(2, dtype=np.float32)})[0].tolist() == [1.0, 1.0] for s in sessions.values())
