"""Load every generated contract module so the default descriptor pool knows all services."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import inbetwin
from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor


@cache
def contract_files() -> tuple[FileDescriptor, ...]:
    files = []
    for module_info in pkgutil.walk_packages(inbetwin.__path__, prefix="inbetwin."):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(module_info.name)
            files.append(module.DESCRIPTOR)
    return tuple(sorted(files, key=lambda f: f.name))


def services() -> list[ServiceDescriptor]:
    return [s for f in contract_files() for s in f.services_by_name.values()]
