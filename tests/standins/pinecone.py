"""A local Pinecone index data plane for tests: the REST wire format the official SDK speaks.

Serves `POST /vectors/upsert` (`{"vectors": [{"id", "values", "metadata"}], "namespace"}` →
`{"upsertedCount"}`), `POST /query` (`{"vector", "topK", "namespace", "filter",
"includeMetadata", "includeValues"}` → `{"matches": [{"id", "score", ...}], "namespace",
"usage"}`, cosine metric), `POST /vectors/delete` (`ids`, `filter` or `deleteAll` in one
namespace), `GET /vectors/fetch?ids=..&namespace=..` and `POST /describe_index_stats`. Every
request needs the `Api-Key` header. Metadata filters support `$eq $ne $in $nin $gt $gte $lt
$lte $and $or` and the implicit `{"field": value}` equality. A vector whose length is not the
index's dimension is refused with 400, as Pinecone does.

    with PineconeStandIn(dimension=384) as index:
        AsyncIndex(host=index.host, api_key=index.api_key)
"""

from __future__ import annotations

import functools
import json
import math
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    namespace: str
    body: dict[str, Any]


def matches_filter(metadata: dict[str, Any], condition: dict[str, Any]) -> bool:
    for key, expected in condition.items():
        if key == "$and":
            if not all(matches_filter(metadata, part) for part in expected):
                return False
        elif key == "$or":
            if not any(matches_filter(metadata, part) for part in expected):
                return False
        elif isinstance(expected, dict):
            if not all(_compare(metadata.get(key), op, value) for op, value in expected.items()):
                return False
        elif metadata.get(key) != expected:
            return False
    return True


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "$eq":
        return bool(actual == value)
    if op == "$ne":
        return bool(actual != value)
    if op == "$in":
        return actual in value
    if op == "$nin":
        return actual not in value
    if actual is None:
        return False
    if op == "$gt":
        return bool(actual > value)
    if op == "$gte":
        return bool(actual >= value)
    if op == "$lt":
        return bool(actual < value)
    if op == "$lte":
        return bool(actual <= value)
    raise ValueError(f"unsupported filter operator {op}")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class PineconeStandIn:
    def __init__(self, *, dimension: int, api_key: str = "pc-test-key") -> None:
        self.dimension = dimension
        self.api_key = api_key
        self._lock = threading.Lock()
        self._namespaces: dict[str, dict[str, tuple[list[float], dict[str, Any]]]] = {}
        self._requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> PineconeStandIn:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=functools.partial(server.serve_forever, poll_interval=0.05), daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PineconeStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def vectors(self, namespace: str) -> dict[str, tuple[list[float], dict[str, Any]]]:
        with self._lock:
            return dict(self._namespaces.get(namespace, {}))

    def namespaces(self) -> list[str]:
        with self._lock:
            return [name for name, vectors in self._namespaces.items() if vectors]

    def requests(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    # ---- operations (called by the handler under the lock) -----------------------------

    def _upsert(self, namespace: str, vectors: list[dict[str, Any]]) -> dict[str, Any]:
        for vector in vectors:
            if len(vector["values"]) != self.dimension:
                raise _BadRequestError(
                    f"Vector dimension {len(vector['values'])} does not match the dimension "
                    f"of the index {self.dimension}"
                )
        space = self._namespaces.setdefault(namespace, {})
        for vector in vectors:
            space[str(vector["id"])] = (list(vector["values"]), dict(vector.get("metadata", {})))
        return {"upsertedCount": len(vectors)}

    def _query(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        vector = body.get("vector")
        if not isinstance(vector, list) or len(vector) != self.dimension:
            raise _BadRequestError(f"query vector must have dimension {self.dimension}")
        condition = body.get("filter") or {}
        scored = [
            (identifier, _cosine(vector, values), values, metadata)
            for identifier, (values, metadata) in self._namespaces.get(namespace, {}).items()
            if matches_filter(metadata, condition)
        ]
        scored.sort(key=lambda item: -item[1])
        matches = []
        for identifier, score, values, metadata in scored[: int(body.get("topK", 10))]:
            match: dict[str, Any] = {"id": identifier, "score": score, "values": []}
            if body.get("includeValues"):
                match["values"] = values
            if body.get("includeMetadata"):
                match["metadata"] = metadata
            matches.append(match)
        return {"matches": matches, "namespace": namespace, "usage": {"readUnits": 5}}

    def _delete(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        space = self._namespaces.get(namespace, {})
        if body.get("deleteAll"):
            space.clear()
        elif "ids" in body:
            for identifier in body["ids"]:
                space.pop(str(identifier), None)
        elif body.get("filter"):
            for identifier in [
                key for key, (_, meta) in space.items() if matches_filter(meta, body["filter"])
            ]:
                del space[identifier]
        else:
            raise _BadRequestError("one of ids, filter or deleteAll is required")
        return {}

    def _stats(self) -> dict[str, Any]:
        namespaces = {
            name: {"vectorCount": len(vectors)} for name, vectors in self._namespaces.items()
        }
        return {
            "namespaces": namespaces,
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(len(v) for v in self._namespaces.values()),
            "metric": "cosine",
            "vectorType": "dense",
        }


class _BadRequestError(Exception):
    pass


def _handler_for(index: PineconeStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self) -> bool:
            if self.headers.get("Api-Key") == index.api_key:
                return True
            self._send(401, {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}})
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            namespace = query.get("namespace", [""])[0]
            with index._lock:
                index._requests.append(Request(url.path, namespace, {}))
                if url.path == "/vectors/fetch":
                    space = index._namespaces.get(namespace, {})
                    vectors = {
                        i: {"id": i, "values": space[i][0], "metadata": space[i][1]}
                        for i in query.get("ids", [])
                        if i in space
                    }
                    self._send(200, {"vectors": vectors, "namespace": namespace})
                elif url.path == "/describe_index_stats":
                    self._send(200, index._stats())
                else:
                    self._send(404, {"error": {"code": "NOT_FOUND", "message": url.path}})

        def do_POST(self) -> None:
            if not self._authorised():
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": {"code": "INVALID_ARGUMENT", "message": "bad JSON"}})
                return
            namespace = str(body.get("namespace", ""))
            operations = {
                "/vectors/upsert": lambda: index._upsert(namespace, body.get("vectors", [])),
                "/query": lambda: index._query(namespace, body),
                "/vectors/delete": lambda: index._delete(namespace, body),
                "/describe_index_stats": index._stats,
            }
            operation = operations.get(self.path)
            if operation is None:
                self._send(404, {"error": {"code": "NOT_FOUND", "message": self.path}})
                return
            with index._lock:
                index._requests.append(Request(self.path, namespace, body))
                try:
                    result = operation()
                except _BadRequestError as error:
                    self._send(400, {"error": {"code": "INVALID_ARGUMENT", "message": str(error)}})
                    return
            self._send(200, result)

    return Handler
