"""AuthService handlers: validate (done by the pipeline), call the domain, map to proto."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.api import httpbody_pb2
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc
from inbetwin.events.v1 import auth_events_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.auth import keys, plans, repository
from services.auth.client_address import client_address
from services.auth.emails import normalise_email
from services.auth.keys import KeyCipher, SigningKey
from services.auth.oauth.flow import OAuthFlow
from services.auth.oauth.linking import account_for
from services.auth.password_reset import PasswordResets
from services.auth.passwords import Passwords
from services.auth.settings import AuthSettings
from services.auth.subscriptions import change_plan, subscription_proto
from services.auth.throttle import AuthLimits, Counter, Throttle
from services.auth.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from services.kit.errors import ServiceError, not_found, unauthenticated
from services.kit.events import new_event
from services.kit.identity import current_caller
from services.kit.outbox import OutboxRelay, add_event

SESSION_HEADER = "x-session-id"
UPDATABLE_PROFILE_FIELDS = ("display_name", "locale", "time_zone")


class AuthServicer(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        settings: AuthSettings,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        passwords: Passwords,
        throttle: Throttle,
        oauth: OAuthFlow,
        resets: PasswordResets,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._relay = relay
        self._passwords = passwords
        self._throttle = throttle
        self._oauth = oauth
        self._resets = resets
        self._cipher = KeyCipher(settings.key_encryption_key)
        self._access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self._limits = AuthLimits.from_settings(settings)

    async def ensure_signing_key(self) -> None:
        """Create the first signing key on a fresh database."""
        async with self._engine.begin() as conn:
            if await repository.published_keys(conn, retired_after=datetime.now(UTC)):
                return
            await self._store_key(conn, keys.new_key(datetime.now(UTC)))

    async def _store_key(self, conn: AsyncConnection, key: SigningKey) -> None:
        await repository.insert_signing_key(
            conn,
            kid=key.kid,
            encrypted=self._cipher.encrypt(keys.private_pem(key), key.kid.encode()),
            public_jwk=keys.public_jwk(key),
            activate_at=key.activate_at,
        )

    async def _active_key(self, conn: AsyncConnection) -> SigningKey:
        now = datetime.now(UTC)
        rows = await repository.published_keys(conn, retired_after=now)
        active = [row for row in rows if row.activate_at <= now]
        if not active:
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE, "NO_SIGNING_KEY", "no active signing key"
            )
        row = active[-1]
        pem = self._cipher.decrypt(row.private_key_encrypted, row.kid.encode())
        return SigningKey(row.kid, keys.load_private(pem), row.activate_at)

    async def _start_session(self, conn: AsyncConnection, user: Row[Any]) -> pb.TokenPair:
        session_id = str(uuid.uuid4())
        return await self._issue_pair(conn, user_id=user.id, session_id=session_id)

    async def _issue_pair(
        self, conn: AsyncConnection, *, user_id: str, session_id: str
    ) -> pb.TokenPair:
        subscription = await repository.subscription_of(conn, user_id=user_id)
        plan = subscription.plan if subscription else "free"
        access = issue_access_token(
            await self._active_key(conn),
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
            user_id=user_id,
            plan=plan,
            session_id=session_id,
            ttl=self._access_ttl,
        )
        refresh = new_refresh_token()
        refresh_expires = datetime.now(UTC) + self._refresh_ttl
        await repository.insert_refresh_token(
            conn,
            token_hash=hash_refresh_token(refresh),
            family_id=session_id,
            user_id=user_id,
            expires_at=refresh_expires,
        )
        pair = pb.TokenPair(access_token=access.token, refresh_token=refresh, token_type="Bearer")  # noqa: S106 - a token type, not a secret
        pair.access_token_expire_time.FromDatetime(access.expires_at)
        pair.refresh_token_expire_time.FromDatetime(refresh_expires)
        return pair

    async def _user_proto(self, conn: AsyncConnection, user: Row[Any]) -> pb.User:
        subscription = await repository.subscription_of(conn, user_id=user.id)
        plan = plans.BY_CODE[subscription.plan if subscription else "free"]
        message = pb.User(
            id=user.id,
            email=user.email,
            email_verified=user.email_verified,
            display_name=user.display_name,
            locale=user.locale,
            time_zone=user.time_zone,
            plan=plan.tier,  # type: ignore[arg-type]
            sign_in_methods=(["password"] if user.password_hash else [])
            + await repository.identity_providers(conn, user_id=user.id),
        )
        message.create_time.FromDatetime(user.created_at)
        return message

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterResponse:
        email = normalise_email(request.email)
        password_hash = await self._passwords.hash(request.password)
        async with self._engine.begin() as conn:
            user = await repository.insert_user(
                conn,
                email=email,
                password_hash=password_hash,
                display_name=request.display_name.strip(),
                plan="free",
            )
            if user is None:
                raise ServiceError(
                    grpc.StatusCode.ALREADY_EXISTS,
                    "EMAIL_TAKEN",
                    "an account already uses this email",
                )
            await add_event(
                conn,
                new_event(
                    auth_events_pb2.UserRegistered,
                    owner_id=user.id,
                    email=email,
                    sign_in_method="password",
                ),
            )
            tokens = await self._start_session(conn, user)
            response = pb.RegisterResponse(user=await self._user_proto(conn, user), tokens=tokens)
        self._relay.notify()
        return response

    async def Login(
        self, request: pb.LoginRequest, context: grpc.aio.ServicerContext
    ) -> pb.LoginResponse:
        email = normalise_email(request.email)
        account = Counter(self._limits.login_per_account, email)
        address = Counter(self._limits.login_per_address, self._client_address(context))
        await self._throttle.hit([account, address])
        async with self._engine.connect() as conn:
            user = await repository.user_by_email(conn, email=email)
        stored = user.password_hash if user else None
        if not await self._passwords.verify(stored, request.password) or user is None:
            raise unauthenticated("INVALID_CREDENTIALS", "wrong email or password")
        await self._throttle.clear(account)
        await self._throttle.forgive(address)
        async with self._engine.begin() as conn:
            if stored and self._passwords.needs_rehash(stored):
                await repository.update_password_hash(
                    conn,
                    user_id=user.id,
                    password_hash=await self._passwords.hash(request.password),
                )
            tokens = await self._start_session(conn, user)
            return pb.LoginResponse(user=await self._user_proto(conn, user), tokens=tokens)

    async def RefreshToken(
        self, request: pb.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.RefreshTokenResponse:
        token_hash = hash_refresh_token(request.refresh_token)
        reused = False
        async with self._engine.begin() as conn:
            row = await repository.lock_refresh_token(conn, token_hash=token_hash)
            if row is None or row.revoked_at is not None:
                raise unauthenticated("REFRESH_TOKEN_INVALID", "refresh token is not valid")
            if row.used_at is not None:
                await repository.revoke_family(conn, family_id=row.family_id)
                reused = True
            elif row.expires_at <= datetime.now(UTC):
                raise unauthenticated("REFRESH_TOKEN_EXPIRED", "refresh token has expired")
            else:
                await repository.mark_refresh_token_used(conn, token_id=row.id)
                tokens = await self._issue_pair(conn, user_id=row.user_id, session_id=row.family_id)
        if reused:  # raised after commit, so the family revocation sticks
            raise unauthenticated(
                "REFRESH_TOKEN_REUSED", "refresh token was already used; session revoked"
            )
        return pb.RefreshTokenResponse(tokens=tokens)

    async def Logout(
        self, request: pb.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogoutResponse:
        caller = current_caller()
        async with self._engine.begin() as conn:
            if request.all_sessions:
                return pb.LogoutResponse(
                    revoked_sessions=await repository.revoke_user_sessions(
                        conn, user_id=caller.user_id
                    )
                )
            family_id = _session_from_metadata(context)
            if request.refresh_token:
                row = await repository.lock_refresh_token(
                    conn, token_hash=hash_refresh_token(request.refresh_token)
                )
                family_id = row.family_id if row and row.user_id == caller.user_id else None
            if family_id is None:
                return pb.LogoutResponse(revoked_sessions=0)
            revoked = await repository.revoke_family(conn, family_id=family_id)
            return pb.LogoutResponse(revoked_sessions=1 if revoked else 0)

    async def GetMe(
        self, request: pb.GetMeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMeResponse:
        async with self._engine.connect() as conn:
            user = await self._require_user(conn)
            return pb.GetMeResponse(user=await self._user_proto(conn, user))

    async def UpdateMe(
        self, request: pb.UpdateMeRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateMeResponse:
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p not in UPDATABLE_PROFILE_FIELDS]
        if unknown or not paths:
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "FIELD_NOT_UPDATABLE",
                f"update_mask may name only {', '.join(UPDATABLE_PROFILE_FIELDS)}",
                metadata={"paths": ",".join(unknown)},
            )
        values = {path: getattr(request.user, path).strip() for path in paths}
        async with self._engine.begin() as conn:
            user = await repository.update_profile(
                conn, user_id=current_caller().user_id, values=values
            )
            if user is None:
                raise not_found("USER_NOT_FOUND", "user")
            return pb.UpdateMeResponse(user=await self._user_proto(conn, user))

    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        return pb.ListPlansResponse(plans=[plans.to_proto(plan) for plan in plans.PLANS])

    async def GetSubscription(
        self, request: pb.GetSubscriptionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSubscriptionResponse:
        async with self._engine.connect() as conn:
            return pb.GetSubscriptionResponse(subscription=await self._subscription(conn))

    async def _subscription(self, conn: AsyncConnection) -> pb.Subscription:
        row = await repository.subscription_of(conn, user_id=current_caller().user_id)
        if row is None:
            raise not_found("USER_NOT_FOUND", "user")
        return subscription_proto(row)

    async def ChangePlan(
        self, request: pb.ChangePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.ChangePlanResponse:
        plan = plans.BY_TIER[request.tier]
        async with self._engine.begin() as conn:
            row = await change_plan(conn, user_id=current_caller().user_id, plan=plan)
        self._relay.notify()
        return pb.ChangePlanResponse(subscription=subscription_proto(row))

    async def StartOAuth(
        self, request: pb.StartOAuthRequest, context: grpc.aio.ServicerContext
    ) -> pb.StartOAuthResponse:
        url, state = await self._oauth.start(
            provider=request.provider, redirect_uri=request.redirect_uri
        )
        return pb.StartOAuthResponse(authorization_url=url, state=state)

    async def CompleteOAuth(
        self, request: pb.CompleteOAuthRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteOAuthResponse:
        identity = await self._oauth.finish(request)
        async with self._engine.begin() as conn:
            user, created = await account_for(conn, identity=identity)
            response = pb.CompleteOAuthResponse(
                user=await self._user_proto(conn, user),
                tokens=await self._start_session(conn, user),
                created=created,
            )
        if created:
            self._relay.notify()
        return response

    async def RequestPasswordReset(
        self, request: pb.RequestPasswordResetRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestPasswordResetResponse:
        email = normalise_email(request.email)
        await self._throttle.hit(
            [
                Counter(self._limits.reset_per_account, email),
                Counter(self._limits.reset_per_address, self._client_address(context)),
            ]
        )
        await self._resets.request(email=email)
        return pb.RequestPasswordResetResponse()

    async def ResetPassword(
        self, request: pb.ResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResetPasswordResponse:
        address = Counter(self._limits.reset_tokens_per_address, self._client_address(context))
        await self._throttle.hit([address])
        email = await self._resets.reset(token=request.token, new_password=request.new_password)
        await self._throttle.forgive(address)
        # The mailbox owner just proved themselves: lift a lockout an attacker caused.
        await self._throttle.clear(Counter(self._limits.login_per_account, email))
        return pb.ResetPasswordResponse()

    async def GetEntitlements(
        self, request: pb.GetEntitlementsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEntitlementsResponse:
        async with self._engine.connect() as conn:
            row = await repository.subscription_of(conn, user_id=current_caller().user_id)
        if row is None:
            raise not_found("USER_NOT_FOUND", "user")
        plan = plans.BY_CODE[row.plan]
        return pb.GetEntitlementsResponse(tier=plan.tier, limits=plans.limits_proto(plan))  # type: ignore[arg-type]

    async def GetJwks(
        self, request: pb.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetJwksResponse:
        horizon = keys.retire_horizon(datetime.now(UTC), self._access_ttl)
        async with self._engine.connect() as conn:
            rows = await repository.published_keys(conn, retired_after=horizon)
        document = keys.jwks_document([_as_dict(row.public_jwk) for row in rows])
        return pb.GetJwksResponse(
            body=httpbody_pb2.HttpBody(content_type="application/jwk-set+json", data=document)
        )

    async def RotateSigningKey(
        self, request: pb.RotateSigningKeyRequest, context: grpc.aio.ServicerContext
    ) -> pb.RotateSigningKeyResponse:
        delay = request.activate_after_seconds or 60
        key = keys.new_key(datetime.now(UTC) + timedelta(seconds=delay))
        async with self._engine.begin() as conn:
            await self._store_key(conn, key)
        response = pb.RotateSigningKeyResponse(key_id=key.kid)
        response.activate_time.FromDatetime(key.activate_at)
        return response

    def _client_address(self, context: grpc.aio.ServicerContext) -> str:
        return client_address(
            _metadata(context), peer=context.peer(), trusted_hops=self._settings.trusted_proxy_hops
        )

    async def _require_user(self, conn: AsyncConnection) -> Row[Any]:
        user = await repository.user_by_id(conn, user_id=current_caller().user_id)
        if user is None:
            raise not_found("USER_NOT_FOUND", "user")
        return user


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else dict(json.loads(value))


def _metadata(context: grpc.aio.ServicerContext) -> list[tuple[str, str | bytes]]:
    return [(item[0], item[1]) for item in context.invocation_metadata() or ()]


def _session_from_metadata(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == SESSION_HEADER and isinstance(value, str):
            return value
    return None
