"""Write docs/CONFIGURATION.md: every service's environment variables, from its settings class.

    python tools/config_reference.py           # write the document
    python tools/config_reference.py --check   # fail when it is stale

A variable's description is the comment block right above its field in the settings class, so the
code stays the one place where a setting is explained.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
import textwrap
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.edge.params import SERVICES  # noqa: E402
from services.kit.config import ServiceSettings  # noqa: E402

OUTPUT = ROOT / "docs" / "CONFIGURATION.md"

HEADER = """# Configuration reference

Generated from the settings classes by `make config-doc` (`tools/config_reference.py`); do not
edit. Each service reads `INBETWIN_<SVC>_<NAME>` variables; `make up` and the tests set them
through the local stack (`services/stack/environment.py`), Kubernetes through each service's
ConfigMap and Secret (`k8s/`). A variable marked *required* has no default: the service stops at
start-up with a clear error without it. *secret* values are never logged.
"""


def _comments_above_fields(cls: type) -> dict[str, str]:
    """Field name -> the comment block immediately above its annotated assignment."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    found: dict[str, str] = {}
    [class_def] = ast.parse(source).body
    assert isinstance(class_def, ast.ClassDef)
    for node in class_def.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        block: list[str] = []
        row = node.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#"):
            block.insert(0, lines[row].strip().lstrip("#").strip())
            row -= 1
        found[node.target.id] = " ".join(block)
    return found


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "*required*"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return "*empty*" if not value.get_secret_value() else "*set*"
    if value is None:
        return "*unset*"
    if value == "" or value == ():
        return "*empty*"
    if isinstance(value, tuple | list):
        return "`" + ",".join(str(v) for v in value) + "`"
    return f"`{value}`"


def _is_secret(field: Any) -> bool:
    return "SecretStr" in str(field.annotation)


def _rows(cls: type[ServiceSettings], prefix: str, names: list[str]) -> list[str]:
    comments: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if isinstance(klass, type) and issubclass(klass, ServiceSettings):
            comments.update(_comments_above_fields(klass))
    rows = []
    for name in names:
        field = cls.model_fields[name]
        marks = " (*secret*)" if _is_secret(field) else ""
        description = comments.get(name, "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}`{marks} | {_default(field)} | {description} |")
    return rows


def _settings_class(svc: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{svc}.settings")
    [cls] = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    return cls


def render() -> str:
    common = list(ServiceSettings.model_fields)
    parts = [HEADER]
    parts.append("## Every service\n")
    parts.append(
        "These exist for each service with its own prefix (`INBETWIN_AUTH_GRPC_PORT`, "
        "`INBETWIN_SOCIAL_GRPC_PORT`, ...).\n"
    )
    parts.append("| variable | default | meaning |\n|---|---|---|")
    parts.extend(_rows(ServiceSettings, "INBETWIN_<SVC>_", common))
    for svc in SERVICES:
        cls = _settings_class(svc)
        prefix = str(cls.model_config.get("env_prefix", ""))
        own = [name for name in cls.model_fields if name not in common]
        parts.append(f"\n## {svc}\n")
        parts.append(f"`{cls.__module__}.{cls.__name__}`\n")
        parts.append("| variable | default | meaning |\n|---|---|---|")
        parts.extend(_rows(cls, prefix, own))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the document is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run 'make config-doc' and commit")
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
