"""Finding codes: one stable code per kind of change and note, as data in one table.

A code names what a finding means, not how it is worded: the messages may be reworded, the codes
stay. Families inside a codemod's notes are told apart by a pattern of the message; every pattern
is pinned by tests on messages the codemods really print (tests/test_findings.py), so a rewording
that would move a finding to another code fails there first.
"""
from __future__ import annotations

import dataclasses
import re

CHANGE = "change"
NOTE = "note"
SKIP = "skip"

# The project's home, and where its README documents each code: SARIF rules point there. The project
# has no public address yet; until it has one (set it here), SARIF carries each rule's help as text only.
PROJECT_URL: str | None = None
HELP_URI = f"{PROJECT_URL}#finding-codes" if PROJECT_URL else None


@dataclasses.dataclass(frozen=True)
class Finding:
    code: str
    codemod: str  # "*": any codemod
    kind: str  # CHANGE, NOTE or SKIP
    title: str
    example: str
    pattern: str | None = None  # a regex searched in the message; None: every finding of this codemod and kind

    def matches(self, codemod: str, kind: str, message: str) -> bool:
        if self.kind != kind or self.codemod not in ("*", codemod):
            return False
        return self.pattern is None or re.search(self.pattern, message) is not None


# First match wins: the specific families of a codemod come before its catch-all entry.
FINDINGS: tuple[Finding, ...] = (
    # -- any codemod ------------------------------------------------------------------------------
    Finding("LR901", "*", NOTE, "not Lambda code: the file was read and left alone",
            "not Lambda code: no exported handler (no template names one here)", r"^not Lambda code"),
    Finding("LR902", "*", NOTE, "a template names a handler the file does not define",
            "the template names handler `main`, which is not a top-level function here", r"^the template names handler"),
    Finding("LR903", "*", NOTE, "TypeScript output not checked by the TypeScript compiler, with the reason",
            "not type-checked: no TypeScript compiler here (put `tsc` on PATH or name it in $LAMBDA_REWRITER_TSC); ...",
            r"^not type-checked"),
    Finding("LR991", "*", NOTE, "a suppressed change: the codemod left the file as it is",
            "not changed by hoist-clients: line 5 suppresses LR004 (a suppression comment), so "
            "hoist-clients leaves this file as it is", r"^not changed by \S+: line \d+ suppresses"),
    Finding("LR992", "*", NOTE, "a suppression comment that matches no finding (shown with -v)",
            "unused suppression: `# lambda-rewriter: ignore[LR201]` matches no finding here; remove it",
            r"^unused suppression: "),
    # -- hoist-clients -------------------------------------------------------------------------------
    Finding("LR004", "hoist-clients", CHANGE, "built once per execution environment, on first use: building it at import could fail",
            "`handler` builds `boto3.client(\"s3\")` once, on first use, through the cached factory `get_s3_client` (...)",
            r"once, on first use"),
    Finding("LR001", "hoist-clients", CHANGE, "a client, session or connection is built once per execution environment",
            "hoisted `s3 = boto3.client(\"s3\")` from `handler` to module scope"),
    Finding("LR007", "hoist-clients", NOTE, "how the template deploys the function (SnapStart, Managed Instances) decides",
            "left `conn` in handleRequest: the template runs this function on Lambda Managed Instances, where one "
            "execution environment serves requests concurrently: they would share one connection",
            r"SnapStart|Managed Instances"),
    Finding("LR006", "hoist-clients", NOTE, "already built once per execution environment: nothing to move",
            "left `queue` in the constructor: Lambda builds the handler once per execution environment, so it is "
            "built once already", r"built once already"),
    Finding("LR002", "hoist-clients", NOTE, "left in the handler: it depends on, or is changed by, each invocation",
            "left in `handler`: `boto3.client(...)`: `region_name` comes from `event`",
            r"per invocation|on every invocation|comes from `|reads `|cannot prove constant"),
    Finding("LR003", "hoist-clients", NOTE, "left in the handler: a `with` block or `try` decides its lifetime",
            "left in `handler`: `requests.Session(...)` opens a `with` block, which closes it at the end",
            r"opens a `with` block|inside `try`|try-with-resources"),
    Finding("LR008", "hoist-clients", NOTE, "left in the handler: the tests patch what builds it",
            "left in `handler`: `boto3.client(...)`: the tests patch `app.boto3` (tests/test_app.py:6); built once, it "
            "would outlive each test's patch", r"the tests patch `"),
    Finding("LR009", "hoist-clients", NOTE, "left where it is, for the reason given",
            "left in `process`: `sns` is closed by `sns.close()`; a reused client must stay open"),
    # -- reconnect-guards ----------------------------------------------------------------------------
    Finding("LR102", "reconnect-guards", CHANGE, "a close() at the end of the handler went: the connection is reused",
            "removed `conn.close()` from `finally`: the connection is reused", r"^removed `"),
    Finding("LR101", "reconnect-guards", CHANGE, "a reused connection gets a liveness check that reconnects it",
            "`handler` reuses one connection through `get_conn()`, which checks it and reconnects when dead"),
    Finding("LR103", "reconnect-guards", NOTE, "the driver reconnects by itself: no guard needed",
            "`redis.Redis(...)`: redis-py reconnects by itself when the server dropped the connection: no guard needed",
            r"reconnects by itself"),
    Finding("LR104", "reconnect-guards", NOTE, "a close() stays: the next invocation reconnects",
            "`conn.close()` stays: it closes the reused connection, so the next invocation reconnects",
            r"stays: it closes the reused"),
    Finding("LR105", "reconnect-guards", NOTE, "left in the handler: what it connects with varies per invocation",
            "left in `handler`: `pymysql.connect(...)`: `host` comes from `event`; a new connection per invocation",
            r"a new connection per invocation"),
    Finding("LR108", "reconnect-guards", NOTE, "left in the handler: the tests patch the driver",
            "left in `handler`: `psycopg2.connect(...)`: the tests patch `app.psycopg2` (tests/test_app.py:9); reused, "
            "the connection would outlive each test's patch", r"the tests patch `"),
    Finding("LR109", "reconnect-guards", NOTE, "a connection left as it is, for the reason given",
            "left in `handler`: `psycopg.connect(...)`: its `with` block commits and closes the connection at the end; ..."),
    # -- targeted-imports ----------------------------------------------------------------------------
    Finding("LR201", "targeted-imports", CHANGE, "an import went or narrowed to what the code uses",
            "removed `import requests`: the module never uses `requests` (importing requests costs ...)"),
    Finding("LR209", "targeted-imports", NOTE, "an import left in place, for the reason given",
            "left `import boto3`, unused: the line is marked `# noqa`"),
    # -- lazy-imports --------------------------------------------------------------------------------
    Finding("LR301", "lazy-imports", CHANGE, "a heavy import moved to the rare path that uses it",
            "moved `import pandas as pd` into `_summary` (line 7), a helper called only from ..."),
    Finding("LR309", "lazy-imports", NOTE, "an import left at module level, for the reason given",
            "left `import pandas as pd`: `pd` is used on the common path of `handler` (line 5)"),
    # -- slim-dependencies ---------------------------------------------------------------------------
    Finding("LR406", "slim-dependencies", CHANGE, "a dependency only the tests use moved to test scope",
            "moved com.amazonaws:aws-lambda-java-events to test scope: only the sources under src/test use ...",
            r"^moved \S+ to (?:test scope|testImplementation)"),
    Finding("LR401", "slim-dependencies", CHANGE, "a dependency went or became the BOM plus the modules the code uses",
            "removed Flask: no module of the function imports it"),
    Finding("LR402", "slim-dependencies", NOTE, "a test, build or dev tool ships with the function",
            "black is a test or dev tool: move it to requirements-dev.txt", r"test or dev tool|build, test or dev tool"),
    Finding("LR403", "slim-dependencies", NOTE, "kept: a requirement that stays, an extra or a feature the code uses "
            "needs it", "kept fastjsonschema: `aws_lambda_powertools.utilities.validation`, which the function "
            "imports, needs it at run time (aws-lambda-powertools[validation])", r"^kept .*(?:requires it|needs it)"),
    Finding("LR404", "slim-dependencies", NOTE, "kept: code this tool cannot see may import it",
            "kept requests: no module of the function imports it, but build.sh line 3 copies files into the "
            "package, which may import it", r"^kept \S+: no module of the function imports it, but "),
    Finding("LR405", "slim-dependencies", NOTE, "a requirements file left whole: no function's own, or a lock file",
            "left as it is: it is under tests/, whose requirements serve tests, CI, docs or scripts, not a deployed "
            "function",
            r"^left as it is: (?:it is at the repository root|it is under|no template names|.* names no function|.*lock file)"),
    Finding("LR409", "slim-dependencies", NOTE, "a dependency left as it is, for the reason given",
            "left com.amazonaws:aws-java-sdk: no Java sources under src/ to tell which service modules the code uses"),
    # -- framework-advice (notes only: it never changes a file) ---------------------------------------
    Finding("LR509", "framework-advice", NOTE, "a heavy framework in a cold-started function",
            "Flask (with a WSGI adapter) behind a Lambda handler: for a single-purpose function a plain handler ..."),
    # -- sdk-v3 ---------------------------------------------------------------------------------------
    Finding("LR613", "sdk-v3", CHANGE, "a unit test (and package.json) moved from aws-sdk-mock to aws-sdk-client-mock",
            "aws-sdk-mock replaced by aws-sdk-client-mock for S3, SQS: it stubs the v3 clients wherever the code "
            "builds them (aws-sdk-mock reaches none)", r"aws-sdk-mock replaced by aws-sdk-client-mock"),
    Finding("LR614", "sdk-v3", NOTE, "a unit test left on aws-sdk-mock, for the reason given",
            "test left on aws-sdk-mock: the code it tests, src/agent.js, keeps the v2 SDK",
            r"^test left on aws-sdk-mock|^aws-sdk-mock stays"),
    Finding("LR610", "sdk-v3", CHANGE, "a template: AWS_NODEJS_CONNECTION_REUSE_ENABLED went, the function is on v3",
            "AWS_NODEJS_CONNECTION_REUSE_ENABLED removed: function Orders is on the v3 SDK, which keeps connections "
            "alive by default (only v2 read the variable)", r"^AWS_NODEJS_CONNECTION_REUSE_ENABLED removed"),
    Finding("LR611", "sdk-v3", CHANGE, "a template: the Runtime of functions on v3 moved up to `--runtime`",
            "Runtime nodejs20.x -> nodejs22.x: the code of function Orders is on the v3 SDK", r"^Runtime \S+ -> "),
    Finding("LR612", "sdk-v3", NOTE, "a template setting stays (the function is not on v3, a callback handler is "
            "left), or its runtime is deprecated",
            "Runtime nodejs20.x stays (nodejs20.x is deprecated since 2026-04-30): function Agent: agent/app.js keeps "
            "the v2 SDK (see its notes)", r"^(?:AWS_NODEJS_CONNECTION_REUSE_ENABLED stays|Runtime \S+ (?:stays|is deprecated))"),
    Finding("LR602", "sdk-v3", CHANGE, "a callback handler became an async handler (nodejs24.x has no callbacks)",
            "callback handler `handler` made async (it returns a promise that `callback` settles): it can run on "
            "nodejs24.x", r"^callback handler .* made async"),
    Finding("LR603", "sdk-v3", CHANGE, "a v3 response difference handled: an S3 `Body` is a stream",
            "S3 `Body` (a stream in v3) read with `await transformToString()`", r"`Body`"),
    Finding("LR608", "sdk-v3", CHANGE, "a v3 error difference handled: `statusCode` is `$metadata.httpStatusCode`",
            "v2 error field `e.statusCode` read as v3 gives it (`e.$metadata`), and as before for other errors",
            r"^v2 error field"),
    Finding("LR604", "sdk-v3", CHANGE, "package.json: aws-sdk out, the v3 packages the code imports in, at one version",
            "dependencies: aws-sdk replaced by @aws-sdk/client-s3, @aws-sdk/lib-storage (^3.1169.0)", r"^dependencies: "),
    Finding("LR615", "sdk-v3", CHANGE, "TypeScript: a request read back keeps its own member types (`satisfies`)",
            "`put` keeps the types of its own members (`satisfies PutObjectCommandInput`): v3 input types make every "
            "member optional, so `put.Key` would no longer be what it was built from",
            r"keeps the types of its own members"),
    Finding("LR601", "sdk-v3", CHANGE, "the v2 SDK became the v3 clients (aws-sdk-js-codemod's translation)",
            "AWS SDK v2 translated to v3 (aws-sdk-js-codemod): modular clients, no `.promise()`"),
    Finding("LR605", "sdk-v3", NOTE, "the v2 SDK left in place: the translation would not be whole, or cannot run",
            "v2 SDK left in place: `AWS.HttpClient` has no v3 equivalent to translate to", r"v2 SDK left in place|aws-sdk stays"),
    Finding("LR606", "sdk-v3", NOTE, "callbackWaitsForEmptyEventLoop removed, or a callback handler left as it is",
            "`context.callbackWaitsForEmptyEventLoop` removed: an async handler answers when its promise settles",
            r"callbackWaitsForEmptyEventLoop|callback handler|Node.js 24 passes no callback|`arguments`"),
    Finding("LR607", "sdk-v3", NOTE, "a lock file left for the package manager to update",
            "package-lock.json not edited: run the package manager (`npm install`) to update it", r"not edited: run"),
    Finding("LR609", "sdk-v3", NOTE, "left for a person to finish, for the reason given",
            "`Body` is a stream in v3: read it with `await ….transformToString()`"),
    # -- the tool itself ------------------------------------------------------------------------------
    Finding("LR990", "*", SKIP, "a file the tool would not read, with the reason",
            "symbolic link to outside the repository"),
    # A codemod added without entries here still gets a code, and tests/test_findings.py fails until it has its own.
    Finding("LR998", "*", CHANGE, "a change by a codemod this table does not list yet", "..."),
    Finding("LR999", "*", NOTE, "a note by a codemod this table does not list yet", "..."),
)

BY_CODE = {finding.code: finding for finding in FINDINGS}
SKIPPED_CODE = next(f.code for f in FINDINGS if f.kind == SKIP)


def classify(codemod: str, kind: str, message: str) -> Finding:
    return next(f for f in FINDINGS if f.matches(codemod, kind, message))


def column(lines: list[bytes] | None, line: int) -> int:
    """The 1-based column of the first non-blank character of ``line`` of a file split into ``lines``
    (1 for a blank or missing line)."""
    if not lines or line < 1 or line > len(lines):
        return 1
    text = lines[line - 1]
    if line == 1 and text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    stripped = text.lstrip(b" \t\f")
    if not stripped:
        return 1
    # Columns count characters: what leading blanks there are is ASCII, one byte each.
    return len(text) - len(stripped) + 1
