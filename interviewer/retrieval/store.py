"""The question index in Chroma: versioned collections, content hashes, batched upserts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from interviewer.bank.schema import BANK_SCHEMA_VERSION, Item
from interviewer.errors import BackendError
from interviewer.retrieval.embeddings import Embedder
from interviewer.settings import Settings


def make_client(settings: Settings) -> Any:
    """Chroma client by settings: embedded PersistentClient, HttpClient or in-memory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False)
    mode = settings.vectorstore.mode
    try:
        if mode == "persistent":
            settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=cs)
        if mode == "http":
            client = chromadb.HttpClient(host=settings.vectorstore.host, port=settings.vectorstore.port,
                                         ssl=settings.vectorstore.ssl, settings=cs)
            client.heartbeat()
            return client
        return chromadb.EphemeralClient(settings=cs)
    except Exception as e:  # chroma raises many types (ValueError, httpx errors, ...)
        where = (f"{settings.vectorstore.host}:{settings.vectorstore.port}" if mode == "http"
                 else str(settings.chroma_dir))
        raise BackendError(f"cannot open the Chroma {mode} store at {where}: {e}") from None


def collection_name(model_id: str) -> str:
    """``bank-<model slug>-v<schema>``: never mixes embedding models or schema versions."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")
    return f"bank-{slug}-v{BANK_SCHEMA_VERSION}"[:200]


def item_metadata(item: Item) -> dict[str, str | int | float | bool]:
    meta: dict[str, str | int | float | bool] = {
        "question": item.question,
        "topic": item.topic[0] if item.topic else "Uncategorized",
        "topic_path": " > ".join(item.topic),
        "difficulty": item.difficulty or "unrated",
        "sources": ",".join(item.sources),
        "content_hash": item.content_hash(),
        "has_rubric": item.rubric is not None,
    }
    for key in item.sources:
        meta[f"src_{key.split(':')[0]}"] = True
    return meta


#: HNSW's search beam. Chroma's default (100) made the dense ranking differ between processes on the
#: same index and query (an item among the 150 nearest vectors in one run, missing in the next), so
#: the same question could be answered in one run and refused in another. A beam wider than the bank's
#: vectors (1,584 for 528 items) makes the search exhaustive, hence exact and repeatable; at this size
#: the search is no slower (`interviewer eval retrieval`: p50 20 ms). A bank that grows past it (imports)
#: widens the beam with it (``QuestionIndex.widen``).
EF_SEARCH = 4096


class QuestionIndex:
    """One Chroma collection per embedding model; ids are bank item ids."""

    def __init__(self, client: Any, embedder: Embedder, bulk: Callable[[], Embedder] | None = None) -> None:
        """``embedder`` names the collection and identifies the weights (queries are embedded elsewhere);
        ``bulk``, when given, returns the embedder that ``sync`` embeds the bank with — the same weights,
        possibly faster for many texts (torch bf16 on a CPU with native bf16), loaded only when needed."""
        self.client = client
        self.embedder = embedder
        self._bulk = bulk
        self.name = collection_name(embedder.model_id)
        try:
            self.collection = client.get_or_create_collection(
                self.name, embedding_function=None,
                metadata={"embedding_model": embedder.model_id, "schema": BANK_SCHEMA_VERSION},
                configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}})
            self.widen()  # a collection made before 2026-12-04 has Chroma's default beam
        except Exception as e:
            raise BackendError(f"cannot open Chroma collection {self.name}: {e}") from None

    def widen(self) -> int:
        """Make the HNSW search beam at least ``EF_SEARCH`` and at least the number of vectors stored
        (doubling), so the dense search stays exhaustive; returns the beam in force."""
        hnsw = (getattr(self.collection, "configuration", None) or {}).get("hnsw") or {}
        have = int(hnsw.get("ef_search") or 0)
        want = EF_SEARCH
        while want < self.collection.count():
            want *= 2
        if have < want:
            try:
                self.collection.modify(configuration={"hnsw": {"ef_search": want}})
            except Exception as e:  # noqa: BLE001 -- e.g. a Chroma server too old to modify it: search still works
                import sys

                print(f"note: cannot widen the search beam of {self.name} ({type(e).__name__}: {str(e)[:120]}); "
                      "dense search stays approximate", file=sys.stderr)
                return have
            return want
        return have

    def _server(self) -> str | None:
        """host:port of the Chroma server (HttpClient), else None (an embedded store)."""
        try:
            s = self.client.get_settings()
        except Exception:  # noqa: BLE001 - only for messages
            return None
        host, port = getattr(s, "chroma_server_host", None), getattr(s, "chroma_server_http_port", None)
        return f"{host}:{port}" if host else None

    @contextmanager
    def _chroma(self, doing: str) -> Iterator[None]:
        """Chroma's own errors (httpx errors when a Chroma server is down, its own types otherwise)
        as a BackendError that says what failed. Nothing is cached on failure: once the server is
        back, the next call works (the HTTP client connects again)."""
        try:
            yield
        except BackendError:
            raise
        except Exception as e:  # chroma raises many types (httpx.ConnectError, ChromaError, ValueError, ...)
            server = self._server()
            detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            if server and type(e).__module__.split(".")[0] in ("httpx", "httpcore"):
                raise BackendError(f"cannot reach the Chroma server at {server} to {doing} (is `chroma run` "
                                   f"running?): {detail}") from None
            where = f"the Chroma server at {server}" if server else "the Chroma store"
            raise BackendError(f"{where} failed to {doing} in collection {self.name}: {detail}") from None

    def stored_hashes(self) -> dict[str, str]:
        """Item id → content hash of what is indexed for it (one item has several vectors). A row embedded
        by other weights than this embedder's (another model directory under the same name: the collection
        is named by model id) counts as stale, as does a row from before rows recorded their model."""
        with self._chroma("read the index"):
            got = self.collection.get(include=["metadatas"])
        mine = self._fingerprint()
        out: dict[str, str] = {}
        for m in got["metadatas"] or []:
            m = m or {}
            iid, h = str(m.get("item_id", "")), str(m.get("content_hash", ""))
            if str(m.get("embedder", "")) != mine:
                h = "other-weights"
            out[iid] = h if out.get(iid, h) == h else "mixed"
        return out

    def _fingerprint(self) -> str:
        return str(getattr(self.embedder, "fingerprint", "") or "")

    def sync(self, items: Sequence[Item], progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Upsert new/changed items, delete removed ones, skip unchanged (by content hash)."""
        stored = self.stored_hashes()
        todo = [it for it in items if stored.get(it.id) != it.content_hash()]
        wanted = {it.id for it in items}
        removed = [i for i in stored if i not in wanted]
        stale = removed + [it.id for it in todo if it.id in stored]
        if stale:  # drop every vector of removed or changed items (their parts may differ now)
            with self._chroma("update the index"):
                self.collection.delete(where={"item_id": {"$in": stale}})
        with self._chroma("update the index"):
            batch = max(1, min(self.client.get_max_batch_size(), 48))
        weights, embedder = self._fingerprint(), (self._bulk() if self._bulk and todo else self.embedder)
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            rows = [(f"{it.id}::{part}", text, {**item_metadata(it), "item_id": it.id, "part": part,
                                                "embedder": weights})
                    for it in chunk for part, text in it.dense_texts().items()]
            vecs = embedder.embed([r[1] for r in rows])
            with self._chroma("update the index"):
                self.collection.upsert(ids=[r[0] for r in rows], embeddings=vecs.tolist(),
                                       documents=[r[1] for r in rows], metadatas=[r[2] for r in rows])
            if progress:
                progress(len(chunk))
        if todo:
            with self._chroma("update the index"):
                self.widen()
        return {"upserted": len(todo), "unchanged": len(items) - len(todo), "deleted": len(removed),
                "total": len(self.stored_hashes())}

    def query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """Nearest items as (item id, best cosine similarity over the item's vectors)."""
        with self._chroma("search the index"):
            n = min(3 * k, self.collection.count())
            if n == 0:
                return []
            res = self.collection.query(query_embeddings=[list(vector)], n_results=n, where=where or None,
                                        include=["distances", "metadatas"])
        best: dict[str, float] = {}
        for m, d in zip(res["metadatas"][0], res["distances"][0], strict=True):
            iid = str((m or {}).get("item_id"))
            best[iid] = max(best.get(iid, -1.0), 1.0 - float(d))
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]
