"""A stand-in for GitHub's REST API on loopback: the endpoints lambda-rewriter uses, held to GitHub's own description.

Every request the tool sends and every response served here is validated with openapi-core (PyPI) against
``api.github.com.json`` of the npm package ``@octokit/openapi`` (GitHub's official OpenAPI 3.0 description,
installed in tests/js/node_modules): a request the real API would refuse, or a response shape the tool would
never get from it, is recorded in ``violations`` and the tests assert there is none. Response bodies are made
from the operation's own response schema (every required field, filled by type) with the stand-in's state on top.

It serves ``/`` (github.com's api.github.com) and ``/api/v3/`` (a GitHub Enterprise Server) alike, and simulates
a secondary rate limit (403 + Retry-After), a primary one (x-ratelimit-remaining 0 + x-ratelimit-reset),
422 "A pull request already exists", merged and closed pull requests, and a refused token.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SPEC = Path(__file__).parent / "js" / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
NOW = "2026-12-01T00:00:00Z"
SECONDARY = ("You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
             "Please retry your request again later.")


@functools.lru_cache(maxsize=1)
def _spec() -> tuple[dict, object]:
    from openapi_core import Config, OpenAPI

    data = json.loads(SPEC.read_text())
    # The description itself is GitHub's; checking it against the OpenAPI meta-schema costs 40 s per run.
    return data, OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))


def _resolve(data: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = data
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def instance(data: dict, schema: dict, depth: int = 0) -> object:
    """A value valid for ``schema``: every property of the outer two levels and every required one below them,
    each the simplest value of its type."""
    schema = _resolve(data, schema)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = instance(data, part, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return instance(data, schema[key][0], depth)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if schema.get("nullable") and depth > 0:
        return None
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        # The top levels whole, as GitHub returns them (a client may read an optional field); below, what is required.
        names = list(props) if depth <= 1 else schema.get("required", [])
        return {name: instance(data, props.get(name, {"type": "string"}), depth + 1) for name in names}
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        return {"date-time": NOW, "uri": "https://github.example/x", "email": "bot@example.com",
                "uri-template": "https://github.example/x{/y}", "date": "2026-12-01"}.get(fmt, "x")
    return "x"


class Standin:
    """The fake GitHub: ``url`` is its API base (add ``/api/v3`` for a GHES-style base). Tokens in ``tokens``
    are accepted; the account of each is ``login``."""

    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        self.data, self.api = _spec()
        self.tokens = tokens if tokens is not None else {"t0ken-for-tests-4d2c": "lambda-bot"}
        self.lock = threading.Lock()
        self.pulls: dict[str, dict[int, dict]] = {}  # full name -> number -> state
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        self.violations: list[str] = []
        self.comments: list[tuple[str, int, str]] = []
        self.checks: dict[str, list[tuple[str, str | None]]] = {}  # sha -> (status, conclusion) of check runs
        self.reviews: dict[tuple[str, int], list[tuple[str, str]]] = {}
        self.creates = 0  # POST /pulls answered 201
        self.secondary_at: set[int] = set()  # the n-th create attempt (1-based) meets a secondary rate limit
        self.retry_after = 1
        self.primary_at: set[int] = set()  # ... meets the primary limit (reset in ``retry_after`` seconds)
        self._attempts = 0
        self._blocked_until = 0.0
        self.early_retries = 0  # creations tried while the limit said to wait
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Standin:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------------------- state the tests set

    def seed(self, full_name: str, head: str, *, author: str, body: str = "", state: str = "open",
             merged: bool = False, draft: bool = False, base: str = "main", sha: str = "0" * 40) -> int:
        with self.lock:
            return self._new(full_name, {"title": "by hand", "body": body, "head": head, "base": base, "draft": draft,
                                         "author": author, "state": state, "merged": merged, "sha": sha})

    def set_state(self, full_name: str, number: int, *, state: str, merged: bool = False) -> None:
        with self.lock:
            self.pulls[full_name][number].update(state=state, merged=merged)

    def _new(self, full_name: str, pr: dict) -> int:
        pulls = self.pulls.setdefault(full_name, {})
        number = len(pulls) + 1
        pulls[number] = {"number": number, "labels": [], "reviewers": [], "assignees": [], **pr}
        return number

    # ----------------------------------------------------------------------- responses

    def _response_schema(self, path: str, method: str, status: int) -> dict:
        response = _resolve(self.data, self.data["paths"][path][method]["responses"][str(status)])
        return response["content"]["application/json"]["schema"]

    def make(self, path: str, method: str, status: int, **fields) -> object:
        """The operation's documented response, every required field filled, ``fields`` on top."""
        value = instance(self.data, self._response_schema(path, method, status))
        if isinstance(value, dict):
            value.update(fields)
        return value

    def _user(self, login: str) -> dict:
        value = instance(self.data, {"$ref": "#/components/schemas/simple-user"})
        value.update(login=login, id=abs(hash(login)) % 10**6, type="User")
        return value

    def _pull_json(self, full_name: str, pr: dict, schema: str) -> dict:
        owner = full_name.split("/")[0]
        value = instance(self.data, {"$ref": f"#/components/schemas/{schema}"})
        api = f"https://api.github.com/repos/{full_name}"
        repo = instance(self.data, {"$ref": "#/components/schemas/repository"})
        repo.update(full_name=full_name, name=full_name.split("/")[1], owner=self._user(owner))
        label = instance(self.data, {"$ref": "#/components/schemas/label"}) if schema == "pull-request" else None
        value.update(
            number=pr["number"], state=pr["state"], title=pr["title"], body=pr["body"], draft=pr["draft"],
            user=self._user(pr["author"]), html_url=f"https://github.example/{full_name}/pull/{pr['number']}",
            url=f"{api}/pulls/{pr['number']}", issue_url=f"{api}/issues/{pr['number']}",
            merged_at=NOW if pr["merged"] else None, closed_at=NOW if pr["state"] == "closed" else None,
            labels=[{**(label or instance(self.data, self._label_schema(schema))), "name": name, "id": i + 1}
                    for i, name in enumerate(pr["labels"])],
            head={**value["head"], "ref": pr["head"], "sha": pr["sha"], "label": f"{owner}:{pr['head']}", "repo": repo,
                  "user": self._user(owner)},
            base={**value["base"], "ref": pr["base"], "sha": "1" * 40, "label": f"{owner}:{pr['base']}", "repo": repo,
                  "user": self._user(owner)},
        )
        if schema == "pull-request":
            value.update(merged=pr["merged"])
        return value

    def _label_schema(self, schema: str) -> dict:
        items = _resolve(self.data, {"$ref": f"#/components/schemas/{schema}"})["properties"]["labels"]["items"]
        return items

    # ----------------------------------------------------------------------- the server

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    status, body, headers, _ = standin.answer(method, self.path, dict(self.headers.items()), raw)
                except Exception as error:  # a bug of the stand-in: the test sees it as a violation
                    standin.violations.append(f"stand-in failed on {method.upper()} {self.path}: {error!r}")
                    status, body, headers = 500, {"message": "stand-in failed"}, {}
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("get")

            def do_POST(self) -> None:
                self._serve("post")

            def do_PATCH(self) -> None:
                self._serve("patch")

        return Handler

    def answer(self, method: str, target: str, headers: dict, raw: bytes):
        parts = urlsplit(target)
        path = parts.path.removeprefix("/api/v3")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        from openapi_core.testing import MockRequest, MockResponse

        request = MockRequest("https://api.github.com", method, path, args=query, data=raw.decode() if raw else None,
                              content_type=headers.get("Content-Type", "application/json").split(";")[0]
                              if raw else None)
        with self.lock:
            try:
                self.api.validate_request(request)
            except Exception as error:  # openapi-core's own errors: which part did not match
                self.violations.append(f"request {method.upper()} {path}: {error} ({error.__cause__})")
            status, body, extra, operation = self._route(method, path, query, headers, raw)
            self.log.append((method.upper(), path, status))
            if operation is not None:
                documented = str(status) in self.data["paths"][operation][method]["responses"]
                if documented:
                    response = MockResponse(json.dumps(body).encode(), status_code=status,
                                            content_type="application/json", headers=extra)
                    try:
                        self.api.validate_response(request, response)
                    except Exception as error:
                        self.violations.append(f"response {status} to {method.upper()} {path}: {error} "
                                               f"({error.__cause__})"[:2000])
                elif status not in (401, 403):  # GitHub answers those on any endpoint, documented or not
                    self.violations.append(f"response {status} to {method.upper()} {path} is undocumented")
            return status, body, extra, operation

    _ROUTES = [
        ("get", r"/user", "/user", "viewer"),
        ("get", r"/repos/([^/]+/[^/]+)/pulls", "/repos/{owner}/{repo}/pulls", "list"),
        ("post", r"/repos/([^/]+/[^/]+)/pulls", "/repos/{owner}/{repo}/pulls", "create"),
        ("get", r"/repos/([^/]+/[^/]+)/pulls/(\d+)", "/repos/{owner}/{repo}/pulls/{pull_number}", "get"),
        ("patch", r"/repos/([^/]+/[^/]+)/pulls/(\d+)", "/repos/{owner}/{repo}/pulls/{pull_number}", "edit"),
        ("post", r"/repos/([^/]+/[^/]+)/issues/(\d+)/labels", "/repos/{owner}/{repo}/issues/{issue_number}/labels",
         "labels"),
        ("post", r"/repos/([^/]+/[^/]+)/pulls/(\d+)/requested_reviewers",
         "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", "reviewers"),
        ("post", r"/repos/([^/]+/[^/]+)/issues/(\d+)/assignees",
         "/repos/{owner}/{repo}/issues/{issue_number}/assignees", "assignees"),
        ("post", r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments",
         "/repos/{owner}/{repo}/issues/{issue_number}/comments", "comment"),
        ("get", r"/repos/([^/]+/[^/]+)/commits/([^/]+)/check-runs",
         "/repos/{owner}/{repo}/commits/{ref}/check-runs", "check_runs"),
        ("get", r"/repos/([^/]+/[^/]+)/commits/([^/]+)/status", "/repos/{owner}/{repo}/commits/{ref}/status",
         "status"),
        ("get", r"/repos/([^/]+/[^/]+)/pulls/(\d+)/reviews", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
         "reviews"),
    ]

    def _route(self, method, path, query, headers, raw):
        for verb, pattern, operation, name in self._ROUTES:  # noqa: B007 - the matched route's are read after it
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                break
        else:
            self.violations.append(f"no such endpoint here: {method.upper()} {path}")
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}, None
        auth = headers.get("Authorization", "")
        login = self.tokens.get(auth.split(" ", 1)[1] if " " in auth else "")
        if login is None:
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                         "status": "401"}, {}, operation
        body = json.loads(raw) if raw else None
        status, answer, extra = getattr(self, f"_{name}")(login, body, query, *match.groups())
        return status, answer, extra, operation

    def _viewer(self, login, body, query):
        # oneOf private-user / public-user, told apart by the discriminator user_view_type.
        return 200, self.make("/user", "get", 200, login=login, user_view_type="private"), {}

    def _list(self, login, body, query, full):
        owner, _, branch = query.get("head", ":").partition(":")
        state = query.get("state", "open")
        pulls = [pr for pr in self.pulls.get(full, {}).values()
                 if (not query.get("head") or (pr["head"] == branch and owner == full.split("/")[0]))
                 and (state == "all" or pr["state"] == state)]
        return 200, [self._pull_json(full, pr, "pull-request-simple") for pr in pulls], {}

    def _create(self, login, body, query, full):
        self._attempts += 1
        now = time.monotonic()
        if now < self._blocked_until:
            self.early_retries += 1
            return 403, {"message": SECONDARY, "documentation_url": "https://docs.github.com/rest"}, \
                {"Retry-After": str(self.retry_after)}
        if self._attempts in self.secondary_at:
            self._blocked_until = now + self.retry_after
            return 403, {"message": SECONDARY, "documentation_url": "https://docs.github.com/rest"}, \
                {"Retry-After": str(self.retry_after)}
        if self._attempts in self.primary_at:
            reset = int(time.time()) + self.retry_after + 1  # epoch seconds, as GitHub gives it: whole seconds
            self._blocked_until = now + (reset - time.time())
            return 403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url":
                         "https://docs.github.com/rest"}, {"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000",
                                                           "x-ratelimit-reset": str(reset)}
        head = body["head"].rpartition(":")[2]
        if any(pr["head"] == head and pr["state"] == "open" for pr in self.pulls.get(full, {}).values()):
            return 422, {"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
                         "errors": [{"resource": "PullRequest", "code": "custom",
                                     "message": f"A pull request already exists for {full.split('/')[0]}:{head}."}]}, {}
        number = self._new(full, {"title": body["title"], "body": body.get("body") or "", "head": head,
                                  "base": body["base"], "draft": bool(body.get("draft")), "author": login,
                                  "state": "open", "merged": False,
                                  "sha": hashlib.sha1(f"{full}#{len(self.pulls.get(full, {}))}".encode()).hexdigest()})
        self.creates += 1
        pr = self.pulls[full][number]
        return 201, self._pull_json(full, pr, "pull-request"), {
            "Location": f"https://api.github.com/repos/{full}/pulls/{number}"}

    def _get(self, login, body, query, full, number):
        pr = self.pulls.get(full, {}).get(int(number))
        if pr is None:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
        return 200, self._pull_json(full, pr, "pull-request"), {}

    def _edit(self, login, body, query, full, number):
        pr = self.pulls[full][int(number)]
        for key in ("title", "body", "state"):
            if key in body:
                pr[key] = body[key]
        return 200, self._pull_json(full, pr, "pull-request"), {}

    def _labels(self, login, body, query, full, number):
        pr = self.pulls[full][int(number)]
        names = body if isinstance(body, list) else body.get("labels", [])
        for name in names:
            if name not in pr["labels"]:
                pr["labels"].append(name)
        label = instance(self.data, {"$ref": "#/components/schemas/label"})
        return 200, [{**label, "name": name, "id": i + 1} for i, name in enumerate(pr["labels"])], {}

    def _reviewers(self, login, body, query, full, number):
        pr = self.pulls[full][int(number)]
        pr["reviewers"] += body.get("reviewers", []) + [f"team:{t}" for t in body.get("team_reviewers", [])]
        return 201, self._pull_json(full, pr, "pull-request-simple"), {}

    def _assignees(self, login, body, query, full, number):
        pr = self.pulls[full][int(number)]
        pr["assignees"] += [a for a in body.get("assignees", []) if a not in pr["assignees"]]
        return 201, self.make("/repos/{owner}/{repo}/issues/{issue_number}/assignees", "post", 201,
                              number=pr["number"], title=pr["title"]), {}

    def _comment(self, login, body, query, full, number):
        self.comments.append((full, int(number), body["body"]))
        return 201, self.make("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post", 201,
                              body=body["body"], user=self._user(login)), {
            "Location": f"https://api.github.com/repos/{full}/issues/comments/1"}

    def _check_runs(self, login, body, query, full, ref):
        run = instance(self.data, {"$ref": "#/components/schemas/check-run"})
        runs = [{**copy.deepcopy(run), "id": i + 1, "status": s, "conclusion": c, "head_sha": ref}
                for i, (s, c) in enumerate(self.checks.get(ref, []))]
        return 200, {"total_count": len(runs), "check_runs": runs}, {}

    def _status(self, login, body, query, full, ref):
        return 200, self.make("/repos/{owner}/{repo}/commits/{ref}/status", "get", 200, state="pending", sha=ref,
                              total_count=0, statuses=[]), {}

    def _reviews(self, login, body, query, full, number):
        review = instance(self.data, {"$ref": "#/components/schemas/pull-request-review"})
        return 200, [{**copy.deepcopy(review), "id": i + 1, "user": self._user(who), "state": state}
                     for i, (who, state) in enumerate(self.reviews.get((full, int(number)), []))], {}

    def created(self, full_name: str) -> list[dict]:
        return [pr for pr in self.pulls.get(full_name, {}).values() if pr["author"] in self.tokens.values()]
