"""A local embeddings provider for tests, speaking two wire formats:

* OpenAI's `POST /v1/embeddings` (`{"model", "input": str | [str], "encoding_format"}` →
  `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
  "usage"}`; `encoding_format: "base64"` gives little-endian float32 as base64), with OpenAI's
  `{"error": {...}}` bodies;
* the Hugging Face inference API's feature extraction, `POST
  /hf-inference/models/{model}/pipeline/feature-extraction` (and without the `/hf-inference`
  prefix), `{"inputs": str | [str]}` → one vector per input, and `{"error": ...}` otherwise.

Both need `Authorization: Bearer <api_key>`. The vectors are a hashed bag of words (each word
adds ±1 to one coordinate, then unit length): texts sharing words are similar, so retrieval
through it is meaningful. The dimension is the model name's trailing number (`hash-96`), else
64.

    with EmbeddingsStandIn(api_key="k") as provider:
        provider.fail_next(3, status=503)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import struct
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_WORD = re.compile(r"[^\W_]+")
_HF_PATH = re.compile(r"^(?:/hf-inference)?/models/(?P<model>.+)/pipeline/feature-extraction$")
DEFAULT_DIMS = 64


def dimensions(model: str) -> int:
    match = re.search(r"-(\d+)$", model)
    return int(match.group(1)) if match else DEFAULT_DIMS


def hashed_embedding(text: str, dims: int) -> list[float]:
    vector = [0.0] * dims
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dims] += 1.0 if value >> 63 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if not norm:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


@dataclass(frozen=True, slots=True)
class Call:
    api: str  # "openai" or "huggingface"
    model: str
    inputs: tuple[str, ...]


class EmbeddingsStandIn:
    def __init__(self, *, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: deque[int] = deque()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> EmbeddingsStandIn:
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

    def __enter__(self) -> EmbeddingsStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def huggingface_base_url(self) -> str:
        return f"{self.base_url}/hf-inference"

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """The next `count` requests answer `status` with the API's error body (0 clears)."""
        with self._lock:
            self._failures.clear()
            self._failures.extend([status] * count)

    def calls(self, api: str | None = None) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if api is None or call.api == api]

    def _record(self, call: Call) -> int | None:
        with self._lock:
            self._calls.append(call)
            return self._failures.popleft() if self._failures else None


def _handler_for(stand_in: EmbeddingsStandIn) -> type[BaseHTTPRequestHandler]:
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

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            hf = _HF_PATH.match(self.path)
            api = "huggingface" if hf else "openai" if self.path == "/v1/embeddings" else ""
            if not api:
                self._send(404, {"error": f"no route {self.path}"})
                return
            if self.headers.get("Authorization") != f"Bearer {stand_in.api_key}":
                self._error(api, 401, "Invalid credentials in Authorization header")
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(api, 400, "body is not JSON")
                return
            model = hf.group("model") if hf else str(body.get("model", ""))
            texts = body.get("inputs" if hf else "input")
            texts = [texts] if isinstance(texts, str) else texts
            if not model or not isinstance(texts, list) or not texts:
                self._error(api, 400, "model and a non-empty input are required")
                return
            failure = stand_in._record(Call(api, model, tuple(str(t) for t in texts)))
            if failure is not None:
                self._error(api, failure, "the stand-in was told to fail")
                return
            vectors = [hashed_embedding(str(text), dimensions(model)) for text in texts]
            if hf:
                self._send(200, vectors)
                return
            as_base64 = body.get("encoding_format") == "base64"
            data = [
                {
                    "object": "embedding",
                    "index": index,
                    "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
                    if as_base64
                    else v,
                }
                for index, v in enumerate(vectors)
            ]
            tokens = sum(len(_WORD.findall(str(text))) for text in texts)
            self._send(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def _error(self, api: str, status: int, message: str) -> None:
            if api == "huggingface":
                body: dict[str, Any] = {"error": message}
                if status == 503:
                    body["estimated_time"] = 0.05
                self._send(status, body)
                return
            self._send(
                status,
                {"error": {"message": message, "type": "invalid_request_error", "code": None}},
            )

    return Handler
