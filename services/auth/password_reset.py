"""Password reset by email: a single-use link, valid `ttl`, whose token is stored only hashed.

Requesting answers the same whether or not the account exists; only an existing account gets a
mail. Resetting spends every outstanding token of the account, sets the password, marks the
email verified (the link proved the mailbox) and revokes every session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncEngine

from services.auth import repository
from services.auth.mail_queue import MailQueue
from services.auth.passwords import Passwords
from services.kit.errors import unauthenticated


class PasswordResets:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        mail: MailQueue,
        passwords: Passwords,
        ttl: timedelta,
        link_base: str,
        sender: str,
    ) -> None:
        self._engine = engine
        self._mail = mail
        self._passwords = passwords
        self._ttl = ttl
        self._link_base = link_base
        self._sender = sender

    async def request(self, *, email: str) -> None:
        """Queue a reset mail if an account has this (normalised) email; silent otherwise."""
        async with self._engine.begin() as conn:
            user = await repository.user_by_email(conn, email=email)
            if user is None:
                return
            token = secrets.token_urlsafe(32)
            expires_at = datetime.now(UTC) + self._ttl
            await repository.insert_reset_token(
                conn, user_id=user.id, token_hash=hash_reset_token(token), expires_at=expires_at
            )
            await self._mail.enqueue(
                conn, self._message(recipient=user.email, token=token), discard_after=expires_at
            )
        self._mail.notify()

    async def reset(self, *, token: str, new_password: str) -> str:
        """Set the password; returns the account's email. RESET_TOKEN_INVALID otherwise."""
        password_hash = await self._passwords.hash(new_password)
        async with self._engine.begin() as conn:
            row = await repository.lock_reset_token(conn, token_hash=hash_reset_token(token))
            if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
                raise unauthenticated(
                    "RESET_TOKEN_INVALID", "the reset link is unknown, used or expired"
                )
            await repository.spend_reset_tokens(conn, user_id=row.user_id)
            await repository.update_credentials(
                conn, user_id=row.user_id, password_hash=password_hash, email_verified=True
            )
            await repository.revoke_user_sessions(conn, user_id=row.user_id)
            user = await repository.user_by_id(conn, user_id=row.user_id)
        if user is None:
            raise RuntimeError("reset token of a deleted user")
        return str(user.email)

    def _message(self, *, recipient: str, token: str) -> EmailMessage:
        link = f"{self._link_base}?{urlencode({'token': token})}"
        minutes = int(self._ttl.total_seconds() // 60)
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = recipient
        message["Subject"] = "Reset your inBeTwin password"
        message.set_content(
            "Someone (hopefully you) asked to reset the password of your inBeTwin account.\n\n"
            f"Set a new password here (the link works once, for {minutes} minutes):\n\n"
            f"{link}\n\n"
            "If you did not ask for this, ignore this mail: your password stays as it is.\n"
        )
        return message


def hash_reset_token(token: str) -> bytes:
    # 256 random bits: a fast hash suffices, there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()
