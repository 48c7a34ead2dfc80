"""rag's benchmark: search latency at 100k chunks and indexing throughput with the local model.

Starts its own infrastructure (Postgres+pgvector, Redis, NATS, auth) in a temporary folder and
an in-process rag server, prints markdown tables and stops everything.

* Search at 100k chunks: 100k chunks of one owner (text sampled from the XQuAD English
  passages, so full-text search sees real vocabulary; random unit vectors for the vector
  part), HNSW (m=16, ef_construction=64) built after the load; HYBRID search as the service
  runs it (knowledge-base scope, pgvector top-40, full-text top-40, RRF, hydration of the
  hits), measured excluding the query embedding (a precomputed random query vector) and
  including it (the local all-MiniLM-L6-v2 embedding a fresh question every time).
* Indexing: XQuAD passages uploaded as documents through the RPC, timed from the first upload
  until the last document is READY: chunks/s end to end (extract, chunk, embed, store), and the
  model's own embedding rate for reference.

    make bench-rag          # or: python -m bench.rag --chunks 100000 --queries 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import sqlalchemy as sa
import uvloop
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from inbetwin.rag.v1 import document_pb2, knowledge_base_pb2, rag_service_pb2_grpc
from inbetwin.rag.v1 import rag_service_pb2 as pb

from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.server import ServerHandle, create_server
from services.rag import language, retrieval
from services.rag.embeddings.languages import LanguageCoverage, coverage_of
from services.rag.embeddings.local import LocalEmbedder, default_model_path
from services.rag.search import QueryEmbeddings, Searcher
from services.rag.server import SERVICE_NAMES, wire
from services.rag.settings import RagSettings
from services.rag.term_stats import (
    CAP_FACTOR,
    TermStatistics,
    tsquery_lexeme,
    widening_queries,
)
from services.rag.vectors.pgvector import PgVectorStore, nearest_statement, vector_literal
from services.stack import Stack

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "services" / "rag" / "migrations"
EVAL = REPO.parent / "shared" / "fixtures" / "eval"
DIMS = 384
EF_SEARCH = 100
# The service's default, so the bench measures what runs.
FULL_TEXT_BUDGET: int = RagSettings.model_fields["full_text_candidates"].default
TERMINAL = (document_pb2.DOCUMENT_STATUS_READY, document_pb2.DOCUMENT_STATUS_FAILED)


# ---- shared with bench.eval_rag ----------------------------------------------------------


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


async def new_database(stack: Stack, name: str) -> str:
    database = f"rag_{name}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(stack.postgres_dsn())
    try:
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    connection = await asyncpg.connect(stack.postgres_dsn(database))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    finally:
        await connection.close()
    url = stack.database_url(database)
    await upgrade_to_head_async(url, MIGRATIONS)
    return url


async def register(stack: Stack) -> str:
    async with grpc.aio.insecure_channel(stack.service_address("auth")) as channel:
        response = await auth_service_pb2_grpc.AuthServiceStub(channel).Register(
            auth_service_pb2.RegisterRequest(
                email=f"bench-{uuid.uuid4().hex[:12]}@example.com",
                password="correct horse battery",  # noqa: S106 - a throwaway bench user
                display_name="Bench",
            )
        )
    return str(response.user.id)


@asynccontextmanager
async def rag_server(
    stack: Stack, database_url: str, storage: Path, **overrides: Any
) -> AsyncIterator[tuple[ServerHandle, rag_service_pb2_grpc.RagServiceStub]]:
    settings = RagSettings(
        database_url=database_url,
        redis_url=stack.redis_url,
        nats_url=stack.nats_url,
        auth_addr=stack.service_address("auth"),
        storage_dir=storage,
        indexer_consumer=f"rag-indexer-{uuid.uuid4().hex[:8]}",
        **overrides,
    )
    handle = await create_server(
        settings, service_names=SERVICE_NAMES, error_domain="rag.inbetwin.app", wire=wire
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
    try:
        yield handle, rag_service_pb2_grpc.RagServiceStub(channel)
    finally:
        await channel.close(None)
        await handle.stop(2.0)


async def create_knowledge_base(
    stub: rag_service_pb2_grpc.RagServiceStub, owner: str, name: str
) -> str:
    response = await stub.CreateKnowledgeBase(
        pb.CreateKnowledgeBaseRequest(
            knowledge_base=knowledge_base_pb2.KnowledgeBase(display_name=name)
        ),
        metadata=(("x-user-id", owner),),
    )
    return str(response.knowledge_base.id)


async def upload_all(
    stub: rag_service_pb2_grpc.RagServiceStub,
    owner: str,
    kb: str,
    files: Sequence[tuple[str, bytes]],
) -> dict[str, document_pb2.Document]:
    """Upload every file, wait until each is READY or FAILED; documents by file name."""
    meta = (("x-user-id", owner),)
    ids: dict[str, str] = {}
    for name, data in files:
        request = pb.UploadDocumentRequest(knowledge_base_id=kb, file_name=name)
        request.body.data = data
        ids[name] = (await stub.UploadDocument(request, metadata=meta)).document.id
    done: dict[str, document_pb2.Document] = {}
    while len(done) < len(ids):
        await asyncio.sleep(0.5)
        for name, document_id in ids.items():
            if name in done:
                continue
            document = (
                await stub.GetDocument(
                    pb.GetDocumentRequest(document_id=document_id), metadata=meta
                )
            ).document
            if document.status in TERMINAL:
                done[name] = document
    return done


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- search latency at scale ---------------------------------------------------------------


def _unit(rng: random.Random) -> list[float]:
    vector = [rng.gauss(0, 1) for _ in range(DIMS)]
    norm = sum(v * v for v in vector) ** 0.5
    return [v / norm for v in vector]


async def load_chunks(database_url: str, stack: Stack, owner: str, kb: str, count: int) -> None:
    """`count` live chunks in 1000-chunk documents, with vectors, straight into the tables."""
    rng = random.Random(7)  # noqa: S311 - synthetic data, not secrets
    sentences = [
        sentence.strip() + "."
        for passage in load_jsonl(EVAL / "xquad-en" / "corpus.jsonl")
        for sentence in passage["text"].split(". ")
        if len(sentence) > 20
    ]
    dsn = stack.postgres_dsn(database_url.rsplit("/", 1)[1])
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP INDEX IF EXISTS embeddings_hnsw_384")
        per_document = 1000
        chunk_rows = []
        vector_rows = []
        document_rows = []
        for start in range(0, count, per_document):
            document_id = str(uuid.uuid4())
            document_rows.append(document_id)
            for index in range(min(per_document, count - start)):
                chunk_id = str(uuid.uuid4())
                text = " ".join(rng.sample(sentences, 4))
                chunk_rows.append(
                    (chunk_id, owner, kb, document_id, 1, index, text, "", 0, len(text), 0)
                )
                literal = "[" + ",".join(f"{v:.6f}" for v in _unit(rng)) + "]"
                vector_rows.append(
                    (chunk_id, owner, kb, document_id, "chunk", "all-MiniLM-L6-v2", DIMS, literal)
                )
        await connection.executemany(
            "INSERT INTO documents (id, owner_id, knowledge_base_id, file_name, content_type, "
            "size_bytes, sha256, storage_key, status, revision, live_revision, uploaded_at, "
            "chunk_count, embedding_model) VALUES ($1, $2, $3, $4, 'text/plain', "
            "0, '', '', 3, 1, 1, now(), 1000, 'all-MiniLM-L6-v2')",
            [(document_id, owner, kb, f"{document_id}.txt") for document_id in document_rows],
        )
        await connection.execute(
            "CREATE TEMP TABLE load_chunks (id uuid, owner_id uuid, knowledge_base_id uuid, "
            "document_id uuid, revision bigint, chunk_index int, text text, heading text, "
            "char_start int, char_end int, page_number int)"
        )
        await connection.copy_records_to_table("load_chunks", records=chunk_rows)
        await connection.execute(
            "INSERT INTO chunks SELECT id, owner_id, knowledge_base_id, document_id, revision, "
            "chunk_index, text, heading, char_start, char_end, page_number, 'english', "
            "setweight(to_tsvector('english', heading), 'A') || to_tsvector('english', lower(text)) "
            "FROM load_chunks"
        )
        await connection.execute(
            "CREATE TEMP TABLE load_vectors (id uuid, owner_id uuid, knowledge_base_id uuid, "
            "source_id uuid, kind text, model text, dims int, embedding text)"
        )
        await connection.copy_records_to_table("load_vectors", records=vector_rows)
        await connection.execute(
            "INSERT INTO embeddings SELECT id, owner_id, knowledge_base_id, source_id, kind, model, "
            "dims, embedding::vector FROM load_vectors"
        )
        await connection.execute("SET maintenance_work_mem = '1GB'")
        await connection.execute("SET max_parallel_maintenance_workers = 1")
        await connection.execute(
            "CREATE INDEX embeddings_hnsw_384 ON embeddings USING hnsw "
            "((embedding::vector(384)) vector_cosine_ops) WHERE dims = 384"
        )
        await connection.execute("VACUUM ANALYZE chunks")
        await connection.execute("VACUUM ANALYZE embeddings")
        await connection.execute("VACUUM ANALYZE documents")
    finally:
        await connection.close()


class FixedEmbedder:
    """Hands out precomputed query vectors: the search path without the model."""

    def __init__(self, vectors: list[list[float]]) -> None:
        self._vectors = vectors
        self._next = 0

    @property
    def model(self) -> str:
        return "all-MiniLM-L6-v2"

    @property
    def coverage(self) -> LanguageCoverage:
        return coverage_of(self.model)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for _ in texts:
            out.append(self._vectors[self._next % len(self._vectors)])
            self._next += 1
        return out

    async def warm_up(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def time_searches(
    searcher: Searcher, owner: str, kb: str, queries: Sequence[str], mode: int
) -> list[float]:
    latencies = []
    for query in queries:
        started = time.perf_counter()
        response = await searcher.search(
            owner,
            pb.SearchRequest(query=query, knowledge_base_ids=[kb], top_k=5, mode=mode),  # type: ignore[arg-type]
        )
        latencies.append((time.perf_counter() - started) * 1000)
        if not response.hits:
            raise RuntimeError(f"no hits for {query!r}: the benchmark would measure nothing")
    return latencies


def _plan_facts(plan: Any) -> tuple[set[str], dict[str, int], float]:
    """(indexes used, actual rows per CTE, execution ms) of an EXPLAIN (ANALYZE, FORMAT JSON)."""
    indexes: set[str] = set()
    ctes: dict[str, int] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Index Name" in node:
                indexes.add(str(node["Index Name"]))
            if str(node.get("Subplan Name", "")).startswith("CTE "):
                ctes[node["Subplan Name"][4:]] = int(node["Actual Rows"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return indexes, ctes, float(plan[0]["Execution Time"])


async def explain_plans(
    url: str, owner: str, kb: str, question: str, vector: list[float], ef_search: int
) -> list[tuple[str, str]]:
    """How Postgres runs each leg for one question: the indexes it uses and what it ranks."""
    engine = create_engine(url)
    facts = []
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f"SET hnsw.ef_search = {int(ef_search)}"))
            await conn.execute(sa.text("SET hnsw.iterative_scan = relaxed_order"))
            statement = nearest_statement(DIMS)
            plan = (
                await conn.execute(
                    sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.text),
                    {
                        "q": vector_literal(vector),
                        "owner": owner,
                        "model": "all-MiniLM-L6-v2",
                        "kbs": [kb],
                        "k": 40,
                    },
                )
            ).scalar_one()
            indexes, _, took = _plan_facts(plan)
            facts.append(("vector (top 40)", f"indexes {sorted(indexes)}, {took:.1f} ms"))

            text = language.query_terms(question)
            found = (
                await conn.execute(
                    retrieval._LEXEMES,
                    {"config": "english", "text": text, "owner": owner, "kbs": [kb]},
                )
            ).one()
            shares = await TermStatistics().shares(conn)
            tiers = widening_queries(
                found.lexemes, shares, rows=float(found.chunks), budget=FULL_TEXT_BUDGET
            )
            # As the service does: wider selections while one finds fewer than 40 chunks.
            indexes, ranked, took, used = set(), 0, 0.0, []
            for selective in tiers:
                plan = (
                    await conn.execute(
                        sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + retrieval._FULL_TEXT.text),
                        {
                            "query": " | ".join(tsquery_lexeme(word) for word in found.lexemes),
                            "selective": selective,
                            "cap": CAP_FACTOR * FULL_TEXT_BUDGET,
                            "n": 40,
                            "owner": owner,
                            "kbs": [kb],
                        },
                    )
                ).scalar_one()
                tier_indexes, ctes, tier_took = _plan_facts(plan)
                indexes |= tier_indexes
                ranked += ctes.get("candidates", 0)
                took += tier_took
                used.append(f"`{selective}` ({ctes.get('candidates', 0)})")
                if ctes.get("candidates", 0) >= 40:
                    break
            matching = (
                await conn.execute(
                    sa.text("SELECT count(*) FROM chunks WHERE tsv @@ CAST(:query AS tsquery)"),
                    {"query": " | ".join(tsquery_lexeme(lexeme) for lexeme in found.lexemes)},
                )
            ).scalar_one()
            facts.append(
                (
                    "full-text (top 40)",
                    f"indexes {sorted(indexes)}, {ranked} of {matching} matching chunks "
                    f"ranked, selected by {' then '.join(used)}, {took:.1f} ms",
                )
            )
    finally:
        await engine.dispose()
    return [(f"{name} for {question!r}", value) for name, value in facts]


async def search_latency(
    stack: Stack, chunks: int, queries: int
) -> tuple[list[tuple[str, list[float]]], list[tuple[str, str]]]:
    from inbetwin.rag.v1 import search_pb2

    url = await new_database(stack, "bench")
    owner, kb = str(uuid.uuid4()), str(uuid.uuid4())
    connection = await asyncpg.connect(stack.postgres_dsn(url.rsplit("/", 1)[1]))
    await connection.execute(
        "INSERT INTO knowledge_bases (id, owner_id, display_name, embedding_model) "
        "VALUES ($1, $2, 'bench', 'all-MiniLM-L6-v2')",
        kb,
        owner,
    )
    await connection.close()
    started = time.perf_counter()
    await load_chunks(url, stack, owner, kb, chunks)
    print(f"loaded {chunks} chunks and built HNSW in {time.perf_counter() - started:.0f} s")
    questions = [q["text"] for q in load_jsonl(EVAL / "xquad-en" / "queries.jsonl")]
    rng = random.Random(11)  # noqa: S311 - synthetic data, not secrets
    rng.shuffle(questions)
    sample = questions[:queries]
    engine = create_engine(url)
    vectors = PgVectorStore(create_engine(url, pool_size=5), ef_search=EF_SEARCH)
    results = []
    try:
        fixed = Searcher(
            engine=engine,
            queries=QueryEmbeddings(
                FixedEmbedder([_unit(rng) for _ in range(len(sample))]), size=1
            ),
            vectors=vectors,
            near_exact=0.95,
            full_text_budget=FULL_TEXT_BUDGET,
        )
        for warm in sample[:20]:
            await fixed.search(owner, pb.SearchRequest(query=warm, knowledge_base_ids=[kb]))
        for name, mode in (
            ("vector only, excluding embedding", search_pb2.SEARCH_MODE_VECTOR),
            ("full-text only", search_pb2.SEARCH_MODE_FULL_TEXT),
            ("hybrid, excluding embedding", search_pb2.SEARCH_MODE_HYBRID),
        ):
            results.append((name, await time_searches(fixed, owner, kb, sample, mode)))
        model = LocalEmbedder("all-MiniLM-L6-v2", default_model_path(), batch_size=32)
        await model.embed(["warm up"])
        real = Searcher(
            engine=engine,
            queries=QueryEmbeddings(model, size=1),
            vectors=vectors,
            near_exact=0.95,
            full_text_budget=FULL_TEXT_BUDGET,
        )
        results.append(
            (
                "hybrid, including embedding",
                await time_searches(real, owner, kb, sample, search_pb2.SEARCH_MODE_HYBRID),
            )
        )
        embed_only = []
        for query in sample:
            began = time.perf_counter()
            await model.embed([query + " ?"])
            embed_only.append((time.perf_counter() - began) * 1000)
        results.append(("query embedding alone", embed_only))
    finally:
        await vectors.close()
        await engine.dispose()
    plans = await explain_plans(url, owner, kb, sample[0], _unit(rng), EF_SEARCH)
    return results, plans


# ---- indexing throughput -------------------------------------------------------------------


async def indexing_throughput(stack: Stack, documents: int, storage: Path) -> list[tuple[str, str]]:
    passages = load_jsonl(EVAL / "xquad-en" / "corpus.jsonl")
    per_document = max(1, len(passages) // documents)
    files = []
    for number in range(documents):
        group = passages[number * per_document : (number + 1) * per_document]
        text = "\n\n".join(f"# {p['title']}\n\n{p['text']}" for p in group)
        files.append((f"part-{number}.md", text.encode()))
    url = await new_database(stack, "indexing")
    owner = await register(stack)
    async with rag_server(stack, url, storage, indexer_concurrency=2) as (_, stub):
        kb = await create_knowledge_base(stub, owner, "indexing")
        model = LocalEmbedder("all-MiniLM-L6-v2", default_model_path(), batch_size=32)
        await model.embed(["warm up"])  # the process-wide model, loaded before timing
        started = time.perf_counter()
        done = await upload_all(stub, owner, kb, files)
        elapsed = time.perf_counter() - started
        chunks = sum(d.chunk_count for d in done.values())
        failed = [
            name for name, d in done.items() if d.status != document_pb2.DOCUMENT_STATUS_READY
        ]
        texts = [p["text"] for p in passages[:256]]
        began = time.perf_counter()
        await model.embed(texts)
        raw = len(texts) / (time.perf_counter() - began)
    return [
        ("documents / chunks indexed", f"{len(done) - len(failed)} / {chunks}"),
        ("upload → all READY (s)", f"{elapsed:.1f}"),
        ("indexing, end to end (chunks/s)", f"{chunks / elapsed:.0f}"),
        ("model alone, batches of 32 passages (texts/s)", f"{raw:.0f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--documents", type=int, default=24)
    args = parser.parse_args()

    async def run(stack: Stack, state: Path) -> None:
        latency, plans = await search_latency(stack, args.chunks, args.queries)
        throughput = await indexing_throughput(stack, args.documents, state / "objects")
        print(
            f"\n### Search latency at {args.chunks:,} chunks ({args.queries} queries, 1 at a time)\n"
        )
        print("| what | p50 ms | p99 ms | mean ms |")
        print("|---|---|---|---|")
        for name, values in latency:
            print(
                f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 99):.1f} "
                f"| {statistics.fmean(values):.1f} |"
            )
        print("\n### Query plans (EXPLAIN ANALYZE, one question)\n")
        print("| leg | plan |")
        print("|---|---|")
        for name, value in plans:
            print(f"| {name} | {value} |")
        print("\n### Indexing with the local model (all-MiniLM-L6-v2, CPU)\n")
        print("| what | value |")
        print("|---|---|")
        for name, value in throughput:
            print(f"| {name} | {value} |")

    with tempfile.TemporaryDirectory(prefix="inbetwin-bench-rag-") as state:
        stack = Stack(Path(state), services=("auth",), edge=False)
        stack.start()
        try:
            uvloop.run(run(stack, Path(state)))
        finally:
            stack.stop()
            stack.remove_external_data()


if __name__ == "__main__":
    main()
