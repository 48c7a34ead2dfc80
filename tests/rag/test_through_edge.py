"""The knowledge base through the real Envoy edge (REST, JWT) with rag as its own process:
every document type uploaded as raw bytes, indexed through the bus, searched, downloaded and
deleted; bad uploads refused with the contract's reasons."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.rag import samples

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def edge(start_stack: StartStack, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return start_stack(
        services=("auth", "rag"),
        extra_env={
            "rag": {
                "INBETWIN_RAG_STORAGE_DIR": str(tmp_path_factory.mktemp("edge-objects")),
                "INBETWIN_RAG_MAX_UPLOAD_BYTES": str(2 * MIB),
            }
        },
    )


@pytest.fixture
async def client(edge: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge.rest_url, timeout=60) as rest:
        response = await rest.post(
            "/api/v1/auth/register",
            json={
                "email": f"edge-{uuid.uuid4().hex[:10]}@example.com",
                "password": "correct horse battery",
                "display_name": "Edge",
            },
        )
        assert response.status_code == 200, response.text
        token = response.json()["tokens"]["access_token"]
        rest.headers["Authorization"] = f"Bearer {token}"
        yield rest


def _reason(body: dict[str, Any]) -> str:
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    raise AssertionError(body)


async def _knowledge_base(client: httpx.AsyncClient) -> str:
    created = await client.post("/api/v1/rag/knowledge-bases", json={"display_name": "Edge KB"})
    assert created.status_code == 200, created.text
    return str(created.json()["knowledge_base"]["id"])


async def _wait(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        body = (await client.get(f"/api/v1/rag/documents/{document_id}")).json()["document"]
        if body["status"] in ("DOCUMENT_STATUS_READY", "DOCUMENT_STATUS_FAILED"):
            return dict(body)
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


CASES = {
    "a.txt": (b"Kayaks can be rented at the north pier.", "rent a kayak", "text/plain"),
    "b.md": (
        b"# Wifi\n\nThe guest wifi password is on the fridge.",
        "guest wifi password",
        "text/markdown",
    ),
    "c.html": (
        b"<h1>Pets</h1><p>Dogs are welcome in the garden cafe.</p>",
        "are dogs allowed",
        "text/html",
    ),
    "d.pdf": (
        samples.pdf([["Checkout time is eleven in the morning."]]),
        "checkout time",
        "application/pdf",
    ),
    "e.docx": (
        samples.docx([("Heading1", "Breakfast"), ("", "Breakfast is served until ten.")]),
        "breakfast until",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}


@pytest.mark.parametrize("file_name", list(CASES))
async def test_upload_index_search_download_delete_over_rest(
    client: httpx.AsyncClient, file_name: str
) -> None:
    data, query, content_type = CASES[file_name]
    kb = await _knowledge_base(client)
    uploaded = await client.post(
        f"/api/v1/rag/knowledge-bases/{kb}/documents:upload",
        params={"file_name": file_name},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["outcome"] == "UPLOAD_OUTCOME_CREATED"
    document = await _wait(client, uploaded.json()["document"]["id"])
    assert document["status"] == "DOCUMENT_STATUS_READY", document
    assert document["content_type"] == content_type

    found = await client.post(
        "/api/v1/rag/search", json={"query": query, "knowledge_base_ids": [kb]}
    )
    assert found.status_code == 200, found.text
    hit = found.json()["hits"][0]
    assert hit["citation"]["document_id"] == document["id"]
    assert hit["citation"]["file_name"] == file_name

    download = await client.get(f"/api/v1/rag/documents/{document['id']}:download")
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"].startswith(content_type)

    deleted = await client.delete(f"/api/v1/rag/documents/{document['id']}")
    assert deleted.status_code == 200, deleted.text
    after = await client.post(
        "/api/v1/rag/search", json={"query": query, "knowledge_base_ids": [kb]}
    )
    assert after.json().get("hits", []) == []


async def test_bad_uploads_over_rest(client: httpx.AsyncClient) -> None:
    kb = await _knowledge_base(client)
    url = f"/api/v1/rag/knowledge-bases/{kb}/documents:upload"
    image = await client.post(url, params={"file_name": "cat.pdf"}, content=samples.PNG)
    assert image.status_code == 400
    assert _reason(image.json()) == "UNSUPPORTED_CONTENT_TYPE"
    big = await client.post(url, params={"file_name": "big.txt"}, content=b"a" * (2 * MIB + 1))
    assert big.status_code == 400
    assert _reason(big.json()) == "DOCUMENT_TOO_LARGE"
    locked = await client.post(
        url, params={"file_name": "locked.pdf"}, content=samples.encrypted_pdf()
    )
    assert locked.status_code == 200
    failed = await _wait(client, locked.json()["document"]["id"])
    assert failed["failure_reason"] == "DOCUMENT_FAILURE_REASON_ENCRYPTED"
    anonymous = await httpx.AsyncClient(base_url=str(client.base_url)).get(
        "/api/v1/rag/knowledge-bases"
    )
    assert anonymous.status_code == 401
