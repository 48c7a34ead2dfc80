"""The local embedding model is loaded by `warm_up` (before rag reports SERVING), so no request
pays the seconds a load takes; and it embeds offline into unit vectors."""

from __future__ import annotations

import math

from services.rag.embeddings import local
from services.rag.embeddings.local import LocalEmbedder, default_model_path


async def test_warm_up_loads_the_model_once_and_embedding_uses_it() -> None:
    embedder = LocalEmbedder("all-MiniLM-L6-v2", default_model_path(), batch_size=8)
    await embedder.warm_up()
    loaded = local._load.cache_info()
    assert loaded.currsize >= 1
    [vector] = await embedder.embed(["Где мой заказ? Where is my order?"])
    assert local._load.cache_info().misses == loaded.misses  # nothing loaded on the way
    assert len(vector) == 384
    assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-5)
