"""Composition root: the only place that turns settings into concrete backends.

``Services`` holds process-wide, stateless-per-user objects (models, stores, bank).
Per-session state never lives here: it lives in ``interview.Session`` objects.
Everything is built lazily, so ``interviewer --help`` or ``bank stats`` load no model.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from interviewer.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from interviewer.bank.loader import Bank
    from interviewer.grading.claims import ClaimChecker
    from interviewer.grading.grader import Grader
    from interviewer.llm.base import ChatBackend
    from interviewer.progress.store import ProgressStore
    from interviewer.retrieval.embeddings import Embedder
    from interviewer.retrieval.rerank import Reranker, RoutedReranker
    from interviewer.retrieval.search import Retriever
    from interviewer.retrieval.store import QuestionIndex
    from interviewer.retrieval.vector_cache import VectorCache


def checker_onnx_dir(settings: Settings) -> Path | None:
    """Where the claim checker's exported ONNX graph lives, or None when ``grading.checker_runtime = torch``."""
    return settings.data_dir / "models" if settings.grading.checker_runtime == "auto" else None


def routed(main: Callable[[], Reranker], short_dir: Any, precision: str, onnx_dir: Any = None) -> RoutedReranker:
    """``main()`` for long questions, the reranker in ``short_dir`` for short ones (each loaded on first use)."""
    from interviewer.retrieval.rerank import Reranker, RoutedReranker

    return RoutedReranker(main, lambda: Reranker(short_dir, precision=precision, onnx_dir=onnx_dir,
                                                 name="ask-short-reranker"))


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()

    @functools.cached_property
    def bank(self) -> Bank:
        from interviewer.bank.snapshot import load_bank_cached

        return load_bank_cached(self.settings.knowledge_dir, extra_dirs=(self.settings.imported_dir,),
                                cache_dir=self.settings.data_dir / "cache")

    @functools.cached_property
    def embedder(self) -> Embedder:
        """The embedder for grading (answer spans, rubric vectors) at the configured precision: the ONNX
        graph in fp32 (``embedding.runtime = auto``), torch in bf16."""
        from interviewer.retrieval.embeddings import HashEmbedder, SentenceTransformerEmbedder, resolve_precision

        with self._lock:
            e = self.settings.embedding
            if e.mode == "hash":
                return HashEmbedder()
            if resolve_precision(e.precision) == "fp32" and self.onnx_embedder is not None:
                return self.onnx_embedder
            return SentenceTransformerEmbedder(e.model, e.batch_size, e.precision)

    @functools.cached_property
    def onnx_embedder(self) -> Embedder | None:
        """The embedding model's exported ONNX graph in fp32 (traced once into ``data_dir/models``), or None
        (``embedding.runtime = torch``, the hash embedder, or a graph that could not be made: said on
        stderr, and torch is used)."""
        import sys

        from interviewer.onnxrt import GraphUnavailable
        from interviewer.retrieval.embeddings import OnnxEmbedder

        e = self.settings.embedding
        if e.mode == "hash" or e.runtime != "auto":
            return None
        with self._lock:
            try:
                return OnnxEmbedder(e.model, self.onnx_dir, e.batch_size)
            except GraphUnavailable as why:  # no onnxruntime, a read-only directory, an export that differs
                print(f"note: the embedder runs in torch ({why})", file=sys.stderr)
                return None

    @property
    def onnx_dir(self) -> Path:
        """Where exported ONNX graphs live (the claim checker's, the embedder's, the Ask reranker's)."""
        return self.settings.data_dir / "models"

    @functools.cached_property
    def query_embedder(self) -> Embedder:
        """Embeds queries (search, Ask) and identifies the search index's weights: the ONNX graph in fp32
        whatever the precision, so a process that only searches never imports torch; a query's vector in
        fp32 or bf16 differs by less than the index could tell (cosine 0.9999). The index itself is filled
        by ``embedder`` (``index``)."""
        return self.onnx_embedder or self.embedder

    @functools.cached_property
    def chroma(self) -> Any:
        from interviewer.retrieval.store import make_client

        return make_client(self.settings)

    @functools.cached_property
    def index(self) -> QuestionIndex:
        from interviewer.retrieval.store import QuestionIndex

        # named and checked by the query embedder (no torch to open it), filled by the grading one: on a
        # CPU with native bf16 torch embeds the bank's 1,584 texts about three times faster than the graph
        return QuestionIndex(self.chroma, self.query_embedder, bulk=lambda: self.embedder)

    def index_todo(self) -> tuple[int, dict[str, str]]:
        """(how many bank items the index lacks or holds an older version of, the content hash it holds per id)."""
        hashes = self.index.stored_hashes()
        return sum(1 for i, it in self.bank.items.items() if hashes.get(i) != it.content_hash()), hashes

    def ensure_index(self) -> dict[str, int] | None:
        """Sync the index with the bank if it is missing or stale (cheap when up to date)."""
        todo, hashes = self.index_todo()
        if not todo and hashes.keys() == self.bank.items.keys():
            return None
        import sys

        print(f"note: the search index is {'missing' if not hashes else 'out of date'} ({todo} of {len(self.bank.items)} "
              "items to embed, e.g. after an interrupted ingest); embedding them now…", file=sys.stderr, flush=True)
        return self.index.sync(list(self.bank.items.values()))

    @functools.cached_property
    def retriever(self) -> Retriever:
        from interviewer.retrieval.search import Retriever

        self.ensure_index()
        return Retriever(self.bank, self.index, self.query_embedder)

    @functools.cached_property
    def keyword_retriever(self) -> Retriever:
        """BM25 over the bank alone, needing no vector store: Ask falls back to it while the
        Chroma server is unreachable. Shares the hybrid retriever's BM25 index when that exists."""
        import copy

        from interviewer.retrieval.search import Retriever

        if "retriever" in self.__dict__:
            keyword = copy.copy(self.__dict__["retriever"])
            keyword.index = None
            return keyword
        return Retriever(self.bank, None, self.query_embedder)

    @functools.cached_property
    def llm(self) -> ChatBackend | None:
        from interviewer.llm.registry import make_backend

        return make_backend(self.settings)

    @functools.cached_property
    def reranker(self) -> Reranker | RoutedReranker | None:
        """Ask's trained (question, entry) reranker, or None when ``ask.reranker`` is off; with the
        short-question reranker installed (and ``ask.short_reranker`` on), both behind one router."""
        from interviewer.retrieval.rerank import SHORT_DIR, Reranker

        if not self.settings.ask.reranker:
            return None
        onnx_dir = self.onnx_dir if self.settings.embedding.runtime == "auto" else None

        def main() -> Reranker:
            return Reranker(precision=self.settings.embedding.precision, onnx_dir=onnx_dir)

        if self.settings.ask.short_reranker and (SHORT_DIR / "MANIFEST.json").exists():
            return routed(main, SHORT_DIR, self.settings.embedding.precision, onnx_dir)
        with self._lock:
            return main()

    @functools.cached_property
    def checker(self) -> ClaimChecker:
        from interviewer.grading.claims import ClaimChecker

        with self._lock:
            return ClaimChecker(self.settings.grading.checker_path or None, self.settings.embedding.precision,
                                onnx_dir=checker_onnx_dir(self.settings))

    @functools.cached_property
    def grader(self) -> Grader:
        from interviewer.errors import BackendError
        from interviewer.grading.grader import Grader
        from interviewer.grading.policy import Policy

        g = self.settings.grading
        try:
            judge, problem = self.judge_llm, ""
        except BackendError as e:  # a misconfigured judge: rubric-only grades, labelled with the reason
            judge, problem = None, str(e)
        return Grader(self.embedder, self.checker, llm=judge, llm_weight=g.llm_weight,
                      policy=Policy(hint_penalty=g.hint_penalty, phrasings=g.phrasings), judge_problem=problem,
                      vectors=self.rubric_vectors)

    @functools.cached_property
    def rubric_vectors(self) -> VectorCache | None:
        """The bank's rubric vectors on disk (None with the hash embedder, which needs no cache)."""
        from interviewer.retrieval.vector_cache import VectorCache

        if self.settings.embedding.mode == "hash":
            return None
        e = self.embedder
        return VectorCache(self.settings.data_dir / "cache", e.model_id, getattr(e, "precision", "fp32"),
                           getattr(e, "fingerprint", ""))

    def rubric_texts(self) -> list[str]:
        """What the grader embeds of the bank's items (question, model answer, key points, misconceptions)."""
        from interviewer.grading.grader import Grader

        return list(dict.fromkeys(t for it in self.bank.items.values() for t in Grader.rubric_texts(it)))

    def rubric_vectors_todo(self) -> list[str]:
        """The bank's rubric texts without a vector on disk."""
        cache = self.rubric_vectors
        return cache.missing(self.rubric_texts()) if cache is not None else []

    def prune_rubric_vectors(self) -> int:
        """Drop the stored vectors of texts the bank no longer has (edited or removed items)."""
        cache = self.rubric_vectors
        return cache.keep_only(self.rubric_texts()) if cache is not None else 0

    def warm_rubric_vectors(self, progress: Callable[[int], None] | None = None, batch: int = 256,
                            todo: list[str] | None = None) -> int:
        """Embed the bank's rubric texts that have no vector on disk yet (``todo``: as
        ``rubric_vectors_todo`` just returned), in batches (``interviewer ingest``; ``serve`` does not, so
        several fresh replicas do not start with a minute of embedding each: they store each rubric the
        first time they ask it). Returns how many were embedded."""
        cache = self.rubric_vectors
        if cache is None:
            return 0
        texts = sorted(self.rubric_vectors_todo() if todo is None else todo, key=len)  # like lengths pad less
        for s in range(0, len(texts), batch):
            chunk = texts[s:s + batch]
            cache.put(dict(zip(chunk, self.embedder.embed(chunk), strict=True)))
            if progress:
                progress(len(chunk))
        return len(texts)

    @property
    def judge_llm(self) -> ChatBackend | None:
        g = self.settings.grading
        use = g.llm_judge == "on" or (g.llm_judge == "auto" and g.llm_capable)
        return self.llm if use else None

    @functools.cached_property
    def exercises(self) -> dict[str, Any]:
        """The coding exercises (``knowledge/exercises``); a broken file raises KnowledgeError."""
        from interviewer.exercises import load_exercises

        return load_exercises(self.settings.knowledge_dir / "exercises")

    @functools.cached_property
    def stt(self) -> Any:
        from interviewer.voice import SpeechToText

        with self._lock:
            return SpeechToText(self.settings.voice.stt_model)

    @functools.cached_property
    def tts(self) -> Any:
        from interviewer.voice import TextToSpeech

        if self.settings.voice.tts == "none":
            return None
        with self._lock:
            return TextToSpeech(self.settings.voice.tts)

    @functools.cached_property
    def progress(self) -> ProgressStore:
        from interviewer.progress.store import ProgressStore

        return ProgressStore(self.settings.db_path, url=self.settings.store.url)
