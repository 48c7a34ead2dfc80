"""auth's wiring: resources, servicer, and what to close on shutdown."""

from __future__ import annotations

from datetime import timedelta

import grpc
import httpx
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.auth.keys import KeyCipher
from services.auth.mail import SmtpMailer
from services.auth.mail_queue import MailQueue
from services.auth.oauth.flow import OAuthFlow, RedirectPolicy
from services.auth.oauth.google import GoogleProvider
from services.auth.oauth.providers import OAuthProvider
from services.auth.oauth.state import OAuthStates
from services.auth.oauth.yandex import YandexProvider
from services.auth.password_reset import PasswordResets
from services.auth.passwords import Passwords
from services.auth.service import AuthServicer
from services.auth.settings import AuthSettings
from services.auth.throttle import Throttle
from services.kit.runtime import Runtime
from services.kit.server import Closer

SERVICE_NAMES = (auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,)
MAIL_CIPHER_PURPOSE = "auth outgoing mail"


async def wire(server: grpc.aio.Server, settings: AuthSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="auth")
    http = httpx.AsyncClient(timeout=settings.oauth_http_timeout_seconds)
    passwords = Passwords(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        max_concurrent=settings.argon2_max_concurrent,
    )
    mail = MailQueue(
        runtime.engine,
        cipher=KeyCipher.derived(settings.key_encryption_key, MAIL_CIPHER_PURPOSE),
        mailer=SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            timeout_seconds=settings.smtp_timeout_seconds,
        ),
    )
    servicer = AuthServicer(
        settings,
        engine=runtime.engine,
        relay=runtime.relay,
        passwords=passwords,
        throttle=Throttle(runtime.redis),
        oauth=OAuthFlow(
            providers=_providers(settings, http),
            states=OAuthStates(runtime.redis, ttl_seconds=settings.oauth_state_ttl_seconds),
            redirects=RedirectPolicy(
                public_origin=settings.public_origin, allowed=settings.oauth_redirect_uris
            ),
        ),
        resets=PasswordResets(
            engine=runtime.engine,
            mail=mail,
            passwords=passwords,
            ttl=timedelta(seconds=settings.password_reset_ttl_seconds),
            link_base=settings.reset_link_base,
            sender=settings.smtp_from,
        ),
    )
    await servicer.ensure_signing_key()
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
    mail.start()
    # Closed in reverse: the mail sender and the runtime stop before the HTTP client closes.
    return [http.aclose, runtime.close, mail.stop]


def _providers(settings: AuthSettings, http: httpx.AsyncClient) -> dict[str, OAuthProvider]:
    """The configured providers: one without a client id is left out (PROVIDER_NOT_CONFIGURED)."""
    providers: dict[str, OAuthProvider] = {}
    if settings.google_client_id:
        providers["google"] = GoogleProvider(
            http,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            discovery_url=settings.google_discovery_url,
            metadata_ttl_seconds=settings.oidc_metadata_ttl_seconds,
        )
    if settings.yandex_client_id:
        providers["yandex"] = YandexProvider(
            http,
            client_id=settings.yandex_client_id,
            client_secret=settings.yandex_client_secret.get_secret_value(),
            authorize_url=settings.yandex_authorize_url,
            token_url=settings.yandex_token_url,
            info_url=settings.yandex_info_url,
            scope=settings.yandex_scope,
            verified_email_domains=settings.yandex_verified_email_domains,
        )
    return providers
