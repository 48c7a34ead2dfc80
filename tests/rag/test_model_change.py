"""A new embedding model re-indexes instead of mixing vector spaces: the service restarted
with another model (and another provider: the Hugging Face inference API) re-embeds every
document and Q&A question, records the new model, and drops the old vectors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from inbetwin.rag.v1 import qa_pair_pb2, search_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from services.stack import Stack
from tests.rag.conftest import WAIT_SECONDS, new_database, running_rag
from tests.standins.embeddings import EmbeddingsStandIn


async def test_changing_the_model_reindexes_everything(
    platform: Stack, embeddings_api: EmbeddingsStandIn, owner: str, tmp_path: Path
) -> None:
    url = await new_database(platform, "model")
    common = {
        "storage_dir": tmp_path,
        "embeddings_api_key": embeddings_api.api_key,
        "embeddings_retries": 0,
    }
    async with running_rag(
        platform,
        url,
        embeddings_provider="openai",
        embeddings_model="hash-64",
        embeddings_base_url=embeddings_api.openai_base_url,
        **common,
    ) as old:
        kb = await old.create_knowledge_base(owner)
        document = await old.upload_and_wait(
            owner, kb, "tea.txt", b"Green tea is brewed at eighty degrees."
        )
        await old.stub.CreateQaPair(
            pb.CreateQaPairRequest(
                knowledge_base_id=kb,
                qa_pair=qa_pair_pb2.QaPair(
                    question="Do you sell oolong?", answer="Yes, three kinds."
                ),
            ),
            metadata=old.as_owner(owner),
        )
        assert document.embedding_model == "hash-64"

    async with running_rag(
        platform,
        url,
        embeddings_provider="huggingface",
        embeddings_model="hash-96",
        embeddings_base_url=embeddings_api.huggingface_base_url,
        **common,
    ) as new:
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            knowledge_base = (
                await new.stub.GetKnowledgeBase(
                    pb.GetKnowledgeBaseRequest(knowledge_base_id=kb), metadata=new.as_owner(owner)
                )
            ).knowledge_base
            if knowledge_base.embedding_model == "hash-96":
                break
            assert asyncio.get_running_loop().time() < deadline, knowledge_base
            await asyncio.sleep(0.05)
        reindexed = await new.document(owner, document.id)
        assert reindexed.embedding_model == "hash-96"
        assert reindexed.index_time.ToDatetime() > document.index_time.ToDatetime()
        found = await new.search(owner, "brewing green tea", mode=search_pb2.SEARCH_MODE_VECTOR)
        assert found.hits[0].citation.document_id == document.id
        answered = await new.search(owner, "do you sell OOLONG", mode=search_pb2.SEARCH_MODE_VECTOR)
        assert answered.hits[0].qa_pair.exact_match
        assert any(call.model == "hash-96" for call in embeddings_api.calls("huggingface"))

    connection = await asyncpg.connect(platform.postgres_dsn(url.rsplit("/", 1)[1]))
    try:
        models = await connection.fetch(
            "SELECT model, dims, count(*) AS n FROM embeddings GROUP BY 1, 2"
        )
    finally:
        await connection.close()
    assert [(row["model"], row["dims"]) for row in models] == [("hash-96", 96)]
    assert models[0]["n"] == reindexed.chunk_count + 1
