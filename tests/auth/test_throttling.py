"""Brute force through the edge: per-account and per-address limits answer 429 with RetryInfo."""

from __future__ import annotations

import random

import grpc
import pytest
from google.rpc import error_details_pb2
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc

from services.stack import Stack
from tests.auth.helpers import (
    client_from,
    grpc_detail,
    grpc_reason,
    login,
    loopback_address,
    reason,
    register,
    retry_delay,
    unique_email,
)
from tests.auth.mailbox import Mailbox
from tests.auth.test_password_reset import request_reset, reset, token_in

ACCOUNT_LIMIT = 5  # the default login_attempts_per_account
ADDRESS_LIMIT = 50  # the default login_attempts_per_address
RESET_ADDRESS_LIMIT = 20  # the default reset_requests_per_address
WINDOW_SECONDS = 900


def spoofed() -> dict[str, str]:
    """A forwarded-for chain a client made up: it must not change who the edge says it is."""
    fake = f"{random.randint(1, 223)}.{random.randint(0, 255)}.{random.randint(0, 255)}.7"
    return {"X-Forwarded-For": fake, "X-Real-IP": fake}


async def test_guessing_one_account_from_many_addresses_is_stopped(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        email = (await register(rest))["user"]["email"]
    for _ in range(ACCOUNT_LIMIT):
        async with client_from(auth_stack.rest_url) as rest:
            wrong = await login(rest, email, "not the password")
        assert wrong.status_code == 401
        assert reason(wrong.json()) == "INVALID_CREDENTIALS"
    async with client_from(auth_stack.rest_url) as rest:
        blocked = await login(rest, email)  # even the right password, once locked
    assert blocked.status_code == 429, blocked.text
    assert reason(blocked.json()) == "TOO_MANY_ATTEMPTS"
    delay = retry_delay(blocked.json())
    assert delay is not None
    assert 1 <= delay <= WINDOW_SECONDS


async def test_an_unknown_account_is_throttled_the_same_way(auth_stack: Stack) -> None:
    known = unique_email()
    async with client_from(auth_stack.rest_url) as rest:
        await register(rest, known)
    unknown = unique_email()
    answers = {}
    for email in (known, unknown):
        for _ in range(ACCOUNT_LIMIT):
            async with client_from(auth_stack.rest_url) as rest:
                assert (await login(rest, email, "not the password")).status_code == 401
        async with client_from(auth_stack.rest_url) as rest:
            answers[email] = await login(rest, email, "not the password")
    assert answers[known].status_code == answers[unknown].status_code == 429
    assert answers[known].json()["message"] == answers[unknown].json()["message"]


async def test_a_success_clears_the_account_counter(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        email = (await register(rest))["user"]["email"]
        for _ in range(ACCOUNT_LIMIT - 1):
            assert (await login(rest, email, "typo typo")).status_code == 401
        assert (await login(rest, email)).status_code == 200
        for _ in range(ACCOUNT_LIMIT):
            assert (await login(rest, email, "typo typo")).status_code == 401
        assert (await login(rest, email, "typo typo")).status_code == 429


async def test_spraying_many_accounts_from_one_address_is_stopped(auth_stack: Stack) -> None:
    sprayer = loopback_address()
    async with client_from(auth_stack.rest_url) as elsewhere:
        victim = (await register(elsewhere))["user"]["email"]
    async with client_from(auth_stack.rest_url, sprayer) as rest:
        for _ in range(ADDRESS_LIMIT):
            wrong = await login(rest, unique_email(), "password1")
            assert wrong.status_code == 401, wrong.text
        # A made-up X-Forwarded-For does not make the same client look like another one.
        blocked = await rest.post(
            "/api/v1/auth/login", json={"email": victim, "password": "x"}, headers=spoofed()
        )
        assert blocked.status_code == 429, blocked.text
        assert reason(blocked.json()) == "TOO_MANY_ATTEMPTS"
    async with client_from(auth_stack.rest_url) as elsewhere:
        assert (await login(elsewhere, victim)).status_code == 200


async def test_reset_requests_from_one_address_are_limited(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        for _ in range(RESET_ADDRESS_LIMIT):
            assert (await request_reset(rest, unique_email())).status_code == 200
        blocked = await request_reset(rest, unique_email())
        assert blocked.status_code == 429
        assert retry_delay(blocked.json()) is not None


async def test_guessing_reset_tokens_from_one_address_is_limited(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        for i in range(RESET_ADDRESS_LIMIT):
            guessed = await reset(rest, f"guessed-token-{i}")
            assert guessed.status_code == 401
            assert reason(guessed.json()) == "RESET_TOKEN_INVALID"
        blocked = await reset(rest, "guessed-token-final")
        assert blocked.status_code == 429


async def test_a_password_reset_lifts_the_lockout(auth_stack: Stack, mailbox: Mailbox) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        email = (await register(rest))["user"]["email"]
        for _ in range(ACCOUNT_LIMIT):
            await login(rest, email, "attacker guess")
        assert (await login(rest, email)).status_code == 429
        await request_reset(rest, email)
        token = token_in(await mailbox.wait_for(email))
        assert (await reset(rest, token, "owner's new password")).status_code == 200
        assert (await login(rest, email, "owner's new password")).status_code == 200


async def test_native_grpc_gets_resource_exhausted_with_retry_info(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        email = (await register(rest))["user"]["email"]
    async with grpc.aio.insecure_channel(auth_stack.grpc_address) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        wrong = pb.LoginRequest(email=email, password="not the password")
        for _ in range(ACCOUNT_LIMIT):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Login(wrong)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as blocked:
            await stub.Login(wrong)
    assert blocked.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert grpc_reason(blocked.value) == "TOO_MANY_ATTEMPTS"
    retry = grpc_detail(blocked.value, error_details_pb2.RetryInfo)
    assert retry is not None
    assert 1 <= retry.retry_delay.seconds <= WINDOW_SECONDS
