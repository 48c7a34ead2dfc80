"""Search in a language the embedding model does not cover: the local model is English-only,
so a Russian question is answered by Russian full-text search (stemmed) instead of being fused
with near-random vectors, and the response says so; English questions stay hybrid."""

from __future__ import annotations

from inbetwin.rag.v1 import document_pb2, search_pb2

from tests.rag.conftest import Rag

DELIVERY = """
# Доставка

Курьер привозит заказы по Москве на следующий день после оплаты.
"""
RETURNS = """
# Возврат

Неподошедший товар можно вернуть в течение четырнадцати дней.
"""
ENGLISH_TEXT = """
# Delivery

The courier brings orders across Moscow the day after payment.

# Returns

Goods that do not fit can be returned within fourteen days.
"""


async def test_a_russian_question_uses_full_text_and_an_english_one_hybrid(
    local_rag: Rag, owner: str
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    delivery = await local_rag.upload_and_wait(owner, kb, "delivery.md", DELIVERY.encode())
    returns = await local_rag.upload_and_wait(owner, kb, "returns.md", RETURNS.encode())
    english = await local_rag.upload_and_wait(owner, kb, "en.md", ENGLISH_TEXT.encode())
    ready = document_pb2.DOCUMENT_STATUS_READY
    assert delivery.status == returns.status == english.status == ready

    asked = await local_rag.search(owner, "Когда курьер привезёт заказы?", top_k=3)
    assert asked.effective_mode == search_pb2.SEARCH_MODE_FULL_TEXT
    # Only full-text matches: the vector leg, which would add the rest, was left out.
    assert [hit.citation.document_id for hit in asked.hits] == [delivery.id]
    assert asked.hits[0].citation.heading == "Доставка"

    asked = await local_rag.search(owner, "Можно ли вернуть товар?", top_k=3)
    assert asked.effective_mode == search_pb2.SEARCH_MODE_FULL_TEXT
    assert [hit.citation.document_id for hit in asked.hits] == [returns.id]

    english_question = await local_rag.search(owner, "When does the courier come?", top_k=3)
    assert english_question.effective_mode == search_pb2.SEARCH_MODE_HYBRID
    assert english_question.hits[0].citation.document_id == english.id

    # Asked for explicitly, vector search still runs (and is as weak as the model is).
    vector_only = await local_rag.search(
        owner, "Когда курьер привезёт заказ?", mode=search_pb2.SEARCH_MODE_VECTOR
    )
    assert vector_only.effective_mode == search_pb2.SEARCH_MODE_VECTOR
    assert vector_only.hits
