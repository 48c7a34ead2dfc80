"""A local OpenAI-compatible API for tests: the real wire format, scripted per test.

Serves `POST /v1/chat/completions` (plain JSON or `stream: true` server-sent events: `data:`
lines of `chat.completion.chunk` objects, tool-call deltas split across chunks, a usage chunk
when `stream_options.include_usage`, then `data: [DONE]`), `POST /v1/moderations` and
`GET /v1/models`, with OpenAI's error bodies (`{"error": {...}}`) and `retry-after-ms` on 429s.

Each chat request takes the next scripted step whose `when` text appears in the request's
messages (or that has none); with nothing scripted it answers `default_reply(request)`.

    with OpenAIStandIn() as api:
        api.script(ToolCalls([("save_user_info", '{"name": "Ann"}')]), Reply("Saved!"))
        api.script(Fail(500), when="price")
        client = AsyncOpenAI(base_url=api.base_url, api_key="test")
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A final answer. `finish_reason` "length" marks an answer cut by max_tokens."""

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class ToolCalls:
    """Tool calls, each (name, arguments as written, which may be malformed JSON)."""

    calls: Sequence[tuple[str, str]]
    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Fail:
    """An HTTP error with OpenAI's error body; 429 carries `retry-after-ms`."""

    status: int
    message: str = ""
    retry_after_ms: int = 10


@dataclass
class Hang:
    """Hold the request until `release()` (or 60 s), then answer `then`."""

    then: Reply | ToolCalls | Fail
    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


Step = Reply | ToolCalls | Fail | Hang


@dataclass
class _Script:
    when: str | None
    steps: deque[Step]


def echo_reply(request: dict[str, Any]) -> Reply:
    """The default: a short answer quoting the latest user message."""
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    last = str(users[-1].get("content", "")) if users else ""
    return Reply(f"Stand-in answer to: {last[:200]}")


