"""Every RPC in the contracts has a handler in its service: none is left to the generated base
class, whose answer is UNIMPLEMENTED."""

from __future__ import annotations

import importlib

import pytest
from google.protobuf import descriptor_pool

from services.edge.params import SERVICES


def _servicer(svc: str) -> tuple[type, type]:
    """The service's servicer class and the generated base class it extends."""
    module = importlib.import_module(f"services.{svc}.service")
    [servicer] = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and value.__module__ == module.__name__
        and any(base.__name__.endswith("ServiceServicer") for base in value.__mro__[1:])
    ]
    [base] = [b for b in servicer.__mro__[1:] if b.__name__.endswith("ServiceServicer")]
    return servicer, base


@pytest.mark.parametrize("svc", SERVICES)
def test_every_rpc_has_a_handler(svc: str) -> None:
    servicer, base = _servicer(svc)
    service_name = base.__name__.removesuffix("Servicer")
    service = descriptor_pool.Default().FindServiceByName(f"inbetwin.{svc}.v1.{service_name}")
    missing = [
        method.name
        for method in service.methods
        if getattr(servicer, method.name) is getattr(base, method.name)
    ]
    assert missing == [], f"{svc}: answered by the generated base class (UNIMPLEMENTED)"
