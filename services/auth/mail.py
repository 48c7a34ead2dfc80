"""Sending mail over SMTP (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Literal

import aiosmtplib

MailError = (aiosmtplib.SMTPException, OSError)


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Literal["starttls", "tls", "none"],
        username: str,
        password: str,
        timeout_seconds: float,
    ) -> None:
        self._host = host
        self._port = port
        self._security = security
        self._username = username or None
        self._password = password or None
        self._timeout = timeout_seconds

    async def send(self, message: EmailMessage) -> None:
        """Deliver to the relay; raises one of `MailError` when it does not accept the message."""
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            use_tls=self._security == "tls",
            start_tls=self._security == "starttls",
            username=self._username,
            password=self._password,
            timeout=self._timeout,
        )
