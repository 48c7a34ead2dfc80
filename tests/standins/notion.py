"""A local Notion API (version 2022-06-28) for tests: databases, pages, bearer tokens, the
`Notion-Version` header, and Notion's error objects."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.agent.http_standin import JsonStandIn, Request


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"object": "error", "status": status, "code": code, "message": message}


def _compact(database_id: str) -> str:
    return database_id.replace("-", "").lower()


class NotionStandIn(JsonStandIn):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.databases: dict[str, dict[str, Any]] = {}
        self.pages: list[dict[str, Any]] = []
        self.route("GET", r"/v1/databases/(?P<id>[0-9a-fA-F-]+)", self._database)
        self.route("POST", r"/v1/pages", self._create_page)

    def add_database(self, token: str) -> str:
        database_id = str(uuid.uuid4())
        self.tokens.add(token)
        self.databases[_compact(database_id)] = {
            "object": "database",
            "id": database_id,
            "properties": {
                "Task": {"id": "title", "type": "title", "title": {}},
                "Due": {"id": "due", "type": "date", "date": {}},
            },
        }
        return database_id

    def _auth(self, request: Request) -> tuple[int, Any] | None:
        if not request.headers.get("notion-version"):
            return _error(400, "missing_version", "Notion-Version header failed validation")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _error(401, "unauthorized", "API token is invalid.")
        return None

    def _database(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        refused = self._auth(request)
        if refused:
            return refused
        database = self.databases.get(_compact(match["id"]))
        if database is None:
            return _error(404, "object_not_found", "Could not find database")
        return 200, database

    def _create_page(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        refused = self._auth(request)
        if refused:
            return refused
        body = request.json()
        database = self.databases.get(_compact(body.get("parent", {}).get("database_id", "")))
        if database is None:
            return _error(404, "object_not_found", "Could not find database")
        for name, value in body.get("properties", {}).items():
            if name not in database["properties"]:
                return _error(400, "validation_error", f"{name} is not a property that exists.")
            kind = database["properties"][name]["type"]
            if kind not in value:
                return _error(400, "validation_error", f"{name} is expected to be {kind}.")
        page = {"object": "page", "id": str(uuid.uuid4()), **body}
        page["url"] = f"https://www.notion.so/{page['id'].replace('-', '')}"
        self.pages.append(page)
        return 200, page
