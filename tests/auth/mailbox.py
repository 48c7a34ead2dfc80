"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class Received:
    recipients: tuple[str, ...]
    message: EmailMessage


class Mailbox:
    """Runs aiosmtpd on its own event loop in a thread, on a free port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    def __enter__(self) -> Mailbox:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result(timeout=10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _listen(self) -> asyncio.Server:
        return await self._loop.create_server(
            lambda: SMTP(self, hostname="mailbox.test"), "127.0.0.1", 0
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._received.append(Received(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self._received if address in r.recipients]

    async def wait_for(self, address: str, *, count: int = 1, within: float = 15.0) -> EmailMessage:
        """The `count`-th message to `address`, waiting for it to arrive."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            messages = self.messages_to(address)
            if len(messages) >= count:
                return messages[count - 1]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no message #{count} to {address} within {within} s")
            await asyncio.sleep(0.05)
