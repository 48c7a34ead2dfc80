"""Fixtures for social's tests: a Telegram Bot API stand-in per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.telegram import TelegramStandIn


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin
