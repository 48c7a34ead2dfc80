"""Durable outgoing mail: queued in the transaction that decides to send it, sent afterwards.

A reset request is answered once its mail is committed to the queue, without waiting on SMTP (a
slow relay would otherwise tell which addresses have accounts), and a crash or an SMTP outage
loses nothing: the sender retries with backoff until the mail's
`discard_after` (when the link inside has expired anyway). The message holds a live reset link,
so it is stored encrypted and deleted once the relay has accepted it. Several instances may run:
rows are claimed with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.auth import repository
from services.auth.keys import KeyCipher
from services.auth.mail import MailError, SmtpMailer

log = logging.getLogger("inbetwin.auth.mail")

MAX_BACKOFF_SECONDS = 300.0


class MailQueue:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        cipher: KeyCipher,
        mailer: SmtpMailer,
        poll_interval: float = 1.0,
        batch_size: int = 20,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self._mailer = mailer
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def enqueue(
        self, conn: AsyncConnection, message: EmailMessage, *, discard_after: datetime
    ) -> None:
        """Queue inside the caller's transaction; call `notify()` after it commits."""
        mail_id = str(uuid.uuid4())
        await repository.insert_mail(
            conn,
            mail_id=mail_id,
            message_encrypted=self._cipher.encrypt(message.as_bytes(), mail_id.encode()),
            discard_after=discard_after,
        )

    def notify(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the pass, so a notify() arriving during it is not lost.
            self._wakeup.clear()
            try:
                sent = await self.send_due()
            except Exception:
                log.exception("mail sender failed; retrying")
                sent = 0
            if sent >= self._batch_size:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)

    async def send_due(self) -> int:
        """Try every mail that is due once; returns how many were handled."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            rows = await repository.claim_due_mail(conn, limit=self._batch_size)
            for row in rows:
                if row.discard_after <= now:
                    log.warning("mail discarded unsent", extra={"mail_id": row.id})
                    await repository.delete_mail(conn, mail_id=row.id)
                    continue
                message = BytesParser(policy=policy.default).parsebytes(
                    self._cipher.decrypt(row.message_encrypted, row.id.encode())
                )
                try:
                    await self._mailer.send(message)
                except MailError as error:
                    delay = min(MAX_BACKOFF_SECONDS, 2.0 ** (row.attempts + 1))
                    log.warning(
                        "mail not accepted; will retry",
                        extra={"mail_id": row.id, "retry_in_s": delay, "error": repr(error)},
                    )
                    await repository.postpone_mail(conn, mail_id=row.id, delay_seconds=delay)
                    continue
                await repository.delete_mail(conn, mail_id=row.id)
        return len(rows)
