"""The provider-facing half of a sign-in: start (state + PKCE + nonce, redirect URI check) and
the callback (spend the state, redeem the code, verify the identity)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import grpc
from inbetwin.auth.v1 import auth_service_pb2 as pb

from services.auth.oauth.providers import (
    OAuthProvider,
    ProviderIdentity,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from services.auth.oauth.state import OAuthStates, PendingSignIn
from services.kit.errors import ServiceError, invalid_argument, unauthenticated
from services.kit.validation import FieldViolation

log = logging.getLogger("inbetwin.auth.oauth")

CALLBACK_PATH = "/api/v1/auth/oauth/{provider}/callback"


@dataclass(frozen=True, slots=True)
class RedirectPolicy:
    """The default redirect URI (the edge's callback) plus the configured extra ones."""

    public_origin: str
    allowed: Sequence[str]

    def resolve(self, provider: str, requested: str) -> str:
        default = self.public_origin + CALLBACK_PATH.format(provider=provider)
        if not requested or requested == default:
            return default
        if requested in {uri.replace("{provider}", provider) for uri in self.allowed}:
            return requested
        raise ServiceError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "REDIRECT_URI_NOT_ALLOWED",
            "redirect_uri is not one of the allowed redirect URIs",
        )


class OAuthFlow:
    def __init__(
        self,
        *,
        providers: Mapping[str, OAuthProvider],
        states: OAuthStates,
        redirects: RedirectPolicy,
    ) -> None:
        self._providers = providers
        self._states = states
        self._redirects = redirects

    async def start(self, *, provider: str, redirect_uri: str) -> tuple[str, str]:
        """The authorization URL and its state; the pending sign-in is saved for the callback."""
        chosen = self._provider(provider)
        pending = PendingSignIn.create(
            provider=provider, redirect_uri=self._redirects.resolve(provider, redirect_uri)
        )
        with _provider_errors(provider):
            url = await chosen.authorization_url(pending)
        await self._states.save(pending)
        return url, pending.state

    async def finish(self, request: pb.CompleteOAuthRequest) -> ProviderIdentity:
        provider = self._provider(request.provider)
        if not request.code and not request.error:
            raise invalid_argument([FieldViolation("code", "required unless error is set")])
        pending = await self._states.consume(request.state)
        if pending is None or pending.provider != request.provider:
            raise unauthenticated(
                "OAUTH_STATE_INVALID", "the sign-in is unknown, expired or already completed"
            )
        if request.error:
            raise unauthenticated("OAUTH_ACCESS_DENIED", "the sign-in was declined at the provider")
        with _provider_errors(request.provider):
            return await provider.identify(request.code, pending, callback_issuer=request.iss)

    def _provider(self, name: str) -> OAuthProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise ServiceError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "PROVIDER_NOT_CONFIGURED",
                f"sign-in with {name} is not configured",
            )
        return provider


@contextlib.contextmanager
def _provider_errors(provider: str) -> Iterator[None]:
    """Map provider failures to the contract's errors (and log why, which clients never see)."""
    try:
        yield
    except ProviderRejectedError as error:
        log.info("oauth code rejected", extra={"provider": provider, "why": str(error)})
        raise unauthenticated(
            "OAUTH_CODE_REJECTED", "the provider did not confirm the sign-in"
        ) from error
    except ProviderUnavailableError as error:
        log.warning("oauth provider failed", extra={"provider": provider, "why": str(error)})
        raise ServiceError(
            grpc.StatusCode.UNAVAILABLE,
            "OAUTH_PROVIDER_UNAVAILABLE",
            f"{provider} is not answering; retry later",
        ) from error
