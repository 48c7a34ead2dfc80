"""From a verified provider identity to an account: find it, link it, or create it.

1. An identity already linked signs in to its account, whatever its email says today.
2. Otherwise the email decides. An existing account is linked only when the provider vouches
   for the email. If that account's own email was never verified, whoever set up its
   credentials never proved they own the mailbox (an attacker can pre-register a victim's
   address), so the verified owner takes it over: its password and its other identities are
   dropped and its sessions revoked.
3. No account with that email: one is created, verified if the provider vouches for the email.
"""

from __future__ import annotations

from typing import Any

from inbetwin.events.v1 import auth_events_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.auth import repository
from services.auth.emails import normalise_email
from services.auth.oauth.providers import ProviderIdentity
from services.kit.errors import unauthenticated
from services.kit.events import new_event
from services.kit.outbox import add_event

MAX_DISPLAY_NAME = 100


async def account_for(
    conn: AsyncConnection, *, identity: ProviderIdentity
) -> tuple[Row[Any], bool]:
    """The account `identity` signs in to, and whether it was created now."""
    email = normalise_email(identity.email) if identity.email else None
    identity_key = f"oauth:{identity.provider}:{identity.subject}"
    await repository.lock_sign_in(conn, keys=[identity_key, *([f"email:{email}"] if email else [])])
    user = await repository.user_by_identity(
        conn, provider=identity.provider, subject=identity.subject
    )
    if user is None:
        if email is None:
            raise _unverified("the provider shared no email address")
        user, created = await _by_email(conn, identity=identity, email=email)
    else:
        created = False
    await repository.link_identity(
        conn, user_id=user.id, provider=identity.provider, subject=identity.subject, email=email
    )
    return user, created


async def _by_email(
    conn: AsyncConnection, *, identity: ProviderIdentity, email: str
) -> tuple[Row[Any], bool]:
    user = await repository.lock_user_by_email(conn, email=email)
    if user is None:
        user = await repository.insert_user(
            conn,
            email=email,
            password_hash=None,
            display_name=_display_name(identity, email),
            plan="free",
            email_verified=identity.email_verified,
        )
        if user is not None:
            await add_event(
                conn,
                new_event(
                    auth_events_pb2.UserRegistered,
                    owner_id=user.id,
                    email=email,
                    sign_in_method=identity.provider,
                ),
            )
            return user, True
        # A password registration with this email committed in the meantime.
        user = await repository.lock_user_by_email(conn, email=email)
        if user is None:
            raise RuntimeError(f"user {email!r} neither inserted nor found")
    if not identity.email_verified:
        raise _unverified("the provider does not vouch for this email")
    if not user.email_verified:
        await repository.update_credentials(
            conn, user_id=user.id, password_hash=None, email_verified=True
        )
        await repository.unlink_identities(conn, user_id=user.id)
        await repository.revoke_user_sessions(conn, user_id=user.id)
        user = await repository.user_by_id(conn, user_id=user.id)
        if user is None:
            raise RuntimeError("user vanished inside its own transaction")
    return user, False


def _display_name(identity: ProviderIdentity, email: str) -> str:
    name = " ".join(identity.display_name.split()) or email.partition("@")[0]
    return name[:MAX_DISPLAY_NAME]


def _unverified(message: str) -> Exception:
    return unauthenticated("OAUTH_EMAIL_UNVERIFIED", message)
