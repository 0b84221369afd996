"""slim-dependencies for pip: a requirement leaves a function's requirements.txt only when it is proven unneeded.

Proven unneeded means all of: the file is a function's own (_shipped.py: a template's CodeUri or a handler's
folder, never the repository root, tests, CI or docs) and no lock or freeze file; no module that ships with the
function imports it, or names it in a string (a SQLAlchemy URL `postgresql+psycopg2://`, `import_module("x")`),
following local imports out of the folder; no requirement that stays, and no feature the code uses, needs it
(_needs.py); it is not one that libraries load without an import (drivers, parsers, certificates); and nothing
that this reading cannot see (a build script that copies modules in, a module that does not parse) may import it.
Test and dev tools get a note, never a deletion: scripts and CI may install them from this file.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from codemods._base import FileContext
from codemods.manifests import _needs, _scan, _shipped
from codemods.manifests._needs import normalise
from codemods._text import Edit, apply, line_number

# Distribution name (normalised) -> the top-level modules it installs, where they differ from the name.
DIST_IMPORTS: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",), "python-dateutil": ("dateutil",), "beautifulsoup4": ("bs4",), "pillow": ("PIL",),
    "scikit-learn": ("sklearn",), "scikit-image": ("skimage",), "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",), "psycopg2-binary": ("psycopg2",), "psycopg2": ("psycopg2",),
    "psycopg-binary": ("psycopg",), "psycopg": ("psycopg",), "mysql-connector-python": ("mysql",),
    "mysqlclient": ("MySQLdb",), "pymysql": ("pymysql",), "python-dotenv": ("dotenv",), "attrs": ("attr", "attrs"),
    "protobuf": ("google",), "pyjwt": ("jwt",), "pyopenssl": ("OpenSSL",), "python-jose": ("jose",),
    "aws-xray-sdk": ("aws_xray_sdk",), "aws-lambda-powertools": ("aws_lambda_powertools",),
    "requests-aws4auth": ("requests_aws4auth",), "opensearch-py": ("opensearchpy",), "sentry-sdk": ("sentry_sdk",),
    "typing-extensions": ("typing_extensions",), "pycryptodome": ("Crypto",), "pycryptodomex": ("Cryptodome",),
    "jinja2": ("jinja2",), "markupsafe": ("markupsafe",), "grpcio": ("grpc",), "python-docx": ("docx",),
    "python-pptx": ("pptx",), "pymongo": ("pymongo", "bson", "gridfs"), "dnspython": ("dns",),
    "msgpack-python": ("msgpack",), "python-json-logger": ("pythonjsonlogger",), "ruamel-yaml": ("ruamel",),
    "google-api-python-client": ("googleapiclient",), "aws-cdk-lib": ("aws_cdk",), "constructs": ("constructs",),
    "pynacl": ("nacl",), "pyzmq": ("zmq",), "pyserial": ("serial",), "pysocks": ("socks",), "faiss-cpu": ("faiss",),
    "tensorflow-cpu": ("tensorflow",), "torch": ("torch",), "redis-py-cluster": ("rediscluster",),
    "elastic-apm": ("elasticapm",), "newrelic": ("newrelic",), "ddtrace": ("ddtrace",), "datadog-lambda": ("datadog_lambda",),
    "aws-requests-auth": ("aws_requests_auth",), "pg8000": ("pg8000",), "asyncpg": ("asyncpg",),
    "boto3": ("boto3",), "aioboto3": ("aioboto3",), "aiobotocore": ("aiobotocore",), "smart-open": ("smart_open",),
}
# Test and development tools: never part of what a function runs.
DEV_TOOLS = frozenset({
    "pytest", "moto", "boto3-stubs", "botocore-stubs", "black", "mypy", "flake8", "ruff", "pylint", "isort",
    "coverage", "tox", "nox", "pre-commit", "ipython", "ipdb", "pdbpp", "hypothesis", "freezegun", "responses",
    "requests-mock", "localstack", "aws-sam-cli", "awscli", "cfn-lint", "bandit", "safety", "pip-tools", "mock",
    "nose", "faker", "factory-boy", "testfixtures", "twine", "build", "pyright", "autopep8", "yapf", "pydocstyle",
    "yq", "jq", "locust", "pyfakefs", "coveralls", "codecov", "pytest-runner", "nose2", "behave", "tavern",
    "aws-cdk-lib", "aws-sam-translator", "checkov", "cfn-flip", "bump2version", "wheel-inspect",
    "pycodestyle", "pyflakes", "vulture", "pip-audit", "sphinx", "mkdocs", "mkdocs-material", "pytest-cov",
    "pytest-mock", "pytest-xdist", "pytest-asyncio", "pytest-env", "aws-lambda-builders", "chalice",
})
DEV_PREFIXES = ("pytest-", "flake8-", "mypy-boto3-", "types-", "sphinx-", "mkdocs-")
DEV_SUFFIXES = ("-stubs",)
# Installed for other packages, or loaded by them without the code naming them: never removed.
SUPPORT = frozenset({
    "certifi", "urllib3", "idna", "charset-normalizer", "chardet", "six", "tzdata", "setuptools", "wheel", "pip",
    "botocore", "s3transfer", "jmespath", "packaging", "importlib-metadata", "zipp", "cffi", "pycparser",
    "cryptography", "greenlet", "annotated-types", "pydantic-core", "anyio", "sniffio", "h11", "httpcore",
    "exceptiongroup", "wrapt", "frozenlist", "multidict", "yarl", "aiosignal", "async-timeout", "soupsieve", "pytz",
    "email-validator", "python-multipart", "openpyxl", "xlrd", "xlsxwriter", "pyarrow", "fastparquet", "lxml",
    "html5lib", "uvloop", "orjson", "ujson", "httptools", "websockets", "brotli", "numpy", "pyasn1", "rsa",
    "tzlocal", "mangum", "psycopg2-binary", "psycopg-binary", "pymysql", "mysqlclient", "mysql-connector-python",
    "pg8000", "asyncpg", "aiomysql", "cx-oracle", "oracledb", "pyodbc", "sqlalchemy-aurora-data-api",
    # run, not imported: the runtime interface client of container images, servers, task runners
    "awslambdaric", "gunicorn", "uvicorn", "celery", "alembic",
})
DEV_FILES = ("requirements-dev.txt", "requirements-test.txt", "dev-requirements.txt", "test-requirements.txt",
             "requirements_dev.txt")
_NAME = re.compile(rb"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?:[<>=!~;#@\\]|$)")
_PINNED = re.compile(rb"==\s*[^\s,;#\\]+\s*(?:[;#\\]|$)")
# The header that pip-compile, uv, poetry, pdm or pipenv write above a lock file they generate.
_LOCK_HEADER = re.compile(rb"^\s*#.*(?:autogenerated|auto-generated|generated by|@generated|pip-compile|pip freeze|"
                          rb"uv pip compile|uv export|poetry export|pdm export|pipenv)", re.I | re.M)
# What the Lambda Python runtime itself provides: importing it needs no requirement.
RUNTIME_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
                             "awslambdaric"})


@dataclasses.dataclass(frozen=True)
class PipScan:
    shipped: _shipped.Shipped
    dev_file: str | None
    dev_names: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Requirement:
    start: int
    end: int
    raw: str
    name: str  # normalised
    extras: frozenset[str]
    pinned: bool  # `name==1.2.3`, as pip freeze writes it


def _requirement_names(data: bytes) -> frozenset[str]:
    return frozenset(r.name for r in requirements(data))


def scan(manifest: Path, root: Path) -> PipScan:
    shipped = _shipped.read(manifest, root)
    for name in DEV_FILES:
        dev = manifest.parent / name
        if dev.is_file() and not dev.is_symlink():
            return PipScan(shipped, name, _requirement_names(dev.read_bytes()[:_scan.MAX_BYTES]))
    return PipScan(shipped, None, frozenset())


def is_dev_tool(name: str) -> bool:
    return name in DEV_TOOLS or name.startswith(DEV_PREFIXES) or name.endswith(DEV_SUFFIXES)


def import_names(name: str) -> tuple[str, ...]:
    if name in DIST_IMPORTS:
        return DIST_IMPORTS[name]
    plain = name.replace("-", "_")
    guesses = [plain]
    for prefix in ("python_", "py_"):
        if plain.startswith(prefix):
            guesses.append(plain.removeprefix(prefix))
    if plain.endswith("_python"):
        guesses.append(plain.removesuffix("_python"))
    if "_" in plain:
        guesses.append(plain.split("_")[0])  # namespace packages: google-cloud-storage, azure-storage-blob
    return tuple(guesses)


def _logical_lines(data: bytes):
    """(start, end, text) per requirement, joining `\\` continuations (hash-pinned requirements span lines)."""
    pos, start = 0, 0
    parts: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if not parts:
            start = pos
        parts.append(line)
        pos += len(line)
        if line.rstrip(b"\r\n").endswith(b"\\"):
            continue
        yield start, pos, b"".join(parts)
        parts = []
    if parts:
        yield start, pos, b"".join(parts)


def requirements(data: bytes) -> list[Requirement]:
    found = []
    for start, end, text in _logical_lines(data):
        match = _NAME.match(text)
        if match is None or text.lstrip().startswith((b"-", b"#")):
            continue
        extras = match.group(2) or b"[]"
        found.append(Requirement(start, end, match.group(1).decode(), normalise(match.group(1).decode()),
                                 frozenset(normalise(e.strip()) for e in extras[1:-1].decode().split(",") if e.strip()),
                                 _PINNED.search(text.split(b"#")[0] + b"\n") is not None))
    return found


def lock_file(data: bytes, found: list[Requirement]) -> str | None:
    """Why the file is a lock or freeze file (regenerated by a tool, never edited by hand), or None."""
    if _LOCK_HEADER.search(data):
        return "a tool generated it (its header says so): a lock file is regenerated, not edited"
    if b"--hash=" in data:
        return "its requirements are pinned by hash: a lock file is regenerated, not edited"
    if found and all(r.pinned for r in found):
        return "every requirement is pinned with ==, as pip freeze writes them: a lock file is regenerated, not edited"
    return None


def rewrite(data: bytes, found: PipScan, ctx: FileContext) -> bytes:
    shipped = found.shipped
    if shipped.refusal is not None:
        ctx.note(1, f"left as it is: {shipped.refusal}")
        return data
    if shipped.files == 0:
        ctx.note(1, "left as it is: no Python module next to this requirements.txt says what the function imports")
        return data
    listed = requirements(data)
    lock = lock_file(data, listed)
    used = {name.lower() for name in shipped.imports} | {word.lower() for word in shipped.words}
    imported = {r.name for r in listed if any(module.lower() in used for module in import_names(r.name))}
    staying = {r.name: r.extras for r in listed if r.name in imported or r.name in SUPPORT or is_dev_tool(r.name)}
    needs = _needs.needed(staying, shipped.dotted)
    doubts = list(shipped.doubts) + _unprovided(shipped, listed, needs)
    if lock:
        ctx.note(1, f"left as it is: {lock}")
    edits = []
    for requirement in listed:
        raw, name = requirement.raw, requirement.name
        line = line_number(data, requirement.start)
        if is_dev_tool(name):
            _note_dev_tool(requirement, name in imported, found, line, ctx)
        elif name in imported or lock:
            continue
        elif name in needs:
            ctx.note(line, f"kept {raw}: {needs[name]}")
        elif name in SUPPORT:
            ctx.note(line, f"kept {raw}: not imported by the function, but libraries load it without an import")
        elif doubts:
            more = f" (and {len(doubts) - 1} more reason(s) to doubt)" if len(doubts) > 1 else ""
            ctx.note(line, f"kept {raw}: no module of the function imports it, but {doubts[0]}{more}")
        else:
            edits.append(Edit(requirement.start, requirement.end, b""))
            ctx.change(line, f"removed {raw}: no module of the function imports it")
    if not edits:
        return data
    result = apply(data, edits)
    if not data.endswith((b"\n", b"\r")) and result.endswith((b"\n", b"\r")):
        # the last line went, and it had no line break: the file still ends without one
        result = result.rstrip(b" \t\r\n")
    if not result.strip():
        ctx.changes[-len(edits):] = []
        ctx.note(1, "left as it is: every requirement would go; delete the file if the function needs none")
        return data
    return result


def _note_dev_tool(requirement: Requirement, imported: bool, found: PipScan, line: int, ctx: FileContext) -> None:
    raw, name = requirement.raw, requirement.name
    if imported and not name.startswith(("types-", "mypy-boto3-")) and not name.endswith("-stubs"):
        ctx.note(line, f"kept {raw}: a test or dev tool, but the function's code imports it")
    elif found.dev_file and name in found.dev_names:
        ctx.note(line, f"{raw} is a test or dev tool, already in {found.dev_file}: it can leave this file once no "
                       "script or CI job installs it from here")
    elif found.dev_file:
        ctx.note(line, f"{raw} is a test or dev tool: move it to {found.dev_file}")
    else:
        ctx.note(line, f"{raw} is a test or dev tool: it belongs in a requirements-dev.txt, not in the "
                       "function's package")


def _unprovided(shipped: _shipped.Shipped, listed: list[Requirement], needs: dict[str, str]) -> list[str]:
    """Doubts from imports of modules found neither in the repository nor among the requirements: code from a
    layer or a build step this reading never sees, which may import any requirement."""
    provided = set(RUNTIME_MODULES)
    for name in [r.name for r in listed] + list(needs):
        provided.update(module.lower() for module in import_names(name))
    doubts = []
    for module, where in sorted(shipped.unresolved.items()):
        tool = normalise(module)
        if module.lower() in provided or is_dev_tool(tool) or tool.startswith(("mypy-boto3", "types-")):
            continue
        doubts.append(f"`{module}` ({where}) is neither in the repository nor a requirement here: code from a "
                      "layer or the build may import it")
    return doubts
