"""slim-dependencies for pip: test and dev tools, and packages no module of the function imports, leave a
function's requirements.txt.

A package is "used" when a module of the function imports it, or names it in a string (a SQLAlchemy URL
`postgresql+psycopg2://`, `importlib.import_module("x")`, a parser name handed to a library). Packages that other
libraries load without the code naming them (drivers, parsers, engines, certificates) are never removed.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from codemods._base import FileContext
from codemods.manifests import _scan
from codemods.manifests._text import Edit, apply, line_number

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
_NAME = re.compile(rb"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?:[<>=!~;#@]|$)")


@dataclasses.dataclass(frozen=True)
class PipScan:
    sources: _scan.Sources
    words: frozenset[str]  # identifiers found in string constants of the function's modules
    dev_file: str | None
    dev_names: frozenset[str]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(data: bytes) -> frozenset[str]:
    names = set()
    for line in data.splitlines():
        match = _NAME.match(line)
        if match:
            names.add(normalise(match.group(1).decode()))
    return frozenset(names)


def scan(manifest: Path) -> PipScan:
    sources = _scan.python_imports(manifest)
    words: set[str] = set()
    for path in _scan.source_files(manifest.parent, (".py",)):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))
    for name in DEV_FILES:
        dev = manifest.parent / name
        if dev.is_file() and not dev.is_symlink():
            return PipScan(sources, frozenset(words), name, _requirement_names(dev.read_bytes()[:_scan.MAX_BYTES]))
    return PipScan(sources, frozenset(words), None, frozenset())


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
    pos, start, parts = 0, 0, []
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


def rewrite(data: bytes, found: PipScan, ctx: FileContext) -> bytes:
    if found.sources.files == 0:
        ctx.note(1, "left as it is: no Python module next to this requirements.txt says what the function imports")
        return data
    if _scan.LAMBDA_HANDLER not in found.sources.text_markers:
        # An application's requirements also list servers and tools run from the command line, never imported.
        ctx.note(1, "left as it is: no (event, context) handler next to it, so this is not a Lambda function's "
                    "requirements")
        return data
    used = {name.lower() for name in found.sources.names} | {word.lower() for word in found.words}
    edits = []
    for start, end, text in _logical_lines(data):
        match = _NAME.match(text)
        if match is None or text.lstrip().startswith((b"-", b"#")):
            continue
        raw = match.group(1).decode()
        name = normalise(raw)
        line = line_number(data, start)
        imported = any(module.lower() in used for module in import_names(name))
        if is_dev_tool(name):
            if imported and not name.startswith(("types-", "mypy-boto3-")) and not name.endswith("-stubs"):
                ctx.note(line, f"kept {raw}: a test or dev tool, but the function's code imports it")
            elif found.dev_file and name in found.dev_names:
                edits.append(Edit(start, end, b""))
                ctx.change(line, f"removed {raw}: a test or dev tool, already in {found.dev_file}")
            elif found.dev_file:
                ctx.note(line, f"{raw} is a test or dev tool: move it to {found.dev_file}")
            else:
                ctx.note(line, f"{raw} is a test or dev tool: it belongs in a requirements-dev.txt, not in the "
                               "function's package")
        elif imported:
            continue
        elif name in SUPPORT:
            ctx.note(line, f"kept {raw}: not imported by the function, but libraries load it without an import")
        else:
            edits.append(Edit(start, end, b""))
            ctx.change(line, f"removed {raw}: no module of the function imports it")
    if not edits:
        return data
    result = apply(data, edits)
    if not data.endswith((b"\n", b"\r")) and result.endswith((b"\n", b"\r")):
        # the removed line was the last, with no line break: the break before it goes instead
        result = result[:-2] if result.endswith(b"\r\n") else result[:-1]
    if not result.strip():
        ctx.changes[-len(edits):] = []
        ctx.note(1, "left as it is: every requirement would go; delete the file if the function needs none")
        return data
    return result
