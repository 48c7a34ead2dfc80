"""rag's wiring: stores, embedder, the indexing consumer, the re-embedding pass, the servicer."""

from __future__ import annotations

import grpc
from inbetwin.events.v1 import rag_events_pb2
from inbetwin.rag.v1 import rag_service_pb2, rag_service_pb2_grpc

from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.rag.document_changes import DocumentChanges
from services.rag.embeddings.factory import create_embedder
from services.rag.entitlements import Entitlements
from services.rag.indexing import Indexer, consumer_spec
from services.rag.qa import QaPairs
from services.rag.reembedding import Reembedder
from services.rag.search import QueryEmbeddings, Searcher
from services.rag.service import RagServicer
from services.rag.settings import RagSettings
from services.rag.storage.factory import create_object_store
from services.rag.uploads import Uploads
from services.rag.vectors.factory import create_vector_store
from services.rag.watch import Watches

SERVICE_NAMES = (rag_service_pb2.DESCRIPTOR.services_by_name["RagService"].full_name,)


async def wire(server: grpc.aio.Server, settings: RagSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="rag")
    objects = create_object_store(settings)
    embedder = create_embedder(settings)
    await embedder.warm_up()
    vectors = create_vector_store(settings)
    changes = DocumentChanges(settings.database_url)
    await changes.start()
    entitlements = Entitlements(settings.auth_addr, timeout=settings.entitlements_timeout_seconds)
    indexer = Indexer(
        engine=runtime.engine,
        relay=runtime.relay,
        objects=objects,
        embedder=embedder,
        vectors=vectors,
        settings=settings,
    )
    runtime.bus.consume(consumer_spec(settings), rag_events_pb2.DocumentUploaded, indexer.handle)
    reembedder = Reembedder(
        engine=runtime.engine, relay=runtime.relay, embedder=embedder, vectors=vectors
    )
    reembedder.start()
    servicer = RagServicer(
        engine=runtime.engine,
        relay=runtime.relay,
        objects=objects,
        vectors=vectors,
        uploads=Uploads(
            engine=runtime.engine,
            relay=runtime.relay,
            objects=objects,
            vectors=vectors,
            entitlements=entitlements,
            max_bytes=settings.max_upload_bytes,
        ),
        qa_pairs=QaPairs(
            engine=runtime.engine, embedder=embedder, vectors=vectors, entitlements=entitlements
        ),
        searcher=Searcher(
            engine=runtime.engine,
            queries=QueryEmbeddings(embedder),
            vectors=vectors,
            near_exact=settings.near_exact_similarity,
            uncovered_vector_weight=settings.uncovered_language_vector_weight,
            full_text_budget=settings.full_text_candidates,
        ),
        watches=Watches(
            engine=runtime.engine,
            redis=runtime.redis,
            changes=changes,
            max_per_owner=settings.max_watches_per_owner,
            fallback_poll_seconds=settings.watch_fallback_poll_seconds,
        ),
        embedding_model=embedder.model,
        max_knowledge_bases=settings.max_knowledge_bases_per_owner,
    )
    rag_service_pb2_grpc.add_RagServiceServicer_to_server(servicer, server)
    # Closed in reverse: the bus stops consuming (runtime) before the stores it feeds close.
    return [
        entitlements.close,
        vectors.close,
        embedder.close,
        objects.close,
        servicer.drain,
        changes.close,
        reembedder.stop,
        runtime.close,
    ]
