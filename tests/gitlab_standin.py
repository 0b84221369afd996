"""A stand-in for the part of GitLab's REST API (v4) that lambda-rewriter uses, on loopback.

No registry ships an OpenAPI description of GitLab's merge request API (GitLab's own openapi_v2.yaml covers
a few other endpoints), so this is a documented subset: ``ENDPOINTS`` lists, for each endpoint, the
parameters GitLab's REST documentation gives (https://docs.gitlab.com/api/merge_requests/, notes, users,
commits, merge_request_approvals), which are required, and their types; a request with an unknown or
mistyped parameter, or without a required one, is a violation. Every response is checked with jsonschema
against ``MERGE_REQUEST`` and the other shapes below (the documented fields the tool reads). It simulates
409 "Another open merge request already exists", a 429 with Retry-After, merged and closed merge requests,
and a refused token.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

_USER = {"type": "object", "required": ["id", "username", "name", "state", "web_url"],
         "properties": {"id": {"type": "integer"}, "username": {"type": "string"}}}
MERGE_REQUEST = {
    "type": "object",
    "required": ["id", "iid", "project_id", "title", "description", "state", "draft", "source_branch",
                 "target_branch", "web_url", "sha", "author", "labels", "merged_at", "closed_at"],
    "properties": {
        "id": {"type": "integer"}, "iid": {"type": "integer"}, "project_id": {"type": "integer"},
        "title": {"type": "string"}, "description": {"type": ["string", "null"]},
        "state": {"enum": ["opened", "closed", "locked", "merged"]}, "draft": {"type": "boolean"},
        "source_branch": {"type": "string"}, "target_branch": {"type": "string"}, "web_url": {"type": "string"},
        "sha": {"type": "string", "pattern": "^[0-9a-f]{40}$"}, "author": _USER,
        "labels": {"type": "array", "items": {"type": "string"}},
        "reviewers": {"type": "array", "items": _USER}, "assignees": {"type": "array", "items": _USER},
    },
}
_NOTE = {"type": "object", "required": ["id", "body", "author", "system", "noteable_iid"]}
_STATUS = {"type": "array", "items": {"type": "object", "required": ["id", "sha", "status", "name"], "properties": {
    "status": {"enum": ["pending", "running", "success", "failed", "canceled", "skipped", "manual"]}}}}
_APPROVALS = {"type": "object", "required": ["approved", "approved_by"]}
_ERROR = {"type": "object", "required": ["message"]}

# (method, path pattern, {parameter: (type, required)}, response schema, handler)
_INT, _STR, _IDS = int, str, list
ENDPOINTS = [
    ("GET", r"/user", {}, _USER, "viewer"),
    ("GET", r"/users", {"username": (_STR, False), "per_page": (_STR, False), "page": (_STR, False)},
     {"type": "array", "items": _USER}, "users"),
    ("GET", r"/projects/([^/]+)/merge_requests",
     {"source_branch": (_STR, False), "state": (_STR, False), "per_page": (_STR, False), "page": (_STR, False)},
     {"type": "array", "items": MERGE_REQUEST}, "list"),
    ("POST", r"/projects/([^/]+)/merge_requests",
     {"source_branch": (_STR, True), "target_branch": (_STR, True), "title": (_STR, True),
      "description": (_STR, False), "labels": (_STR, False), "assignee_ids": (_IDS, False),
      "reviewer_ids": (_IDS, False), "remove_source_branch": (bool, False)}, MERGE_REQUEST, "create"),
    ("GET", r"/projects/([^/]+)/merge_requests/(\d+)", {}, MERGE_REQUEST, "get"),
    ("PUT", r"/projects/([^/]+)/merge_requests/(\d+)",
     {"title": (_STR, False), "description": (_STR, False), "add_labels": (_STR, False),
      "assignee_ids": (_IDS, False), "reviewer_ids": (_IDS, False), "state_event": (_STR, False)},
     MERGE_REQUEST, "update"),
    ("POST", r"/projects/([^/]+)/merge_requests/(\d+)/notes", {"body": (_STR, True)}, _NOTE, "note"),
    ("GET", r"/projects/([^/]+)/repository/commits/([0-9a-f]+)/statuses",
     {"per_page": (_STR, False), "page": (_STR, False)}, _STATUS, "statuses"),
    ("GET", r"/projects/([^/]+)/merge_requests/(\d+)/approvals", {}, _APPROVALS, "approvals"),
]


class GitLabStandin:
    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        self.tokens = tokens if tokens is not None else {"glpat-for-tests-7f3a": "lambda-bot"}
        self.users = {"lambda-bot": 1, "alice": 2, "bob": 3, "carol": 4}
        self.lock = threading.Lock()
        self.mrs: dict[str, dict[int, dict]] = {}
        self.log: list[tuple[str, str, int]] = []
        self.violations: list[str] = []
        self.notes: list[tuple[str, int, str]] = []
        self.statuses: dict[str, list[str]] = {}
        self.approved: dict[tuple[str, int], list[str]] = {}
        self.creates = 0
        self.limit_at: set[int] = set()
        self.retry_after = 1
        self._attempts = 0
        self._blocked_until = 0.0
        self.early_retries = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitLabStandin:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seed(self, project: str, source: str, *, author: str, description: str = "") -> int:
        with self.lock:
            return self._new(project, {"title": "by hand", "description": description, "source_branch": source,
                                       "target_branch": "main", "author": author})

    def set_state(self, project: str, iid: int, state: str) -> None:
        self.mrs[project][iid]["state"] = state

    def _new(self, project: str, fields: dict) -> int:
        mrs = self.mrs.setdefault(project, {})
        iid = len(mrs) + 1
        mrs[iid] = {"iid": iid, "state": "opened", "labels": [], "reviewers": [], "assignees": [],
                    "sha": f"{abs(hash((project, iid))):040x}"[-40:], **fields}
        return iid

    def _user(self, name: str) -> dict:
        return {"id": self.users.get(name, 99), "username": name, "name": name.title(), "state": "active",
                "web_url": f"https://gitlab.example/{name}"}

    def _json(self, project: str, mr: dict) -> dict:
        return {"id": 1000 + mr["iid"], "iid": mr["iid"], "project_id": 7, "title": mr["title"],
                "description": mr["description"], "state": mr["state"], "draft": mr["title"].startswith("Draft:"),
                "source_branch": mr["source_branch"], "target_branch": mr["target_branch"],
                "web_url": f"https://gitlab.example/{project}/-/merge_requests/{mr['iid']}", "sha": mr["sha"],
                "author": self._user(mr["author"]), "labels": list(mr["labels"]),
                "reviewers": [self._user(n) for n in mr["reviewers"]],
                "assignees": [self._user(n) for n in mr["assignees"]],
                "merged_at": "2026-12-01T00:00:00Z" if mr["state"] == "merged" else None,
                "closed_at": "2026-12-01T00:00:00Z" if mr["state"] == "closed" else None}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    status, body, extra = standin.answer(self.command, self.path, self.headers, raw)
                except Exception as error:
                    standin.violations.append(f"stand-in failed on {self.command} {self.path}: {error!r}")
                    status, body, extra = 500, {"message": "stand-in failed"}, {}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _serve

        return Handler

    def answer(self, method: str, target: str, headers, raw: bytes):
        parts = urlsplit(target)
        path = parts.path.removeprefix("/api/v4")
        params: dict = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if raw:
            try:
                params.update(json.loads(raw))
            except ValueError:
                params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        with self.lock:
            for verb, pattern, documented, schema, name in ENDPOINTS:  # noqa: B007 - the match's are read after it
                match = re.fullmatch(pattern, path)
                if verb == method and match:
                    break
            else:
                self.violations.append(f"not in the documented subset: {method} {path}")
                self.log.append((method, path, 404))
                return 404, {"message": "404 Not Found"}, {}
            for key, value in params.items():
                if key not in documented:
                    self.violations.append(f"{method} {path}: parameter {key!r} is not documented")
                elif not isinstance(value, documented[key][0]):
                    self.violations.append(f"{method} {path}: {key} should be {documented[key][0].__name__}")
            for key, (_, required) in documented.items():
                if required and key not in params:
                    self.violations.append(f"{method} {path}: {key} is required")
            login = self.tokens.get(headers.get("PRIVATE-TOKEN", ""))
            if login is None:
                status, body, extra = 401, {"message": "401 Unauthorized"}, {}
            else:
                groups = [unquote(g) for g in match.groups()]
                status, body, extra = getattr(self, f"_{name}")(login, params, *groups)
            self.log.append((method, path, status))
            try:
                jsonschema.validate(body, schema if status < 300 else _ERROR)
            except jsonschema.ValidationError as error:
                self.violations.append(f"response {status} to {method} {path}: {error.message}")
            return status, body, extra

    def _viewer(self, login, params):
        return 200, self._user(login), {}

    def _users(self, login, params):
        name = params.get("username")
        return 200, [self._user(name)] if name in self.users else [], {}

    def _list(self, login, params, project):
        state = params.get("state", "all")
        found = [mr for mr in self.mrs.get(project, {}).values()
                 if mr["source_branch"] == params.get("source_branch", mr["source_branch"])
                 and (state == "all" or mr["state"] == state)]
        return 200, [self._json(project, mr) for mr in found], {}

    def _create(self, login, params, project):
        self._attempts += 1
        now = time.monotonic()
        if now < self._blocked_until:
            self.early_retries += 1
        if now < self._blocked_until or self._attempts in self.limit_at:
            if self._attempts in self.limit_at:
                self._blocked_until = now + self.retry_after
            return 429, {"message": "Retry later"}, {"Retry-After": str(self.retry_after)}
        if any(mr["source_branch"] == params["source_branch"] and mr["state"] == "opened"
               for mr in self.mrs.get(project, {}).values()):
            return 409, {"message": ["Another open merge request already exists for this source branch: !1"]}, {}
        iid = self._new(project, {"title": params["title"], "description": params.get("description", ""),
                                  "source_branch": params["source_branch"], "target_branch": params["target_branch"],
                                  "author": login})
        self.creates += 1
        return 201, self._json(project, self.mrs[project][iid]), {}

    def _get(self, login, params, project, iid):
        mr = self.mrs.get(project, {}).get(int(iid))
        if mr is None:
            return 404, {"message": "404 Not found"}, {}
        return 200, self._json(project, mr), {}

    def _update(self, login, params, project, iid):
        mr = self.mrs[project][int(iid)]
        for key in ("title", "description"):
            if key in params:
                mr[key] = params[key]
        if "add_labels" in params:
            mr["labels"] += [n for n in params["add_labels"].split(",") if n not in mr["labels"]]
        ids = {v: k for k, v in self.users.items()}
        if "reviewer_ids" in params:
            mr["reviewers"] = [ids[i] for i in params["reviewer_ids"]]
        if "assignee_ids" in params:
            mr["assignees"] = [ids[i] for i in params["assignee_ids"]]
        if params.get("state_event") == "close":
            mr["state"] = "closed"
        return 200, self._json(project, mr), {}

    def _note(self, login, params, project, iid):
        self.notes.append((project, int(iid), params["body"]))
        return 201, {"id": len(self.notes), "body": params["body"], "author": self._user(login), "system": False,
                     "noteable_iid": int(iid)}, {}

    def _statuses(self, login, params, project, sha):
        return 200, [{"id": i + 1, "sha": sha, "status": s, "name": f"job{i}"}
                     for i, s in enumerate(self.statuses.get(sha, []))], {}

    def _approvals(self, login, params, project, iid):
        who = self.approved.get((project, int(iid)), [])
        return 200, {"approved": bool(who), "approved_by": [{"user": self._user(n)} for n in who]}, {}
