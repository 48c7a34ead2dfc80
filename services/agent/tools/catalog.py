"""The owner's Tool resources: HTTP webhook tools created, changed and deleted by the owner
(secrets sealed apart from the spec), and reads shared with the MCP tools discovery writes."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from google.protobuf import field_mask_pb2, json_format
from inbetwin.agent.v1 import agent_pb2, tool_pb2
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent import errors, repository
from services.agent.agents import AgentBook
from services.agent.destinations import DestinationPolicy, ForbiddenDestinationError
from services.agent.secrets_box import SecretBox
from services.agent.tables import tools
from services.agent.tools import arguments
from services.agent.tools.builtins import BY_NAME
from services.kit.errors import ServiceError
from services.kit.outbox import OutboxRelay
from services.kit.validation import FieldViolation

CREATE_SCOPE = "CreateTool"
WEBHOOK_FIELDS = frozenset(
    {"url", "method", "headers", "secret_headers", "signing_secret", "timeout_ms"}
)
FORBIDDEN_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
MAX_HEADER_NAMES = 20


def to_proto(row: Row[Any]) -> tool_pb2.Tool:
    tool = tool_pb2.Tool.FromString(row.spec)
    tool.id = row.id
    tool.kind = row.kind
    tool.create_time.FromDatetime(row.created_at)
    tool.update_time.FromDatetime(row.updated_at)
    return tool


def check_schema(tool: tool_pb2.Tool, field: str = "tool.parameters") -> None:
    if not tool.HasField("parameters"):
        return
    problem = arguments.schema_problem(json_format.MessageToDict(tool.parameters))
    if problem is not None:
        raise ServiceError(
            errors.INVALID,
            "INVALID_TOOL_SCHEMA",
            problem,
            violations=[FieldViolation(field, problem)],
        )


def check_headers(config: tool_pb2.HttpWebhookConfig, secret_names: list[str]) -> None:
    names = [name.lower() for name in list(config.headers) + secret_names]
    refused = sorted(
        {n for n in names if n in FORBIDDEN_HEADERS or n.startswith("x-inbetwin-")}
        | {n for n in names if names.count(n) > 1}
    )
    if refused:
        raise errors.invalid(
            "HEADER_NOT_ALLOWED",
            f"these headers cannot be set: {', '.join(refused)}",
            headers=",".join(refused),
        )
    if len(names) > MAX_HEADER_NAMES:
        raise errors.invalid(
            "HEADER_NOT_ALLOWED", f"at most {MAX_HEADER_NAMES} headers and secret headers together"
        )


class ToolCatalog:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        relay: OutboxRelay,
        agents: AgentBook,
        box: SecretBox,
        policy: DestinationPolicy,
        max_tools: int,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._agents = agents
        self._box = box
        self._policy = policy
        self._max_tools = max_tools

    async def create(
        self, owner_id: str, tool: tool_pb2.Tool, request_id: str
    ) -> tuple[tool_pb2.Tool, str]:
        """The stored tool and the signing key generated for it (empty when one was given)."""
        if tool.WhichOneof("config") != "http_webhook":
            raise errors.invalid(
                "TOOL_KIND_NOT_CREATABLE", "only HTTP webhook tools are created this way"
            )
        if request_id:
            async with self._engine.connect() as conn:
                earlier = await repository.remembered(
                    conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
                )
            if earlier is not None:
                return self._replayed(earlier, request_id)
        if not self._box.configured:
            raise errors.secrets_not_configured()
        self._check_name(tool.name)
        check_schema(tool)
        config = tool.http_webhook
        check_headers(config, list(config.secret_headers))
        self._check_url(config.url)
        generated = "" if config.signing_secret else secrets.token_hex(32)
        sealed_values = {
            "signing_secret": config.signing_secret or generated,
            "headers": dict(config.secret_headers),
        }
        stored = _public_spec(tool, sorted(config.secret_headers))
        tool_id = str(uuid.uuid4())
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner_id, scope=CREATE_SCOPE)
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
            )
            if earlier is not None:
                return self._replayed(earlier, request_id)
            count = await conn.execute(
                sa.select(sa.func.count()).select_from(tools).where(tools.c.owner_id == owner_id)
            )
            if int(count.scalar_one()) >= self._max_tools:
                raise errors.limit_reached("TOOL_LIMIT_REACHED", "tools", self._max_tools)
            try:
                async with conn.begin_nested():
                    row = (
                        await conn.execute(
                            sa.insert(tools)
                            .values(
                                id=tool_id,
                                owner_id=owner_id,
                                name=tool.name,
                                kind=tool_pb2.TOOL_KIND_HTTP_WEBHOOK,
                                spec=stored.SerializeToString(),
                                sealed_secrets=self._box.seal(sealed_values, bound_to=tool_id),
                            )
                            .returning(*tools.c)
                        )
                    ).one()
            except IntegrityError:
                raise _name_taken() from None
            created = to_proto(row)
            if request_id:
                memo = base64.b64encode(created.SerializeToString()).decode()
                await repository.remember(
                    conn,
                    owner_id=owner_id,
                    scope=CREATE_SCOPE,
                    request_id=request_id,
                    response=self._box.seal(
                        {"tool": memo, "generated": generated}, bound_to=request_id
                    ),
                )
        return created, generated

    def _replayed(self, sealed: bytes, request_id: str) -> tuple[tool_pb2.Tool, str]:
        memo = self._box.open(sealed, bound_to=request_id)
        tool = tool_pb2.Tool.FromString(base64.b64decode(memo["tool"]))
        return tool, str(memo["generated"])

    async def get(self, owner_id: str, tool_id: str) -> tool_pb2.Tool:
        row = await self._row(owner_id, tool_id)
        if row is None:
            raise errors.tool_not_found()
        return to_proto(row)

    async def page(
        self,
        owner_id: str,
        *,
        limit: int,
        after: tuple[str, str] | None,
        kind: int,
        mcp_server_id: str,
    ) -> list[Row[Any]]:
        query = sa.select(tools).where(tools.c.owner_id == owner_id)
        if kind:
            query = query.where(tools.c.kind == kind)
        if mcp_server_id:
            query = query.where(tools.c.mcp_server_id == mcp_server_id)
        if after is not None:
            query = query.where(tools.c.name > after[0])
        query = query.order_by(tools.c.name).limit(limit)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def update(
        self, owner_id: str, patch: tool_pb2.Tool, mask: field_mask_pb2.FieldMask
    ) -> tool_pb2.Tool:
        paths = list(mask.paths)
        allowed = {"name", "description", "parameters"} | {
            f"http_webhook.{field}" for field in WEBHOOK_FIELDS
        }
        wrong = [path for path in paths if path not in allowed]
        if wrong or not paths:
            raise errors.field_not_updatable(wrong or ["(empty update_mask)"])
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(tools)
                    .where(tools.c.owner_id == owner_id, tools.c.id == patch.id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise errors.tool_not_found()
            if row.kind != tool_pb2.TOOL_KIND_HTTP_WEBHOOK:
                raise _managed_by_mcp()
            current = tool_pb2.Tool.FromString(row.spec)
            sealed = self._box.open(row.sealed_secrets, bound_to=row.id)
            for path in paths:
                if path.startswith("http_webhook."):
                    self._apply_webhook(current, patch, path.split(".", 1)[1], sealed)
                elif path == "parameters":
                    current.ClearField("parameters")
                    if patch.HasField("parameters"):
                        current.parameters.CopyFrom(patch.parameters)
                else:
                    setattr(current, path, getattr(patch, path))
            if "name" in paths:
                self._check_name(current.name)
            check_schema(current)
            check_headers(current.http_webhook, list(sealed.get("headers", {})))
            if "http_webhook.url" in paths:
                self._check_url(current.http_webhook.url)
            try:
                async with conn.begin_nested():
                    updated = (
                        await conn.execute(
                            sa.update(tools)
                            .where(tools.c.id == row.id)
                            .values(
                                name=current.name,
                                spec=_public_spec(
                                    current, sorted(sealed.get("headers", {}))
                                ).SerializeToString(),
                                sealed_secrets=self._box.seal(sealed, bound_to=row.id),
                                updated_at=sa.func.now(),
                            )
                            .returning(*tools.c)
                        )
                    ).one()
            except IntegrityError:
                raise _name_taken() from None
        return to_proto(updated)

    def _apply_webhook(
        self, current: tool_pb2.Tool, patch: tool_pb2.Tool, field: str, sealed: dict[str, Any]
    ) -> None:
        source, target = patch.http_webhook, current.http_webhook
        if field == "secret_headers":
            sealed["headers"] = dict(source.secret_headers)
        elif field == "signing_secret":
            if not source.signing_secret:
                raise errors.invalid(
                    "FIELD_NOT_UPDATABLE", "signing_secret cannot be emptied; give a new key"
                )
            sealed["signing_secret"] = source.signing_secret
        elif field == "headers":
            target.headers.clear()
            target.headers.update(source.headers)
        else:
            setattr(target, field, getattr(source, field))

    async def delete(self, owner_id: str, tool_id: str) -> None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(tools.c.kind).where(
                        tools.c.owner_id == owner_id, tools.c.id == tool_id
                    )
                )
            ).first()
            if row is None:
                raise errors.tool_not_found()
            if row.kind != tool_pb2.TOOL_KIND_HTTP_WEBHOOK:
                raise _managed_by_mcp()
            await conn.execute(sa.delete(tools).where(tools.c.id == tool_id))
            changed = await self._agents.rewrite_tools(conn, owner_id, {tool_id})
        await self._after_agents_changed(owner_id, changed)

    async def _after_agents_changed(self, owner_id: str, changed: list[agent_pb2.Agent]) -> None:
        await self._agents.written(owner_id, changed)
        if changed:
            self._relay.notify()

    def secrets_of(self, row: Row[Any]) -> dict[str, Any]:
        return self._box.open(row.sealed_secrets, bound_to=row.id)

    async def _row(self, owner_id: str, tool_id: str) -> Row[Any] | None:
        async with self._engine.connect() as conn:
            row: Row[Any] | None = (
                await conn.execute(
                    sa.select(tools).where(tools.c.owner_id == owner_id, tools.c.id == tool_id)
                )
            ).first()
        return row

    @staticmethod
    def _check_name(name: str) -> None:
        if name in BY_NAME:
            raise errors.invalid("TOOL_NAME_RESERVED", f"{name} is the name of a built-in tool")

    def _check_url(self, url: str) -> None:
        try:
            self._policy.check_literal(url)
        except ForbiddenDestinationError:
            raise errors.invalid(
                "TOOL_DESTINATION_FORBIDDEN", "the URL points to a forbidden network"
            ) from None


def _public_spec(tool: tool_pb2.Tool, secret_names: list[str]) -> tool_pb2.Tool:
    """The spec as stored and returned: no id, times or secret values."""
    spec = tool_pb2.Tool()
    spec.CopyFrom(tool)
    for field in ("id", "kind", "create_time", "update_time"):
        spec.ClearField(field)
    if spec.HasField("http_webhook"):
        spec.http_webhook.secret_headers.clear()
        spec.http_webhook.ClearField("signing_secret")
        del spec.http_webhook.secret_header_names[:]
        spec.http_webhook.secret_header_names.extend(secret_names)
    return spec


def _name_taken() -> ServiceError:
    return errors.already_exists("TOOL_NAME_TAKEN", "the owner already has a tool of that name")


def _managed_by_mcp() -> ServiceError:
    return errors.failed_precondition(
        "TOOL_MANAGED_BY_MCP_SERVER", "this tool belongs to an MCP server; change the server"
    )
