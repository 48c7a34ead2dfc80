"""Shared fixtures: the local platform, started by the same `Stack` class as `make up`.

* `infra` (session): Postgres+pgvector, Redis and NATS JetStream in a fresh temporary state
  folder; no services, no Envoy.
* `start_stack` (session): a factory, `start_stack(services=None, extra_env=None, edge=True)`,
  that starts a full platform (services, then Envoy) in a fresh temporary state folder and
  returns the `Stack`. Identical calls share one running platform; different calls get their
  own (own folder, ports and Envoy base id). All are stopped at the end of the session.
* `stack` (session): `start_stack()` with the default services and no extra environment.

The services started by default are all six, or the comma-separated list in
`INBETWIN_TEST_SERVICES` (e.g. `INBETWIN_TEST_SERVICES=auth,social`).

Per-session extra environment (e.g. social pointed at a Telegram Bot API stand-in): define a
session fixture next to the tests that need it and call the factory with `extra_env`, which
maps a service to complete variable names:

    @pytest.fixture(scope="session")
    def telegram_stack(start_stack: StartStack, telegram_api: str) -> Stack:
        return start_stack(extra_env={"social": {"INBETWIN_SOCIAL_TELEGRAM_API_URL": telegram_api}})
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Protocol

import pytest

from services.edge.params import SERVICES
from services.stack import Stack
from services.stack.stack import ExtraEnv

TEST_SERVICES_ENV = "INBETWIN_TEST_SERVICES"


def default_test_services() -> tuple[str, ...]:
    configured = os.environ.get(TEST_SERVICES_ENV)
    if configured is None:
        return SERVICES
    return tuple(name.strip() for name in configured.split(",") if name.strip())


class StartStack(Protocol):
    def __call__(
        self,
        *,
        services: Sequence[str] | None = None,
        extra_env: ExtraEnv | None = None,
        edge: bool = True,
    ) -> Stack: ...


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartStack]:
    started: dict[str, Stack] = {}
    failed: dict[str, BaseException] = {}

    def start(
        *,
        services: Sequence[str] | None = None,
        extra_env: ExtraEnv | None = None,
        edge: bool = True,
    ) -> Stack:
        chosen = tuple(default_test_services() if services is None else services)
        env = {name: dict(values) for name, values in (extra_env or {}).items()}
        key = json.dumps([chosen, env, edge], sort_keys=True)
        if key in failed:  # do not pay a failing start-up once per test
            raise failed[key]
        if key not in started:
            stack = Stack(tmp_path_factory.mktemp("stack"), services=chosen, edge=edge)
            try:
                stack.start(env)
            except BaseException as error:
                stack.remove_external_data()
                failed[key] = error
                raise
            started[key] = stack
        return started[key]

    yield start
    for stack in started.values():
        stack.stop()
        stack.remove_external_data()


@pytest.fixture(scope="session")
def stack(start_stack: StartStack) -> Stack:
    return start_stack()


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("infra"), services=())
    try:
        stack.start_infra()
        yield stack
    finally:
        stack.stop()
        stack.remove_external_data()
