"""Email normalisation: one account per mailbox whatever the spelling."""

from __future__ import annotations

import uuid

import pytest

from services.auth.emails import normalise_email
from services.stack import Stack
from tests.auth.helpers import client_from, login, register


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Ann@Example.COM ", "ann@example.com"),
        ("ann@example.com.", "ann@example.com"),
        ("ann@Пример.РФ", "ann@xn--e1afmkfd.xn--p1ai"),
        ("ann@xn--e1afmkfd.xn--p1ai", "ann@xn--e1afmkfd.xn--p1ai"),
        ("ann@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", "ann@example.com"),  # full-width
        ("ann@bücher.example", "ann@xn--bcher-kva.example"),
        # IDNA 2008: ß is a letter of its own, so faß.de is not fass.de.
        ("ann@faß.de", "ann@xn--fa-hia.de"),
        ("Zoë@example.com", "zoë@example.com"),
        ("Zoe\u0308@example.com", "zoë@example.com"),  # decomposed ë becomes the composed one
        ("ann@☃.net", "ann@xn--n3h.net"),  # refused by IDNA 2008, kept as IDNA 2003 had it
    ],
)
def test_normalise_email(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal


async def test_an_idn_spelling_reaches_the_same_account(auth_stack: Stack) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        local = f"idn-{uuid.uuid4().hex[:12]}"
        registered = await register(rest, f"{local}@Пример.РФ")
        assert registered["user"]["email"] == f"{local}@xn--e1afmkfd.xn--p1ai"
        punycode = await login(rest, f"{local.upper()}@XN--E1AFMKFD.XN--P1AI")
        assert punycode.status_code == 200, punycode.text
        assert punycode.json()["user"]["id"] == registered["user"]["id"]
        taken = await rest.post(
            "/api/v1/auth/register",
            json={
                "email": f"{local}@пример.рф",
                "password": "another password",
                "display_name": "B",
            },
        )
        assert taken.status_code == 409
