"""Webhook authenticity: the per-integration secret header, compared in constant time."""

from __future__ import annotations

import pytest

from services.social.platforms.telegram import SECRET_HEADER, verify

SECRET = "s3cr3t_Token-with-allowed-chars"


def test_the_right_secret_verifies() -> None:
    assert verify({SECRET_HEADER: SECRET}, SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {SECRET_HEADER: SECRET + "x"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET.upper()},
        {SECRET_HEADER: ""},
        {},
        {"x-telegram-bot-api-secret": SECRET},
    ],
    ids=["longer", "shorter", "case", "empty", "missing", "other-header"],
)
def test_forged_or_missing_secret_fails(headers: dict[str, str]) -> None:
    assert not verify(headers, SECRET)


def test_an_integration_without_a_secret_accepts_nothing() -> None:
    assert not verify({SECRET_HEADER: ""}, "")


def test_header_name_is_the_lower_cased_grpc_metadata_key() -> None:
    assert "X-Telegram-Bot-Api-Secret-Token".lower() == SECRET_HEADER
