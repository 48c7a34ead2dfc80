"""One outbound HTTP exchange of a tool: redirects followed by hand (each hop through the
guarded client), the body read up to a cap, failures turned into tool reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from services.agent.destinations import ForbiddenDestinationError, UnresolvableError
from services.agent.tools.outcome import ToolFailure

REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: httpx.Headers
    body: bytes


async def exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - per-request timeout handed to the client
    max_bytes: int,
    max_redirects: int = 3,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    params: dict[str, Any] | None = None,
    sign: Callable[[bytes], dict[str, str]] | None = None,
) -> HttpAnswer:
    """`sign` gives headers for the body actually sent, on every hop (a 303 drops the body)."""
    for _ in range(max_redirects + 1):
        if sign is not None:
            headers = {**(headers or {}), **sign(content or b"")}
        try:
            async with client.stream(
                method, url, headers=headers, content=content, params=params, timeout=timeout
            ) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = urljoin(str(response.url), location)
                    params = None
                    if response.status_code in (301, 302, 303) and method != "HEAD":
                        method, content = "GET", None
                        if headers:
                            headers = {
                                k: v for k, v in headers.items() if k.lower() != "content-type"
                            }
                    continue
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise ToolFailure(
                            "TOOL_RESPONSE_TOO_LARGE",
                            f"the tool's answer is larger than {max_bytes} bytes",
                        )
                return HttpAnswer(response.status_code, response.headers, bytes(body))
        except ForbiddenDestinationError:
            raise ToolFailure(
                "TOOL_DESTINATION_FORBIDDEN",
                "the tool's address (or a redirect) points to a forbidden network",
                rejected=True,
            ) from None
        except UnresolvableError:
            raise ToolFailure(
                "TOOL_UPSTREAM_ERROR", "the tool's host name does not resolve"
            ) from None
        except httpx.TimeoutException:
            raise ToolFailure("TOOL_TIMEOUT", "the tool did not answer in time") from None
        except httpx.HTTPError as error:
            raise ToolFailure(
                "TOOL_UPSTREAM_ERROR", f"the tool could not be reached ({type(error).__name__})"
            ) from None
    raise ToolFailure("TOOL_UPSTREAM_ERROR", f"more than {max_redirects} redirects")
