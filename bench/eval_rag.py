"""Retrieval quality on the labeled XQuAD sets in ../shared/fixtures/eval/ (English and Russian,
parallel; CC BY-SA 4.0, see their SOURCE.md): recall@1, recall@5 and MRR@10 for vector-only,
full-text-only and hybrid search, per language, and Russian questions over the English corpus.

Starts its own infrastructure and an in-process rag server with the default configuration
(local all-MiniLM-L6-v2, pgvector, Postgres full-text with Russian/English stemming). Each
passage is uploaded as a Markdown document (`# title` + text) and indexed through the real
path (bus, extraction, chunking, embedding); each question is asked through the Search RPC
and its hits are mapped back to passages (first hit of each passage counts).

    make eval-rag            # or: python -m bench.eval_rag --limit 200
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import uvloop
from inbetwin.rag.v1 import rag_service_pb2 as pb
from inbetwin.rag.v1 import rag_service_pb2_grpc, search_pb2

from bench.rag import (
    EVAL,
    create_knowledge_base,
    load_jsonl,
    new_database,
    rag_server,
    register,
    upload_all,
)
from services.stack import Stack

MODES = (
    ("vector", search_pb2.SEARCH_MODE_VECTOR),
    ("full-text", search_pb2.SEARCH_MODE_FULL_TEXT),
    ("hybrid", search_pb2.SEARCH_MODE_HYBRID),
)
CONCURRENCY = 4


@dataclass(frozen=True)
class Scores:
    recall_1: float
    recall_5: float
    mrr_10: float
    queries: int


def score(rankings: Sequence[list[str]], relevant: Sequence[set[str]]) -> Scores:
    r1 = r5 = mrr = 0.0
    for ranked, wanted in zip(rankings, relevant, strict=True):
        r1 += any(p in wanted for p in ranked[:1])
        r5 += any(p in wanted for p in ranked[:5])
        for position, passage in enumerate(ranked[:10], start=1):
            if passage in wanted:
                mrr += 1 / position
                break
    n = len(rankings)
    return Scores(r1 / n, r5 / n, mrr / n, n)


async def rankings(
    stub: rag_service_pb2_grpc.RagServiceStub,
    owner: str,
    kb: str,
    passage_of: dict[str, str],
    questions: Sequence[str],
    mode: int,
) -> list[list[str]]:
    meta = (("x-user-id", owner),)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(question: str) -> list[str]:
        async with gate:
            response = await stub.Search(
                pb.SearchRequest(query=question, knowledge_base_ids=[kb], top_k=50, mode=mode),  # type: ignore[arg-type]
                metadata=meta,
            )
        ranked: list[str] = []
        for hit in response.hits:
            passage = passage_of.get(hit.citation.document_id)
            if passage and passage not in ranked:
                ranked.append(passage)
        return ranked

    return list(await asyncio.gather(*(ask(question) for question in questions)))


async def evaluate(
    stack: Stack, state: Path, limit: int, overrides: dict[str, str]
) -> list[tuple[str, str, Scores]]:
    url = await new_database(stack, "eval")
    owner = await register(stack)
    results = []
    async with rag_server(stack, url, state / "objects", **overrides) as (_, stub):
        corpora: dict[str, tuple[str, dict[str, str]]] = {}
        for language in ("en", "ru"):
            passages = load_jsonl(EVAL / f"xquad-{language}" / "corpus.jsonl")
            kb = await create_knowledge_base(stub, owner, f"xquad-{language}")
            files = [(f"{p['id']}.md", f"# {p['title']}\n\n{p['text']}".encode()) for p in passages]
            documents = await upload_all(stub, owner, kb, files)
            failed = [name for name, d in documents.items() if d.status != 3]
            if failed:
                raise RuntimeError(f"passages failed to index: {failed[:5]}")
            corpora[language] = (kb, {d.id: name[:-3] for name, d in documents.items()})
        for label, questions_language, corpus_language in (
            ("EN → EN", "en", "en"),
            ("RU → RU", "ru", "ru"),
            ("RU → EN", "ru", "en"),
        ):
            queries = load_jsonl(EVAL / f"xquad-{questions_language}" / "queries.jsonl")[:limit]
            kb, passage_of = corpora[corpus_language]
            questions = [q["text"] for q in queries]
            relevant = [set(q["relevant"]) for q in queries]
            for name, mode in MODES:
                ranked = await rankings(stub, owner, kb, passage_of, questions, mode)
                results.append((label, name, score(ranked, relevant)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0, help="questions per set (0: all 1190)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a rag setting to override, e.g. uncovered_language_vector_weight=0.1",
    )
    args = parser.parse_args()
    limit = args.limit or None
    overrides = dict(item.split("=", 1) for item in args.set)

    with tempfile.TemporaryDirectory(prefix="inbetwin-eval-rag-") as state:
        stack = Stack(Path(state), services=("auth",), edge=False)
        stack.start()
        try:
            results = uvloop.run(evaluate(stack, Path(state), limit or 10**9, overrides))
        finally:
            stack.stop()
            stack.remove_external_data()
    print("\n| questions → corpus | mode | recall@1 | recall@5 | MRR@10 | questions |")
    print("|---|---|---|---|---|---|")
    for label, mode, scores in results:
        print(
            f"| {label} | {mode} | {scores.recall_1:.3f} | {scores.recall_5:.3f} "
            f"| {scores.mrr_10:.3f} | {scores.queries} |"
        )


if __name__ == "__main__":
    main()
