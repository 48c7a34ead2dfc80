"""Asana (app.asana.com/api/1.0): tasks in a workspace, optionally in a project."""

from __future__ import annotations

import json
from typing import Any

from services.agent.tools.outcome import ToolFailure
from services.agent.workspaces.common import Check, Http, check_of, json_of, require, unreachable


class Asana:
    def __init__(self, http: Http, *, base_url: str) -> None:
        self._http = http
        self._base = base_url

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def check(self, token: str, workspace_gid: str, project_gid: str) -> Check:
        try:
            paths = [f"/workspaces/{workspace_gid}"]
            if project_gid:
                paths.append(f"/projects/{project_gid}")
            for path in paths:
                result = check_of(
                    await self._http.call("GET", self._base + path, headers=self._headers(token))
                )
                if result.status != 1:
                    return result
        except ToolFailure as failure:
            return unreachable(failure)
        return result

    async def create_task(
        self,
        token: str,
        workspace_gid: str,
        project_gid: str,
        *,
        title: str,
        description: str,
        due_date: str,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"name": title, "notes": description, "workspace": workspace_gid}
        if project_gid:
            data["projects"] = [project_gid]
        if due_date:
            data["due_on"] = due_date
        answer = await self._http.call(
            "POST",
            f"{self._base}/tasks",
            headers=self._headers(token),
            content=json.dumps({"data": data}).encode(),
        )
        require(answer, (200, 201), "creating the Asana task")
        created = json_of(answer).get("data", {})
        return {
            "provider": "asana",
            "task_id": str(created.get("gid", "")),
            "url": created.get("permalink_url", ""),
        }
