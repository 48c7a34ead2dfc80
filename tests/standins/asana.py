"""A local Asana API (1.0) for tests: workspaces, projects, tasks, bearer tokens, and Asana's
`{"data": ...}` / `{"errors": [...]}` envelopes."""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.agent.http_standin import JsonStandIn, Request

_gids = itertools.count(1_200_000_000_000_001)


class AsanaStandIn(JsonStandIn):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.workspaces: set[str] = set()
        self.projects: dict[str, str] = {}
        self.tasks: list[dict[str, Any]] = []
        self.route("GET", r"/workspaces/(?P<gid>\d+)", self._workspace)
        self.route("GET", r"/projects/(?P<gid>\d+)", self._project)
        self.route("POST", r"/tasks", self._create_task)

    def add_workspace(self, token: str) -> tuple[str, str]:
        workspace, project = str(next(_gids)), str(next(_gids))
        self.tokens.add(token)
        self.workspaces.add(workspace)
        self.projects[project] = workspace
        return workspace, project

    def _auth(self, request: Request) -> tuple[int, Any] | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, {"errors": [{"message": "Not Authorized"}]}
        return None

    def _workspace(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        if refused := self._auth(request):
            return refused
        if match["gid"] not in self.workspaces:
            return 404, {"errors": [{"message": "workspace: Unknown object"}]}
        return 200, {"data": {"gid": match["gid"], "resource_type": "workspace"}}

    def _project(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        if refused := self._auth(request):
            return refused
        if match["gid"] not in self.projects:
            return 404, {"errors": [{"message": "project: Unknown object"}]}
        return 200, {"data": {"gid": match["gid"], "resource_type": "project"}}

    def _create_task(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        if refused := self._auth(request):
            return refused
        data = request.json().get("data")
        if not isinstance(data, dict) or not data.get("name"):
            return 400, {"errors": [{"message": "data.name: Missing input"}]}
        if data.get("workspace") not in self.workspaces:
            return 400, {"errors": [{"message": "workspace: Not a recognized ID"}]}
        for project in data.get("projects", []):
            if self.projects.get(project) != data["workspace"]:
                return 400, {"errors": [{"message": "projects: Not a recognized ID"}]}
        gid = str(next(_gids))
        task = {
            "gid": gid,
            "resource_type": "task",
            "permalink_url": f"https://app.asana.com/0/0/{gid}",
            **data,
        }
        self.tasks.append(task)
        return 201, {"data": task}
