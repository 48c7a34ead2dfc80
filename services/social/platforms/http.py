"""HTTP calls to a platform API: transport failures become TransientError without the URL.

Platform URLs can carry credentials (Telegram puts the bot token in the path), and httpx's
exceptions repeat the URL, so the original exception is never chained.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from services.social.platforms.types import TransientError

# httpx logs every request URL at INFO, and some platform URLs contain a token.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


async def call(
    http: httpx.AsyncClient, method: str, url: str, *, platform: str, **kwargs: Any
) -> httpx.Response:
    try:
        return await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise TransientError(f"{platform} did not answer in time") from None
    except httpx.HTTPError as error:
        raise TransientError(f"cannot reach {platform} ({type(error).__name__})") from None


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when there is none."""
    try:
        return response.json()
    except ValueError:
        return None
