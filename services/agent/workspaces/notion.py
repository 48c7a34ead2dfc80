"""Notion (api.notion.com, version 2022-06-28): tasks are pages in a database."""

from __future__ import annotations

import json
from typing import Any

from services.agent.tools.outcome import ToolFailure
from services.agent.workspaces.common import Check, Http, check_of, json_of, require, unreachable


class Notion:
    def __init__(self, http: Http, *, base_url: str, version: str) -> None:
        self._http = http
        self._base = base_url
        self._version = version

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Notion-Version": self._version,
            "Content-Type": "application/json",
        }

    async def check(self, token: str, database_id: str) -> Check:
        try:
            answer = await self._http.call(
                "GET", f"{self._base}/v1/databases/{database_id}", headers=self._headers(token)
            )
        except ToolFailure as failure:
            return unreachable(failure)
        return check_of(answer)

    async def create_task(
        self, token: str, database_id: str, *, title: str, description: str, due_date: str
    ) -> dict[str, Any]:
        database = await self._http.call(
            "GET", f"{self._base}/v1/databases/{database_id}", headers=self._headers(token)
        )
        require(database, (200,), "reading the Notion database")
        properties: dict[str, Any] = json_of(database).get("properties", {})
        title_property = next(
            (name for name, p in properties.items() if p.get("type") == "title"), "Name"
        )
        values: dict[str, Any] = {title_property: {"title": [{"text": {"content": title}}]}}
        date_property = next((n for n, p in properties.items() if p.get("type") == "date"), None)
        if due_date and date_property:
            values[date_property] = {"date": {"start": due_date}}
        page: dict[str, Any] = {"parent": {"database_id": database_id}, "properties": values}
        if description:
            page["children"] = [
                {
                    "object": "block",
                    "type": "paragraph",
                    "paragraph": {
                        "rich_text": [{"type": "text", "text": {"content": description}}]
                    },
                }
            ]
        answer = await self._http.call(
            "POST",
            f"{self._base}/v1/pages",
            headers=self._headers(token),
            content=json.dumps(page).encode(),
        )
        require(answer, (200,), "creating the Notion page")
        created = json_of(answer)
        return {
            "provider": "notion",
            "task_id": created.get("id", ""),
            "url": created.get("url", ""),
        }