class OpenAIStandIn:
    """The API on 127.0.0.1 (a free port), served from a background thread."""

    def __init__(self, *, default_reply: Callable[[dict[str, Any]], Step] = echo_reply) -> None:
        self.default_reply = default_reply
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self._chat_requests: list[dict[str, Any]] = []
        self._moderation_inputs: list[str] = []
        self.moderation_flags: dict[str, str] = {
            "idiot": "harassment",
            "kill yourself": "self-harm",
        }
        self.moderation_failure: Fail | None = None
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> OpenAIStandIn:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.request_queue_size = 256
        self._server = server
        self._thread = threading.Thread(
            target=functools.partial(server.serve_forever, poll_interval=0.05),
            name="openai-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            hanging = [s for script in self._scripts for s in script.steps if isinstance(s, Hang)]
        for step in hanging:
            step.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self.url_with_prefix("")

    def url_with_prefix(self, prefix: str) -> str:
        """A base URL under `prefix` (e.g. `/flaky`): another endpoint with its own breaker."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{prefix}/v1"

    def script(self, *steps: Step, when: str | None = None) -> None:
        """Queue answers for the next chat requests (those mentioning `when`, if given)."""
        with self._lock:
            self._scripts.append(_Script(when, deque(steps)))

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._chat_requests.clear()
            self._moderation_inputs.clear()
            self.moderation_failure = None

    def chat_requests(self, containing: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                r
                for r in self._chat_requests
                if containing is None or containing in json.dumps(r, ensure_ascii=False)
            ]

    def moderation_inputs(self) -> list[str]:
        with self._lock:
            return list(self._moderation_inputs)

    def pending_steps(self) -> int:
        with self._lock:
            return sum(len(script.steps) for script in self._scripts)

    def next_step(self, request: dict[str, Any]) -> Step:
        text = json.dumps(request.get("messages", []), ensure_ascii=False)
        with self._lock:
            self._chat_requests.append(request)
            for script in self._scripts:
                if script.steps and (script.when is None or script.when in text):
                    return script.steps.popleft()
        return self.default_reply(request)

    def moderate(self, inputs: list[str]) -> dict[str, Any] | Fail:
        with self._lock:
            self._moderation_inputs.extend(inputs)
            if self.moderation_failure is not None:
                return self.moderation_failure
        results = []
        for text in inputs:
            hits = {cat for word, cat in self.moderation_flags.items() if word in text.lower()}
            categories = {name: name in hits for name in _MODERATION_CATEGORIES}
            results.append(
                {
                    "flagged": bool(hits),
                    "categories": categories,
                    "category_scores": {n: 0.99 if v else 0.01 for n, v in categories.items()},
                    "category_applied_input_types": {n: ["text"] for n in categories},
                }
            )
        return {
            "id": f"modr-{next(self._ids)}",
            "model": "omni-moderation-latest",
            "results": results,
        }

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"


_MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def _usage(request: dict[str, Any], step: Reply | ToolCalls) -> dict[str, int]:
    prompt = step.prompt_tokens
    if prompt is None:
        prompt = max(1, len(json.dumps(request.get("messages", []), ensure_ascii=False)) // 4)
    completion = step.completion_tokens
    if completion is None:
        written = step.text + "".join(a for _, a in getattr(step, "calls", ()))
        completion = max(1, len(written) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _tool_calls(standin: OpenAIStandIn, step: ToolCalls) -> list[dict[str, Any]]:
    return [
        {
            "id": standin.new_id("call"),
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        for name, arguments in step.calls
    ]


def _completion(
    standin: OpenAIStandIn, request: dict[str, Any], step: Reply | ToolCalls
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
    finish = "stop"
    if isinstance(step, ToolCalls):
        message["tool_calls"] = _tool_calls(standin, step)
        finish = "tool_calls"
    else:
        finish = step.finish_reason
    return {
        "id": standin.new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(request, step),
    }


def _chunks(
    standin: OpenAIStandIn, request: dict[str, Any], step: Reply | ToolCalls
) -> list[dict[str, Any]]:
    base = {
        "id": standin.new_id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", ""),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    words = step.text.split(" ")
    for index, word in enumerate(words):
        if word or index:
            chunks.append(chunk({"content": (" " if index else "") + word}))
    finish = "stop"
    if isinstance(step, ToolCalls):
        finish = "tool_calls"
        for index, call in enumerate(_tool_calls(standin, step)):
            function = call["function"]
            head = {"index": index, "id": call["id"], "type": "function"}
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            {**head, "function": {"name": function["name"], "arguments": ""}}
                        ]
                    }
                )
            )
            arguments = function["arguments"]
            middle = len(arguments) // 2
            for piece in (arguments[:middle], arguments[middle:]):
                if piece:
                    chunks.append(
                        chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                    )
    else:
        finish = step.finish_reason
    chunks.append(chunk({}, finish))
    if (request.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(request, step)})
    return chunks


def _error_body(failure: Fail) -> dict[str, Any]:
    kinds = {429: "rate_limit_error", 400: "invalid_request_error", 401: "authentication_error"}
    return {
        "error": {
            "message": failure.message or f"stand-in error {failure.status}",
            "type": kinds.get(failure.status, "server_error"),
            "param": None,
            "code": "rate_limit_exceeded" if failure.status == 429 else None,
        }
    }


def _handler_for(standin: OpenAIStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]})
                return
            self._json(404, _error_body(Fail(404, "not found")))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._json(400, _error_body(Fail(400, "body is not JSON")))
                return
            path = self.path.split("?")[0].rstrip("/")
            # Any prefix before the API paths: several "endpoints" can share one stand-in.
            if path.endswith("/chat/completions"):
                self._chat(body)
            elif path.endswith("/moderations"):
                raw = body.get("input", "")
                answer = standin.moderate([raw] if isinstance(raw, str) else list(raw))
                if isinstance(answer, Fail):
                    self._fail(answer)
                else:
                    self._json(200, answer)
            else:
                self._json(404, _error_body(Fail(404, f"unknown path {path}")))

        def _chat(self, request: dict[str, Any]) -> None:
            if not request.get("model") or not isinstance(request.get("messages"), list):
                self._json(400, _error_body(Fail(400, "model and messages are required")))
                return
            step = standin.next_step(request)
            if isinstance(step, Hang):
                step.entered.set()
                step.released.wait(60)
                step = step.then
            if isinstance(step, Fail):
                self._fail(step)
                return
            if request.get("stream"):
                self._stream(_chunks(standin, request, step))
            else:
                self._json(200, _completion(standin, request, step))

        def _fail(self, failure: Fail) -> None:
            extra = {}
            if failure.status == 429:
                extra = {
                    "retry-after-ms": str(failure.retry_after_ms),
                    "retry-after": str(max(1, failure.retry_after_ms // 1000)),
                }
            self._json(failure.status, _error_body(failure), extra)

        def _json(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, chunks: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:
                self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
            self._write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
