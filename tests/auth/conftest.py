"""auth's test platform: auth alone behind Envoy, with Google/Yandex stand-ins and a real SMTP
server. Every test module under tests/auth shares it (one start per session)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from services.stack import Stack
from tests.auth.mailbox import Mailbox
from tests.conftest import StartStack
from tests.standins.oidc import OidcStandIn

CLIENT_ID = "inbetwin-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-stand-in-secret"
RESET_URL = "https://app.inbetwin.test/reset-password"
APP_REDIRECT_URI = "https://app.inbetwin.test/oauth/{provider}"


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcStandIn]:
    with OidcStandIn(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as provider:
        yield provider


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture(scope="session")
def auth_stack(start_stack: StartStack, oidc: OidcStandIn, mailbox: Mailbox) -> Stack:
    prefix = "INBETWIN_AUTH_"
    env = {
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_DISCOVERY_URL": oidc.google_discovery_url,
        "YANDEX_CLIENT_ID": CLIENT_ID,
        "YANDEX_CLIENT_SECRET": CLIENT_SECRET,
        "YANDEX_AUTHORIZE_URL": oidc.yandex_authorize_url,
        "YANDEX_TOKEN_URL": oidc.yandex_token_url,
        "YANDEX_INFO_URL": oidc.yandex_info_url,
        "OAUTH_REDIRECT_URIS": json.dumps([APP_REDIRECT_URI]),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_SECURITY": "none",
        "PASSWORD_RESET_URL": RESET_URL,
    }
    return start_stack(
        services=("auth",), extra_env={"auth": {prefix + k: v for k, v in env.items()}}
    )
